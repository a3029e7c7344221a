"""The marts over the demo population equal what is computed independently from raw and app.

Every expected number here comes from the source tables (raw.*, app.*) through Python or plain SQL
written for the test, never from the dbt models themselves.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg.rows import dict_row

from core.vocab import EXTINCTION_RISK_CLASSES, extinction_risk_class
from tests.fixtures.warehouse import PSEUDONYM_SALT_DEFAULT, DbtRun, run_dbt

pytestmark = pytest.mark.usefixtures("marts_fresh")

SEOUL = ZoneInfo("Asia/Seoul")
UISEONG = "47730"  # 의성군, a population-decline area
TERMINAL = {"mission_completed": "completed", "mission_failed": "failed", "mission_abandoned": "abandoned"}
STATUS_EVENTS = {"mission_enrolled", "mission_resumed", *TERMINAL}
TYPE_ORDER = {"mission_enrolled": 0, "mission_resumed": 1, **dict.fromkeys(TERMINAL, 3)}

# The columns other helpers code against (C_dbt.md); the marts may add more.
CONTRACT_COLUMNS = {
    "dim_region": "region_code sido_code sido_name sgg_name full_name level centroid_lat centroid_lon area_km2 "
                  "population_year population_total population_male population_female women_20_39_count "
                  "people_65_plus_count extinction_risk_index extinction_risk_class extinction_risk_label_ko "
                  "extinction_risk_rank population_change_pct is_decline_area is_interest_area "
                  "empty_houses_count empty_houses_year tourist_spot_count festival_count heritage_count",
    "dim_user": "user_key user_type age_band hometown_region_code home_region_code interest_region_count "
                "skill_count is_demo registered_month",
    "dim_mission": "mission_id title mission_type status region_code place_name lat lon source_kind skills "
                   "capacity points step_count starts_at ends_at created_at",
    "fct_activity_events": "event_id user_key occurred_at event_date event_type mission_id step_no region_code "
                           "lat lon source ingested_at payload",
    "fct_mission_attempts": "attempt_id user_key mission_id mission_type region_code user_type attempt_no "
                            "enrolled_at ended_at outcome failure_reason last_step_reached step_count "
                            "is_fully_stepped duration_minutes",
    "mart_region_activity_monthly": "region_code activity_month active_users_count enrolments_count "
                                    "completions_count failures_count abandonments_count checkins_count "
                                    "completion_rate",
}


def user_key(user_id: uuid.UUID | str) -> str:
    salt = os.environ.get("HOMETOWN_PSEUDONYM_SALT", PSEUDONYM_SALT_DEFAULT)
    return hashlib.md5(f"{salt}:{user_id}".encode()).hexdigest()


def rows(pg: psycopg.Connection, sql: str, params: Any = None) -> list[dict[str, Any]]:
    with pg.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, params).fetchall()


# ------------------------------------------------------------------------------------ build
def test_build_ran_every_node_green(marts_built: DbtRun) -> None:
    assert marts_built.failed == {}
    kinds = Counter(node.split(".")[0] for node in marts_built.statuses)
    assert kinds["model"] >= 13 and kinds["unit_test"] >= 4 and kinds["test"] >= 100 and kinds["seed"] == 1


def test_marts_keep_the_agreed_columns(pg: psycopg.Connection) -> None:
    for table, expected in CONTRACT_COLUMNS.items():
        present = {r["column_name"] for r in rows(
            pg, "select column_name from information_schema.columns where table_schema = 'marts' "
                "and table_name = %s", (table,))}
        missing = set(expected.split()) - present
        assert not missing, f"marts.{table} lacks {missing}"


def test_no_personal_data_in_marts(pg: psycopg.Connection) -> None:
    columns = {r["column_name"] for r in rows(
        pg, "select column_name from information_schema.columns where table_schema = 'marts'")}
    assert not columns & {"email", "display_name", "password_hash", "user_id", "name"}


# ------------------------------------------------------------------------------------ regions
def _population(pg: psycopg.Connection, region_code: str, year: int) -> dict[tuple[str, str], int]:
    return {(r["sex"], r["age_band"]): r["population"] for r in rows(
        pg, "select sex, age_band, population from raw.region_population where region_code = %s and year = %s",
        (region_code, year))}


def _index(pop: dict[tuple[str, str], int]) -> tuple[int, int, Decimal | None]:
    women = sum(pop.get(("female", f"{a}-{a + 4}"), 0) for a in (20, 25, 30, 35))
    old = sum(pop.get(("total", f"{a}-{a + 4}"), 0) for a in range(65, 100, 5)) + pop.get(("total", "100+"), 0)
    index = (Decimal(women) / Decimal(old)).quantize(Decimal("0.001"), ROUND_HALF_UP) if old else None
    return women, old, index


def test_uiseong_extinction_risk_from_raw_population(pg: psycopg.Connection) -> None:
    latest = rows(pg, "select max(year) as y from raw.region_population where region_code = %s", (UISEONG,))[0]["y"]
    pop = _population(pg, UISEONG, latest)
    women, old, index = _index(pop)
    mart = rows(pg, "select * from marts.dim_region where region_code = %s", (UISEONG,))[0]

    assert mart["population_year"] == latest
    assert mart["population_total"] == pop[("total", "total")]
    assert (mart["women_20_39_count"], mart["people_65_plus_count"]) == (women, old)
    assert mart["extinction_risk_index"] == index
    key, label = extinction_risk_class(float(index))
    assert (mart["extinction_risk_class"], mart["extinction_risk_label_ko"]) == (key, label)
    assert key == "high_risk"  # 의성군 is among the most at-risk regions of Korea
    base = _population(pg, UISEONG, 2022)[("total", "total")]
    expected_change = (Decimal(100) * (pop[("total", "total")] - base) / base).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert mart["population_change_pct"] == expected_change
    assert mart["is_decline_area"] is True and mart["is_interest_area"] is False


def test_risk_rank_and_classes_of_every_region(pg: psycopg.Connection) -> None:
    expected: dict[str, Decimal] = {}
    for region in rows(pg, "select region_code from raw.regions"):
        code = region["region_code"]
        latest = rows(pg, "select max(year) as y from raw.region_population where region_code = %s", (code,))[0]["y"]
        _, _, index = _index(_population(pg, code, latest))
        if index is not None:
            expected[code] = index
    mart = {r["region_code"]: r for r in rows(pg, "select * from marts.dim_region")}
    assert set(mart) == {r["region_code"] for r in rows(pg, "select region_code from raw.regions")}
    ordered = sorted(expected.values())
    for code, index in expected.items():
        assert mart[code]["extinction_risk_index"] == index
        assert mart[code]["extinction_risk_rank"] == 1 + ordered.index(index)  # ties share the lower rank
        assert mart[code]["extinction_risk_class"] == extinction_risk_class(float(index))[0]
    assert {r["extinction_risk_class"] for r in mart.values()} <= {c[1] for c in EXTINCTION_RISK_CLASSES}


def test_region_designations_houses_and_places(pg: psycopg.Connection) -> None:
    flags = rows(pg, "select count(*) filter (where is_decline_area) as d, count(*) filter (where is_interest_area) "
                     "as i from marts.dim_region")[0]
    raw_flags = rows(pg, "select count(*) filter (where category = 'decline') as d, "
                         "count(*) filter (where category = 'interest') as i from raw.decline_areas")[0]
    assert flags == raw_flags
    houses = rows(pg, "select distinct on (region_code) region_code, year, empty_count from raw.empty_houses "
                      "where housing_type = '계' order by region_code, year desc")
    mart = {r["region_code"]: r for r in rows(pg, "select * from marts.dim_region")}
    for house in houses:
        if house["region_code"] in mart:
            assert (mart[house["region_code"]]["empty_houses_count"], mart[house["region_code"]]["empty_houses_year"]) \
                == (house["empty_count"], house["year"])
    places = Counter((r["region_code"], r["kind"]) for r in rows(
        pg, "select region_code, kind from raw.places where region_code is not null"))
    for code, region in mart.items():
        assert region["tourist_spot_count"] == places[(code, "tourist_spot")]
        assert region["festival_count"] == places[(code, "festival")]
        assert region["heritage_count"] == places[(code, "heritage")]


# ------------------------------------------------------------------------------------ users, missions
def test_dim_user_is_pseudonymous_and_complete(pg: psycopg.Connection) -> None:
    users = rows(pg, "select id, user_type, birth_year, created_at, skills, interest_region_codes, is_demo "
                     "from app.users")
    mart = {r["user_key"]: r for r in rows(pg, "select * from marts.dim_user")}
    assert len(mart) == len(users)
    for user in users:
        row = mart[user_key(user["id"])]
        assert row["user_type"] == user["user_type"] and row["is_demo"] == user["is_demo"]
        assert row["skill_count"] == len(user["skills"])
        assert row["interest_region_count"] == len(user["interest_region_codes"])
        registered = user["created_at"].astimezone(SEOUL)
        assert row["registered_month"] == registered.date().replace(day=1)
        if user["birth_year"] is not None:
            assert row["age_band"] == f"{(registered.year - user['birth_year']) // 10 * 10}s"


def test_dim_mission_counts_steps(pg: psycopg.Connection) -> None:
    steps = Counter(r["mission_id"] for r in rows(pg, "select mission_id from app.mission_steps"))
    missions = rows(pg, "select id from app.missions")
    mart = {r["mission_id"]: r["step_count"] for r in rows(pg, "select mission_id, step_count from marts.dim_mission")}
    assert mart == {m["id"]: steps[m["id"]] for m in missions}


# ------------------------------------------------------------------------------------ attempts
@dataclass
class Attempt:
    attempt_id: str
    user_id: uuid.UUID
    mission_id: uuid.UUID
    events: list[dict[str, Any]]


def _attempt_ids(pair: list[dict[str, Any]]) -> list[str]:
    """The attempt of each event of one (user, mission) pair, in the pair's time order."""
    sequences: list[list[dict[str, Any]]] = []
    for event in pair:
        if event["event_type"] == "mission_enrolled" or not sequences:
            sequences.append([])
        sequences[-1].append(event)
    ids = []
    for sequence in sequences:
        start = sequence[0]["occurred_at"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        derived = hashlib.md5(f"{sequence[0]['user_id']}|{sequence[0]['mission_id']}|{start}".encode()).hexdigest()
        given = sorted(e["payload"]["attempt_id"] for e in sequence if "attempt_id" in (e["payload"] or {}))
        for event in sequence:
            ids.append((event["payload"] or {}).get("attempt_id") or (given[0] if given else derived))
    return ids


def recompute_attempts(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The attempt rules of the brief, written independently of the SQL: an enrolment (or a pair's
    first event) opens an attempt that runs to the next enrolment; payload.attempt_id wins; the
    last status event decides the outcome; an open attempt followed by another is abandoned."""
    by_pair: dict[tuple[Any, Any], list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        by_pair[(event["user_id"], event["mission_id"])].append(event)
    result = []
    for (user_id, mission_id), pair in by_pair.items():
        pair.sort(key=lambda e: (e["occurred_at"], TYPE_ORDER.get(e["event_type"], 2), str(e["event_id"])))
        grouped: dict[str, Attempt] = {}
        for event, attempt_id in zip(pair, _attempt_ids(pair), strict=True):
            grouped.setdefault(attempt_id, Attempt(attempt_id, user_id, mission_id, [])).events.append(event)
        ordered = sorted(grouped.values(), key=lambda a: (a.events[0]["occurred_at"], a.attempt_id))
        for number, attempt in enumerate(ordered, start=1):
            statuses = [e for e in attempt.events if e["event_type"] in STATUS_EVENTS]
            last = statuses[-1] if statuses else None
            if last is not None and last["event_type"] in TERMINAL:
                outcome, ended = TERMINAL[last["event_type"]], last["occurred_at"]
            elif number < len(ordered):
                outcome, ended = "abandoned", attempt.events[-1]["occurred_at"]
            else:
                outcome, ended = "in_progress", None
            steps = [e["step_no"] for e in attempt.events if e["event_type"] == "step_completed"]
            result.append({
                "attempt_id": attempt.attempt_id, "user_key": user_key(user_id), "mission_id": mission_id,
                "attempt_no": number, "enrolled_at": attempt.events[0]["occurred_at"], "ended_at": ended,
                "outcome": outcome,
                "failure_reason": (last["payload"] or {}).get("reason") if outcome == "failed" and last else None,
                "last_step_reached": max(steps, default=0),
            })
    return result


ATTEMPT_FIELDS = ("attempt_id", "mission_id", "attempt_no", "enrolled_at", "ended_at", "outcome", "failure_reason",
                  "last_step_reached")


def _mission_events(pg: psycopg.Connection, where: str, params: Any) -> list[dict[str, Any]]:
    return rows(pg, "select e.event_id, e.user_id, e.mission_id, e.occurred_at, e.event_type, e.step_no, e.payload "
                    f"from raw.activity_events e where e.mission_id is not null and {where}", params)


def test_attempts_of_users_recomputed_from_raw_events(pg: psycopg.Connection) -> None:
    richest = rows(pg, """
        select user_id from raw.activity_events where mission_id is not null
        group by user_id
        order by count(*) filter (where event_type = 'mission_failed') > 0 desc,
                 count(*) filter (where event_type = 'mission_enrolled') desc, user_id
        limit 1""")
    sample = rows(pg, "select user_id from raw.activity_events where mission_id is not null "
                      "group by user_id order by md5(user_id::text) limit 25")
    user_ids = [r["user_id"] for r in richest + sample]
    events = _mission_events(pg, "e.user_id = any(%s)", (user_ids,))
    expected = sorted((tuple(a[f] for f in ATTEMPT_FIELDS), a["user_key"]) for a in recompute_attempts(events))
    keys = [user_key(u) for u in user_ids]
    actual = sorted((tuple(r[f] for f in ATTEMPT_FIELDS), r["user_key"]) for r in rows(
        pg, f"select user_key, {', '.join(ATTEMPT_FIELDS)} from marts.fct_mission_attempts where user_key = any(%s)",
        (keys,)))
    assert actual == expected
    outcomes = Counter(a[0][ATTEMPT_FIELDS.index("outcome")] for a in expected)
    assert outcomes["completed"] and outcomes["failed"] + outcomes["abandoned"], outcomes


def test_every_outcome_occurs_with_reasons(pg: psycopg.Connection) -> None:
    outcomes = {r["outcome"]: r for r in rows(
        pg, "select outcome, count(*) as n, count(failure_reason) as with_reason from marts.fct_mission_attempts "
            "group by outcome")}
    assert {"completed", "failed", "abandoned"} <= set(outcomes)
    assert outcomes["failed"]["with_reason"] == outcomes["failed"]["n"]
    assert all(o["with_reason"] == 0 for name, o in outcomes.items() if name != "failed")


# ------------------------------------------------------------------------------------ monthly mart
def test_region_month_recomputed_from_raw(pg: psycopg.Connection) -> None:
    busiest = rows(pg, """
        select m.region_code from raw.activity_events e join app.missions m on m.id = e.mission_id
        group by m.region_code order by count(*) desc, m.region_code limit 1""")[0]["region_code"]
    events = rows(pg, """
        select e.event_id, e.user_id, e.mission_id, e.occurred_at, e.event_type, e.step_no, e.payload,
               coalesce(e.region_code, m.region_code) as region_code, m.region_code as mission_region
        from raw.activity_events e left join app.missions m on m.id = e.mission_id""")
    month = lambda ts: ts.astimezone(SEOUL).date().replace(day=1)  # noqa: E731
    in_region = [e for e in events if e["region_code"] == busiest]
    expected: dict[Any, Counter[str]] = defaultdict(Counter)
    active: dict[Any, set[Any]] = defaultdict(set)
    for event in in_region:
        active[month(event["occurred_at"])].add(event["user_id"])
        if event["event_type"] == "checkin":
            accepted = (event["payload"] or {}).get("accepted") is not False
            expected[month(event["occurred_at"])]["checkins_count" if accepted else "rejected_checkins_count"] += 1
    mission_events = [e for e in events if e["mission_region"] == busiest]
    for attempt in recompute_attempts(mission_events):
        expected[month(attempt["enrolled_at"])]["enrolments_count"] += 1
        if attempt["ended_at"] is not None:
            name = {"completed": "completions_count", "failed": "failures_count", "abandoned": "abandonments_count"}
            expected[month(attempt["ended_at"])][name[attempt["outcome"]]] += 1
    for activity_month, users in active.items():
        expected[activity_month]["active_users_count"] = len(users)

    measures = ("active_users_count", "enrolments_count", "completions_count", "failures_count",
                "abandonments_count", "checkins_count", "rejected_checkins_count")
    mart = {r["activity_month"]: r for r in rows(
        pg, "select * from marts.mart_region_activity_monthly where region_code = %s", (busiest,))}
    assert set(mart) == set(expected)
    for activity_month, counts in expected.items():
        assert {m: mart[activity_month][m] for m in measures} == {m: counts[m] for m in measures}, activity_month
        ended = counts["completions_count"] + counts["failures_count"] + counts["abandonments_count"]
        rate = (Decimal(counts["completions_count"]) / ended).quantize(Decimal("0.0001"), ROUND_HALF_UP) if ended \
            else None
        assert mart[activity_month]["completion_rate"] == rate
        assert mart[activity_month]["is_small_cell"] == (counts["active_users_count"] < 5)


# ------------------------------------------------------------------------------------ incremental
def test_incremental_run_adds_exactly_the_appended_events(
    pg: psycopg.Connection, db_url: str, dbt_target_dir: Path
) -> None:
    target = dbt_target_dir / "build"  # the session build's target: its partial parse saves time
    before = rows(pg, "select count(*) as n, max(ingested_at) as newest from marts.fct_activity_events")[0]
    oldest = rows(pg, "select event_id, xmin::text as version from marts.fct_activity_events "
                      "order by ingested_at, event_id limit 1")[0]
    pick = rows(pg, "select e.user_id, e.mission_id from raw.activity_events e where e.mission_id is not null "
                    "order by e.event_id limit 1")[0]
    appended = [uuid.uuid4() for _ in range(3)]
    try:
        with pg.cursor() as cur:
            cur.executemany(
                "insert into raw.activity_events (event_id, user_id, occurred_at, event_type, mission_id, step_no, "
                "source) values (%s, %s, now(), %s, %s, %s, 'test:incremental')",
                [(appended[0], pick["user_id"], "mission_enrolled", pick["mission_id"], None),
                 (appended[1], pick["user_id"], "step_completed", pick["mission_id"], 1),
                 (appended[2], pick["user_id"], "mission_abandoned", pick["mission_id"], None)])
        run = run_dbt(db_url, ["run", "--select", "fct_activity_events"], target)
        assert run.returncode == 0, run.output[-3000:]
        after = rows(pg, "select count(*) as n from marts.fct_activity_events")[0]["n"]
        assert after == before["n"] + len(appended)
        found = rows(pg, "select event_id, user_key from marts.fct_activity_events where event_id = any(%s)",
                     (appended,))
        assert {r["event_id"] for r in found} == set(appended)
        assert {r["user_key"] for r in found} == {user_key(pick["user_id"])}
        # existing rows were neither deleted nor rewritten (the demo, ingested minutes ago, lies inside
        # the lookback window): the oldest row is the same tuple version as before
        unchanged = rows(pg, "select xmin::text as version from marts.fct_activity_events where event_id = %s",
                         (oldest["event_id"],))[0]
        assert unchanged["version"] == oldest["version"]
        rerun = run_dbt(db_url, ["run", "--select", "fct_activity_events"], target)
        assert rerun.returncode == 0
        assert rows(pg, "select count(*) as n from marts.fct_activity_events")[0]["n"] == after
    finally:
        pg.execute("delete from marts.fct_activity_events where event_id = any(%s)", (appended,))
        pg.execute("delete from raw.activity_events where event_id = any(%s)", (appended,))
