"""The community marts built by dbt over the demo community, checked against the app tables they summarise."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import Engine

from ai.moderation import get_screen
from core.community_demo import CommunitySummary, seed_community
from core.db import libpq_url
from tests.fixtures.warehouse import DbtRun, run_dbt


@pytest.fixture(scope="module")
def community(demo_loaded: object, engine: Engine) -> CommunitySummary:
    with engine.begin() as conn:
        first = seed_community(conn, seed=7, screen=get_screen(), now=datetime(2026, 11, 1, tzinfo=UTC))
    with engine.begin() as conn:  # the same seed gives the same community
        again = seed_community(conn, seed=7, screen=get_screen(), now=datetime(2026, 11, 1, tzinfo=UTC))
    assert first == again
    return again


@pytest.fixture(scope="module")
def built(community: CommunitySummary, db_url: str, tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    run = run_dbt(db_url, ["build", "--select", "+tag:community"], tmp_path_factory.mktemp("community_dbt"))
    if run.returncode != 0:
        pytest.fail(f"dbt build of the community marts failed ({run.failed}):\n{run.output[-6000:]}")
    return run


@pytest.fixture()
def warehouse(db_url: str) -> psycopg.Connection:
    with psycopg.connect(libpq_url(db_url), autocommit=True) as conn:
        yield conn  # type: ignore[misc]


def one(conn: psycopg.Connection, sql: str) -> tuple:
    return conn.execute(sql).fetchone()  # type: ignore[return-value]


def test_the_demo_community_is_plausible(community: CommunitySummary, warehouse: psycopg.Connection) -> None:
    assert community.posts >= 40 and community.comments >= community.posts // 2
    assert community.mentorships >= 3 and community.reports >= 4 and community.boards[0] == "sgg-47730"
    # the real screen holds the four posts written as spam or abuse, and none of the ordinary ones
    held = warehouse.execute("select title from app.posts where screen_score >= 0.7 and author_id in "
                             "(select id from app.users where is_demo) order by title").fetchall()
    assert community.held == len(held) == 4, held


def test_activity_mart_reconciles_with_the_app(built: DbtRun, warehouse: psycopg.Connection) -> None:
    assert {node.split(".")[-1] for node in built.statuses} >= {
        "mart_community_activity_weekly", "fct_mentor_requests", "mart_mentoring_by_region",
        "fct_moderation_cases", "mart_moderation_weekly"}
    mart = one(warehouse, "select sum(posts_count), sum(comments_count), sum(likes_count), sum(held_posts_count) "
                          "+ sum(hidden_posts_count) from marts.mart_community_activity_weekly")
    app = one(warehouse, "select (select count(*) from app.posts), (select count(*) from app.comments), "
                         "(select count(*) from app.post_likes), (select count(*) from app.posts "
                         "where status in ('held', 'hidden'))")
    assert mart == app
    uiseong = one(warehouse, "select sum(posts_count) from marts.mart_community_activity_weekly "
                             "where board_id = 'sgg-47730' and region_code = '47730'")
    assert uiseong == one(warehouse, "select count(*) from app.posts where board_id = 'sgg-47730'")
    weeks = one(warehouse, "select count(distinct activity_week_date), bool_and(extract(isodow from "
                           "activity_week_date) = 1) from marts.mart_community_activity_weekly")
    assert weeks[0] >= 8 and weeks[1] is True
    small = one(warehouse, "select bool_and(is_small_cell = (active_users_count < 5)) "
                           "from marts.mart_community_activity_weekly")
    assert small == (True,)


def test_mentoring_marts_count_requests_answers_and_relationships(built: DbtRun,
                                                                  warehouse: psycopg.Connection) -> None:
    fact = one(warehouse, "select count(*), count(*) filter (where is_accepted), "
                          "count(*) filter (where hours_to_answer is null) from marts.fct_mentor_requests")
    app = one(warehouse, "select count(*), count(*) filter (where status = 'accepted'), "
                         "count(*) filter (where responded_at is null) from app.mentor_requests")
    assert fact == app
    by_region = one(warehouse, "select sum(requests_count), sum(accepted_count), sum(active_mentorships_count) "
                               "from marts.mart_mentoring_by_region")
    assert by_region[0] == one(warehouse, "select count(*) from marts.fct_mentor_requests "
                                          "where region_code is not null")[0]
    assert by_region[1] == fact[1]
    assert by_region[2] == one(warehouse, "select count(*) from app.mentorships where status = 'active'")[0]
    rates = warehouse.execute("select region_code, accepted_count, declined_count, acceptance_rate "
                              "from marts.mart_mentoring_by_region where acceptance_rate is not null").fetchall()
    assert rates and all(abs(rate - a / (a + d)) < 1e-9 for _, a, d, rate in rates)


def test_moderation_marts_count_cases_and_times(built: DbtRun, warehouse: psycopg.Connection) -> None:
    weekly = one(warehouse, "select sum(cases_count), sum(open_cases_count), sum(hidden_count), sum(reports_count) "
                            "from marts.mart_moderation_weekly")
    app = one(warehouse, "select count(*), count(*) filter (where c.status = 'open'), "
                         "count(*) filter (where a.action = 'hide'), (select count(*) from app.reports) "
                         "from app.moderation_cases c left join app.moderation_actions a on a.id = c.closing_action_id")
    assert weekly == app
    closed = one(warehouse, "select count(*), bool_and(minutes_to_close >= 0) from marts.fct_moderation_cases "
                            "where case_status = 'closed'")
    assert closed == (one(warehouse, "select count(*) from app.moderation_cases where status = 'closed'")[0], True)


def test_contracts_hold_on_the_marts(built: DbtRun, warehouse: psycopg.Connection) -> None:
    columns = dict(warehouse.execute(
        "select column_name, data_type from information_schema.columns where table_schema = 'marts' "
        "and table_name = 'mart_community_activity_weekly'").fetchall())
    assert columns["activity_week_date"] == "date" and columns["region_code"] == "character varying"
    assert columns["is_small_cell"] == "boolean"
    assert not built.failed
