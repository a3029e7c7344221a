"""The demo population: deterministic, built on the real places, with behaviour that follows its
hidden profiles (the structure a recommender is measured against)."""

from __future__ import annotations

import itertools
import json
import uuid
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from core.activity import load_folder
from core.db import libpq_url
from core.demo.generator import DemoSpec, build_plan, generate, write_activity
from core.demo.reference import read_reference
from core.korea import LoadSummary, load_all
from core.settings import get_settings
from core.vocab import FailureReason
from tests.fixtures.demo import DEMO_SPEC, DemoLoaded

SMALL = DemoSpec(users=150, missions=40, events=6_000, seed=11, file_lines=2_500)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_the_same_seed_gives_byte_identical_files(regions_loaded: LoadSummary, engine: Engine, tmp_path: Path):
    with engine.connect() as conn:
        ref = read_reference(conn)
    outputs = []
    for run, spec in enumerate((SMALL, SMALL, replace(SMALL, seed=12))):
        folder, scratch = tmp_path / f"out{run}", tmp_path / f"scratch{run}"
        folder.mkdir()
        scratch.mkdir()
        write_activity(build_plan(spec, ref, "hash"), folder, scratch)
        outputs.append(_files(folder))
    assert list(outputs[0]) == ["demo-11-0001.jsonl", "demo-11-0002.jsonl", "demo-11-0003.jsonl"]
    assert outputs[0] == outputs[1]
    assert list(outputs[2].values()) != list(outputs[0].values())
    assert not list((tmp_path / "scratch0").iterdir())  # the time buckets are cleaned up


def test_loading_the_demo_files_gives_exactly_what_the_manifest_says(demo_loaded: DemoLoaded,
                                                                      pg: psycopg.Connection):
    manifest = demo_loaded.manifest
    assert [r.file_name for r in demo_loaded.loads] == manifest["files"] == demo_loaded.result.files
    assert demo_loaded.loaded == manifest["valid_events"] >= DEMO_SPEC.events
    assert sum(r.duplicates for r in demo_loaded.loads) == manifest["duplicates"] > 0
    assert sum(r.quarantined for r in demo_loaded.loads) == sum(manifest["bad_lines"].values()) > 0
    stored = pg.execute("select count(*) from raw.activity_events where source = any(%s)",
                        [[f"file:{f}" for f in manifest["files"]]]).fetchone()
    assert stored == (manifest["valid_events"],)


def test_app_rows_are_written_through_the_catalog_and_accounts(demo_loaded: DemoLoaded, pg: psycopg.Connection):
    spec = demo_loaded.spec
    users = pg.execute("select email, user_type, roles, managed_region_code from app.users where is_demo").fetchall()
    app_users = [u for u in users if u[1] is not None]
    assert len(app_users) == spec.users and len(users) == spec.users + demo_loaded.result.staff
    assert {u[0] for u in app_users} == {f"demo{i:05d}@demo.hometown-on.kr" for i in range(1, spec.users + 1)}
    assert set(Counter(u[1] for u in app_users)) == {"youth", "supporter", "returnee", "mentor", "requester"}
    roles = {(tuple(u[2]), u[3]) for u in users if u[1] is None}
    assert (("municipality_officer",), "47730") in roles
    assert {r for rs, _ in roles for r in rs} >= {"admin", "policy_staff", "municipality_officer", "host"}

    missions = pg.execute("""
        select m.mission_type, m.source_kind, m.skills, array_agg(s.verification order by s.step_no),
               array_agg(s.step_no order by s.step_no), d.category, m.source_ref, m.lat, m.lon,
               (array_agg(s.lat order by s.step_no))[1], (array_agg(s.lon order by s.step_no))[1]
        from app.missions m join app.mission_steps s on s.mission_id = m.id
        join app.users u on u.id = m.created_by and u.is_demo
        left join raw.decline_areas d on d.region_code = m.region_code
        -- the generator's missions, not those other tests create later as demo hosts or AI drafts
        where m.created_at <= (select max(finished_at) from app.demo_runs)
        group by m.id, d.category""").fetchall()
    assert len(missions) == spec.missions
    by_type = Counter(m[0] for m in missions)
    assert set(by_type) == {"exploration", "social", "skill", "learning"}
    for kind, source, skills, verifications, numbers, _, _, lat, lon, lat1, lon1 in missions:
        assert numbers == list(range(1, len(numbers) + 1))
        if kind == "exploration":
            assert source in ("tourist_spot", "heritage") and verifications[:2] == ["checkin", "qr"]
            assert (lat1, lon1) == (lat, lon)  # the check-in is at the spot itself
        if kind == "learning":
            assert source == "heritage" and set(verifications) == {"none"}
        if kind == "skill":
            assert source == "need" and len(skills) == 1 and "host_confirm" in verifications
        if kind == "social":
            assert source in ("festival", "need") and "host_confirm" in verifications
    assert sum(m[5] is not None for m in missions) / len(missions) > 0.5  # leaning toward decline areas
    orphan_needs = pg.execute("""select count(*) from app.missions m left join app.regional_needs n
                                 on n.id::text = m.source_ref where m.source_kind = 'need' and n.id is null""")
    assert orphan_needs.fetchone() == (0,)
    places = pg.execute("""select count(*) from app.missions m left join raw.places p on p.place_id = m.source_ref
                           where m.source_kind in ('tourist_spot', 'festival', 'heritage') and p.place_id is null""")
    assert places.fetchone() == (0,)


def test_hidden_profiles_stay_outside_the_app_schema(demo_loaded: DemoLoaded, pg: psycopg.Connection):
    path = get_settings().var_dir / "demo" / "hidden_profiles.jsonl"
    profiles = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(profiles) == DEMO_SPEC.users
    ids = {r[0] for r in pg.execute("select id::text from app.users where is_demo and user_type is not null")}
    assert {p["user_id"] for p in profiles} == ids
    assert set(profiles[0]) >= {"region_affinity", "mission_type_taste", "true_skills", "reliability"}
    leaked = pg.execute("select table_name, column_name from information_schema.columns where table_schema = 'app' "
                        "and column_name ~ '(affinity|taste|reliability|true_skill)'").fetchall()
    assert leaked == []


def test_users_registered_when_their_events_say(demo_loaded: DemoLoaded, pg: psycopg.Connection):
    """app.users.created_at is the simulated sign-up (dim_user's registered_month, the reports' 가입 date),
    not the day the demo was generated: it equals the user_registered event, and no event comes before it."""
    sources = [f"file:{f}" for f in demo_loaded.manifest["files"]]
    months = pg.execute("select count(distinct date_trunc('month', created_at)) from app.users "
                        "where is_demo and user_type is not null").fetchone()
    assert months is not None and months[0] >= DEMO_SPEC.months - 1
    disagree = pg.execute("""
        select count(*) filter (where date_trunc('second', e.occurred_at) <> date_trunc('second', u.created_at)),
               count(*)
        from raw.activity_events e join app.users u on u.id = e.user_id
        where e.source = any(%s) and e.event_type = 'user_registered'""", [sources]).fetchone()
    assert disagree is not None and disagree[0] == 0 and disagree[1] > DEMO_SPEC.users * 0.5
    early = pg.execute("""
        select count(*) from raw.activity_events e join app.users u on u.id = e.user_id
        where e.source = any(%s) and e.occurred_at < date_trunc('second', u.created_at)""", [sources]).fetchone()
    assert early == (0,)
    staff = pg.execute("select count(*), max(created_at) < now() - interval '30 days' from app.users "
                       "where is_demo and user_type is null").fetchone()
    assert staff is not None and staff[0] > 0 and staff[1] is True


def test_events_follow_each_missions_funnel(demo_loaded: DemoLoaded, pg: psycopg.Connection):
    sources = [f"file:{f}" for f in demo_loaded.manifest["files"]]
    no_enrolment = pg.execute("""
        with events as (select * from raw.activity_events where source = any(%s) and mission_id is not null),
             first_enrolment as (select user_id, mission_id, min(occurred_at) as enrolled_at from events
                                 where event_type = 'mission_enrolled' group by 1, 2)
        select count(*) from events e left join first_enrolment f using (user_id, mission_id)
        where e.event_type <> 'mission_enrolled' and (f.enrolled_at is null or f.enrolled_at > e.occurred_at)""",
                              [sources]).fetchone()
    assert no_enrolment == (0,)
    incomplete = pg.execute("""
        with events as (select * from raw.activity_events where source = any(%s) and mission_id is not null),
             completions as (select event_id, user_id, mission_id, occurred_at from events
                             where event_type = 'mission_completed'),
             reached as (select c.event_id, c.mission_id, count(distinct s.step_no) as steps_done
                         from completions c left join events s on s.user_id = c.user_id
                          and s.mission_id = c.mission_id and s.event_type = 'step_completed'
                          and s.occurred_at <= c.occurred_at
                         group by 1, 2),
             steps as (select mission_id, count(*) as n from app.mission_steps group by 1)
        select count(*), (select count(*) from completions)
        from reached join steps using (mission_id) where reached.steps_done < steps.n""", [sources]).fetchone()
    assert incomplete is not None and incomplete[0] == 0 and incomplete[1] > 1000
    reasons = Counter(dict(pg.execute(
        "select payload->>'reason', count(*) from raw.activity_events where source = any(%s) "
        "and event_type = 'mission_failed' group by 1", [sources]).fetchall()))
    assert set(reasons) <= {r.value for r in FailureReason} and len(reasons) >= 6
    assert reasons.most_common(1)[0][0] == "schedule_conflict"
    outcomes = Counter(dict(pg.execute(
        "select event_type, count(*) from raw.activity_events where source = any(%s) and event_type in "
        "('mission_completed', 'mission_failed', 'mission_abandoned') group by 1", [sources]).fetchall()))
    assert outcomes["mission_completed"] > outcomes["mission_failed"] > 0 and outcomes["mission_abandoned"] > 0
    # check-ins land near the step's spot when accepted, outside its radius when not
    wrong = pg.execute("""
        select count(*) filter (where (e.payload->>'accepted')::boolean and d > s.radius_m),
               count(*) filter (where not (e.payload->>'accepted')::boolean and d <= s.radius_m), count(*)
        from (select e.*, 2 * 6371008.8 * asin(sqrt(power(sin(radians(e.lat - s.lat) / 2), 2)
                 + cos(radians(e.lat)) * cos(radians(s.lat)) * power(sin(radians(e.lon - s.lon) / 2), 2))) as d
              from raw.activity_events e join app.mission_steps s using (mission_id, step_no)
              where e.source = any(%s) and e.event_type = 'checkin') e
        join app.mission_steps s using (mission_id, step_no)""", [sources]).fetchone()
    assert wrong is not None and wrong[:2] == (0, 0) and wrong[2] > 100
    # the files are in time order: each file's events come after the previous file's
    ranges = pg.execute("select source, min(occurred_at), max(occurred_at) from raw.activity_events "
                        "where source = any(%s) group by 1 order by 1", [sources]).fetchall()
    assert len(ranges) == len(sources)
    for (_, _, end), (_, start, _) in itertools.pairwise(ranges):
        assert end <= start
    first, last = ranges[0][1], ranges[-1][2]
    assert (last - first).days > 450 and last.date().isoformat() <= str(DEMO_SPEC.anchor)


def test_behaviour_follows_the_hidden_profiles(demo_loaded: DemoLoaded, pg: psycopg.Connection):
    """Users enrol where their hidden affinity lies and in the mission types they like: the known
    structure a recommender should recover (and that a random one would not)."""
    profiles = {p["user_id"]: p for p in map(json.loads, (get_settings().var_dir / "demo" /
                                                          "hidden_profiles.jsonl").read_text().splitlines())}
    enrolments = pg.execute("""
        select e.user_id::text, m.region_code, m.mission_type from raw.activity_events e
        join app.missions m on m.id = e.mission_id where e.event_type = 'mission_enrolled' and e.source = any(%s)""",
                            [[f"file:{f}" for f in demo_loaded.manifest["files"]]]).fetchall()
    catalog = pg.execute("select region_code, mission_type from app.missions m join app.users u "
                         "on u.id = m.created_by and u.is_demo").fetchall()
    assert len(enrolments) > 3000
    in_affinity = sum(r in profiles[u]["region_affinity"] for u, r, _ in enrolments) / len(enrolments)
    baseline = sum(sum(r in profiles[u]["region_affinity"] for r, _ in catalog) / len(catalog)
                   for u, _, _ in enrolments) / len(enrolments)
    assert in_affinity > 0.6 and in_affinity > 5 * baseline
    by_user: dict[str, Counter[str]] = defaultdict(Counter)
    for u, _, kind in enrolments:
        by_user[u][kind] += 1
    liked, shares = [], []
    for u, counts in by_user.items():
        taste = profiles[u]["mission_type_taste"]
        top = max(taste, key=taste.get)
        if taste[top] > 0.5 and sum(counts.values()) >= 5:
            liked.append(counts[top] / sum(counts.values()))
            shares.append(sum(k == top for _, k in catalog) / len(catalog))
    assert len(liked) > 20 and sum(liked) / len(liked) > 1.5 * sum(shares) / len(shares)


def test_the_same_spec_is_not_generated_twice(demo_loaded: DemoLoaded, db_url: str, pg: psycopg.Connection):
    before = pg.execute("select count(*), max(xmin::text::bigint) from app.users where is_demo").fetchone()
    messages: list[str] = []
    result = generate(DEMO_SPEC, url=db_url, settings=get_settings(), progress=messages.append)
    assert result.skipped and result.files == demo_loaded.result.files
    assert "already exists" in messages[0]
    assert pg.execute("select count(*), max(xmin::text::bigint) from app.users where is_demo").fetchone() == before


@pytest.fixture()
def scratch_db(db_url: str, tmp_path: Path) -> str:
    """A second database on the session's server, with the regional data, for replacing demos."""
    from core.migrate import upgrade

    server = make_url(db_url)
    name = f"demo_scratch_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_url(db_url), autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    with psycopg.connect(libpq_url(url)) as conn:
        load_all(conn, get_settings().data_dir)
    yield url
    with psycopg.connect(libpq_url(db_url), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def test_a_new_spec_replaces_the_previous_demo_and_force_regenerates(scratch_db: str, tmp_path: Path):
    settings = get_settings().model_copy(update={"var_dir": tmp_path / "var"})
    first = replace(SMALL, seed=21)
    generate(first, url=scratch_db, settings=settings)
    with psycopg.connect(libpq_url(scratch_db)) as conn:
        loaded = sum(r.loaded for r in load_folder(conn, settings.landing_dir))
        assert loaded > 0
    second = replace(SMALL, seed=22, users=120)
    result = generate(second, url=scratch_db, settings=settings)
    assert not result.skipped
    assert sorted(p.name for p in settings.landing_dir.iterdir()) == result.files  # seed 21's files are gone
    original = _files(settings.landing_dir)
    with psycopg.connect(libpq_url(scratch_db)) as conn:
        assert conn.execute("select count(*) from app.users where is_demo and user_type is not null"
                            ).fetchone() == (120,)
        assert conn.execute("select count(*) from raw.activity_events").fetchone() == (0,)  # seed 21's events
        assert conn.execute("select count(*) from raw.ingested_files").fetchone() == (0,)
        assert conn.execute("select seed from app.demo_runs").fetchall() == [(22,)]
    assert generate(second, url=scratch_db, settings=settings).skipped
    again = generate(second, url=scratch_db, settings=settings, force=True)
    assert not again.skipped and _files(settings.landing_dir) == original
