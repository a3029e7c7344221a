"""The recommendation marts built by dbt over lists the real precompute made inside the demo's history,
checked against the same rule computed directly on serving.recommendation_log and raw.activity_events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import Engine

from ai.recommend.demo import FOLLOWUP_DAYS_BEFORE_END, DemoRecommendations, seed_recommendations
from core.db import libpq_url
from tests.fixtures.warehouse import DbtRun, run_dbt

FOLLOWUP_DAYS = 14  # the default of var recommendation_followup_days

# The rule of fct_recommendation_followups, straight from the raw events: a pair is followed when the
# user enrolled in the mission at or after its first recommendation and before the window's end; it is
# completed when such an attempt (its events up to the next enrolment) ended with a completion, its last
# status event, before the same bound.
DIRECT_SQL = """
with log as (
    select user_id, mission_id, first_recommended_at as at,
           first_recommended_at + make_interval(days => %(days)s) as window_end
    from serving.recommendation_log
),
status_events as (
    select user_id, mission_id, event_type, occurred_at,
           case event_type when 'mission_enrolled' then 0 when 'mission_resumed' then 1 else 3 end as type_order
    from raw.activity_events
    where event_type in ('mission_enrolled', 'mission_resumed', 'mission_completed', 'mission_failed',
                         'mission_abandoned')
),
attempts as (  -- each enrolment inside a window, with the attempt's last status event
    select log.user_id, log.mission_id, log.window_end, last.event_type, last.occurred_at as last_at
    from log
    join status_events e
      on e.user_id = log.user_id and e.mission_id = log.mission_id and e.event_type = 'mission_enrolled'
     and e.occurred_at >= log.at and e.occurred_at < log.window_end
    cross join lateral (
        select s.event_type, s.occurred_at from status_events s
        where s.user_id = e.user_id and s.mission_id = e.mission_id and s.occurred_at >= e.occurred_at
          and s.occurred_at < coalesce((select min(n.occurred_at) from status_events n
                                        where n.user_id = e.user_id and n.mission_id = e.mission_id
                                          and n.event_type = 'mission_enrolled'
                                          and n.occurred_at > e.occurred_at), 'infinity')
        order by s.occurred_at desc, s.type_order desc
        limit 1
    ) last
)
select
    (select count(*) from log),
    (select count(*) from (select distinct user_id, mission_id from attempts) a),
    (select count(*) from (select distinct user_id, mission_id from attempts
                           where event_type = 'mission_completed' and last_at < window_end) c),
    (select count(distinct user_id) from log)
"""


@pytest.fixture(scope="module")
def lists(demo_loaded: object, engine: Engine) -> DemoRecommendations:
    """The real precompute as of 45 days before the demo's last event (and one evaluation run)."""
    made = seed_recommendations(engine)
    assert made is not None
    return made


@pytest.fixture(scope="module")
def built(lists: DemoRecommendations, db_url: str, tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    run = run_dbt(db_url, ["build", "--select", "+path:models/marts/recommend",
                                  "--indirect-selection", "cautious"], tmp_path_factory.mktemp("rec_dbt"))
    if run.returncode != 0:
        pytest.fail(f"dbt build of the recommendation marts failed ({run.failed}):\n{run.output[-6000:]}")
    return run


@pytest.fixture()
def warehouse(db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(libpq_url(db_url), autocommit=True) as conn:
        yield conn


def test_lists_are_made_inside_the_demo_history(lists: DemoRecommendations, warehouse: psycopg.Connection) -> None:
    end = warehouse.execute("select max(occurred_at) from raw.activity_events").fetchone()[0]  # type: ignore[index]
    assert lists.as_of == end - timedelta(days=FOLLOWUP_DAYS_BEFORE_END)
    assert lists.users > 0 and lists.rows == 20 * lists.users and lists.evaluation_rows > 0
    logged = warehouse.execute("select count(*) from serving.recommendation_log where first_recommended_at = %s",
                               [lists.as_of]).fetchone()
    assert logged == (lists.first_recommended,) and lists.first_recommended > 0


def test_followups_match_the_rule_computed_on_the_raw_events(built: DbtRun, warehouse: psycopg.Connection) -> None:
    assert {node.split(".")[-1] for node in built.statuses} >= {
        "fct_recommendation_followups", "mart_recommendation_outcomes_monthly", "mart_recommendation_evaluation"}
    mart = warehouse.execute("select count(*), count(*) filter (where is_enrolled), "
                             "count(*) filter (where is_completed), count(distinct user_key) "
                             "from marts.fct_recommendation_followups").fetchone()
    direct = warehouse.execute(DIRECT_SQL, {"days": FOLLOWUP_DAYS}).fetchone()
    assert mart == direct
    # the weeks of demo activity after the lists show what they led to
    assert direct is not None and direct[1] > 0 and direct[2] > 0


def test_monthly_outcomes_add_up_to_the_followups(built: DbtRun, warehouse: psycopg.Connection) -> None:
    monthly = warehouse.execute("""
        select sum(recommended_count), sum(enrolled_count), sum(completed_count), sum(open_window_count),
               bool_and(enrolment_rate is not distinct from case when recommended_count > open_window_count
                        then enrolled_count::float8 / recommended_count end)
        from marts.mart_recommendation_outcomes_monthly where open_window_count = 0""").fetchone()
    fact = warehouse.execute("""
        select count(*), count(*) filter (where is_enrolled), count(*) filter (where is_completed), 0, true
        from marts.fct_recommendation_followups f
        where not exists (select from marts.fct_recommendation_followups o
                          where o.recommended_month = f.recommended_month
                            and o.mission_type is not distinct from f.mission_type and o.is_window_open)""").fetchone()
    assert monthly == fact and monthly is not None and monthly[0] > 0


def test_evaluation_mart_compares_the_hybrid_with_the_baselines(built: DbtRun, warehouse: psycopg.Connection,
                                                                lists: DemoRecommendations) -> None:
    rows = warehouse.execute("""
        select segment, ranking_method, ndcg_vs_popularity, ndcg_at_10
        from marts.mart_recommendation_evaluation where is_latest_run""").fetchall()
    assert len(rows) == lists.evaluation_rows
    assert {method for _, method, _, _ in rows} == {"hybrid", "item_knn", "popularity", "random"}
    popularity = {segment: ratio for segment, method, ratio, _ in rows if method == "popularity"}
    assert all(ratio in (1.0, None) for ratio in popularity.values())
