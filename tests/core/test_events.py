"""The event contract: every rule of the validator, and the COPY text it renders."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson
import pytest

from core.events import (
    COPY_COLUMNS,
    EventError,
    EventValidator,
    KnownIds,
    copy_escape,
    is_uuid,
    normalise_event,
    parse_line,
)

USER = "0190a000-0000-7000-8000-000000000001"
MISSION = "0190a000-0000-7000-8000-0000000000aa"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
KNOWN = KnownIds(users=frozenset({USER}), missions=frozenset({MISSION}), regions=frozenset({"47730", "11110"}))


def event(**overrides: object) -> dict:
    base = {"event_id": str(uuid.uuid4()), "user_id": USER, "occurred_at": "2026-05-01T10:00:00+09:00",
            "event_type": "step_completed", "mission_id": MISSION, "step_no": 2, "region_code": "47730",
            "lat": 36.35, "lon": 128.69, "payload": {"accepted": True, "note": "탭\t와 \\ 역슬래시"}}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not ...}


@pytest.fixture()
def validate() -> EventValidator:
    return EventValidator(KNOWN, "file:a.jsonl", now=NOW)


def reason(validate: EventValidator, ev: dict) -> str:
    with pytest.raises(EventError) as info:
        validate(ev)
    return str(info.value)


def test_valid_event_renders_one_copy_line_in_column_order(validate):
    ev = event()
    event_id, line = validate(ev)
    assert event_id == ev["event_id"]
    assert line.endswith("\n") and line.count("\n") == 1
    fields = line[:-1].split("\t")
    assert len(fields) == len(COPY_COLUMNS)
    row = dict(zip(COPY_COLUMNS, fields, strict=True))
    assert row["occurred_at"] == "2026-05-01T10:00:00+09:00"
    assert row["step_no"] == "2" and row["region_code"] == "47730" and row["source"] == "file:a.jsonl"
    assert float(row["lat"]) == 36.35
    # tabs inside the JSON are escaped by JSON itself; backslashes are doubled for COPY
    assert orjson.loads(row["payload"].replace("\\\\", "\\")) == ev["payload"]


def test_minimal_event_has_nulls(validate):
    ev = event(event_type="user_registered", mission_id=..., step_no=..., region_code=..., lat=..., lon=...,
               payload=...)
    _, line = validate(ev)
    fields = line[:-1].split("\t")
    assert fields[4:10] == ["\\N"] * 6


def test_uppercase_uuids_are_normalised(validate):
    ev = event(event_id=str(uuid.uuid4()).upper(), user_id=USER.upper())
    event_id, line = validate(ev)
    assert event_id == ev["event_id"].lower()
    assert line.split("\t")[1] == USER


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"event_id": ...}, "event_id: required field is missing"),
    ({"user_id": None}, "user_id: required field is missing"),
    ({"event_id": "not-a-uuid"}, "event_id: not a UUID"),
    ({"event_id": "0190a000-0000-7000-8000-00000000000g"}, "event_id: not a UUID"),
    ({"user_id": "0190a000-0000-7000-8000-000000000099"}, "user_id: unknown id"),
    ({"user_id": 17}, "user_id: not a UUID"),
    ({"mission_id": "0190a000-0000-7000-8000-000000000099"}, "mission_id: unknown id"),
    ({"mission_id": ...}, "mission_id: required for step_completed events"),
    ({"event_type": "mission_enrolled", "mission_id": ..., "step_no": ...}, "mission_id: required"),
    ({"step_no": ...}, "step_no: required for step_completed events"),
    ({"step_no": 0}, "step_no: must be an integer from 1"),
    ({"step_no": "2"}, "step_no: must be an integer"),
    ({"step_no": True}, "step_no: must be an integer"),
    ({"step_no": 40000}, "step_no: must be an integer"),
    ({"event_type": "teleported"}, "event_type: unknown event type 'teleported'"),
    ({"event_type": ["checkin"]}, "event_type: unknown event type"),
    ({"occurred_at": "yesterday"}, "occurred_at: not an ISO 8601 timestamp with a time zone"),
    ({"occurred_at": "2026-05-01T10:00:00"}, "occurred_at: not an ISO 8601 timestamp with a time zone"),
    ({"occurred_at": "2026-05-01"}, "occurred_at: not an ISO 8601 timestamp with a time zone"),
    ({"occurred_at": 1714550400}, "occurred_at: not an ISO 8601 timestamp with a time zone"),
    ({"occurred_at": "2019-12-31T23:59:59Z"}, "occurred_at: before 2020-01-01"),
    ({"occurred_at": "2026-06-02T13:00:00Z"}, "occurred_at: more than 1 day in the future"),
    ({"region_code": "99999"}, "region_code: unknown region '99999'"),
    ({"region_code": "4773"}, "region_code: not a 5-digit region code"),
    ({"region_code": 47730}, "region_code: not a 5-digit region code"),
    ({"lon": ...}, "lon: lat and lon come together"),
    ({"lat": ...}, "lat: lat and lon come together"),
    ({"lat": "36.3"}, "lat: not a number"),
    ({"lat": 40.1}, "lat: outside Korea"),
    ({"lon": 135.0}, "lon: outside Korea"),
    ({"payload": [1, 2]}, "payload: not a JSON object"),
    ({"payload": {"x": "a\u0000b"}}, "payload: contains a NUL character"),
    ({"event_type": "mission_failed", "step_no": ..., "payload": ...}, "payload: mission_failed needs"),
    ({"event_type": "mission_failed", "step_no": ..., "payload": {"reason": "bored"}},
     "payload: mission_failed needs payload.reason"),
    ({"colour": "blue"}, "colour: unknown field"),
])
def test_each_rule_gives_a_precise_reason(validate, overrides, expected):
    assert reason(validate, event(**overrides)).startswith(expected)


def test_window_edges_are_inclusive(validate):
    validate(event(occurred_at="2020-01-01T00:00:00Z"))
    validate(event(occurred_at="2026-06-02T12:00:00+00:00"))
    validate(event(occurred_at="2020-01-01T09:00:00+09:00"))  # the same instant as the lower bound


def test_mission_failed_with_a_known_reason_is_valid(validate):
    _, line = validate(event(event_type="mission_failed", step_no=..., payload={"reason": "weather",
                                                                                 "reason_text": "태풍"}))
    assert '"reason":"weather"' in line


def test_unusual_iso_forms_are_rerendered_for_postgres(validate):
    _, line = validate(event(occurred_at="2026-W18-5T10:00:00+09:00"))
    assert line.split("\t")[2] == "2026-05-01T10:00:00+09:00"
    _, line = validate(event(occurred_at="2026-05-01T10:00:00.5Z"))
    assert line.split("\t")[2] == "2026-05-01T10:00:00.5Z"


def test_parse_line_tells_encoding_from_syntax():
    assert parse_line(b'{"a": 1}\n') == {"a": 1}
    with pytest.raises(EventError, match="not valid UTF-8"):
        parse_line('{"note": "한글"}'.encode("cp949"))
    with pytest.raises(EventError, match="not valid JSON"):
        parse_line(b'{"a": 1')
    with pytest.raises(EventError, match="not a JSON object"):
        parse_line(b"[1, 2]")
    with pytest.raises(EventError, match="empty line"):
        parse_line(b"  \n")


def test_is_uuid_and_copy_escape():
    assert is_uuid(str(uuid.uuid4())) and is_uuid(str(uuid.uuid4()).upper())
    assert not is_uuid(uuid.uuid4().hex) and not is_uuid(None) and not is_uuid("x" * 36)
    assert copy_escape("a\tb\\c\nd") == "a\\tb\\\\c\\nd"


def test_normalise_event_turns_python_values_into_json_shapes(validate):
    ev = normalise_event({**event(), "event_id": uuid.uuid4(), "user_id": uuid.UUID(USER),
                          "occurred_at": datetime(2026, 5, 1, 1, 0, tzinfo=UTC)})
    assert isinstance(ev["event_id"], str) and ev["occurred_at"] == "2026-05-01T01:00:00+00:00"
    validate(ev)
