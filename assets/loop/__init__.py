"""The mission loop's pipeline side: badges issued from the awards mart, boards published from the
leaderboard mart, and the schedule and sensor that keep both current."""

from __future__ import annotations

from dagster import Definitions

from assets.loop.assets import (
    BADGE_AWARDS,
    GROUP,
    LEADERBOARD,
    LOOP_ASSETS,
    LOOP_CHECKS,
    RankingRedisResource,
    badge_awards,
    leaderboard,
)
from assets.loop.sensors import badge_awards_sensor, loop_marts, loop_marts_schedule, loop_publish

defs = Definitions(
    assets=LOOP_ASSETS,
    asset_checks=LOOP_CHECKS,
    jobs=[loop_marts, loop_publish],
    schedules=[loop_marts_schedule],
    sensors=[badge_awards_sensor],
    resources={"ranking_redis": RankingRedisResource()},
)

__all__ = ["BADGE_AWARDS", "GROUP", "LEADERBOARD", "RankingRedisResource", "badge_awards", "badge_awards_sensor",
           "defs", "leaderboard", "loop_marts", "loop_publish"]
