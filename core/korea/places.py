"""Tourist spots, festivals and heritage sites with coordinates, each placed in its 시군구.

Missions are built on these places, so each gets a stable id and a region by point-in-polygon
against the dissolved boundaries (a point just beyond the simplified coastline is snapped to the
nearest region within 2 km). Quirks handled here:
- the two data.go.kr standard datasets are CP949; 228 festival rows carry no coordinates (they are
  quarantined with the reason, as are festivals that end before they start);
- the tourist-spot file lists some spots twice, once under the 강원도/전라북도 provider and once
  under the 특별자치도 that replaced it: the most recent record (데이터기준일자) is kept;
- the same festival is reported by 한국관광공사 and by the municipality: the first is kept;
- `heritage.csv` (1,328 sites with description text) is loaded; `re_heritage.csv` is a filtered
  copy without text but it adds 10 sites missing from heritage.csv and the 시군구 name (ccsiName)
  of every site, so its 10 extra sites are loaded too and ccsiName is kept as an attribute.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from core.korea.boundaries import Regions
from core.korea.common import CsvRow, QuarantineEntry, read_csv_rows, row_dict

TOURIST_FILE = "전국관광지정보표준데이터.csv"
FESTIVAL_FILE = "전국문화축제표준데이터.csv"
HERITAGE_FILE = "heritage.csv"
RE_HERITAGE_FILE = "re_heritage.csv"
# South Korea, from 마라도 to 독도, with a margin: anything beyond is not a valid WGS84 position here.
LAT_RANGE = (32.9, 38.9)
LON_RANGE = (124.0, 132.0)
SNAP_KM = 2.0
PLACE_COLUMNS = ["place_id", "kind", "name", "region_code", "lat", "lon", "address", "description",
                 "category", "starts_on", "ends_on", "attributes", "source_file", "source_line"]


@dataclass
class PlacesResult:
    table: pd.DataFrame  # columns of raw.places
    quarantine: list[QuarantineEntry] = field(default_factory=list)


def stable_id(kind: str, *parts: str) -> str:
    """'<kind>:<16 hex digits>' from the parts that identify a place across re-runs and file updates."""
    key = "|".join(" ".join(p.split()) for p in parts)
    return f"{kind}:{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def parse_position(lat_cell: str, lon_cell: str) -> tuple[float, float] | None:
    """(lat, lon) when both cells hold numbers inside Korea, else None."""
    try:
        lat, lon = float(lat_cell), float(lon_cell)
    except ValueError:
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]:
        return lat, lon
    return None


def _clean(cells: dict[str, str], keys: list[str]) -> dict[str, str]:
    return {k: cells[k] for k in keys if cells.get(k)}


def _tourist_spot(cells: dict[str, str], row: CsvRow) -> dict:
    address = cells["소재지도로명주소"] or cells["소재지지번주소"]
    return {
        "place_id": stable_id("tourist_spot", cells["관광지명"], address), "kind": "tourist_spot",
        "name": cells["관광지명"], "address": address or None, "description": cells["관광지소개"] or None,
        "category": cells["관광지구분"] or None, "starts_on": None, "ends_on": None,
        "attributes": _clean(cells, ["소재지지번주소", "면적", "공공편익시설정보", "숙박시설정보",
                                     "운동및오락시설정보", "휴양및문화시설정보", "접객시설정보",
                                     "지원시설정보", "지정일자", "수용인원수", "주차가능수",
                                     "관리기관전화번호", "관리기관명", "데이터기준일자", "제공기관코드",
                                     "제공기관명"]),
        "source_file": TOURIST_FILE, "source_line": row.line,
    }


def _festival(cells: dict[str, str], row: CsvRow) -> dict:
    starts, ends = date.fromisoformat(cells["축제시작일자"]), date.fromisoformat(cells["축제종료일자"])
    if ends < starts:
        raise ValueError(f"ends {ends} before it starts {starts}")
    return {
        "place_id": stable_id("festival", cells["축제명"], starts.isoformat(), cells["개최장소"]),
        "kind": "festival", "name": cells["축제명"],
        "address": cells["소재지도로명주소"] or cells["소재지지번주소"] or None,
        "description": cells["축제내용"] or None, "category": "축제", "starts_on": starts, "ends_on": ends,
        "attributes": _clean(cells, ["개최장소", "주관기관명", "주최기관명", "후원기관명", "전화번호",
                                     "홈페이지주소", "관련정보", "소재지지번주소", "데이터기준일자",
                                     "제공기관코드", "제공기관명"]),
        "source_file": FESTIVAL_FILE, "source_line": row.line,
    }


def _heritage(cells: dict[str, str], row: CsvRow, source_file: str) -> dict:
    return {
        "place_id": f"heritage:{cells['ccbaCpno']}", "kind": "heritage", "name": cells["ccbaMnm1"],
        "address": cells.get("ccbaLcad") or None, "description": cells.get("content") or None,
        "category": cells["ccmaName"] or None, "starts_on": None, "ends_on": None,
        "attributes": _clean(cells, ["ccbaMnm2", "ccbaKdcd", "crltsnoNm", "ccbaCtcdNm", "ccsiName",
                                     "ccbaAdmin", "ccbaPoss", "ccbaAsdt", "ccbaPcd1Nm", "ccceName",
                                     "imageUrl"]),
        "source_file": source_file, "source_line": row.line,
    }


def _read(path: Path, encoding: str, lat: str, lon: str, build: Callable[[dict[str, str], CsvRow], dict],
          quarantine: list[QuarantineEntry]) -> list[dict]:
    """Rows of one file as place records with a valid position; the others into quarantine."""
    header, rows = read_csv_rows(path, encoding)
    out = []
    for row in rows:
        cells = row_dict(header, row)
        position = parse_position(cells.get(lat, ""), cells.get(lon, ""))
        if position is None:
            given = f"{cells.get(lat)}, {cells.get(lon)}"
            detail = "empty" if not (cells.get(lat) or cells.get(lon)) else given
            quarantine.append(QuarantineEntry(path.name, row.position, "no valid WGS84 coordinates", row.raw,
                                              detail=detail))
            continue
        try:
            record = build(cells, row)
        except (ValueError, KeyError) as exc:
            quarantine.append(QuarantineEntry(path.name, row.position, "unreadable or inconsistent fields",
                                              row.raw, detail=str(exc)))
            continue
        record["lat"], record["lon"] = position
        record["_raw"] = row.raw
        out.append(record)
    return out


def _keep_one(records: list[dict], newest_first: bool, what: str,
              quarantine: list[QuarantineEntry]) -> list[dict]:
    """One record per place_id; the others are quarantined, naming the line that was kept."""
    def rank(r: dict) -> tuple:
        return (r["attributes"].get("데이터기준일자", "") if newest_first else "", -r["source_line"])
    best: dict[str, dict] = {}
    for record in records:
        kept = best.get(record["place_id"])
        if kept is None or rank(record) > rank(kept):
            best[record["place_id"]] = record
    for record in records:
        kept = best[record["place_id"]]
        if kept is not record:
            quarantine.append(QuarantineEntry(record["source_file"], f"line {record['source_line']}",
                                              f"duplicate {what}", record["_raw"],
                                              detail=f"same as line {kept['source_line']}, which was kept"))
    return [r for r in records if best[r["place_id"]] is r]


def read_heritage(data_dir: Path, quarantine: list[QuarantineEntry]) -> list[dict]:
    """heritage.csv, plus the sites only re_heritage.csv has, plus re_heritage's 시군구 name."""
    main = _read(data_dir / HERITAGE_FILE, "utf-8-sig", "latitude", "longitude",
                 lambda c, r: _heritage(c, r, HERITAGE_FILE), quarantine)
    extra_q: list[QuarantineEntry] = []
    subset = _read(data_dir / RE_HERITAGE_FILE, "utf-8-sig", "latitude", "longitude",
                   lambda c, r: _heritage(c, r, RE_HERITAGE_FILE), extra_q)
    by_id = {r["place_id"]: r for r in main}
    for record in subset:
        if record["place_id"] in by_id:
            sgg = record["attributes"].get("ccsiName")
            if sgg:
                by_id[record["place_id"]]["attributes"]["ccsiName"] = sgg
        else:
            main.append(record)
    quarantine.extend(extra_q)
    return main


def load_places(data_dir: Path, regions: Regions) -> PlacesResult:
    """All places with their region; unplaceable ones keep region null and get a quarantine note."""
    quarantine: list[QuarantineEntry] = []
    spots = _read(data_dir / TOURIST_FILE, "cp949", "위도", "경도", _tourist_spot, quarantine)
    festivals = _read(data_dir / FESTIVAL_FILE, "cp949", "위도", "경도", _festival, quarantine)
    records = (_keep_one(spots, True, "tourist spot (same name and address)", quarantine)
               + _keep_one(festivals, False, "festival (same name, start date and venue)", quarantine)
               + _keep_one(read_heritage(data_dir, quarantine), False, "heritage site (same ccbaCpno)",
                           quarantine))
    lats = np.array([r["lat"] for r in records])
    lons = np.array([r["lon"] for r in records])
    codes, snapped = regions.locate(lats, lons, SNAP_KM)
    for record, code, km in zip(records, codes, snapped, strict=True):
        record["region_code"] = code
        if code is None:
            quarantine.append(QuarantineEntry(
                record["source_file"], f"line {record['source_line']}", "place outside every region boundary",
                record["_raw"], detail=f"{record['place_id']} loaded without a region (> {SNAP_KM:g} km)"))
        elif km > 0:
            record["attributes"]["region_snapped_km"] = round(km, 3)
    table = pd.DataFrame(records, columns=PLACE_COLUMNS)
    return PlacesResult(table, quarantine)
