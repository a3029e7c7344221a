"""The 89 인구감소지역 and 18 인구감소관심지역, with the source's three wrong 경북 codes corrected.

`population-region-index-with-codes.json` is the only source with codes. Three of its 경상북도
codes are shifted (PROVENANCE.md errata, checked against the VWorld boundaries, the MDIS centroid
file and the population file): 영천시 is 47230, not 47220; 상주시 47250, not 47230; 문경시 47280, not
47250. The code is corrected here and the correction is written next to it in the table. Any other
code that disagrees with the region of that name is quarantined rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pandas as pd

from core.korea.boundaries import Regions
from core.korea.common import QuarantineEntry, sido_by_name

INDEX_FILE = "population-region-index-with-codes.json"
DECLINE_FILE = "population-decline-regions-2024.json"
INTEREST_FILE = "population-decline-interest-regions-2026.json"
# (시도, name) → (code in the source, correct code), from the errata in PROVENANCE.md
ERRATA = {
    ("경상북도", "영천시"): ("47220", "47230"),
    ("경상북도", "상주시"): ("47230", "47250"),
    ("경상북도", "문경시"): ("47250", "47280"),
}
CATEGORY_FILES = {"decline": DECLINE_FILE, "interest": INTEREST_FILE}


@dataclass
class DeclineResult:
    table: pd.DataFrame  # columns of raw.decline_areas
    quarantine: list[QuarantineEntry] = field(default_factory=list)


def _notice(source: dict[str, str]) -> str:
    """'행정안전부 고시 제2024-15호 (인구감소지역 지정 변경 고시, effective 2024-02-27)', from a header."""
    return (f"{source.get('issuer', '행정안전부')} 고시 제{source['noticeNo']}호 "
            f"({source.get('name', '')}, effective {source.get('effectiveDate', '?')})")


def load_decline_areas(data_dir: Path, regions: Regions) -> DeclineResult:
    """107 rows: region code (corrected where the source is wrong), category, notice, the code as given."""
    index = orjson.loads((data_dir / INDEX_FILE).read_bytes())
    notices = {category: orjson.loads((data_dir / name).read_bytes())["source"]
               for category, name in CATEGORY_FILES.items()}
    names = regions.names()
    rows: list[dict[str, str | None]] = []
    bad: list[QuarantineEntry] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(index["regions"]):
        position, raw = f"regions[{i}]", orjson.dumps(item).decode()
        sido = sido_by_name(item.get("normalizedProvince") or item.get("province", ""))
        category = item.get("regionType")
        if sido is None or category not in notices:
            bad.append(QuarantineEntry(INDEX_FILE, position, "unknown 시도 or region type", raw))
            continue
        source_code, name = str(item.get("lawdCd", "")), item["name"]
        code, correction = source_code, None
        if (sido.name, name) in ERRATA:
            wrong, right = ERRATA[(sido.name, name)]
            if source_code == wrong:
                code = right
                correction = (f"source lawdCd {wrong} is not {sido.name} {name}; corrected to {right} "
                              "(PROVENANCE.md errata, checked against the VWorld boundaries)")
        if names.get(code) != (sido.code, name):
            bad.append(QuarantineEntry(INDEX_FILE, position, "code does not match the named region", raw,
                                       detail=f"{sido.name} {name} has {regions.code_for(sido.code, name)}, "
                                              f"source says {source_code}"))
            continue
        if code in seen:
            bad.append(QuarantineEntry(INDEX_FILE, position, "region listed twice", raw,
                                       detail=f"{code} already at {seen[code]}"))
            continue
        seen[code] = position
        rows.append({"region_code": code, "category": category, "sido_name": sido.name, "sgg_name": name,
                     "notice": _notice(notices[category]), "source_code": source_code,
                     "correction": correction})
    table = pd.DataFrame(rows, columns=["region_code", "category", "sido_name", "sgg_name", "notice",
                                        "source_code", "correction"])
    return DeclineResult(table, bad)


def listed_names(data_dir: Path) -> dict[str, set[tuple[str, str]]]:
    """(시도 official name, 시군구 name) of the two code-less official lists, per category.

    Used to cross-check the coded index: both must name exactly the same places.
    """
    out: dict[str, set[tuple[str, str]]] = {}
    for category, file_name in CATEGORY_FILES.items():
        items = orjson.loads((data_dir / file_name).read_bytes())["regions"]
        out[category] = set()
        for item in items:
            sido = sido_by_name(item["province"])
            out[category].add((sido.name if sido else item["province"], item["name"]))
    return out
