"""Loading activity events: files and API batches into raw.activity_events, once each.

Each test brings its own users, missions and files (unique names) and removes them afterwards, so
the session's demo data and other rooms' tests see nothing of them.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import psycopg
import pytest
from sqlalchemy import Engine, text

from core.accounts import NewUser, create_users
from core.activity import (
    append_events,
    append_minted_events,
    check_ingested_files_consistent,
    check_quarantine_explained,
    landing_files,
    load_file,
    load_folder,
)
from core.catalog import NewMission, NewStep, create_missions
from core.events import EventError, KnownIds
from core.korea import LoadSummary

BASE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class Refs:
    users: list[str]
    missions: list[str]
    folder: Path
    tag: str
    files: list[str] = field(default_factory=list)

    def event(self, n: int = 0, **overrides: object) -> dict:
        ev = {"event_id": str(uuid.uuid4()), "user_id": self.users[n % len(self.users)],
              "occurred_at": (BASE + timedelta(minutes=n)).isoformat(), "event_type": "step_completed",
              "mission_id": self.missions[n % len(self.missions)], "step_no": 1 + n % 2, "region_code": "47730",
              "payload": {"n": n, "note": "메모\t\\ \"따옴표\" \u2028 \x85 끝"}}
        if n % 3 == 0:
            ev.update(event_type="checkin", lat=36.3527, lon=128.6973, payload={"accepted": True, "distance_m": 12})
        ev.update(overrides)
        return {k: v for k, v in ev.items() if v is not ...}

    def write(self, name: str, lines: list[bytes | dict], *, part: bool = False) -> Path:
        name = f"{self.tag}-{name}"
        self.files.append(name)
        path = self.folder / (name + (".part" if part else ""))
        path.write_bytes(b"".join((orjson.dumps(x) if isinstance(x, dict) else x) + b"\n" for x in lines))
        return path


@pytest.fixture()
def refs(regions_loaded: LoadSummary, engine: Engine, tmp_path: Path) -> Iterator[Refs]:
    tag = f"t{uuid.uuid4().hex[:8]}"
    users = [NewUser(email=f"{tag}-{i}@test.invalid", display_name=f"u{i}", password_hash="-") for i in range(3)]
    missions = [NewMission(title=f"{tag} mission {i}", mission_type="exploration", region_code="47730",
                           steps=[NewStep(1, "체크인", "checkin", lat=36.35, lon=128.69), NewStep(2, "사진", "photo")])
                for i in range(2)]
    with engine.begin() as conn:
        create_users(conn, users)
        create_missions(conn, missions)
    refs = Refs([str(u.id) for u in users], [str(m.id) for m in missions], tmp_path, tag)
    yield refs
    sources = [f"file:{name}" for name in refs.files] + [f"api:{tag}"]
    with engine.begin() as conn:
        conn.execute(text("delete from raw.activity_events where source = any(:s) or user_id = any(:u)"),
                     {"s": sources, "u": [u.id for u in users]})
        conn.execute(text("delete from raw.quarantine where source = any(:s)"), {"s": sources})
        conn.execute(text("delete from raw.ingested_files where file_name = any(:f)"), {"f": refs.files})
        conn.execute(text("delete from app.missions where id = any(:m)"), {"m": [m.id for m in missions]})
        conn.execute(text("delete from app.users where id = any(:u)"), {"u": [u.id for u in users]})


def rows(pg: psycopg.Connection, source: str) -> list[tuple]:
    return pg.execute("select event_id::text, user_id::text, occurred_at, event_type, mission_id::text, step_no, "
                      "region_code, lat, lon, payload from raw.activity_events where source = %s order by event_id",
                      [source]).fetchall()


def quarantined(pg: psycopg.Connection, source: str) -> list[tuple[str, str, str]]:
    return pg.execute("select position, reason, content from raw.quarantine where source = %s order by id",
                      [source]).fetchall()


def test_a_file_loads_each_event_with_its_fields(refs: Refs, pg: psycopg.Connection):
    events = [refs.event(n) for n in range(30)]
    path = refs.write("good.jsonl", events)
    result = load_file(pg, path)
    assert (result.line_count, result.loaded, result.duplicates, result.quarantined) == (30, 30, 0, 0)
    stored = {r[0]: r for r in rows(pg, f"file:{path.name}")}
    assert len(stored) == 30
    for ev in events:
        row = stored[ev["event_id"]]
        assert row[1] == ev["user_id"] and row[3] == ev["event_type"] and row[4] == ev["mission_id"]
        assert row[2] == datetime.fromisoformat(ev["occurred_at"])
        assert row[5] == ev["step_no"] and row[6] == "47730" and row[9] == ev["payload"]
        assert (row[7], row[8]) == ((ev["lat"], ev["lon"]) if "lat" in ev else (None, None))
    recorded = pg.execute("select file_name, size_bytes, line_count, loaded_count, duplicate_count, "
                          "quarantined_count from raw.ingested_files where checksum = %s", [result.checksum]).fetchone()
    assert recorded == (path.name, path.stat().st_size, 30, 30, 0, 0)


def test_a_file_is_loaded_once_and_an_overlapping_file_adds_only_new_events(refs: Refs, pg: psycopg.Connection):
    events = [refs.event(n) for n in range(20)]
    first = refs.write("a.jsonl", events)
    assert load_file(pg, first).loaded == 20
    again = load_file(pg, first)
    assert again.skipped and again.loaded == 0
    # the same bytes under another name are the same file
    copy = refs.write("a-copy.jsonl", events)
    assert load_file(pg, copy).skipped
    overlap = refs.write("b.jsonl", events[10:] + [refs.event(n) for n in range(20, 25)])
    result = load_file(pg, overlap)
    assert (result.loaded, result.duplicates, result.quarantined) == (5, 10, 0)
    assert pg.execute("select count(*) from raw.activity_events where user_id = any(%s::uuid[])",
                      [refs.users]).fetchone() == (25,)


def test_bad_lines_are_quarantined_with_position_and_reason_and_never_stop_good_ones(
        refs: Refs, pg: psycopg.Connection):
    good = [refs.event(n) for n in range(6)]
    lines: list[bytes | dict] = [
        good[0],
        b'{"event_id": "broken',
        good[1],
        orjson.dumps({**refs.event(50), "payload": {"note": "비가 와요"}}).decode().encode("cp949"),
        refs.event(51, occurred_at="2026-03-01T09:00:00"),
        good[2],
        refs.event(52, user_id=str(uuid.uuid4())),
        refs.event(53, lat=35.68, lon=139.77),
        b"[1, 2, 3]",
        good[3],
        b"",
        refs.event(54, extra="field"),
        good[4],
        good[4],  # the same event again in the same file: a duplicate, not an error
        good[5],
    ]
    path = refs.write("mixed.jsonl", lines)
    result = load_file(pg, path)
    assert (result.line_count, result.loaded, result.duplicates, result.quarantined) == (15, 6, 1, 8)
    assert {r[0] for r in rows(pg, f"file:{path.name}")} == {e["event_id"] for e in good}
    bad = quarantined(pg, f"file:{path.name}")
    assert [(p, r.split(": ")[1]) for p, r, _ in bad] == [
        ("2", "json"), ("4", "encoding"), ("5", "occurred_at"), ("7", "user_id"), ("8", "lon"), ("9", "json"),
        ("11", "json"), ("12", "extra")]
    reasons = {p: r for p, r, _ in bad}
    assert reasons["5"] == "line 5: occurred_at: not an ISO 8601 timestamp with a time zone (no offset or Z)"
    assert reasons["4"].startswith("line 4: encoding: not valid UTF-8")
    assert reasons["11"] == "line 11: json: empty line"
    contents = {p: c for p, _, c in bad}
    assert contents["2"] == '{"event_id": "broken'
    assert "\\xba" in contents["4"]  # the CP949 bytes are kept, visibly
    assert result.reasons["json"] == 3 and len(result.errors) == 8


def test_part_files_wait_until_renamed(refs: Refs, pg: psycopg.Connection):
    refs.write("later.jsonl", [refs.event(0)], part=True)
    done = refs.write("now.jsonl", [refs.event(1)])
    assert [p.name for p in landing_files(refs.folder)] == [done.name]
    results = load_folder(pg, refs.folder)
    assert [r.file_name for r in results] == [done.name] and results[0].loaded == 1


@pytest.mark.parametrize("in_process", [False, True], ids=["inline", "parser-process"])
def test_chunks_duplicates_and_bad_lines_come_out_the_same_either_way(refs: Refs, pg: psycopg.Connection,
                                                                      in_process: bool):
    """Small chunks with random ids: the range pre-check, the per-id probe, duplicates inside a
    chunk, across chunks and in the table, and bad lines, parsed here or in the parser process."""
    events = [refs.event(n) for n in range(100)]
    first = load_file(pg, refs.write("first.jsonl", events[::2]), chunk_size=7, in_process=in_process)
    assert first.loaded == 50
    lines: list[bytes | dict] = [*events[:3], events[1], b"{oops", *events[3:60], events[2], *events[60:],
                                 refs.event(0, event_type="nope")]
    result = load_file(pg, refs.write("all.jsonl", lines), chunk_size=7, in_process=in_process)
    assert (result.line_count, result.loaded, result.duplicates, result.quarantined) == (104, 50, 52, 2)
    assert [p for p, _ in result.errors] == ["5", "104"]
    assert pg.execute("select count(*) from raw.activity_events where user_id = any(%s::uuid[])",
                      [refs.users]).fetchone() == (100,)
    folder = load_folder(pg, refs.folder, in_process=in_process)
    assert all(r.skipped for r in folder) and len(folder) == 2


def test_a_writer_racing_past_the_lock_ends_in_on_conflict_not_an_error(refs: Refs, pg: psycopg.Connection,
                                                                       db_url: str):
    """Someone inserts an event (without the advisory lock) after our probe: the COPY waits for
    their commit, hits the unique key, and the chunk goes through INSERT … ON CONFLICT instead."""
    from core.db import libpq_url

    events = [refs.event(n) for n in range(10)]
    path = refs.write("race.jsonl", events)
    outcome: dict = {}
    with psycopg.connect(libpq_url(db_url)) as other:
        other.execute("insert into raw.activity_events (event_id, user_id, occurred_at, event_type, mission_id, "
                      "step_no, source) values (%s, %s, %s, 'step_completed', %s, 1, 'test:race')",
                      [events[3]["event_id"], refs.users[0], BASE, refs.missions[0]])

        def load() -> None:
            with psycopg.connect(libpq_url(db_url)) as conn:
                outcome["result"] = load_file(conn, path)

        loader = threading.Thread(target=load)
        loader.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # wait until the loader's COPY waits on our uncommitted row
            waiting = pg.execute("select count(*) from pg_stat_activity where wait_event_type = 'Lock' "
                                 "and query like 'copy raw.activity_events%%'").fetchone()
            if waiting and waiting[0]:
                break
            time.sleep(0.05)
        other.commit()
        loader.join(30)
    result = outcome["result"]
    assert (result.loaded, result.duplicates, result.quarantined) == (9, 1, 0)
    assert pg.execute("select source from raw.activity_events where event_id = %s",
                      [events[3]["event_id"]]).fetchone() == ("test:race",)


def test_append_events_takes_python_values_and_reports_what_was_wrong(refs: Refs, pg: psycopg.Connection):
    source = f"api:{refs.tag}"
    good = refs.event(1, event_id=uuid.uuid4(), user_id=uuid.UUID(refs.users[0]),
                      occurred_at=BASE + timedelta(hours=1))
    bad = refs.event(2, event_type="mission_failed", step_no=..., payload={"reason": "bored"})
    counts = append_events(pg, [good, bad, good], source=source)
    assert (counts.loaded, counts.duplicates, counts.quarantined) == (1, 1, 1)
    assert counts.errors == [("2", "event 2: payload: mission_failed needs payload.reason, one of health, "
                                   "host_unavailable, other, safety, schedule_conflict, too_difficult, too_far, "
                                   "verification_failed, weather (got 'bored')")]
    assert [r[0] for r in rows(pg, source)] == [str(good["event_id"])]
    assert [q[0] for q in quarantined(pg, source)] == ["2"]
    again = append_events(pg, [good], source=source)
    assert (again.loaded, again.duplicates) == (0, 1)


def test_minted_events_are_checked_unless_every_reference_was_vouched_for(refs: Refs, pg: psycopg.Connection):
    """The API's writer skips the reference query only when the unit read every id it names in its own
    transaction; a reference outside what it vouched for is still looked up, and an unknown one refused."""
    source = f"api:{refs.tag}"
    user, mission = refs.users[0], refs.missions[0]
    vouched = KnownIds(frozenset({user}), frozenset({mission}), frozenset({"47730"}))
    ev = refs.event(4, user_id=uuid.UUID(user), mission_id=uuid.UUID(mission))
    assert append_minted_events(pg, [ev], source=source, vouched=vouched) == 1
    stranger = refs.event(5, user_id=uuid.UUID(user), mission_id=uuid.uuid4())  # not vouched, not stored
    with pytest.raises(EventError, match="mission_id"):
        append_minted_events(pg, [stranger], source=source, vouched=vouched)
    other = refs.event(6, user_id=uuid.UUID(refs.users[1]), mission_id=uuid.UUID(mission))  # real, not vouched
    assert append_minted_events(pg, [other], source=source, vouched=vouched) == 1
    assert sorted(r[1] for r in rows(pg, source)) == sorted([user, refs.users[1]])


def test_append_events_joins_the_callers_transaction(refs: Refs, engine: Engine, pg: psycopg.Connection):
    source = f"api:{refs.tag}"
    ev = refs.event(3)
    with engine.connect() as conn:
        counts = append_events(conn, [ev], source=source)
        assert counts.loaded == 1
        conn.rollback()  # the API's request failed later: nothing of it stays
    assert rows(pg, source) == []
    with engine.begin() as conn:
        append_events(conn, [ev], source=source)
    assert len(rows(pg, source)) == 1


def test_the_table_checks_pass_and_catch_tampering(refs: Refs, db_url: str):
    from core.db import libpq_url

    path = refs.write("checked.jsonl", [refs.event(0), b"not json", refs.event(1)])
    with psycopg.connect(libpq_url(db_url)) as conn:
        assert load_file(conn, path).quarantined == 1
        assert check_quarantine_explained(conn).passed
        assert check_ingested_files_consistent(conn).passed
        conn.execute("delete from raw.quarantine where source = %s", [f"file:{path.name}"])
        outcome = check_quarantine_explained(conn)
        assert not outcome.passed
        assert outcome.metadata["files_with_mismatched_counts"] == [f"{path.name}: reported 1, stored 0"]
        conn.execute("delete from raw.activity_events where source = %s and event_type = 'checkin'",
                     [f"file:{path.name}"])
        assert not check_ingested_files_consistent(conn).passed
        conn.rollback()
