"""What every report shares: periods, mart availability, sources, the inputs hash.

A report reads only `marts.*` (and raw.regions' boundaries for the map). A section whose mart is not
built yet says so (NOT_AGGREGATED) instead of failing or printing zeros.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

NOT_AGGREGATED = "이 지표는 아직 집계되지 않았습니다."
_PERIOD = re.compile(r"^(?P<year>\d{4})-(?:(?P<month>0[1-9]|1[0-2])|Q(?P<quarter>[1-4]))$")


class PeriodError(ValueError):
    """A period key that is neither YYYY-MM nor YYYY-Qn."""


@dataclass(frozen=True)
class Period:
    """A calendar month ('2026-10') or quarter ('2026-Q3'), in Korean time like the marts."""

    key: str
    start: date  # first day
    end: date  # first day after

    @classmethod
    def parse(cls, key: str) -> Period:
        match = _PERIOD.match(key.strip())
        if match is None:
            raise PeriodError(f"period {key!r} must be a month (2026-10) or a quarter (2026-Q3)")
        year = int(match["year"])
        if match["month"]:
            month = int(match["month"])
            return cls(key.strip(), date(year, month, 1), _add_months(date(year, month, 1), 1))
        first = (int(match["quarter"]) - 1) * 3 + 1
        return cls(key.strip(), date(year, first, 1), _add_months(date(year, first, 1), 3))

    @classmethod
    def month_of(cls, day: date) -> Period:
        return cls.parse(f"{day.year:04d}-{day.month:02d}")

    @property
    def kind(self) -> str:
        return "quarter" if "Q" in self.key else "month"

    @property
    def months(self) -> list[date]:
        out, current = [], self.start
        while current < self.end:
            out.append(current)
            current = _add_months(current, 1)
        return out

    @property
    def last_day(self) -> date:
        last = self.months[-1]
        return date(last.year, last.month, calendar.monthrange(last.year, last.month)[1])

    @property
    def label_ko(self) -> str:
        if self.kind == "month":
            return f"{self.start.year}년 {self.start.month}월"
        return f"{self.start.year}년 {int(self.key[-1])}분기"

    def trailing_months(self, count: int) -> list[date]:
        """The `count` months ending with this period's last month (for trends)."""
        last = self.months[-1]
        return [_add_months(last, -k) for k in range(count - 1, -1, -1)]

    def previous(self) -> Period:
        months = len(self.months)
        start = _add_months(self.start, -months)
        if self.kind == "month":
            return Period.parse(f"{start.year:04d}-{start.month:02d}")
        return Period.parse(f"{start.year:04d}-Q{(start.month - 1) // 3 + 1}")


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def josa(word: str, with_final: str, without_final: str) -> str:
    """The word with the particle its last syllable takes (과/와, 이/가, 은/는, 을/를)."""
    last = word.rstrip()[-1:] if word else ""
    has_final = "\uac00" <= last <= "\ud7a3" and (ord(last) - 0xAC00) % 28 != 0
    return word + (with_final if has_final else without_final)


def month_label(day: date) -> str:
    return f"{day.year % 100:02d}.{day.month:02d}"


def existing_marts(conn: Connection) -> frozenset[str]:
    """Tables and views in the marts schema right now (sections check theirs before querying)."""
    rows = conn.execute(text("select table_name from information_schema.tables where table_schema = 'marts'"))
    return frozenset(r[0] for r in rows)


def source_note(model: str, as_of: str) -> str:
    """The footnote every figure carries: which model it came from, and as of when."""
    return f"출처: marts.{model}, {as_of} 기준"


@dataclass
class Inputs:
    """The exact query results a document was made from; their hash decides regeneration."""

    results: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, value: Any) -> Any:
        self.results[name] = value
        return value

    def digest(self, template_version: str, extra: dict[str, Any] | None = None) -> str:
        payload = {"template": template_version, "results": self.results, "extra": extra or {}}
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=_json_default)
        return hashlib.sha256(blob.encode()).hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def rows(conn: Connection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """A query's rows as plain dicts (what goes into the inputs hash and the templates)."""
    return [dict(r) for r in conn.execute(text(sql), params).mappings().all()]


def num(value: Any) -> float:
    return float(value) if value is not None else 0.0
