"""Per-user rate limits as sliding windows in PostgreSQL, so every API worker shares one count.

`hit(conn, limit, user_id)` runs in the caller's transaction: it takes a transaction-scoped advisory
lock on the bucket (two workers cannot both see "4 of 5" and both insert), counts the hits inside the
window, and either records a new hit or answers how long to wait. The hit is part of the caller's
transaction: a request refused later (bad input) rolls its hit back and costs nothing. Hits older than
the longest window are pruned as the bucket is used.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, text


@dataclass(frozen=True)
class Limit:
    action: str  # post | comment | report | mentor_request
    count: int
    window: timedelta

    def describe(self) -> str:
        minutes = int(self.window.total_seconds() // 60)
        span = f"{minutes // 60} hours" if minutes >= 120 else f"{minutes} minutes"
        return f"{self.count} per {span}"


class RateLimited(Exception):
    """Over the limit; `retry_after` whole seconds until the oldest hit in the window expires."""

    def __init__(self, limit: Limit, retry_after: int) -> None:
        super().__init__(f"rate limit {limit.action}: {limit.describe()}")
        self.limit = limit
        self.retry_after = retry_after


POSTS_PER_10_MIN = Limit("post", 5, timedelta(minutes=10))
POSTS_PER_DAY = Limit("post_day", 30, timedelta(days=1))
COMMENTS_PER_10_MIN = Limit("comment", 20, timedelta(minutes=10))
REPORTS_PER_HOUR = Limit("report", 10, timedelta(hours=1))
MENTOR_REQUESTS_PER_DAY = Limit("mentor_request", 5, timedelta(days=1))


def _bucket(limit: Limit, user_id: uuid.UUID | str) -> str:
    return f"{limit.action}:{user_id}"


def hit(conn: Connection, limit: Limit, user_id: uuid.UUID | str) -> None:
    """Record one use of `limit` by `user_id`, or raise RateLimited (recording nothing)."""
    bucket = _bucket(limit, user_id)
    conn.execute(text("select pg_advisory_xact_lock(hashtextextended(:bucket, 7441))"), {"bucket": bucket})
    window = {"bucket": bucket, "seconds": limit.window.total_seconds()}
    conn.execute(text("delete from app.rate_limit_hits where bucket = :bucket "
                      "and hit_at < now() - make_interval(secs => :seconds)"), window)
    row = conn.execute(text(
        "select count(*) as used, min(hit_at) as oldest, "
        "ceil(extract(epoch from (min(hit_at) + make_interval(secs => :seconds) - now())))::int as wait "
        "from app.rate_limit_hits where bucket = :bucket"), window).one()
    if row.used >= limit.count:
        raise RateLimited(limit, max(1, int(row.wait or 1)))
    conn.execute(text("insert into app.rate_limit_hits (bucket) values (:bucket)"), {"bucket": bucket})


def hit_all(conn: Connection, limits: tuple[Limit, ...], user_id: uuid.UUID | str) -> None:
    """Several windows on one action (e.g. 5 per 10 minutes and 30 per day): all must allow it."""
    for limit in limits:
        hit(conn, limit, user_id)
