"""Group commit (api/attempts/writer.py `run_batched`): the units of concurrent requests share a transaction.

Driven here as the routes drive it, on a real async pool of the session database: requests started together
in one event loop. Rows written in one transaction share their `xmin`, which shows how the units were grouped.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import pytest
from psycopg import errors as pg_errors
from sqlalchemy import Engine

from api.attempts import service
from api.attempts.writer import FLUSH, Caller, EventsNotStored, Plan, Unit, run_batched
from api.deps import USER_SQL, BatchedCaller
from api.errors import ApiError
from api.security import decode_access_token
from core.db import Statement, async_pool, libpq_url
from core.vocab import UserType
from tests.api.conftest import Account, MakeUser
from tests.api.loop_support import make_mission

pytestmark = pytest.mark.usefixtures("regions_loaded")
Call = Callable[[Any], Awaitable[Any]]


def _together(db_url: str, calls: list[Call]) -> list[Any]:
    """Start every call at once in one event loop (as concurrent requests to one worker); their results or
    errors, in order."""

    async def main() -> list[Any]:
        pool = async_pool(4, db_url)
        await pool.open()
        try:
            return await asyncio.gather(*(call(pool) for call in calls), return_exceptions=True)
        finally:
            await pool.close()

    return asyncio.run(main())


def _caller(account: Account) -> Caller:
    """What the routes' dependency (api.deps.BatchedCaller) makes of the account's bearer token."""
    token = account.headers["Authorization"].removeprefix("Bearer ")
    return Caller(decode_access_token(token), BatchedCaller(*UserType).check)


def _enrol(account: Account, mission_id: uuid.UUID, *, answered: bool = False) -> Call:
    """An enrolment as the route runs it: its attempt id, or (with `answered`) the id and the route's answer."""
    caller = _caller(account)

    async def call(pool: Any) -> Any:
        attempt_id, answer = await run_batched(
            pool, caller, lambda plan: service.enrol(plan, caller.user_id, mission_id), USER_SQL,
            key=("mission", mission_id))
        return (attempt_id, answer) if answered else attempt_id

    return call


def _stored(db_url: str, attempt_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[str, int]]:
    """attempt id → (the xmin of its row, how many mission_enrolled events name it)."""
    with psycopg.connect(libpq_url(db_url)) as pg:
        rows = pg.execute(
            "select a.id, a.xmin::text, (select count(*) from raw.activity_events e where e.event_type = "
            "'mission_enrolled' and e.payload ->> 'attempt_id' = a.id::text) from app.mission_attempts a "
            "where a.id = any(%s)", ([str(a) for a in attempt_ids],)).fetchall()
    return {row[0]: (row[1], row[2]) for row in rows}


def test_units_of_concurrent_requests_commit_together(db_url: str, engine: Engine, make_user: MakeUser) -> None:
    accounts = [make_user() for _ in range(12)]
    missions = [make_mission(engine, ["none"]) for _ in accounts]
    results = _together(db_url, [_enrol(a, m.id) for a, m in zip(accounts, missions, strict=True)])
    assert all(isinstance(r, uuid.UUID) for r in results), results
    stored = _stored(db_url, results)
    assert set(stored) == set(results)
    assert {count for _, count in stored.values()} == {1}  # one event each, none twice
    assert len({xmin for xmin, _ in stored.values()}) == 1  # one transaction for the twelve
    with psycopg.connect(libpq_url(db_url)) as pg:  # each attempt is its own caller's, on its own mission
        owners = dict(pg.execute("select id, (user_id, mission_id)::text from app.mission_attempts "
                                 "where id = any(%s)", ([str(r) for r in results],)).fetchall())
    for account, mission, attempt_id in zip(accounts, missions, results, strict=True):
        assert owners[attempt_id] == f"({account.id},{mission.id})"


def test_a_caller_and_a_mission_have_one_unit_per_group(db_url: str, engine: Engine, make_user: MakeUser) -> None:
    """Two requests of one user, or two enrolments that count one mission's places, never share a group: the
    second's reads must see the first's writes (the capacity check, the user's daily points)."""
    alice, bob, carol = make_user(), make_user(), make_user()
    one, two = make_mission(engine, ["none"]), make_mission(engine, ["none"])
    full = make_mission(engine, ["none"], capacity=1)
    results = _together(db_url, [_enrol(alice, one.id), _enrol(alice, two.id), _enrol(bob, full.id),
                                 _enrol(carol, full.id)])
    alice_one, alice_two, bob_full, carol_full = results
    assert isinstance(alice_one, uuid.UUID) and isinstance(alice_two, uuid.UUID) and isinstance(bob_full, uuid.UUID)
    assert isinstance(carol_full, ApiError) and carol_full.code == "mission_full"  # capacity 1, and Bob was first
    stored = _stored(db_url, [alice_one, alice_two, bob_full])
    assert stored[alice_one][0] != stored[alice_two][0]
    assert stored[alice_one][0] == stored[bob_full][0]  # different callers and missions: together


def test_a_refused_unit_leaves_the_others_of_its_group(db_url: str, engine: Engine, make_user: MakeUser) -> None:
    accounts = [make_user() for _ in range(4)]
    missions = [make_mission(engine, ["none"]) for _ in range(3)]
    unknown = uuid.uuid4()
    results = _together(db_url, [*(_enrol(a, m.id) for a, m in zip(accounts, missions, strict=False)),
                                 _enrol(accounts[3], unknown)])
    *enrolled, refused = results
    assert isinstance(refused, ApiError) and refused.status_code == 404
    stored = _stored(db_url, enrolled)
    assert len(stored) == 3 and len({xmin for xmin, _ in stored.values()}) == 1
    with psycopg.connect(libpq_url(db_url)) as pg:
        assert pg.execute("select count(*) from app.mission_attempts where user_id = %s",
                          (accounts[3].id,)).fetchone() == (0,)


def _breaks_a_foreign_key(plan: Plan, user_id: uuid.UUID) -> Unit[None]:
    """A unit whose write PostgreSQL refuses (an attempt on a mission that does not exist)."""
    yield ()
    plan.write(Statement("insert into app.mission_attempts (id, user_id, mission_id, status, steps_total, "
                         "started_at, updated_at) values (%(id)s, %(u)s, %(m)s, 'in_progress', 1, now(), now())",
                         {"id": uuid.uuid4(), "u": user_id, "m": uuid.uuid4()}))
    yield FLUSH
    return None


def test_a_group_the_database_refuses_runs_each_unit_again_alone(db_url: str, engine: Engine,
                                                                   make_user: MakeUser) -> None:
    accounts = [make_user() for _ in range(5)]
    missions = [make_mission(engine, ["none"]) for _ in range(4)]
    bad = _caller(accounts[4])

    async def breaks(pool: Any) -> Any:
        return await run_batched(pool, bad, lambda plan: _breaks_a_foreign_key(plan, bad.user_id), USER_SQL)

    results = _together(db_url, [*(_enrol(a, m.id) for a, m in zip(accounts, missions, strict=False)), breaks])
    *enrolled, broken = results
    assert isinstance(broken, pg_errors.ForeignKeyViolation)
    assert all(isinstance(r, uuid.UUID) for r in enrolled), enrolled
    stored = _stored(db_url, enrolled)
    assert len(stored) == 4 and {count for _, count in stored.values()} == {1}  # the failed group left nothing
    assert len({xmin for xmin, _ in stored.values()}) == 4  # then each ran alone
    with psycopg.connect(libpq_url(db_url)) as pg:
        assert pg.execute("select count(*) from app.mission_attempts where user_id = %s",
                          (bad.user_id,)).fetchone() == (0,)


@pytest.mark.parametrize("users", [1, 40])
def test_a_lone_request_and_a_crowd_get_the_same_answers(db_url: str, engine: Engine, make_user: MakeUser,
                                                         users: int) -> None:
    """A group of one (a quiet server) and a group of many answer each caller with their own attempt."""
    accounts = [make_user() for _ in range(users)]
    missions = [make_mission(engine, ["none"]) for _ in range(users)]

    answers = _together(db_url, [_enrol(a, m.id, answered=True) for a, m in zip(accounts, missions, strict=True)])
    for account, mission, answer in zip(accounts, missions, answers, strict=True):
        assert not isinstance(answer, BaseException), answer
        attempt_id, (attempt, steps) = answer
        assert attempt["id"] == attempt_id
        assert attempt["user_id"] == account.id and attempt["mission_id"] == mission.id
        assert attempt["status"] == "in_progress" and len(steps) == 1


def _names_a_region(plan: Plan, user_id: uuid.UUID, region_code: str) -> Unit[None]:
    """A unit whose event names a region it did not read itself: the writer looks the reference up."""
    yield ()
    plan.event(user_id, "user_registered", region_code=region_code)
    yield FLUSH
    return None


def test_references_a_unit_did_not_read_are_checked_before_its_events_are_stored(
        db_url: str, make_user: MakeUser) -> None:
    known, unknown = _caller(make_user()), _caller(make_user())

    def naming(caller: Caller, region_code: str) -> Call:
        async def call(pool: Any) -> Any:
            return await run_batched(pool, caller, lambda plan: _names_a_region(plan, caller.user_id, region_code),
                                     USER_SQL)
        return call

    stored_ok, refused = _together(db_url, [naming(known, "47730"), naming(unknown, "99999")])
    assert stored_ok is None
    assert isinstance(refused, EventsNotStored) and "unknown region '99999'" in str(refused)
    with psycopg.connect(libpq_url(db_url)) as pg:
        counts = dict(pg.execute("select user_id, count(*) from raw.activity_events where user_id = any(%s) "
                                 "group by user_id", ([known.user_id, unknown.user_id],)).fetchall())
    assert counts == {known.user_id: 1}


def test_every_request_is_answered_when_no_connection_can_be_had(make_user: MakeUser) -> None:
    """A pool that cannot connect: each request of the group gets the error (none waits forever)."""
    from psycopg_pool import AsyncConnectionPool, PoolTimeout

    callers = [_caller(make_user()) for _ in range(3)]

    async def main() -> list[Any]:
        pool = AsyncConnectionPool("host=127.0.0.1 port=9 dbname=nowhere connect_timeout=1", min_size=0,
                                   max_size=1, timeout=1, open=False)
        await pool.open(wait=False)
        try:
            return await asyncio.wait_for(asyncio.gather(*(
                run_batched(pool, c, lambda plan, c=c: _names_a_region(plan, c.user_id, "47730"), USER_SQL)
                for c in callers), return_exceptions=True), 60)
        finally:
            await pool.close()

    results = asyncio.run(main())
    assert [type(r) for r in results] == [PoolTimeout] * 3
