"""What the pipeline does with the mission loop's marts: issue badges, publish the boards.

Thin by design: core.badges issues awards (the same once-only path as the API), core.ranking (the
key scheme and rank rule shared with the API) writes the boards. The dbt models themselves are the
warehouse's assets; these assets stand on them through `get_asset_key_for_model`.
(No `from __future__ import annotations`: Dagster reads the annotations at definition time.)
"""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetKey,
    ConfigurableResource,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)
from dagster_dbt import get_asset_key_for_model
from sqlalchemy import Connection, text

from assets.resources import PostgresResource
from assets.warehouse import warehouse_dbt_assets
from core.badges import compare_with_mart, issue_from_mart, pseudonym_salt
from core.ranking import PgBoards, RedisBoards, rebuild_redis, redis_client, write_snapshot
from core.settings import get_settings

GROUP = "loop"
AWARDS_MART = get_asset_key_for_model([warehouse_dbt_assets], "fct_badge_awards")
LEADERBOARD_MART = get_asset_key_for_model([warehouse_dbt_assets], "mart_leaderboard")
POINTS_LEDGER = get_asset_key_for_model([warehouse_dbt_assets], "fct_points_ledger")
BADGE_AWARDS = AssetKey(["app", "badge_awards"])
LEADERBOARD = AssetKey(["serving", "leaderboard"])
COMPARED_BOARDS = 4  # boards compared between Redis and PostgreSQL after a rebuild (the largest)
COMPARED_DEPTH = 50  # positions compared on each


class RankingRedisResource(ConfigurableResource):
    """Redis of the real-time boards. `url` unset: REDIS_URL; neither set: no Redis (PostgreSQL only)."""

    url: str | None = None

    def resolved_url(self) -> str | None:
        return self.url or get_settings().redis_url

    def client(self) -> Any | None:
        url = self.resolved_url()
        return redis_client(url, timeout_s=5.0) if url else None


# ---------------------------------------------------------------------------------- badges
@asset(
    key=BADGE_AWARDS,
    group_name=GROUP,
    deps=[AWARDS_MART],
    kinds={"python", "postgres"},
    description="Badges issued to users (app.badge_awards) with a notification each: every award of "
                "marts.fct_badge_awards not issued yet, once (core.badges.issue_from_mart; the API issues "
                "event-based badges in real time through the same path).",
)
def badge_awards(context: AssetExecutionContext, postgres: PostgresResource) -> MaterializeResult:
    with postgres.engine().begin() as conn:
        summary = issue_from_mart(conn)
        total: int = conn.execute(text("select count(*) from app.badge_awards")).scalar_one()
    for award in summary.issued[:20]:
        context.log.info(f"issued {award.badge_id} to {award.user_id} (earned {award.awarded_at:%Y-%m-%d %H:%M})")
    by_badge: dict[str, int] = {}
    for award in summary.issued:
        by_badge[award.badge_id] = by_badge.get(award.badge_id, 0) + 1
    return MaterializeResult(metadata={
        "dagster/row_count": int(total),
        "issued": len(summary.issued),
        "already_issued": summary.already_issued,
        "mart_awards_of_unknown_users": summary.unknown_users,
        "issued_by_badge": MetadataValue.json(by_badge),
    })


@asset_check(asset=BADGE_AWARDS, description="Every mart award is issued, and every award issued before the "
                                              "mart was built is in the mart (app.badge_awards = the mart)")
def badge_awards_match_mart(postgres: PostgresResource) -> AssetCheckResult:
    with postgres.engine().connect() as conn:
        agreement = compare_with_mart(conn)
    return AssetCheckResult(
        passed=agreement.passed,
        description=None if agreement.passed else "app.badge_awards and marts.fct_badge_awards disagree",
        metadata={"mart_awards": agreement.mart_count, "issued_awards": agreement.issued_count,
                  "mart_awards_not_issued": agreement.missing_in_app,
                  "issued_awards_missing_from_mart": agreement.missing_in_mart})


# ---------------------------------------------------------------------------------- boards
SNAPSHOT_ROWS = """
select boards.board, users.id as user_id, boards.points
from marts.mart_leaderboard as boards
inner join app.users as users on md5(:salt || users.id::text) = boards.user_key
"""


def snapshot_as_of(conn: Connection) -> datetime:
    """The newest completion the ledger counted: completions after it are added live by the API."""
    value = conn.execute(text("select max(occurred_at) from marts.fct_points_ledger "
                              "where reason = 'mission_completed'")).scalar()
    return value or datetime(2000, 1, 1, tzinfo=UTC)


def _snapshot_rows(conn: Connection) -> Iterator[tuple[str, uuid.UUID, int]]:
    result = conn.execution_options(stream_results=True, yield_per=10_000).execute(
        text(SNAPSHOT_ROWS), {"salt": pseudonym_salt() + ":"})
    for row in result:
        yield row.board, row.user_id, int(row.points)


@asset(
    key=LEADERBOARD,
    group_name=GROUP,
    deps=[LEADERBOARD_MART, POINTS_LEDGER],
    kinds={"python", "postgres", "redis"},
    description="The boards as the API serves them: serving.leaderboard rewritten from marts.mart_leaderboard "
                "(every board and period; the PostgreSQL fallback), then, when REDIS_URL is set, every Redis "
                "board rebuilt from it into temporary keys swapped in with RENAME (core.ranking).",
)
def leaderboard(context: AssetExecutionContext, postgres: PostgresResource,
                ranking_redis: RankingRedisResource) -> MaterializeResult:
    engine = postgres.engine()
    # the rows stream from a second connection: the writer's connection is busy with its COPY
    with engine.connect() as reader, engine.begin() as conn:
        as_of = snapshot_as_of(reader)
        written = write_snapshot(conn, _snapshot_rows(reader), as_of)
        boards: int = conn.execute(text("select count(distinct board) from serving.leaderboard")).scalar_one()
    metadata: dict[str, Any] = {"dagster/row_count": written, "boards": int(boards), "as_of": as_of.isoformat()}
    client = ranking_redis.client()
    if client is None:
        context.log.info("REDIS_URL is not set: the API serves the boards from PostgreSQL")
        metadata["redis"] = "not configured"
    else:
        with engine.connect() as conn:
            rebuilt = rebuild_redis(client, conn)
        metadata.update({"redis": "rebuilt", "redis_boards": rebuilt.boards, "redis_entries": rebuilt.entries,
                         "completions_since_snapshot": rebuilt.completions_since_snapshot})
    return MaterializeResult(metadata=metadata)


@asset_check(asset=LEADERBOARD, description="serving.leaderboard holds exactly the mart's standings of the "
                                            "users who still have an account (same boards, points)")
def leaderboard_matches_mart(postgres: PostgresResource) -> AssetCheckResult:
    with postgres.engine().connect() as conn:
        differing: int = conn.execute(text(f"""
            select count(*) from (
                (select board, user_id, points from ({SNAPSHOT_ROWS}) as mart
                 except select board, user_id, points from serving.leaderboard)
                union all
                (select board, user_id, points from serving.leaderboard
                 except select board, user_id, points from ({SNAPSHOT_ROWS}) as mart)
            ) as diff"""), {"salt": pseudonym_salt() + ":"}).scalar_one()
        rows: int = conn.execute(text("select count(*) from serving.leaderboard")).scalar_one()
    return AssetCheckResult(passed=differing == 0, metadata={"rows": int(rows), "differing_rows": int(differing)})


@asset_check(asset=LEADERBOARD,
             description="After the rebuild, Redis and the PostgreSQL fallback give the same top entries and "
                         "ranks on the largest boards (skipped without REDIS_URL)")
def redis_ranks_match_postgres(postgres: PostgresResource, ranking_redis: RankingRedisResource) -> AssetCheckResult:
    client = ranking_redis.client()
    if client is None:
        return AssetCheckResult(passed=True, metadata={"redis": "not configured: nothing to compare"})
    with postgres.engine().connect() as conn:
        largest = [r.board for r in conn.execute(text(
            "select board from serving.leaderboard group by board order by count(*) desc, board limit :n"),
            {"n": COMPARED_BOARDS})]
        pg, redis_boards = PgBoards(conn), RedisBoards(client)
        mismatched = []
        for board in largest:
            in_pg, _ = pg.top(board, COMPARED_DEPTH)
            in_redis, _ = redis_boards.top(board, COMPARED_DEPTH)
            if [(e.points, e.rank) for e in in_pg] != [(e.points, e.rank) for e in in_redis]:
                mismatched.append(board)
    return AssetCheckResult(passed=not mismatched, metadata={"boards_compared": MetadataValue.json(largest),
                                                             "boards_differing": MetadataValue.json(mismatched)})


LOOP_ASSETS = [badge_awards, leaderboard]
LOOP_CHECKS = [badge_awards_match_mart, leaderboard_matches_mart, redis_ranks_match_postgres]
