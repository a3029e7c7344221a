"""Leaderboards: one key scheme and one rank rule for the API (real time) and the pipeline (rebuilds).

Boards are scope × period:
- scope `all` (overall), `sido:<2-digit 시도 code>`, `sgg:<5-digit 시군구 code>` — the region of the
  mission where the points were earned (raw.regions.sido_code for the 시도);
- period `all` (all time), `w<ISO year>-<ISO week, 2 digits>` (week starting Monday), `m<YYYY>-<MM>`,
  both in Korean time (Asia/Seoul);
- board key `<scope>|<period>`, e.g. `sgg:47730|w2025-48`, `all|all`.

Rank is standard competition ranking ("1224"): 1 + the number of users with strictly more points on
the board; users without points are not on it. Redis and PostgreSQL use the same rule, so their answers
agree whenever they hold the same points.

Points: the marts' points ledger (helper E2) is the truth. A completion earns the mission's points on
the user's first completion of that mission only, and a user's mission points per Korean day are capped
at DAILY_POINTS_CAP (`points_for_completion`); the API writes the points it awarded into
app.mission_attempts.points_awarded and the mission_completed event's payload.points
(payload.mission_points is the mission's nominal points).

Where the boards live:
- PostgreSQL (always): `serving.leaderboard` (board, user_id, points) is a snapshot of the ledger as of
  `serving.leaderboard_state.as_of`, written by the pipeline through `write_snapshot`. A board's live
  points are the snapshot plus the completions since (`app.mission_attempts` with completed_at > as_of).
  `serving.user_positions` holds each user's last verified position ("near me").
- Redis (when REDIS_URL is set): a sorted set per board at `hometown:rank:b:<board key>` (member = user
  id, score = points), the GEO set `hometown:rank:geo`, the set of completions already counted
  (`hometown:rank:applied`, attempt ids: increments are idempotent) and `hometown:rank:as_of`. The API
  counts each completion through `RedisBoards.apply`; `rebuild_redis` (called by the pipeline after
  `write_snapshot`, and by the API when Redis lost its data) rebuilds every board from the snapshot plus
  the completions since, into temporary keys swapped in with RENAME in one MULTI, then counts any
  completion that arrived meanwhile. So Redis and the PostgreSQL fallback agree after a rebuild.

This module imports no web or pipeline framework: the API and the Dagster assets both use it.
"""

from __future__ import annotations

import math
import secrets
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text

from core.db import Statement

KST = ZoneInfo("Asia/Seoul")
DAILY_POINTS_CAP = 500  # mission points a user can earn per Korean calendar day
TOP_N = 10  # "entered the top 10" notifications
PREFIX = "hometown:rank:"
BOARD_PREFIX = PREFIX + "b:"
GEO_KEY = PREFIX + "geo"
APPLIED_KEY = PREFIX + "applied"
AS_OF_KEY = PREFIX + "as_of"
NO_SNAPSHOT = datetime(2000, 1, 1, tzinfo=UTC)  # where the live delta starts before the pipeline's first snapshot
BUILT_AT_KEY = PREFIX + "built_at"  # when the last rebuild swapped its boards in
LOCK_KEY = PREFIX + "rebuild_lock"
CATCH_UP_MARGIN = timedelta(seconds=10)  # completions written while a rebuild ran are counted after it
SCOPES = ("all", "sido", "sgg")
PERIODS = ("all", "week", "month")
EARTH_RADIUS_KM = 6371.0088


# ---------------------------------------------------------------------------------- the key scheme
def period_key(period: str, at: datetime) -> str:
    """`all`, `week` or `month` at an instant → the period part of a board key (Korean time)."""
    if period == "all":
        return "all"
    local = at.astimezone(KST)
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"w{year}-{week:02d}"
    if period == "month":
        return f"m{local.year}-{local.month:02d}"
    raise ValueError(f"unknown period {period!r} (all, week or month)")


def scope_key(scope: str, region_code: str | None = None, sido_code: str | None = None) -> str:
    if scope == "all":
        return "all"
    if scope == "sido" and sido_code:
        return f"sido:{sido_code}"
    if scope == "sgg" and region_code:
        return f"sgg:{region_code}"
    raise ValueError(f"scope {scope!r} needs its region code")


def board_key(scope: str, period: str) -> str:
    """A scope key and a period key → the board key, e.g. `sgg:47730|w2025-48`."""
    return f"{scope}|{period}"


def boards_for(region_code: str, sido_code: str, at: datetime) -> list[str]:
    """The nine boards a completion in this 시군구 at this instant counts on."""
    scopes = ["all", f"sido:{sido_code}", f"sgg:{region_code}"]
    return [board_key(s, period_key(p, at)) for s in scopes for p in PERIODS]


def period_range(period: str) -> tuple[datetime, datetime] | None:
    """The [start, end) instants of a period key; None for all time."""
    if period == "all":
        return None
    if period.startswith("w"):
        year, week = (int(x) for x in period[1:].split("-"))
        start_day = date.fromisocalendar(year, week, 1)
        end_day = start_day + timedelta(days=7)
    elif period.startswith("m"):
        year, month = (int(x) for x in period[1:].split("-"))
        start_day = date(year, month, 1)
        end_day = date(year + month // 12, month % 12 + 1, 1)
    else:
        raise ValueError(f"unknown period key {period!r}")
    start = datetime(start_day.year, start_day.month, start_day.day, tzinfo=KST)
    end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=KST)
    return start, end


def parse_board(board: str) -> tuple[str, str, str | None]:
    """A board key → (scope kind: all/sido/sgg, period key, region or 시도 code)."""
    scope, _, period = board.partition("|")
    kind, _, code = scope.partition(":")
    if kind not in SCOPES or not period or (kind != "all" and not code):
        raise ValueError(f"not a board key: {board!r}")
    return kind, period, code or None


def redis_key(board: str) -> str:
    return BOARD_PREFIX + board


def kst_day_bounds(at: datetime) -> tuple[datetime, datetime]:
    local = at.astimezone(KST)
    start = datetime(local.year, local.month, local.day, tzinfo=KST)
    return start, start + timedelta(days=1)


def points_for_completion(mission_points: int, completed_before: bool, earned_today: int,
                          cap: int = DAILY_POINTS_CAP) -> int:
    """The points a completion earns: nothing for a mission completed before, and no more than the
    day's remaining cap. The ledger in dbt applies the same two rules to the events."""
    if completed_before or mission_points <= 0:
        return 0
    return max(0, min(mission_points, cap - earned_today))


# ---------------------------------------------------------------------------------- values
@dataclass(frozen=True)
class Completion:
    """A completion that earned points, as the boards count it."""

    attempt_id: uuid.UUID
    user_id: uuid.UUID
    points: int
    region_code: str
    sido_code: str
    completed_at: datetime
    lat: float | None = None
    lon: float | None = None

    @property
    def boards(self) -> list[str]:
        return boards_for(self.region_code, self.sido_code, self.completed_at)


@dataclass(frozen=True)
class RankEntry:
    user_id: uuid.UUID
    points: int
    rank: int


@dataclass(frozen=True)
class RankChange:
    board: str
    before: int | None  # None: was not on the board
    after: int

    @property
    def entered_top(self) -> bool:
        return self.after <= TOP_N and (self.before is None or self.before > TOP_N)


def competition_ranks(rows: Sequence[tuple[uuid.UUID, int]], first_rank: int = 1) -> list[RankEntry]:
    """(user, points) sorted by points descending → entries with standard competition ranks."""
    out: list[RankEntry] = []
    for i, (user_id, points) in enumerate(rows):
        rank = out[-1].rank if out and out[-1].points == points else first_rank + i
        out.append(RankEntry(user_id, int(points), rank))
    return out


def _bbox(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    dlat = radius_km / (math.pi * EARTH_RADIUS_KM / 180)
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


# ---------------------------------------------------------------------------------- PostgreSQL
_DELTA_SQL = """
    select a.user_id, sum(a.points_awarded)::bigint as points
    from app.mission_attempts a
    join app.missions m on m.id = a.mission_id
    left join raw.regions r on r.region_code = m.region_code
    where a.status = 'completed' and a.points_awarded > 0 and a.completed_at > :as_of
      and (cast(:region as text) is null or m.region_code = :region)
      and (cast(:sido as text) is null or r.sido_code = :sido)
      and (cast(:start as timestamptz) is null or a.completed_at >= :start)
      and (cast(:end as timestamptz) is null or a.completed_at < :end)
    group by a.user_id
"""


class PgBoards:
    """The boards from PostgreSQL: the pipeline's snapshot plus the completions since it."""

    engine = "postgresql"

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._snapshot: tuple[datetime | None] | None = None

    def snapshot_as_of(self) -> datetime | None:
        """The instant the pipeline's snapshot counts up to; None before the first pipeline run."""
        if self._snapshot is None:
            self._snapshot = (self.conn.execute(text("select as_of from serving.leaderboard_state where id = 1"))
                              .scalar(),)
        return self._snapshot[0]

    def as_of(self) -> datetime:
        """Where the live delta starts: the snapshot's instant, or the beginning when there is none."""
        return self.snapshot_as_of() or NO_SNAPSHOT

    def _delta(self, board: str) -> dict[uuid.UUID, int]:
        kind, period, code = parse_board(board)
        bounds = period_range(period)
        params = {"as_of": self.as_of(), "region": code if kind == "sgg" else None,
                  "sido": code if kind == "sido" else None,
                  "start": bounds[0] if bounds else None, "end": bounds[1] if bounds else None}
        return {r.user_id: int(r.points) for r in self.conn.execute(text(_DELTA_SQL), params)}

    def _snapshot_points(self, board: str, users: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
        ids = list(users)
        if not ids:
            return {}
        rows = self.conn.execute(text("select user_id, points from serving.leaderboard "
                                      "where board = :b and user_id = any(:ids)"), {"b": board, "ids": ids})
        return {r.user_id: int(r.points) for r in rows}

    def _live(self, board: str) -> dict[uuid.UUID, int]:
        """Live points of the users with completions since the snapshot (snapshot + delta)."""
        delta = self._delta(board)
        snap = self._snapshot_points(board, delta)
        return {u: snap.get(u, 0) + d for u, d in delta.items()}

    def live_for_boards(self, boards: Sequence[str]) -> dict[str, dict[uuid.UUID, int]]:
        """Live points (snapshot + delta) of the users with completions since the snapshot, for several
        boards at once: one pass over the completions that sums each user's points per board in
        PostgreSQL (a filtered sum per board, one row per user), one snapshot look-up."""
        params: dict[str, Any] = {"as_of": self.as_of()}
        sums = []
        for i, board in enumerate(boards):
            kind, period, code = parse_board(board)
            where = ["true"]
            if kind != "all":
                where.append(f"{'m.region_code' if kind == 'sgg' else 'r.sido_code'} = :code{i}")
                params[f"code{i}"] = code
            bounds = period_range(period)
            if bounds is not None:
                where.append(f"a.completed_at >= :start{i} and a.completed_at < :end{i}")
                params[f"start{i}"], params[f"end{i}"] = bounds
            sums.append(f"sum(a.points_awarded) filter (where {' and '.join(where)})::bigint")
        rows = self.conn.execute(text(f"""
            select a.user_id, {', '.join(sums)}
            from app.mission_attempts a join app.missions m on m.id = a.mission_id
            left join raw.regions r on r.region_code = m.region_code
            where a.status = 'completed' and a.points_awarded > 0 and a.completed_at > :as_of
            group by a.user_id"""), params).all()
        delta: dict[str, dict[uuid.UUID, int]] = {b: {} for b in boards}
        for row in rows:
            for board, points in zip(boards, row[1:], strict=True):
                if points is not None:
                    delta[board][row[0]] = int(points)
        users = list({u for d in delta.values() for u in d})
        snap: dict[tuple[str, uuid.UUID], int] = {}
        if users:
            snap = {(r.board, r.user_id): int(r.points) for r in self.conn.execute(text(
                "select board, user_id, points from serving.leaderboard where board = any(:b) and user_id = any(:u)"),
                {"b": list(boards), "u": users})}
        return {b: {u: snap.get((b, u), 0) + d for u, d in delta[b].items()} for b in boards}

    def live_points(self, board: str, user_id: uuid.UUID) -> int:
        live = self._live(board)
        if user_id in live:
            return live[user_id]
        return self._snapshot_points(board, [user_id]).get(user_id, 0)

    def count_above(self, board: str, points: int, cap: int | None = None,
                    live: dict[uuid.UUID, int] | None = None) -> int:
        """How many users have strictly more than `points` (stopping at `cap` when given)."""
        live = self._live(board) if live is None else live
        limit = "" if cap is None else f"limit {int(cap)}"
        snapshot: int = self.conn.execute(text(
            f"select count(*) from (select 1 from serving.leaderboard where board = :b and points > :p "
            f"and not (user_id = any(:live)) {limit}) x"), {"b": board, "p": points, "live": list(live)}).scalar_one()
        return int(snapshot) + sum(1 for v in live.values() if v > points)

    def rank(self, board: str, user_id: uuid.UUID) -> RankEntry | None:
        live = self._live(board)
        points = live.get(user_id)
        if points is None:
            points = self._snapshot_points(board, [user_id]).get(user_id)
        if not points:
            return None
        return RankEntry(user_id, points, 1 + self.count_above(board, points, live=live))

    def top(self, board: str, limit: int, offset: int = 0) -> tuple[list[RankEntry], int]:
        live = self._live(board)
        rows = self.conn.execute(text(
            "select user_id, points from serving.leaderboard where board = :b and not (user_id = any(:live)) "
            "order by points desc, user_id limit :n"), {"b": board, "live": list(live), "n": offset + limit})
        merged = [(r.user_id, int(r.points)) for r in rows] + [(u, p) for u, p in live.items() if p > 0]
        merged.sort(key=lambda r: (-r[1], str(r[0])))
        entries = competition_ranks(merged[: offset + limit])[offset:]
        in_snapshot: int = self.conn.execute(text(
            "select count(*) from serving.leaderboard where board = :b and not (user_id = any(:live))"),
            {"b": board, "live": list(live)}).scalar_one()
        return entries, int(in_snapshot) + sum(1 for p in live.values() if p > 0)

    def near(self, board: str, lat: float, lon: float, radius_km: float, limit: int) -> list[RankEntry]:
        """Users whose last verified position is within `radius_km`, ranked among themselves."""
        lat0, lat1, lon0, lon1 = _bbox(lat, lon, radius_km)
        users = [r.user_id for r in self.conn.execute(text(
            "select user_id, lat, lon from serving.user_positions where lat between :a and :b and "
            "lon between :c and :d"), {"a": lat0, "b": lat1, "c": lon0, "d": lon1})
            if _haversine_km(lat, lon, r.lat, r.lon) <= radius_km]
        points = self._snapshot_points(board, users)
        live = self._live(board)
        for user in users:
            if user in live:
                points[user] = live[user]
        rows = sorted(((u, p) for u, p in points.items() if p > 0), key=lambda r: (-r[1], str(r[0])))
        return competition_ranks(rows[:limit])


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def write_snapshot(conn: Connection, rows: Iterable[tuple[str, uuid.UUID | str, int]], as_of: datetime) -> int:
    """Replace serving.leaderboard with (board, user_id, points) rows built from the ledger up to `as_of`.

    Runs in the caller's transaction (readers see the old snapshot until it commits). `as_of` must be no
    later than the newest completion the ledger saw: completions after it are added live.
    """
    pg = conn.connection.driver_connection
    assert pg is not None
    conn.execute(text("truncate serving.leaderboard"))
    count = 0
    with pg.cursor() as cur, cur.copy("copy serving.leaderboard (board, user_id, points) from stdin") as copy:
        for board, user_id, points in rows:
            if points > 0:
                copy.write_row((board, str(user_id), int(points)))
                count += 1
    conn.execute(text("insert into serving.leaderboard_state (id, as_of, rows_count, written_at) "
                      "values (1, :as_of, :n, now()) on conflict (id) do update set as_of = excluded.as_of, "
                      "rows_count = excluded.rows_count, written_at = excluded.written_at"),
                 {"as_of": as_of, "n": count})
    return count


def position(user_id: uuid.UUID, lat: float, lon: float, at: datetime) -> Statement:
    """The statement recording the user's last verified position (an accepted check-in or QR scan at a
    mission spot); an older observation never replaces a newer one."""
    return Statement(
        "insert into serving.user_positions (user_id, lat, lon, observed_at) values (%(u)s, %(lat)s, %(lon)s, %(at)s) "
        "on conflict (user_id) do update set lat = excluded.lat, lon = excluded.lon, "
        "observed_at = excluded.observed_at where serving.user_positions.observed_at <= excluded.observed_at",
        {"u": user_id, "lat": lat, "lon": lon, "at": at})


def record_position(conn: Connection, user_id: uuid.UUID, lat: float, lon: float, at: datetime) -> None:
    position(user_id, lat, lon, at).run(conn)


def refresh_positions(conn: Connection) -> int:
    """Rebuild serving.user_positions from the events: each user's last accepted check-in."""
    result = conn.execute(text("""
        insert into serving.user_positions (user_id, lat, lon, observed_at)
        select distinct on (user_id) user_id, lat, lon, occurred_at from raw.activity_events
        where event_type = 'checkin' and lat is not null and (payload ->> 'accepted') = 'true'
        order by user_id, occurred_at desc
        on conflict (user_id) do update set lat = excluded.lat, lon = excluded.lon,
            observed_at = excluded.observed_at
        where serving.user_positions.observed_at <= excluded.observed_at"""))
    return int(result.rowcount or 0)


def completions_since(conn: Connection, since: datetime) -> list[Completion]:
    """Completions that earned points after `since`, with what the boards need."""
    rows = conn.execute(text("""
        select a.id, a.user_id, a.points_awarded, m.region_code, r.sido_code, a.completed_at, m.lat, m.lon
        from app.mission_attempts a join app.missions m on m.id = a.mission_id
        join raw.regions r on r.region_code = m.region_code
        where a.status = 'completed' and a.points_awarded > 0 and a.completed_at > :since
        order by a.completed_at"""), {"since": since})
    return [Completion(r.id, r.user_id, int(r.points_awarded), r.region_code, r.sido_code, r.completed_at,
                       r.lat, r.lon) for r in rows]


# ---------------------------------------------------------------------------------- Redis
# Count one completion on its boards, once (the applied set makes it idempotent), and answer each
# board's rank before and after. KEYS: applied set, then the boards; ARGV: attempt id, user id, points.
_APPLY_LUA = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return false end
local out = {}
local pts = tonumber(ARGV[3])
for i = 2, #KEYS do
  local s = redis.call('ZSCORE', KEYS[i], ARGV[2])
  local before = false
  if s then before = redis.call('ZCOUNT', KEYS[i], '(' .. s, '+inf') + 1 end
  local new = redis.call('ZINCRBY', KEYS[i], pts, ARGV[2])
  local after = redis.call('ZCOUNT', KEYS[i], '(' .. new, '+inf') + 1
  out[#out + 1] = before or -1
  out[#out + 1] = after
end
return out
"""
# One round trip for a rank: the score and the count of strictly higher scores.
_RANK_LUA = """
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not s then return false end
return {s, redis.call('ZCOUNT', KEYS[1], '(' .. s, '+inf') + 1}
"""


class RedisBoards:
    """The boards in Redis sorted sets (see the module docstring for the keys)."""

    engine = "redis"

    def __init__(self, client: Any) -> None:
        self.client = client
        self._apply = client.register_script(_APPLY_LUA)
        self._rank = client.register_script(_RANK_LUA)

    def as_of(self) -> datetime | None:
        """The snapshot the boards were built from; None when they were never built (or Redis lost them)."""
        return self._timestamp(AS_OF_KEY)

    def snapshot_as_of(self) -> datetime | None:
        """The pipeline snapshot's instant; None when the boards were built before any pipeline run (or not)."""
        as_of = self.as_of()
        return None if as_of == NO_SNAPSHOT else as_of

    def built_at(self) -> datetime | None:
        return self._timestamp(BUILT_AT_KEY)

    def _timestamp(self, key: str) -> datetime | None:
        value = self.client.get(key)
        return datetime.fromisoformat(value.decode() if isinstance(value, bytes) else value) if value else None

    def apply(self, completion: Completion) -> list[RankChange] | None:
        """Count a completion; None when it had been counted already."""
        boards = completion.boards
        keys = [APPLIED_KEY, *(redis_key(b) for b in boards)]
        result = self._apply(keys=keys, args=[str(completion.attempt_id), str(completion.user_id),
                                               completion.points])
        if completion.lat is not None and completion.lon is not None:
            self.set_position(completion.user_id, completion.lat, completion.lon)
        if result is None:
            return None
        values = [int(v) for v in result]
        return [RankChange(b, None if values[2 * i] < 0 else values[2 * i], values[2 * i + 1])
                for i, b in enumerate(boards)]

    def set_position(self, user_id: uuid.UUID, lat: float, lon: float) -> None:
        self.client.geoadd(GEO_KEY, (lon, lat, str(user_id)))

    def rank(self, board: str, user_id: uuid.UUID) -> RankEntry | None:
        result = self._rank(keys=[redis_key(board)], args=[str(user_id)])
        if not result:
            return None
        return RankEntry(user_id, int(float(result[0])), int(result[1]))

    def top(self, board: str, limit: int, offset: int = 0) -> tuple[list[RankEntry], int]:
        key = redis_key(board)
        pipe = self.client.pipeline(transaction=False)
        pipe.zrevrange(key, offset, offset + limit - 1, withscores=True)
        pipe.zcard(key)
        rows, total = pipe.execute()
        if not rows:
            return [], int(total)
        first_points = rows[0][1]
        first_rank = int(self.client.zcount(key, f"({first_points}", "+inf")) + 1
        pairs = [(uuid.UUID(m.decode() if isinstance(m, bytes) else m), int(s)) for m, s in rows]
        entries: list[RankEntry] = []
        for i, (user, points) in enumerate(pairs):
            if i == 0:
                rank = first_rank
            elif entries[-1].points == points:
                rank = entries[-1].rank
            else:
                rank = offset + i + 1
            entries.append(RankEntry(user, points, rank))
        return entries, int(total)

    def near(self, board: str, lat: float, lon: float, radius_km: float, limit: int) -> list[RankEntry]:
        members = self.client.geosearch(GEO_KEY, longitude=lon, latitude=lat, radius=radius_km, unit="km")
        if not members:
            return []
        scores = self.client.zmscore(redis_key(board), members)
        rows = [(uuid.UUID(m.decode() if isinstance(m, bytes) else m), int(s))
                for m, s in zip(members, scores, strict=True) if s]
        rows.sort(key=lambda r: (-r[1], str(r[0])))
        return competition_ranks(rows[:limit])


@dataclass(frozen=True)
class RebuildResult:
    boards: int
    entries: int
    completions_since_snapshot: int
    caught_up: int
    as_of: datetime


def rebuild_redis(client: Any, conn: Connection, batch: int = 5_000) -> RebuildResult:
    """Rebuild every Redis board from PostgreSQL: the snapshot plus the completions since it.

    Written into temporary keys and swapped in with RENAME in one MULTI, so readers never see a half
    board; boards that no longer exist are deleted in the same MULTI. Completions committed while the
    rebuild ran are counted afterwards through the idempotent `apply`, so none is lost or counted twice.
    """
    started = datetime.now(UTC)
    build = PREFIX + "tmp:" + secrets.token_hex(4) + ":"
    as_of = PgBoards(conn).as_of()
    totals: dict[str, int] = defaultdict(int)  # board → entries written
    pipe = client.pipeline(transaction=False)
    pending = 0
    entries = 0
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(
        text("select board, user_id, points from serving.leaderboard"))
    for row in result:
        board, user_id, points = str(row[0]), row[1], int(row[2])
        pipe.zadd(build + board, {str(user_id): points})
        totals[board] += 1
        entries += 1
        pending += 1
        if pending >= batch:
            pipe.execute()
            pending = 0
    delta = completions_since(conn, as_of)
    for c in delta:
        for board in c.boards:
            pipe.zincrby(build + board, c.points, str(c.user_id))
            totals[board] += 1
    positions = conn.execute(text("select user_id, lat, lon from serving.user_positions")).all()
    for i in range(0, len(positions), batch):
        pipe.geoadd(build + "geo", [v for p in positions[i:i + batch] for v in (p.lon, p.lat, str(p.user_id))])
    if delta:
        pipe.sadd(build + "applied", *(str(c.attempt_id) for c in delta))
    pipe.execute()

    old = {k.decode() if isinstance(k, bytes) else k for k in client.scan_iter(match=BOARD_PREFIX + "*", count=1000)}
    swap = client.pipeline(transaction=True)
    for board in totals:
        swap.rename(build + board, redis_key(board))
    for key in old - {redis_key(b) for b in totals}:
        swap.delete(key)
    if positions:
        swap.rename(build + "geo", GEO_KEY)
    else:
        swap.delete(GEO_KEY)
    if delta:
        swap.rename(build + "applied", APPLIED_KEY)
    else:
        swap.delete(APPLIED_KEY)
    swap.set(AS_OF_KEY, as_of.isoformat())
    swap.set(BUILT_AT_KEY, datetime.now(UTC).isoformat())
    swap.execute()

    counted = {c.attempt_id for c in delta}
    caught_up = 0
    boards = RedisBoards(client)
    for c in completions_since(conn, max(as_of, started - CATCH_UP_MARGIN)):
        if c.attempt_id not in counted and boards.apply(c) is not None:
            caught_up += 1
    return RebuildResult(boards=len(totals), entries=entries, completions_since_snapshot=len(delta),
                         caught_up=caught_up, as_of=as_of)


def redis_client(url: str, timeout_s: float = 0.5) -> Any:
    """A Redis client that gives up quickly, so a Redis outage falls back to PostgreSQL, not a hang."""
    import redis

    return redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                                health_check_interval=30)
