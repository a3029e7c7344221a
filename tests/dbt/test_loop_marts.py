"""The mission-loop marts over the demo population equal independent Python recomputations.

Expected numbers come from raw.activity_events, app.* and the regions (and, for what is tested
elsewhere, from the marts one layer down), through Python written for the test, never from the
loop models themselves.
"""

from __future__ import annotations

import statistics
import uuid
from collections import Counter, defaultdict
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

from core.badges import (
    award_for_user,
    compare_with_mart,
    default_rules,
    issue_from_mart,
    one_user_sql,
    pseudonym_salt,
    user_key,
)
from core.ranking import DAILY_POINTS_CAP, competition_ranks
from tests.dbt.presence import present_by_day
from tests.fixtures.warehouse import DbtRun, run_dbt

pytestmark = pytest.mark.usefixtures("marts_fresh")

KST = timezone(timedelta(hours=9))
LOOP_MODELS = ("fct_badge_awards", "fct_points_ledger", "mart_leaderboard", "fct_stay_days", "mart_stay_days_monthly",
               "mart_mission_funnel", "mart_mission_outcomes_by_segment", "mart_failure_reasons")
RULES = default_rules()


def rows(pg: psycopg.Connection, sql: str, params: Any = None) -> list[dict[str, Any]]:
    with pg.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, params).fetchall()


def test_loop_models_and_their_tests_ran_green(marts_built: DbtRun) -> None:
    assert marts_built.failed == {}
    for model in LOOP_MODELS:
        assert marts_built.statuses.get(f"model.hometown.{model}") == "success", model
    unit = [n for n in marts_built.statuses if n.startswith("unit_test.hometown.") and any(
        m in n for m in ("int_presence_intervals__derived", "int_stay_days__summed", "fct_points_ledger",
                         "mart_mission_funnel"))]
    assert len(unit) == 4 and all(marts_built.statuses[n] == "pass" for n in unit)


# ------------------------------------------------------------------------------------ points
def _events(pg: psycopg.Connection, where: str = "true") -> list[dict[str, Any]]:
    return rows(pg, "select e.event_id, e.user_id, e.occurred_at, e.event_type, e.mission_id, e.payload, "
                    "coalesce(e.region_code, m.region_code) as region_code, m.points as mission_points, "
                    "m.mission_type from raw.activity_events e left join app.missions m on m.id = e.mission_id "
                    f"where {where} order by e.occurred_at, e.event_id")


def _expected_points(pg: psycopg.Connection) -> dict[str, Counter[str]]:
    """Points per user key and reason, by the ledger's three rules, from the raw events."""
    points: dict[str, Counter[str]] = defaultdict(Counter)
    done: set[tuple[Any, Any]] = set()
    day_total: Counter[tuple[Any, date]] = Counter()
    rate, cap = RULES.points.volunteer_points_per_hour, RULES.points.volunteer_hours_cap
    for e in _events(pg, "e.event_type in ('mission_completed', 'hours_confirmed')"):
        key = user_key(e["user_id"])
        payload = e["payload"] or {}
        if e["event_type"] == "mission_completed" and e["mission_points"] is not None:
            if (e["user_id"], e["mission_id"]) in done:
                continue
            done.add((e["user_id"], e["mission_id"]))
            nominal = int(payload.get("mission_points", e["mission_points"]))
            day = (e["user_id"], e["occurred_at"].astimezone(KST).date())
            earned = max(0, min(nominal, DAILY_POINTS_CAP - day_total[day]))
            day_total[day] += earned
            points[key]["mission_completed"] += earned
        elif e["event_type"] == "hours_confirmed" and isinstance(payload.get("hours"), int | float):
            hours = min(max(Decimal(str(payload["hours"])), Decimal(0)), cap)
            points[key]["volunteer_hours"] += int((hours * rate).quantize(Decimal(1), ROUND_HALF_UP))
    for award in rows(pg, "select user_key, bonus_points from marts.fct_badge_awards"):
        points[award["user_key"]]["badge_awarded"] += award["bonus_points"]
    return points


def test_points_ledger_recomputed_from_raw_events(pg: psycopg.Connection) -> None:
    expected = _expected_points(pg)
    mart: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows(pg, "select user_key, reason, sum(points)::int as points from marts.fct_points_ledger "
                      "group by user_key, reason"):
        mart[r["user_key"]][r["reason"]] = r["points"]
    assert {k: +v for k, v in expected.items() if +v} == dict(mart)
    busiest = max(expected, key=lambda k: sum(expected[k].values()))
    assert set(expected[busiest]) == {"mission_completed", "volunteer_hours", "badge_awarded"}


def test_repeat_completions_earn_nothing(pg: psycopg.Connection) -> None:
    repeated = rows(pg, """
        select user_id, mission_id from raw.activity_events where event_type = 'mission_completed'
        group by user_id, mission_id having count(*) > 1 limit 1""")
    if not repeated:
        pytest.skip("the demo has no repeated completion")
    pair = (user_key(repeated[0]["user_id"]), repeated[0]["mission_id"])
    entries = rows(pg, "select count(*) as n from marts.fct_points_ledger where user_key = %s and mission_id = %s "
                       "and reason = 'mission_completed'", pair)
    assert entries[0]["n"] == 1


def test_overall_board_ranks_are_standard_competition_ranks_of_the_totals(pg: psycopg.Connection) -> None:
    totals = {k: sum(v.values()) for k, v in _expected_points(pg).items() if sum(v.values()) > 0}
    ordered = sorted(totals.items(), key=lambda kv: -kv[1])
    expected = {e.user_id: (e.points, e.rank) for e in competition_ranks(ordered)}  # type: ignore[arg-type]
    mart = {r["user_key"]: (r["points"], r["rank"]) for r in rows(
        pg, "select user_key, points, rank from marts.mart_leaderboard where board = 'all|all'")}
    assert mart == expected


def test_region_week_board_from_the_ledger(pg: psycopg.Connection) -> None:
    board = rows(pg, "select board, scope_code, period_start_date from marts.mart_leaderboard "
                     "where scope_kind = 'sgg' and period_kind = 'week' group by 1, 2, 3 order by count(*) desc, 1 "
                     "limit 1")[0]
    start = datetime.combine(board["period_start_date"], datetime.min.time(), KST)
    points: Counter[str] = Counter()
    for r in rows(pg, "select user_key, points from marts.fct_points_ledger where region_code = %s "
                      "and occurred_at >= %s and occurred_at < %s", (board["scope_code"], start, start + timedelta(7))):
        points[r["user_key"]] += r["points"]
    year, week, _ = board["period_start_date"].isocalendar()
    assert board["board"] == f"sgg:{board['scope_code']}|w{year}-{week:02d}"
    expected = {e.user_id: (e.points, e.rank) for e in competition_ranks(  # type: ignore[arg-type]
        sorted(points.items(), key=lambda kv: -kv[1]))}
    mart = {r["user_key"]: (r["points"], r["rank"]) for r in rows(
        pg, "select user_key, points, rank from marts.mart_leaderboard where board = %s", (board["board"],))}
    assert mart == expected and len(mart) >= 2


# ------------------------------------------------------------------------------------ badges
def _regions(pg: psycopg.Connection) -> dict[str, tuple[str, bool]]:
    return {r["region_code"]: (r["sido_code"], r["category"] == "decline") for r in rows(
        pg, "select r.region_code, r.sido_code, d.category from raw.regions r "
            "left join raw.decline_areas d on d.region_code = r.region_code")}


def test_three_badges_recomputed_independently(pg: psycopg.Connection) -> None:
    regions = _regions(pg)
    expected: dict[tuple[str, str], datetime] = {}
    decline_done: dict[Any, set[Any]] = defaultdict(set)
    hours: Counter[Any] = Counter()
    for e in _events(pg):
        key, payload = user_key(e["user_id"]), e["payload"] or {}
        if e["event_type"] in ("checkin", "qr_scanned") and payload.get("accepted") is True:
            expected.setdefault((key, "first_checkin"), e["occurred_at"])
        if e["event_type"] == "mission_completed" and regions.get(e["region_code"], ("", False))[1]:
            decline_done[key].add(e["mission_id"])
            if len(decline_done[key]) == 5:
                expected.setdefault((key, "decline_area_5"), e["occurred_at"])
        if e["event_type"] == "hours_confirmed" and isinstance(payload.get("hours"), int | float):
            hours[key] += min(max(payload["hours"], 0), float(RULES.points.volunteer_hours_cap))
            if hours[key] >= 10:
                expected.setdefault((key, "volunteer_10h"), e["occurred_at"])
    mart = {(r["user_key"], r["badge_id"]): r["awarded_at"] for r in rows(
        pg, "select user_key, badge_id, awarded_at from marts.fct_badge_awards "
            "where badge_id in ('first_checkin', 'decline_area_5', 'volunteer_10h')")}
    assert mart == expected
    assert {b for _, b in mart} == {"first_checkin", "decline_area_5", "volunteer_10h"}


def test_real_time_evaluation_equals_the_mart_for_every_user(engine: Engine, pg: psycopg.Connection) -> None:
    mart = {(r["user_key"], r["badge_id"]): (r["awarded_at"], r["evidence_count"]) for r in rows(
        pg, "select user_key, badge_id, awarded_at, evidence_count from marts.fct_badge_awards "
            "where rule_source = 'events'")}
    live, together = {}, {}
    sql = text(one_user_sql(RULES))
    with engine.connect() as conn:
        users = [str(u) for (u,) in conn.execute(text("select distinct user_id from raw.activity_events")).all()]
        for user_id in users:
            for r in conn.execute(sql, {"user_ids": [user_id]}):
                live[(user_key(user_id), r.badge_id)] = (r.awarded_at, r.evidence_count)
        for r in conn.execute(sql, {"user_ids": users}):  # the after-commit thread evaluates users together
            together[(user_key(r.user_id), r.badge_id)] = (r.awarded_at, r.evidence_count)
    assert live == mart and len(mart) > 100
    assert together == mart


# ------------------------------------------------------------------------------------ stay days
STAY_REGION, OTHER_REGION = "11110", "11140"  # 서울 종로구, 중구
NIGHT = date(2025, 1, 14)  # before the demo's activity window


def _at(day_offset: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(NIGHT + timedelta(days=day_offset), datetime.min.time(), KST).replace(hour=hour,
                                                                                                  minute=minute)


# (time, event type, region, accepted): proofs across midnight, a refused check-in, a gap over 4 hours,
# and a proof in another 시군구 that breaks the chain
CRAFTED = [
    (_at(0, 21), "checkin", STAY_REGION, True),
    (_at(0, 22, 30), "qr_scanned", STAY_REGION, True),
    (_at(0, 23, 40), "checkin", STAY_REGION, False),
    (_at(1, 0, 30), "checkin", STAY_REGION, True),
    (_at(1, 2), "checkin", STAY_REGION, True),
    (_at(1, 3, 10), "checkin", STAY_REGION, True),
    (_at(1, 8), "checkin", STAY_REGION, True),
    (_at(1, 8, 30), "checkin", OTHER_REGION, True),
    (_at(1, 9), "checkin", STAY_REGION, True),
    (_at(1, 10), "checkin", STAY_REGION, True),
]


@dataclass
class Crafted:
    user_id: uuid.UUID
    build: DbtRun


def _rebuild_loop(db_url: str, target: Path) -> DbtRun:
    return run_dbt(db_url, ["run", "--select", "path:models/intermediate/loop", "path:models/marts/loop"], target)


@pytest.fixture(scope="module")
def crafted(db_url: str, engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crafted]:
    """A demo user's night in 종로구 (events appended), the loop marts rebuilt; removed and rebuilt after."""
    target = tmp_path_factory.mktemp("loop_dbt")
    with engine.begin() as conn:
        user_id = conn.execute(text("select id from app.users where is_demo and user_type is not null "
                                    "order by id limit 1")).scalar_one()
        assert not conn.execute(text("select 1 from raw.activity_events where user_id = :u and occurred_at "
                                     "between :a and :b"), {"u": user_id, "a": _at(-1, 0), "b": _at(2, 0)}).first()
        ids = [uuid.uuid4() for _ in CRAFTED]
        for event_id, (at, kind, region, accepted) in zip(ids, CRAFTED, strict=True):
            conn.execute(text("insert into raw.activity_events (event_id, user_id, occurred_at, event_type, "
                              "region_code, payload, source) values (:e, :u, :at, :k, :r, cast(:p as jsonb), "
                              "'test:stay_days')"),
                         {"e": event_id, "u": user_id, "at": at, "k": kind, "r": region,
                          "p": '{"accepted": %s}' % ("true" if accepted else "false")})
    build = _rebuild_loop(db_url, target / "with")
    try:
        yield Crafted(user_id, build)
    finally:
        with engine.begin() as conn:
            conn.execute(text("delete from raw.activity_events where event_id = any(:ids)"), {"ids": ids})
        restored = _rebuild_loop(db_url, target / "without")
        assert restored.returncode == 0, restored.output[-3000:]


def _presence_minutes(proofs: list[tuple[datetime, str]], max_gap: timedelta) -> dict[tuple[str, date], float]:
    """Independent recomputation: pair consecutive proofs, merge, cut at Korean midnights."""
    intervals: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for (a, ra), (b, rb) in pairwise(proofs):
        if ra == rb and timedelta(0) < b - a <= max_gap:
            intervals[ra].append((a, b))
    return {key: span.total_seconds() / 60 for key, span in present_by_day(intervals).items()}


def test_stay_days_of_a_night_across_midnight(crafted: Crafted, pg: psycopg.Connection) -> None:
    assert crafted.build.returncode == 0, crafted.build.output[-3000:]
    proofs = [(at, region) for at, _, region, accepted in CRAFTED if accepted]
    expected = _presence_minutes(proofs, timedelta(minutes=RULES.presence.max_gap_minutes))
    assert dict(expected) == {(STAY_REGION, NIGHT): 180.0, (STAY_REGION, NIGHT + timedelta(1)): 250.0}
    mart = {(r["region_code"], r["stay_date"]): r for r in rows(
        pg, "select * from marts.fct_stay_days where user_key = %s and stay_date between %s and %s",
        (user_key(crafted.user_id), NIGHT, NIGHT + timedelta(1)))}
    assert {k: float(r["minutes_present"]) for k, r in mart.items()} == dict(expected)
    assert all(r["is_stay_day"] for r in mart.values())
    assert mart[(STAY_REGION, NIGHT)]["stay_reached_at"] == _at(1, 0)  # the 180th minute, at midnight
    assert mart[(STAY_REGION, NIGHT + timedelta(1))]["stay_reached_at"] == _at(1, 3)
    first = rows(pg, "select awarded_at from marts.fct_badge_awards where user_key = %s and badge_id = "
                     "'first_stay_day'", (user_key(crafted.user_id),))
    assert first == [{"awarded_at": _at(1, 0)}]


def test_stay_days_monthly_recomputed_from_the_daily_fact(pg: psycopg.Connection) -> None:
    days = rows(pg, "select user_key, region_code, stay_month, is_stay_day, minutes_present from marts.fct_stay_days")
    expected: dict[tuple[str, date], dict[str, Any]] = defaultdict(
        lambda: {"stayers": set(), "days": 0, "present": set()})
    for d in days:
        cell = expected[(d["region_code"], d["stay_month"])]
        cell["present"].add(d["user_key"])
        if d["is_stay_day"]:
            cell["stayers"].add(d["user_key"])
            cell["days"] += 1
    mart = {(r["region_code"], r["stay_month"]): r for r in rows(pg, "select * from marts.mart_stay_days_monthly")}
    assert set(mart) == set(expected)
    for key, cell in expected.items():
        row = mart[key]
        assert (row["stay_users_count"], row["stay_days_count"], row["present_users_count"]) == (
            len(cell["stayers"]), cell["days"], len(cell["present"])), key
        assert row["is_small_cell"] == (len(cell["stayers"]) < 5)
    assert sum(c["days"] for c in expected.values()) > 100  # the demo's volunteering makes real stay days


# ------------------------------------------------------------------------------------ funnels
def test_funnel_of_the_busiest_mission(pg: psycopg.Connection) -> None:
    mission = rows(pg, "select mission_id, count(*) from marts.fct_mission_attempts group by 1 "
                       "order by 2 desc, 1 limit 1")[0]["mission_id"]
    attempts = rows(pg, "select * from marts.fct_mission_attempts where mission_id = %s", (mission,))
    step_count = rows(pg, "select count(*) as n from app.mission_steps where mission_id = %s", (mission,))[0]["n"]
    funnel = {r["step_no"]: r for r in rows(pg, "select * from marts.mart_mission_funnel where mission_id = %s",
                                            (mission,))}
    assert sorted(funnel) == list(range(step_count + 1))
    outcomes = Counter(a["outcome"] for a in attempts)
    completed = [a["duration_minutes"] for a in attempts if a["outcome"] == "completed"]
    for k, row in funnel.items():
        assert row["enrolled_count"] == len(attempts)
        assert row["reached_count"] == sum(a["last_step_reached"] >= k for a in attempts)
        stopped = Counter(a["outcome"] for a in attempts if k > 0 and a["last_step_reached"] == k - 1)
        assert (row["failed_at_step_count"], row["abandoned_at_step_count"], row["in_progress_at_step_count"]) == (
            stopped["failed"], stopped["abandoned"], stopped["in_progress"])
        if k > 0:
            entered = sum(a["last_step_reached"] >= k - 1 for a in attempts)
            rate = Decimal(stopped["failed"] + stopped["abandoned"]) / entered if entered else None
            assert row["drop_off_rate"] == (rate.quantize(Decimal("0.0001"), ROUND_HALF_UP) if rate is not None
                                            else None)
        assert (row["completed_count"], row["failed_count"], row["abandoned_count"]) == (
            outcomes["completed"], outcomes["failed"], outcomes["abandoned"])
        assert row["median_minutes_to_complete"] == Decimal(str(statistics.median(completed))).quantize(
            Decimal("0.1"), ROUND_HALF_UP)


def test_failure_reasons_by_segment(pg: psycopg.Connection) -> None:
    attempts = rows(pg, "select region_code, mission_type, coalesce(user_type, 'staff') as user_type, outcome, "
                        "failure_reason from marts.fct_mission_attempts where outcome = 'failed'")
    expected = Counter((a["region_code"], a["mission_type"], a["user_type"], a["failure_reason"]) for a in attempts)
    mart = {(r["region_code"], r["mission_type"], r["user_type"], r["failure_reason"]): r["failures_count"]
            for r in rows(pg, "select * from marts.mart_failure_reasons")}
    assert mart == dict(expected)
    segments = rows(pg, "select sum(failed_count)::int as failed, sum(attempts_count)::int as attempts "
                        "from marts.mart_mission_outcomes_by_segment")[0]
    assert segments["failed"] == len(attempts)
    assert segments["attempts"] == rows(pg, "select count(*) as n from marts.fct_mission_attempts "
                                            "where region_code is not null")[0]["n"]


# ------------------------------------------------------------------------------------ two paths, one award
def test_api_path_and_sensor_path_issue_each_badge_once(engine: Engine, pg: psycopg.Connection) -> None:
    with engine.begin() as conn:  # start from nothing issued for two users with event and stay-day badges
        users = conn.execute(text("""
            select u.id from app.users u
            where exists (select 1 from marts.fct_badge_awards a where a.user_key = md5(:salt || u.id::text)
                          and a.rule_source = 'stay_days')
            order by u.id limit 2"""), {"salt": pseudonym_salt() + ":"}).scalars().all()
        conn.execute(text("delete from app.badge_awards where user_id = any(:u)"), {"u": users})
        conn.execute(text("delete from app.notifications where user_id = any(:u) and kind = 'badge_awarded'"),
                     {"u": users})
    api_user, sensor_user = users
    with engine.begin() as conn:
        api_awards = award_for_user(conn, api_user)  # the API first: its event badges
    with engine.begin() as conn:
        first = issue_from_mart(conn)  # then the sensor: everything else, nothing twice
    with engine.begin() as conn:
        second = issue_from_mart(conn)
        late_api = award_for_user(conn, sensor_user)  # the API after the sensor: nothing left
        agreement = compare_with_mart(conn)
    issued = rows(pg, "select user_id, badge_id, issued_via from app.badge_awards where user_id = any(%s)", (users,))
    mart = rows(pg, "select user_key, badge_id, rule_source from marts.fct_badge_awards where user_key = any(%s)",
                ([user_key(u) for u in users],))
    assert api_awards and second.issued == [] and late_api == []
    assert {(user_key(r["user_id"]), r["badge_id"]) for r in issued} == {(r["user_key"], r["badge_id"]) for r in mart}
    via = {(r["user_id"], r["badge_id"]): r["issued_via"] for r in issued}
    assert {b.badge_id for b in api_awards} == {b for (u, b), v in via.items() if u == api_user and v == "api"}
    assert all(v == "sensor" for (u, _), v in via.items() if u == sensor_user)
    assert not {a.badge_id for a in first.issued if a.user_id == api_user} & {a.badge_id for a in api_awards}
    notes = rows(pg, "select dedupe_key, count(*) as n from app.notifications where user_id = any(%s) "
                     "and kind = 'badge_awarded' group by 1", (users,))
    assert len(notes) == len(issued) and all(n["n"] == 1 for n in notes)
    assert agreement.passed, agreement
