"""The tests' own recomputation of presence: intervals merged per 시군구 (time never counted twice), then
cut at Korean midnights. Written apart from the dbt models, to check them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, timezone

KST = timezone(timedelta(hours=9))


def present_by_day(intervals: Mapping[str, Sequence[tuple[datetime, datetime]]]) -> dict[tuple[str, date], timedelta]:
    """(region, Korean day) → time present, from each region's (start, end) intervals."""
    present: dict[tuple[str, date], timedelta] = defaultdict(timedelta)
    for region, spans in intervals.items():
        merged: list[list[datetime]] = []
        for a, b in sorted(spans):
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        for a, b in merged:
            cursor = a.astimezone(KST)
            while cursor < b:
                midnight = datetime.combine(cursor.date() + timedelta(days=1), datetime.min.time(), KST)
                end = min(b, midnight)
                present[(region, cursor.date())] += end - cursor
                cursor = end
    return present
