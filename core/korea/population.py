"""Resident population by age band and sex, 2022–2024 (MOIS 주민등록 거주자, year end).

Quirks of `202212_202412_연령별인구현황_연간.csv` handled here:
- CP949, counts with thousands separators, a blank cell where a code did not exist that year;
- one row per 시도, 시, 일반구, 시군구 and 출장소: a parent 시 row already sums its 일반구, so only
  the 시 row is used (never parent + districts);
- 강원 and 전북 changed MOIS codes (42 → 51, 45 → 52) and 군위군 moved (47720 → 27720): the rows
  under the old codes hold 2022/2023 and are mapped to the reference-vintage code, checked by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from core.korea.boundaries import Regions
from core.korea.common import (
    CsvRow,
    QuarantineEntry,
    current_sido_code,
    parse_count,
    read_csv_rows,
    row_dict,
    successor_code,
)

POPULATION_FILE = "202212_202412_연령별인구현황_연간.csv"
YEARS = (2022, 2023, 2024)
AGE_BANDS = (*(f"{a}-{a + 4}" for a in range(0, 100, 5)), "100+")
SEXES = {"total": "거주자", "male": "남_거주자", "female": "여_거주자"}
_LABEL = re.compile(r"^(?P<name>.*?)\s*\((?P<code>\d{10})\)\s*$")


def _band_label(band: str) -> str:
    return "100세 이상" if band == "100+" else band.replace("-", "~") + "세"


@dataclass
class PopulationResult:
    table: pd.DataFrame  # columns of raw.region_population
    quarantine: list[QuarantineEntry] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # rows not used by design, per reason
    sido_totals: dict[int, int] = field(default_factory=dict)  # sum of the 시도 rows, per year
    source_codes: dict[str, list[str]] = field(default_factory=dict)  # region → 10-digit codes used


def _year_values(cells: dict[str, str], year: int) -> dict[tuple[str, str], int] | None:
    """{(sex, band): count} of one year of a row, None when the year is blank (code not in use)."""
    values: dict[tuple[str, str], int] = {}
    for sex, label in SEXES.items():
        total = parse_count(cells[f"{year}년_{label}_총인구수"])
        if total is None:
            return None
        values[(sex, "total")] = total
        for band in AGE_BANDS:
            count = parse_count(cells[f"{year}년_{label}_{_band_label(band)}"])
            values[(sex, band)] = count if count is not None else 0
    return values


def _inconsistency(values: dict[tuple[str, str], int]) -> str | None:
    """What does not add up in one year of a row (bands vs total, male + female vs total)."""
    for sex in SEXES:
        bands = sum(values[(sex, band)] for band in AGE_BANDS)
        if bands != values[(sex, "total")]:
            return f"{sex}: age bands sum to {bands}, total says {values[(sex, 'total')]}"
    for band in (*AGE_BANDS, "total"):
        if values[("male", band)] + values[("female", band)] != values[("total", band)]:
            return f"{band}: male + female != total"
    return None


def _is_general_gu(name: str, code5: str, codes_in_file: set[str]) -> bool:
    """A 일반구 row: '경기도 수원시 장안구' whose parent 시 (code with last digit 0) also has a row."""
    parts = name.split()
    return (len(parts) == 3 and parts[1].endswith("시") and parts[2].endswith("구")
            and code5[-1] != "0" and code5[:4] + "0" in codes_in_file)


def load_population(data_dir: Path, regions: Regions) -> PopulationResult:
    """Long table (region, year, sex, age band) with every region's 2022, 2023 and 2024 values."""
    header, rows = read_csv_rows(data_dir / POPULATION_FILE, "cp949")
    parsed = []
    result = PopulationResult(pd.DataFrame())
    for row in rows:
        cells = row_dict(header, row)
        match = _LABEL.match(cells["행정구역"])
        if not match:
            result.quarantine.append(QuarantineEntry(POPULATION_FILE, row.position,
                                                     "area label without a 10-digit code", row.raw))
            continue
        parsed.append((row, cells, match["name"].strip(), match["code"]))
    codes_in_file = {code[:5] for _, _, _, code in parsed}
    names = regions.names()
    records: dict[tuple[str, int], dict[tuple[str, str], int]] = {}
    for row, cells, name, code10 in parsed:
        why = _classify(name, code10, codes_in_file)
        if why is not None:
            result.skipped[why] = result.skipped.get(why, 0) + 1
            if why == "시도 total row":
                _add_sido_totals(result, cells)
            continue
        region = successor_code(code10[:5])
        if region not in names or names[region][1] != name.split(maxsplit=1)[-1]:
            result.quarantine.append(QuarantineEntry(
                POPULATION_FILE, row.position, "area code not matched to a region",
                row.raw[:300], detail=f"{name} ({code10}) → {region}"))
            continue
        _add_years(result, records, row, cells, region, code10)
    result.table = _long_table(records)
    return result


def _classify(name: str, code10: str, codes_in_file: set[str]) -> str | None:
    """Why a row is not a region row (None: it is one)."""
    if code10[2:] == "00000000":
        return "시도 total row"
    if "출장소" in name:
        return "출장소 (branch office) row, not a local government"
    if _is_general_gu(name, code10[:5], codes_in_file):
        return "일반구 row, already counted in its parent 시"
    if code10[5:] != "00000":
        return "not a 시군구-level code"
    if current_sido_code(code10[:2]) is None:
        return "unknown 시도 code"
    return None


def _add_sido_totals(result: PopulationResult, cells: dict[str, str]) -> None:
    for year in YEARS:
        total = parse_count(cells[f"{year}년_거주자_총인구수"])
        if total:
            result.sido_totals[year] = result.sido_totals.get(year, 0) + total


def _add_years(result: PopulationResult, records: dict[tuple[str, int], dict[tuple[str, str], int]],
               row: CsvRow, cells: dict[str, str], region: str, code10: str) -> None:
    try:
        years = {year: _year_values(cells, year) for year in YEARS}
    except ValueError as exc:
        result.quarantine.append(QuarantineEntry(POPULATION_FILE, row.position, "unreadable count",
                                                 row.raw[:300], detail=str(exc)))
        return
    used = False
    for year, values in years.items():
        if not values or values[("total", "total")] == 0:
            continue  # the code was not in use that year (old codes are blank after the change)
        problem = _inconsistency(values)
        if problem:
            result.quarantine.append(QuarantineEntry(POPULATION_FILE, row.position,
                                                     "population does not add up", row.raw[:300],
                                                     detail=f"{year} {problem}"))
            continue
        if (region, year) in records:
            result.quarantine.append(QuarantineEntry(POPULATION_FILE, row.position,
                                                     "second row for a region and year", row.raw[:300],
                                                     detail=f"{region} {year} ({code10})"))
            continue
        records[(region, year)] = values
        used = True
    if used:
        result.source_codes.setdefault(region, []).append(code10)


def _long_table(records: dict[tuple[str, int], dict[tuple[str, str], int]]) -> pd.DataFrame:
    rows = [(region, year, sex, band, count)
            for (region, year), values in sorted(records.items())
            for (sex, band), count in values.items()]
    return pd.DataFrame(rows, columns=["region_code", "year", "sex", "age_band", "population"])


def missing_years(table: pd.DataFrame, region_codes: list[str]) -> dict[str, list[int]]:
    """Regions without a value for some year: what the load must report (expected: none)."""
    have = table.loc[(table.sex == "total") & (table.age_band == "total")].groupby("region_code")["year"]
    present = {code: set(years) for code, years in have}
    return {code: [y for y in YEARS if y not in present.get(code, set())]
            for code in region_codes if present.get(code, set()) != set(YEARS)}

