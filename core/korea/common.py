"""Shared pieces of the regional-data loaders: 시도 names, CSV rows with their line numbers, counts.

The public files name the same 시도 in four ways (서울특별시, 서울, 강원도 → 강원특별자치도, KOSTAT
code 11/32), and the CSVs come in CP949 with thousands separators. Each loader reads through these
helpers so that every quirk is handled once and every row keeps the position it had in its file,
which is what a quarantine entry must cite.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CONTENT_LIMIT = 4096  # raw.quarantine.content keeps at most 4 kB of the offending row


@dataclass(frozen=True)
class QuarantineEntry:
    """A row that could not be loaded: where it came from, why, and what it said."""

    source: str  # the file name inside the data folder
    position: str  # 'line 12', 'features[3]', 'regions[40]'
    reason: str  # a fixed category, so that counts per reason mean something
    content: str | None = None
    detail: str | None = None  # what exactly was wrong with this row (stored after the category)

    @property
    def stored_reason(self) -> str:
        return f"{self.reason}: {self.detail}" if self.detail else self.reason

    def as_row(self) -> dict[str, str | None]:
        content = self.content[:CONTENT_LIMIT] if self.content is not None else None
        return {"source": self.source, "position": self.position, "reason": self.stored_reason,
                "content": content}


@dataclass(frozen=True)
class Sido:
    """A 시도 as the VWorld 2026 boundaries know it, with the names and codes other sources use."""

    code: str  # MOIS 2-digit code of the reference vintage
    name: str  # official name today
    short: str  # 서울, 경북 … (heritage, decline-area lists)
    kostat_code: str  # KOSTAT census code (2018 maps)
    old_codes: tuple[str, ...] = ()  # MOIS codes before a change of status (강원 42, 전북 45)
    old_names: tuple[str, ...] = ()


SIDOS: tuple[Sido, ...] = (
    Sido("11", "서울특별시", "서울", "11"),
    Sido("26", "부산광역시", "부산", "21"),
    Sido("27", "대구광역시", "대구", "22"),
    Sido("28", "인천광역시", "인천", "23"),
    Sido("29", "광주광역시", "광주", "24"),
    Sido("30", "대전광역시", "대전", "25"),
    Sido("31", "울산광역시", "울산", "26"),
    Sido("36", "세종특별자치시", "세종", "29"),
    Sido("41", "경기도", "경기", "31"),
    Sido("43", "충청북도", "충북", "33"),
    Sido("44", "충청남도", "충남", "34"),
    Sido("46", "전라남도", "전남", "36"),
    Sido("47", "경상북도", "경북", "37"),
    Sido("48", "경상남도", "경남", "38"),
    Sido("50", "제주특별자치도", "제주", "39"),
    # 강원도 became 강원특별자치도 (2023-06-11) and 전라북도 전북특별자치도 (2024-01-18): new MOIS codes
    Sido("51", "강원특별자치도", "강원", "32", old_codes=("42",), old_names=("강원도",)),
    Sido("52", "전북특별자치도", "전북", "35", old_codes=("45",), old_names=("전라북도",)),
)
SIDO_BY_CODE = {s.code: s for s in SIDOS}
SIDO_BY_KOSTAT = {s.kostat_code: s for s in SIDOS}
_SIDO_BY_NAME = {name: s for s in SIDOS for name in (s.name, s.short, *s.old_names)}
_SIDO_BY_OLD_CODE = {old: s for s in SIDOS for old in s.old_codes}

# MOIS codes that moved between 시도: 군위군 left 경상북도 for 대구광역시 on 2023-07-01.
CODE_SUCCESSION = {"47720": "27720"}


def sido_by_name(name: str) -> Sido | None:
    """The 시도 for any of its names (official, short, or former)."""
    return _SIDO_BY_NAME.get(name.strip())


def current_sido_code(code2: str) -> str | None:
    """The reference-vintage 시도 code for a current or former MOIS 2-digit code."""
    if code2 in SIDO_BY_CODE:
        return code2
    sido = _SIDO_BY_OLD_CODE.get(code2)
    return sido.code if sido else None


def successor_code(code5: str) -> str:
    """Map an older MOIS 시군구 code to the reference vintage (42xxx → 51xxx, 45xxx → 52xxx, 47720 → 27720).

    Only the 시도 part changes for 강원/전북 (the 3 digits of the 시군구 were kept); 군위군 is listed.
    """
    if code5 in CODE_SUCCESSION:
        return CODE_SUCCESSION[code5]
    sido = _SIDO_BY_OLD_CODE.get(code5[:2])
    return sido.code + code5[2:] if sido else code5


_NUMBER = re.compile(r"^-?\d{1,3}(,\d{3})*$|^-?\d+$")


class SuppressedValue(ValueError):
    """The cell holds 'X': a value the statistics office withheld (confidential small counts)."""


def parse_count(cell: str) -> int | None:
    """'1,234' → 1234, '' → None; 'X' raises SuppressedValue, anything else ValueError."""
    text = cell.strip()
    if not text:
        return None
    if text.upper() == "X":
        raise SuppressedValue(text)
    if not _NUMBER.match(text):
        raise ValueError(f"not a count: {cell!r}")
    return int(text.replace(",", ""))


@dataclass(frozen=True)
class CsvRow:
    """One record of a CSV with the physical lines it came from (1-based, header = line 1)."""

    line: int
    cells: list[str]
    raw: str

    @property
    def position(self) -> str:
        return f"line {self.line}"


def read_csv_rows(path: Path, encoding: str, delimiter: str = ",") -> tuple[list[str], Iterator[CsvRow]]:
    """Header and rows of a CSV decoded strictly (a wrong encoding fails loudly, never garbles)."""
    text = path.read_bytes().decode(encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.splitlines()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip() for h in next(reader)]

    def rows() -> Iterator[CsvRow]:
        previous = reader.line_num
        for cells in reader:
            start, previous = previous + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            yield CsvRow(start, cells, "\n".join(lines[start - 1:reader.line_num]))

    return header, rows()


def row_dict(header: list[str], row: CsvRow) -> dict[str, str]:
    """Cells by column name; a short row gets '' for the missing trailing cells."""
    cells = row.cells + [""] * (len(header) - len(row.cells))
    return {name: cells[i].strip() for i, name in enumerate(header) if name}
