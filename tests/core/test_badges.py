"""Badge rules: the YAML is validated with clear errors, compiles to the checked-in dbt files, and the
API's one-user evaluation issues each badge once, at the time of the fact that earned it."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Connection, Engine, text

from core.accounts import NewUser, create_users, hash_password
from core.activity import append_events
from core.badges import (
    RULES_PATH,
    BadgeRuleError,
    award_for_user,
    default_rules,
    issue_award,
    load_rules,
    one_user_sql,
    parse_rules,
    stale_files,
)
from core.catalog import NewMission, NewStep, create_missions
from core.korea import LoadSummary
from core.ranking import DAILY_POINTS_CAP

KST = timezone(timedelta(hours=9))
DECLINE = "47730"  # 의성군, a population-decline area (경북, 시도 47)
NOT_DECLINE = "11110"  # 서울 종로구 (시도 11)


def _document() -> dict[str, Any]:
    return yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))


def _problems(document: dict[str, Any]) -> list[str]:
    with pytest.raises(BadgeRuleError) as caught:
        parse_rules(document, "badges.yml")
    assert "badges.yml" in str(caught.value)
    return caught.value.problems


# ------------------------------------------------------------------------------------ the rules file
def test_rules_file_is_valid_and_compiled_files_are_current() -> None:
    rules = load_rules()
    assert len(rules.badges) >= 6 and {b.tier.key for b in rules.badges} == {"bronze", "silver", "gold"}
    assert {b.criteria.of for b in rules.badges} == {"events", "stay_days"}
    assert stale_files(rules) == [], "run `python -m core.badges compile` and commit the generated files"
    macro = (Path(RULES_PATH).parent / "macros" / "loop" / "loop_rules.sql").read_text(encoding="utf-8")
    assert f"'daily_points_cap': {DAILY_POINTS_CAP}" in macro  # the boards' cap (core.ranking) reaches dbt


def test_the_api_reads_only_the_event_types_its_rules_count() -> None:
    """one_user_sql skips events no real-time rule counts; a rule over every event type turns that off."""
    rules = load_rules()
    assert "and event_type in ('checkin', 'hours_confirmed', 'mission_completed', 'qr_scanned')" in \
        one_user_sql(rules)
    document = _document()
    any_event = next(b for b in document["badges"] if b["criteria"]["of"] == "events")
    any_event["criteria"]["where"] = {"is_accepted": True}
    assert "and event_type in" not in one_user_sql(parse_rules(document, "badges.yml"))


def test_each_broken_rule_is_named_with_its_badge_and_field() -> None:
    document = _document()
    badges = document["badges"]
    badges[0]["criteria"]["where"]["event_type"] = "check_in"
    badges[1]["tier"] = "platinum"
    badges[2]["criteria"]["where"]["mission_type"] = "talent"
    badges[3]["criteria"]["measure"] = {"distinct": "hours"}
    badges[4]["criteria"]["within_days"] = 0
    badges[5]["id"] = badges[6]["id"]
    badges[7]["criteria"]["where"]["color"] = "red"
    badges[8]["criteria"]["of"] = "stays"
    del badges[9]["name_ko"]
    problems = _problems(document)
    expected = [
        "badge 'first_checkin' (badges[0]).criteria.where.event_type: 'check_in' is not one of:",
        "badge 'first_mission' (badges[1]).tier: must be one of the tiers: bronze, gold, silver, got 'platinum'",
        "badge 'first_skill_mission' (badges[2]).criteria.where.mission_type: 'talent' is not one of:",
        "badge 'learner_5' (badges[3]).criteria.measure.distinct: 'hours' cannot be used with of: events",
        "badge 'decline_area_5' (badges[4]).criteria.within_days: must be a whole number of days >= 1, got 0",
        "badge 'busy_week' (badges[6]).id: is used by an earlier badge; ids must be unique",
        "badge 'volunteer_10h' (badges[7]).criteria.where.color: no such filter for of: events",
        "badge 'first_stay_day' (badges[8]).criteria.of: must be one of: events, stay_days, got 'stays'",
        "badge 'stay_30_days_one_region' (badges[9]).name_ko: must be a non-empty text",
    ]
    for start in expected:
        assert any(p.startswith(start) for p in problems), (start, problems)
    assert len(problems) == len(expected)


def test_value_shapes_and_top_level_are_checked() -> None:
    document = _document()
    document["badges"][0]["criteria"]["where"] = {"region_code": 47730, "is_decline_area": "yes"}
    document["badges"][1]["criteria"]["at_least"] = 1.5
    document["badges"][2]["criteria"]["per"] = "mission_id"
    document["points"]["volunteer_points_per_hour"] = -1
    document["levels"] = {}
    problems = _problems(document)
    assert "levels: unknown top-level key (allowed: points, presence, tiers, badges)" in problems
    assert "points.volunteer_points_per_hour: must be a whole number >= 0, got -1" in problems
    assert any("criteria.where.region_code: must be a 5-digit code in quotes, got 47730" in p for p in problems)
    assert any("criteria.where.is_decline_area: must be true or false, got 'yes'" in p for p in problems)
    assert any("criteria.at_least: counts are whole numbers, got 1.5" in p for p in problems)
    assert any("criteria.per: must be one of: region_code, sido_code, got 'mission_id'" in p for p in problems)


def test_invalid_yaml_says_so(tmp_path: Path) -> None:
    broken = tmp_path / "badges.yml"
    broken.write_text("badges: [\n  - id: x\n", encoding="utf-8")
    with pytest.raises(BadgeRuleError, match="not valid YAML"):
        load_rules(broken)


def test_hours_points_are_capped_and_rounded() -> None:
    points = default_rules().points
    assert points.for_hours(2.5) == round(2.5 * points.volunteer_points_per_hour)
    assert points.for_hours(80) == int(points.volunteer_hours_cap * points.volunteer_points_per_hour)
    assert points.for_hours(0) == 0 and points.for_hours(-3) == 0


# ------------------------------------------------------------------------------------ one user, real time
@dataclass
class World:
    user_id: uuid.UUID
    decline_missions: list[uuid.UUID]  # exploration missions in 의성군
    skill_mission: uuid.UUID  # a skill mission in 종로구


@pytest.fixture()
def world(engine: Engine, regions_loaded: LoadSummary) -> Iterator[World]:
    """A fresh user and six missions of their own, removed afterwards (events, awards, notifications)."""
    user = NewUser(email=f"badge-{uuid.uuid4().hex[:10]}@example.org", display_name="배지 시험",
                   password_hash=hash_password("x" * 12), user_type="youth")
    explore = [NewMission(title=f"의성 탐방 {i}", mission_type="exploration", region_code=DECLINE, points=100,
                          steps=[NewStep(1, "도착")]) for i in range(5)]
    skill = NewMission(title="종로 재능기부", mission_type="skill", region_code=NOT_DECLINE, points=100,
                       steps=[NewStep(1, "참여")])
    with engine.begin() as conn:
        (user_id,) = create_users(conn, [user])
        mission_ids = create_missions(conn, [*explore, skill])
    yield World(user_id, mission_ids[:5], mission_ids[5])
    with engine.begin() as conn:
        conn.execute(text("delete from raw.activity_events where user_id = :u"), {"u": user_id})
        conn.execute(text("delete from app.users where id = :u"), {"u": user_id})  # awards, notifications cascade
        conn.execute(text("delete from app.missions where id = any(:m)"), {"m": mission_ids})


def _event(user_id: uuid.UUID, at: datetime, event_type: str, mission_id: uuid.UUID | None = None,
           region_code: str | None = None, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"event_id": uuid.uuid4(), "user_id": user_id, "occurred_at": at,
                             "event_type": event_type}
    if mission_id is not None:
        event["mission_id"] = mission_id
    if region_code is not None:
        event["region_code"] = region_code
    if payload is not None:
        event["payload"] = payload
    return event


def _append(conn: Connection, events: list[dict[str, Any]]) -> None:
    counts = append_events(conn, events, source="api")
    assert counts.loaded == len(events), counts


def _notifications(conn: Connection, user_id: uuid.UUID) -> list[Any]:
    return conn.execute(text("select kind, dedupe_key, data from app.notifications where user_id = :u "
                             "order by id"), {"u": user_id}).all()


def test_award_for_user_issues_each_earned_badge_once_at_the_earning_fact(engine: Engine, world: World) -> None:
    start = datetime(2026, 5, 4, 10, 0, tzinfo=KST)
    user = world.user_id
    with engine.begin() as conn:
        _append(conn, [_event(user, start, "checkin", region_code=DECLINE,
                              payload={"accepted": False, "reason": "outside_radius"})])
        assert award_for_user(conn, user) == []  # a refused check-in proves nothing

        completions = [_event(user, start + timedelta(hours=i + 1), "mission_completed", m, DECLINE)
                       for i, m in enumerate(world.decline_missions[:4])]
        completions.append(_event(user, start + timedelta(hours=5), "mission_completed",
                                  world.decline_missions[0], DECLINE))  # the same mission again
        _append(conn, [_event(user, start + timedelta(minutes=30), "qr_scanned", world.decline_missions[0],
                              DECLINE, {"accepted": True}), *completions])
        first = {a.badge_id: a for a in award_for_user(conn, user)}

    assert set(first) == {"first_checkin", "first_mission", "busy_week"}
    assert first["first_checkin"].awarded_at == start + timedelta(minutes=30)
    assert first["first_mission"].awarded_at == start + timedelta(hours=1)
    assert first["busy_week"].awarded_at == start + timedelta(hours=3)  # the third different mission in 7 days
    assert all(a.issued_via == "api" and a.notification_id is not None for a in first.values())
    assert first["busy_week"].bonus_points == default_rules().badge("busy_week").tier.bonus_points

    fifth = start + timedelta(days=2)
    with engine.begin() as conn:
        _append(conn, [_event(user, fifth, "mission_completed", world.decline_missions[4], DECLINE),
                       _event(user, fifth + timedelta(hours=1), "mission_completed", world.skill_mission, NOT_DECLINE)])
        second = {a.badge_id: a for a in award_for_user(conn, user)}
        again = award_for_user(conn, user)
        issued = conn.execute(text("select badge_id, awarded_at, evidence_count, issued_via from app.badge_awards "
                                   "where user_id = :u"), {"u": user}).all()
        notes = _notifications(conn, user)

    # 5 different missions in decline areas (the repeat does not count), the first skill mission
    assert set(second) == {"decline_area_5", "first_skill_mission"}
    assert second["decline_area_5"].awarded_at == fifth and second["decline_area_5"].evidence_count == 5
    assert again == []
    assert {r.badge_id for r in issued} == set(first) | set(second)
    assert [n.dedupe_key for n in notes] == [f"badge:{user}:{b}" for b in [*first, *second]]
    assert all(n.kind == "badge_awarded" and n.data["badge_id"] for n in notes)


def test_confirmed_hours_earn_the_volunteer_badge_when_the_sum_reaches_ten(engine: Engine, world: World) -> None:
    user, mission = world.user_id, world.skill_mission
    day = datetime(2026, 6, 1, 12, 0, tzinfo=KST)
    with engine.begin() as conn:
        _append(conn, [_event(user, day, "hours_confirmed", mission, NOT_DECLINE, {"hours": 6}),
                       _event(user, day + timedelta(days=1), "hours_claimed", mission, NOT_DECLINE, {"hours": 5}),
                       _event(user, day + timedelta(days=2), "hours_confirmed", mission, NOT_DECLINE, {"hours": 3.5})])
        assert award_for_user(conn, user) == []  # 9.5 hours
        _append(conn, [_event(user, day + timedelta(days=3), "hours_confirmed", mission, NOT_DECLINE, {"hours": 1})])
        (award,) = award_for_user(conn, user)
    assert (award.badge_id, award.awarded_at, award.evidence_count) == ("volunteer_10h", day + timedelta(days=3),
                                                                       Decimal("10.5"))


def test_concurrent_issuers_issue_one_award_and_one_notification(engine: Engine, world: World) -> None:
    """The API and the sensor racing for the same badge: the second waits for the first, then finds it."""
    badge = default_rules().badge("first_mission")
    at = datetime(2026, 7, 1, 9, 0, tzinfo=KST)
    results: dict[str, Any] = {}
    first_inserted = threading.Event()

    def sensor() -> None:
        first_inserted.wait(10)
        with engine.begin() as conn:  # blocks on the API's uncommitted row
            results["sensor"] = issue_award(conn, world.user_id, badge, at, 1, "sensor")

    racer = threading.Thread(target=sensor)
    racer.start()
    with engine.begin() as conn:
        results["api"] = issue_award(conn, world.user_id, badge, at, 1, "api")
        first_inserted.set()
        racer.join(0.5)
        assert racer.is_alive()  # still waiting for this transaction
    racer.join(10)
    assert results["api"] is not None and results["sensor"] is None
    with engine.connect() as conn:
        assert conn.execute(text("select issued_via from app.badge_awards where user_id = :u"),
                            {"u": world.user_id}).scalars().all() == ["api"]
        assert len(_notifications(conn, world.user_id)) == 1
