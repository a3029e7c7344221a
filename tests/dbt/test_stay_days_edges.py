"""Edge cases of 생활인구 stay days: minutes_present stays in (0, 1440] for every user, 시군구 and Korean day.

Regression for a flaky `dbt build` (expression_is_true "minutes_present > 0 and minutes_present <= 1440"
on int_stay_days__summed): the API writes a unit's events one microsecond apart, so an accepted check-in
and an accepted QR scan of one request (or of two quick requests) make an interval of microseconds, and an
interval may overrun a Korean midnight by a second. Such a day's presence rounded to 0.0 minutes.

Crafted events of users that exist only here (random ids, no app.users row, source 'test:stay_days_edges')
are appended to raw.activity_events; expected values come from Python written for the test (pair the
proofs, add confirmed hours, merge, cut at Korean midnights), never from the models. The rows are removed
and fct_stay_days rebuilt afterwards.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from sqlalchemy import Engine, text

from core.badges import default_rules, user_key
from tests.dbt.presence import present_by_day
from tests.fixtures.warehouse import DbtRun, run_dbt

KST = timezone(timedelta(hours=9))
RULES = default_rules()
MAX_GAP = timedelta(minutes=RULES.presence.max_gap_minutes)
HOURS_CAP = Decimal(RULES.points.volunteer_hours_cap)
STAY_MINUTES = 180
REGION, OTHER = "11110", "11140"  # 서울 종로구, 중구
DAY = date(2024, 11, 4)  # long before the demo's activity window (the users are new anyway)
SOURCE = "test:stay_days_edges"
US = timedelta(microseconds=1)


def at(day_offset: int, hour: int, minute: int = 0, second: int = 0, microsecond: int = 0) -> datetime:
    return datetime.combine(DAY + timedelta(days=day_offset), datetime.min.time(), KST).replace(
        hour=hour, minute=minute, second=second, microsecond=microsecond)


@dataclass(frozen=True)
class Ev:
    occurred_at: datetime
    event_type: str
    region_code: str
    payload: dict[str, Any]


def proof(when: datetime, region: str = REGION, kind: str = "checkin", accepted: bool = True) -> Ev:
    return Ev(when, kind, region, {"accepted": accepted})


def confirmed(when: datetime, hours: float | str, region: str = REGION) -> Ev:
    return Ev(when, "hours_confirmed", region, {"hours": float(hours), "host_id": "test"})


def _jittered_chain(start: datetime, end: datetime) -> list[Ev]:
    """Proofs from start to end, under 4 hours apart, at odd microseconds (no two pieces alike)."""
    out, t, k = [], start, 0
    while t < end:
        out.append(proof(t, kind="checkin" if k % 2 else "qr_scanned"))
        k += 1
        t = min(end, t + timedelta(hours=3, minutes=59, seconds=59, microseconds=999_999 - 7919 * k))
    return [*out, proof(end)]


SCENARIOS: dict[str, list[Ev]] = {
    # the API: an accepted check-in and an accepted QR scan of one unit, 1 µs apart; of two units, 1 ms apart
    "api_instants": [
        proof(at(0, 10)), proof(at(0, 10) + US, kind="qr_scanned"),
        proof(at(0, 16)), proof(at(0, 16, microsecond=1000), kind="qr_scanned"),  # over 4 h later: no chain
    ],
    # an evening that overruns midnight by 2 s (rounds to nothing) and, elsewhere, by 4 s (0.1 minute)
    "midnight_overrun": [
        proof(at(0, 23)), proof(at(1, 0, second=2)),
        proof(at(1, 9), OTHER), proof(at(1, 9, 30), OTHER),  # breaks the chain between the regions
        proof(at(1, 23, 30), OTHER), proof(at(2, 0, second=4), OTHER),
    ],
    # a whole day covered three times over: a 4-hourly chain from midnight to midnight, the same 12-hour
    # confirmation twice (identical intervals), an overlapping one, and one across the next midnight
    "saturated_day": [
        *[proof(at(0, h)) for h in range(0, 24, 4)], proof(at(1, 0)),
        confirmed(at(0, 12), 12), confirmed(at(0, 12), 12), confirmed(at(0, 20), 12),
        confirmed(at(1, 6), 12),
    ],
    # one island over three Korean days at odd microseconds: the middle day is whole
    "multi_day_island": _jittered_chain(at(0, 20, 0, 0, 123_457), at(2, 8, 0, 0, 987_653)),
    # eight 3-hour slots, each a hair short: eight pieces summing to just under 1440 minutes
    "many_pieces": [confirmed(at(0, 0) + timedelta(hours=3 * (k + 1)), "2.9999999") for k in range(8)],
}


# ------------------------------------------------------------------ independent recomputation
def _intervals(events: list[tuple[uuid.UUID, Ev]]) -> dict[str, list[tuple[datetime, datetime]]]:
    """Presence intervals per region: consecutive accepted proofs in one region ≤ 4 h apart; confirmed hours."""
    spans: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    proofs = sorted((e.occurred_at, eid, e.region_code) for eid, e in events
                    if e.event_type in ("checkin", "qr_scanned") and e.payload.get("accepted") is True)
    for (a, _, ra), (b, _, rb) in pairwise(proofs):
        if ra == rb and timedelta(0) < b - a <= MAX_GAP:
            spans[ra].append((a, b))
    for _, e in events:
        if e.event_type == "hours_confirmed":
            hours = min(max(Decimal(str(e.payload["hours"])), Decimal(0)), HOURS_CAP)
            if hours > 0:
                spans[e.region_code].append((e.occurred_at - timedelta(microseconds=int(hours * 3_600_000_000)),
                                             e.occurred_at))
    return spans


def expected_days(events: list[tuple[uuid.UUID, Ev]]) -> dict[tuple[str, date], tuple[Decimal, bool]]:
    """(region, Korean day) → (minutes present to 0.1, stay day) for days with presence at that resolution."""
    present = present_by_day(_intervals(events))
    out = {}
    for key, span in present.items():
        assert span <= timedelta(days=1), key  # the merge above never counts time twice
        minutes = (Decimal(span // US) / 60_000_000).quantize(Decimal("0.1"), ROUND_HALF_UP)
        if minutes > 0:
            out[key] = (minutes, span >= timedelta(minutes=STAY_MINUTES))
    return out


# ------------------------------------------------------------------ the warehouse with the crafted events
@dataclass
class Edges:
    users: dict[str, uuid.UUID]
    events: dict[str, list[tuple[uuid.UUID, Ev]]]
    mart_run: DbtRun
    tests_run: DbtRun


def _run_mart(db_url: str, target: Path) -> DbtRun:
    return run_dbt(db_url, ["run", "--select", "fct_stay_days"], target)


@pytest.fixture(scope="module")
def edges(marts_built: DbtRun, db_url: str, engine: Engine,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edges]:
    target = tmp_path_factory.mktemp("stay_edges_dbt")
    users = {name: uuid.uuid4() for name in SCENARIOS}
    events = {name: [(uuid.uuid4(), e) for e in evs] for name, evs in SCENARIOS.items()}
    with engine.begin() as conn:
        for name, evs in events.items():
            for event_id, e in evs:
                conn.execute(text("insert into raw.activity_events (event_id, user_id, occurred_at, event_type, "
                                  "region_code, payload, source) values (:e, :u, :at, :k, :r, cast(:p as jsonb), "
                                  ":s)"),
                             {"e": event_id, "u": users[name], "at": e.occurred_at, "k": e.event_type,
                              "r": e.region_code, "p": json.dumps(e.payload), "s": SOURCE})
    try:
        tests_run = run_dbt(db_url, ["test", "--select", "int_presence_intervals__derived",
                                     "int_stay_days__summed"], target / "tests")
        yield Edges(users, events, _run_mart(db_url, target / "with"), tests_run)
    finally:
        with engine.begin() as conn:
            conn.execute(text("delete from raw.activity_events where source = :s and user_id = any(:u)"),
                         {"s": SOURCE, "u": list(users.values())})
        restored = _run_mart(db_url, target / "without")
        assert restored.returncode == 0, restored.output[-3000:]


def _rows(pg: psycopg.Connection, sql: str, params: Any = None) -> list[dict[str, Any]]:
    with pg.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, params).fetchall()


def _model_days(pg: psycopg.Connection, user_id: uuid.UUID) -> dict[tuple[str, date], tuple[Decimal, bool]]:
    return {(r["region_code"], r["stay_date"]): (r["minutes_present"], r["is_stay_day"]) for r in _rows(
        pg, "select region_code, stay_date, minutes_present, is_stay_day from intermediate.int_stay_days__summed "
            "where user_id = %s", (user_id,))}


def test_the_data_tests_of_the_loop_intermediates_pass_with_the_edges(edges: Edges) -> None:
    tests = {n: s for n, s in edges.tests_run.statuses.items() if n.startswith("test.hometown.")}
    assert tests and all(s == "pass" for s in tests.values()), (tests, edges.tests_run.output[-3000:])
    assert any("minutes_present_0_and_minutes_present_1440" in n for n in tests)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_minutes_present_equal_the_python_recomputation(edges: Edges, pg: psycopg.Connection,
                                                        scenario: str) -> None:
    expected = expected_days(edges.events[scenario])
    got = _model_days(pg, edges.users[scenario])
    assert got == expected
    assert all(Decimal(0) < minutes <= Decimal(1440) for minutes, _ in got.values())


def test_the_edges_read_as_intended(edges: Edges, pg: psycopg.Connection) -> None:
    """Hand-checked values, so the recomputation cannot drift along with the model."""
    day = {n: _model_days(pg, u) for n, u in edges.users.items()}
    d0, d1, d2 = DAY, DAY + timedelta(1), DAY + timedelta(2)
    assert day["api_instants"] == {}  # microseconds of presence are no present day
    assert day["midnight_overrun"] == {(REGION, d0): (Decimal("60.0"), False), (OTHER, d1): (Decimal("60.0"), False),
                                       (OTHER, d2): (Decimal("0.1"), False)}
    assert day["saturated_day"] == {(REGION, d0): (Decimal("1440.0"), True), (REGION, d1): (Decimal("360.0"), True)}
    multi = day["multi_day_island"]
    assert set(multi) == {(REGION, d0), (REGION, d1), (REGION, d2)} and multi[(REGION, d1)] == (Decimal("1440.0"), True)
    assert day["many_pieces"] == {(REGION, d0): (Decimal("1440.0"), True)}  # 1439.99995…, never above


def test_the_stay_day_mart_carries_the_same_days(edges: Edges, pg: psycopg.Connection) -> None:
    assert edges.mart_run.returncode == 0, edges.mart_run.output[-3000:]
    for name, user_id in edges.users.items():
        mart = {(r["region_code"], r["stay_date"]): (r["minutes_present"], r["is_stay_day"]) for r in _rows(
            pg, "select region_code, stay_date, minutes_present, is_stay_day from marts.fct_stay_days "
                "where user_key = %s", (user_key(user_id),))}
        assert mart == expected_days(edges.events[name]), name
