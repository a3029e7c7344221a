"""Empty houses (빈집) per 시군구 and housing type, 2022 and 2023 (KOSIS DT_1JU1512, 인구주택총조사).

The KOSIS export names areas without codes, so names are matched to regions within the 시도
whose row came last: 중구 after 서울특별시 is 11140, after 부산광역시 26110; 남구 after 포항시 is one
of 포항's 일반구 (counted in 포항시's own row, so skipped), after 대구광역시 it is 27200. 부산's 동부/
면부 rows are subtotals and are excluded. 군위군 appears twice, under 경상북도 for 2022 and under
대구광역시 for 2023, and both map to 27720. Cells marked X were withheld by KOSIS and are quarantined.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from core.korea.boundaries import Regions
from core.korea.common import (
    CODE_SUCCESSION,
    QuarantineEntry,
    Sido,
    SuppressedValue,
    parse_count,
    read_csv_rows,
    row_dict,
    sido_by_name,
)

EMPTY_HOUSES_FILE = "101_DT_1JU1512_20250703031424.csv"
ITEM = "주택_계"
YEAR_COLUMNS = {2022: "2022 년", 2023: "2023 년"}
SUBTOTALS = {"동부", "면부"}  # urban (동) / rural (읍·면) subtotals of a 시도
NAME_ALIASES = {"세종시": "세종특별자치시"}


@dataclass
class EmptyHousesResult:
    table: pd.DataFrame  # columns of raw.empty_houses
    quarantine: list[QuarantineEntry] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    sido_rows: dict[tuple[str, int, str], int] = field(default_factory=dict)  # (시도, year, type) → count


class _Resolver:
    """Names to region codes, by the 시도 (and parent 시) whose rows came before."""

    def __init__(self, regions: Regions) -> None:
        self.regions = regions
        self.general_gu = {(u.region_code[:2], u.unit_name.split()[1]): u.region_code
                           for u in regions.units.itertuples() if u.is_general_gu}
        self.moved = {(old[:2], regions.names()[new][1]): new for old, new in CODE_SUCCESSION.items()
                      if new in regions.names()}
        self.sido: Sido | None = None
        self.city: str | None = None  # the last 시 row, parent of the 일반구 rows that follow it

    def resolve(self, name: str) -> tuple[str | None, str | None]:
        """(region code, None) for a region row; (None, why) for a row that is not one."""
        sido = sido_by_name(name)
        if sido is not None and name not in NAME_ALIASES:
            self.sido, self.city = sido, None
            return None, "시도 total row"
        if self.sido is None:
            return None, None
        if name in SUBTOTALS:
            return None, "동부/면부 subtotal row"
        code = (self.regions.code_for(self.sido.code, NAME_ALIASES.get(name, name))
                or self.moved.get((self.sido.code, name)))
        if code is not None:
            self.city = code
            return code, None
        if self.city is not None and self.general_gu.get((self.sido.code, name)) == self.city:
            return None, "일반구 row, already counted in its parent 시"
        return None, None


def load_empty_houses(data_dir: Path, regions: Regions) -> EmptyHousesResult:
    """Empty houses (주택_계) per region, year and housing type (계, 단독주택, 아파트, …)."""
    header, rows = read_csv_rows(data_dir / EMPTY_HOUSES_FILE, "cp949")
    result = EmptyHousesResult(pd.DataFrame())
    resolver = _Resolver(regions)
    found: dict[tuple[str, int, str], int] = {}
    seen_at: dict[tuple[str, int, str], str] = {}
    for row in rows:
        cells = row_dict(header, row)
        name, housing_type = cells["행정구역별(시군구)"], cells["주택의 종류별"]
        code, why = resolver.resolve(name)
        if cells["항목"] != ITEM:
            continue  # other items (건축연도별) are not loaded; the resolver still follows the row order
        if why == "시도 total row":
            _sido_row(result, cells, name, housing_type)
        if why is not None:
            result.skipped[why] = result.skipped.get(why, 0) + 1
            continue
        if code is None:
            under = resolver.sido.name if resolver.sido else "no 시도 row yet"
            result.quarantine.append(QuarantineEntry(EMPTY_HOUSES_FILE, row.position,
                                                     "name not matched to a region", row.raw,
                                                     detail=f"{name} under {under}"))
            continue
        for year, column in YEAR_COLUMNS.items():
            try:
                count = parse_count(cells[column])
            except SuppressedValue:
                result.quarantine.append(QuarantineEntry(EMPTY_HOUSES_FILE, row.position,
                                                         "value withheld by KOSIS (X)", row.raw,
                                                         detail=f"{code} {year} {housing_type}"))
                continue
            except ValueError as exc:
                result.quarantine.append(QuarantineEntry(EMPTY_HOUSES_FILE, row.position, "unreadable count",
                                                         row.raw, detail=str(exc)))
                continue
            if count is None:
                continue  # blank: the area did not exist under this name that year
            key = (code, year, housing_type)
            if key in found:
                result.quarantine.append(QuarantineEntry(EMPTY_HOUSES_FILE, row.position,
                                                         "second value for a region, year and type", row.raw,
                                                         detail=f"{key} first at {seen_at[key]}"))
                continue
            found[key], seen_at[key] = count, row.position
    result.table = pd.DataFrame([(c, y, t, n) for (c, y, t), n in sorted(found.items())],
                                columns=["region_code", "year", "housing_type", "empty_count"])
    return result


def _sido_row(result: EmptyHousesResult, cells: dict[str, str], name: str, housing_type: str) -> None:
    sido = sido_by_name(name)
    for year, column in YEAR_COLUMNS.items():
        try:
            count = parse_count(cells[column])
        except ValueError:
            continue
        if sido is not None and count is not None:
            result.sido_rows[(sido.code, year, housing_type)] = count
