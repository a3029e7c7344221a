"""The activity-event contract and its fast validator.

An activity event carries `event_id` (UUID, the idempotency key), `user_id`, `occurred_at`,
`event_type`, and where relevant `mission_id`, `step_no`, `region_code`, `lat`/`lon` and a JSON
`payload` (DESIGN.md). Batch files, the API and xAPI statements all go through `EventValidator`,
so a rule is enforced in one place.

This is the hot path of activity ingestion (a million lines per demo load), so the checks are
hand-written over orjson's dicts rather than a pydantic model per row, and a valid event comes out
already rendered as one line of PostgreSQL's COPY text format for `raw.activity_events`.
"""

from __future__ import annotations

import gc
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import msgspec
import orjson

from core.geo import KOREA_LAT, KOREA_LON
from core.vocab import MISSION_EVENTS, STEP_EVENTS, EventType, FailureReason

# columns of raw.activity_events that a loader fills, in COPY order (ingested_at has a default)
COPY_COLUMNS = ("event_id", "user_id", "occurred_at", "event_type", "mission_id", "step_no", "region_code",
                "lat", "lon", "payload", "source")
FIELDS = frozenset(COPY_COLUMNS[:-1])
REQUIRED = ("event_id", "user_id", "occurred_at", "event_type")
EVENT_TYPES = frozenset(e.value for e in EventType)
MISSION_EVENT_TYPES = frozenset(e.value for e in MISSION_EVENTS)
STEP_EVENT_TYPES = frozenset(e.value for e in STEP_EVENTS)
FAILURE_REASONS = frozenset(r.value for r in FailureReason)

EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)  # the platform's data starts after this; older is a clock bug
FUTURE_SLACK = timedelta(days=1)  # device clocks drift; more than a day ahead is not a real event
LAT_RANGE = KOREA_LAT  # Korea's extent with its islands (core/geo.py)
LON_RANGE = KOREA_LON
STEP_NO_MAX = 32767  # raw.activity_events.step_no is a smallint

_NULL = "\\N"
_HEX = frozenset("0123456789abcdef")
_UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z"
_UUID_LOWER = re.compile(_UUID_PATTERN).match


class _Event(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """The common shape of a file line, decoded and type-checked by msgspec in C.

    Only a first sieve: a line that fails it, or any later check of `line_check`, goes through
    the dict path and `EventValidator.reference`, which decide (and word the reason).
    """

    event_id: Annotated[str, msgspec.Meta(pattern=_UUID_PATTERN)]
    user_id: str
    occurred_at: str
    event_type: str
    mission_id: str | None = None
    step_no: Annotated[int, msgspec.Meta(ge=1, le=STEP_NO_MAX)] | None = None
    region_code: str | None = None
    lat: Annotated[float, msgspec.Meta(ge=LAT_RANGE[0], le=LAT_RANGE[1])] | None = None
    lon: Annotated[float, msgspec.Meta(ge=LON_RANGE[0], le=LON_RANGE[1])] | None = None
    payload: dict[str, Any] | None = None  # decoded to the values orjson gives (or refused: 1e400, bad UTF-8…)


class EventError(ValueError):
    """One broken rule of the contract: `field: message`, as it is written to raw.quarantine."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class KnownIds:
    """The ids an event may refer to. Loaded once per run (files) or per batch (API appends)."""

    users: frozenset[str]
    missions: frozenset[str]
    regions: frozenset[str]


def is_uuid(value: object) -> bool:
    """Canonical 8-4-4-4-12 hex form (either case): what our writers emit and PostgreSQL reads back."""
    if type(value) is not str or len(value) != 36:
        return False
    v = value.lower()
    return (v[8] == v[13] == v[18] == v[23] == "-"
            and _HEX.issuperset(v[:8]) and _HEX.issuperset(v[9:13]) and _HEX.issuperset(v[14:18])
            and _HEX.issuperset(v[19:23]) and _HEX.issuperset(v[24:]))


def _is_number(value: object) -> bool:
    return type(value) is float or type(value) is int


def _pg_timestamp(text: str, parsed: datetime) -> str:
    """The text PostgreSQL gets: the original when it is plain ISO 8601, else Python's rendering.

    `datetime.fromisoformat` also accepts week dates, basic format and offsets with seconds, which
    PostgreSQL may read differently; those (rare) get re-rendered. Re-rendering every value would
    cost more than the rest of the validation, so the common shape passes through unchanged.
    """
    if (len(text) >= 20 and text[4] == "-" and text[7] == "-" and text[10] in "T " and text[13] == ":"
            and text[16] == ":" and "," not in text
            and (text[-1] == "Z" or (text[-6] in "+-" and text[-3] == ":"))):
        return text
    return parsed.isoformat()


def copy_escape(text: str) -> str:
    """Escape a value for COPY's text format."""
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


_UNESCAPE = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def copy_fields(line: str) -> list[str | None]:
    """A COPY text line (as `EventValidator` renders it) → its values, `\\N` as None: the same row as an
    INSERT's values, for writers that cannot COPY (a transaction sent as one query)."""
    values: list[str | None] = []
    for field in line.rstrip("\n").split("\t"):
        if field == "\\N":
            values.append(None)
        elif "\\" in field:
            values.append(re.sub(r"\\(.)", lambda m: _UNESCAPE.get(m.group(1), m.group(1)), field))
        else:
            values.append(field)
    return values


def parse_line(raw: bytes) -> dict[str, Any]:
    """One line of a JSONL file → a dict, or EventError saying why it is not one."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "UTF-8" in str(exc):
            raise EventError("encoding", "not valid UTF-8 (wrong encoding, e.g. CP949?)") from None
        if not raw.strip():
            raise EventError("json", "empty line") from None
        raise EventError("json", f"not valid JSON ({exc})") from None
    if type(obj) is not dict:
        raise EventError("json", f"not a JSON object (got {type(obj).__name__})")
    return obj


class EventValidator:
    """Checks events against the contract and renders the valid ones as COPY lines.

    `source` is written into every row ('file:<name>', 'api', 'xapi:<client>'); `now` fixes the
    upper bound of `occurred_at` for the run (tests pass their own).
    """

    def __init__(self, known: KnownIds, source: str, now: datetime | None = None) -> None:
        self.known = known
        self.source = copy_escape(source)
        now = now or datetime.now(UTC)
        self.earliest_ts = EARLIEST.timestamp()
        self.latest_ts = (now + FUTURE_SLACK).timestamp()
        self.check = self._fast_path()

    def __call__(self, obj: dict[str, Any]) -> tuple[str, str]:
        """A valid event → (its event_id, its COPY line). Any broken rule raises EventError."""
        return self.check(obj)

    def _fast_path(self) -> Callable[[dict[str, Any]], tuple[str, str]]:
        """The check for the common shape, as a closure over local names (no attribute look-ups).

        It accepts only what `reference` accepts; anything unusual (an error, upper-case ids, an
        integer latitude, a week-date timestamp…) is handed to `reference`, which gives the precise
        reason or the same rendering. Tests hold the two paths to the same results.
        """
        users, missions, regions = self.known.users, self.known.missions, self.known.regions
        reference, source = self.reference, self.source
        earliest, latest = self.earliest_ts, self.latest_ts
        fields_ok, uuid_ok, fromiso = FIELDS.issuperset, _UUID_LOWER, datetime.fromisoformat
        event_types, mission_types, step_types = EVENT_TYPES, MISSION_EVENT_TYPES, STEP_EVENT_TYPES
        reasons, dumps, null = FAILURE_REASONS, orjson.dumps, _NULL
        (lat_lo, lat_hi), (lon_lo, lon_hi), step_max = LAT_RANGE, LON_RANGE, STEP_NO_MAX

        def check(obj: dict[str, Any]) -> tuple[str, str]:
            try:
                if not fields_ok(obj):
                    return reference(obj)
                get = obj.get
                event_id = get("event_id")
                user_id = get("user_id")
                event_type = get("event_type")
                text = get("occurred_at")
                if (type(event_id) is not str or uuid_ok(event_id) is None or user_id not in users
                        or event_type not in event_types or type(text) is not str):
                    return reference(obj)
                at = fromiso(text)
                if at.tzinfo is None or not earliest <= at.timestamp() <= latest or len(text) < 20 \
                        or text[4] != "-" or text[7] != "-" or text[10] not in "T " or text[13] != ":" \
                        or text[16] != ":" or "," in text \
                        or not (text[-1] == "Z" or (text[-6] in "+-" and text[-3] == ":")):
                    return reference(obj)
                mission_id = get("mission_id")
                if mission_id is None:
                    if event_type in mission_types:
                        return reference(obj)
                    mission_id = null
                elif mission_id not in missions:
                    return reference(obj)
                step_no = get("step_no")
                if step_no is None:
                    if event_type in step_types:
                        return reference(obj)
                    step = null
                elif type(step_no) is int and 1 <= step_no <= step_max:
                    step = str(step_no)
                else:
                    return reference(obj)
                region = get("region_code")
                if region is None:
                    region = null
                elif region not in regions:
                    return reference(obj)
                lat = get("lat")
                lon = get("lon")
                if lat is None and lon is None:
                    lat = lon = null
                elif type(lat) is float and type(lon) is float and lat_lo <= lat <= lat_hi \
                        and lon_lo <= lon <= lon_hi:
                    lat, lon = repr(lat), repr(lon)
                else:
                    return reference(obj)
                payload = get("payload")
                if payload is None:
                    if event_type == "mission_failed":
                        return reference(obj)
                    payload = null
                elif type(payload) is dict and (event_type != "mission_failed" or payload.get("reason") in reasons):
                    payload = dumps(payload).decode()
                    if "\\" in payload:
                        if "\\u0000" in payload:
                            return reference(obj)
                        payload = payload.replace("\\", "\\\\")
                else:
                    return reference(obj)
            except (TypeError, ValueError) as exc:  # unhashable values, unparseable timestamps
                if isinstance(exc, EventError):
                    raise
                return reference(obj)
            return event_id, (f"{event_id}\t{user_id}\t{text}\t{event_type}\t{mission_id}\t{step}\t{region}\t"
                              f"{lat}\t{lon}\t{payload}\t{source}\n")

        return check

    def line_check(self) -> Callable[[bytes], tuple[str, bytes] | None]:
        """The check for one raw file line in the common shape: (event_id, COPY line as bytes), or None.

        None means "not sure": the caller parses the line with orjson and runs `check` (and so
        `reference`), which decides and words the reason. This path never accepts a line the dict
        path would reject, and renders what it accepts identically: msgspec decodes the fields
        into typed slots in C (unknown fields, wrong JSON types, step_no and lat/lon ranges are
        refused there), the payload is parsed and dumped by orjson exactly as the dict path does,
        and the remaining rules are the same comparisons as `_fast_path`. The line is built as
        bytes (orjson gives the payload as UTF-8 already), so a chunk is joined and sent without
        widening a str to UCS-2 for one Korean payload and encoding it back.
        """
        decode = msgspec.json.Decoder(_Event).decode
        users, missions, regions = self.known.users, self.known.missions, self.known.regions
        earliest, latest = self.earliest_ts, self.latest_ts
        fromiso, dumps = datetime.fromisoformat, orjson.dumps
        event_types, mission_types, step_types = EVENT_TYPES, MISSION_EVENT_TYPES, STEP_EVENT_TYPES
        reasons, null, null_bytes = FAILURE_REASONS, _NULL, _NULL.encode()
        no_position = f"{_NULL}\t{_NULL}"
        suffix = f"\t{self.source}\n".encode()

        def check_line(raw: bytes) -> tuple[str, bytes] | None:
            try:
                ev = decode(raw)
                event_id, user_id, event_type, text = ev.event_id, ev.user_id, ev.event_type, ev.occurred_at
                if user_id not in users or event_type not in event_types:  # event_id: msgspec's pattern
                    return None
                at = fromiso(text)  # then the shape that PostgreSQL reads the same way (see _pg_timestamp)
                if at.tzinfo is None or not earliest <= at.timestamp() <= latest or len(text) < 20 \
                        or text[4:17:3] not in ("--T::", "-- ::") or "," in text \
                        or not (text[-1] == "Z" or (text[-6] in "+-" and text[-3] == ":")):
                    return None
                mission_id = ev.mission_id
                if mission_id is None:
                    if event_type in mission_types:
                        return None
                    mission_id = null
                elif mission_id not in missions:
                    return None
                step_no = ev.step_no
                if step_no is None:
                    if event_type in step_types:
                        return None
                    step = null
                else:
                    step = str(step_no)
                region = ev.region_code
                if region is None:
                    region = null
                elif region not in regions:
                    return None
                lat, lon = ev.lat, ev.lon
                if lat is None and lon is None:
                    position = no_position
                elif lat is None or lon is None:
                    return None
                else:
                    position = f"{lat!r}\t{lon!r}"
                payload = ev.payload
                if payload is None:
                    if event_type == "mission_failed":
                        return None
                    body = null_bytes
                elif event_type != "mission_failed" or payload.get("reason") in reasons:
                    body = dumps(payload)
                    if b"\\" in body:
                        if b"\\u0000" in body:
                            return None
                        body = body.replace(b"\\", b"\\\\")
                else:
                    return None
            except (ValueError, TypeError, OverflowError):  # msgspec's, orjson's, fromisoformat's errors,
                return None  # bad UTF-8, an unhashable payload.reason: the dict path words the reason
            head = f"{event_id}\t{user_id}\t{text}\t{event_type}\t{mission_id}\t{step}\t{region}\t{position}\t"
            return event_id, head.encode() + body + suffix

        return check_line

    def reference(self, obj: dict[str, Any]) -> tuple[str, str]:
        """A valid event → (its event_id, its COPY line). Any broken rule raises EventError."""
        if not FIELDS.issuperset(obj):
            unknown = sorted(set(obj) - FIELDS)
            raise EventError(unknown[0], f"unknown field (allowed: {', '.join(sorted(FIELDS))})")
        get = obj.get
        event_id = get("event_id")
        user_id = get("user_id")
        occurred_at = get("occurred_at")
        event_type = get("event_type")
        if event_id is None or user_id is None or occurred_at is None or event_type is None:
            missing = [f for f in REQUIRED if get(f) is None]
            raise EventError(missing[0], "required field is missing")
        if not is_uuid(event_id):
            raise EventError("event_id", "not a UUID (expected 8-4-4-4-12 hex digits)")
        event_id = event_id.lower()
        if type(event_type) is not str or event_type not in EVENT_TYPES:
            raise EventError("event_type", f"unknown event type {event_type!r} (see core/vocab.py EventType)")
        user_id = self._known_id("user_id", user_id, self.known.users, "app.users")
        occurred = self._timestamp(occurred_at)

        mission_id = get("mission_id")
        if mission_id is None:
            if event_type in MISSION_EVENT_TYPES:
                raise EventError("mission_id", f"required for {event_type} events")
            mission_text = _NULL
        else:
            mission_text = self._known_id("mission_id", mission_id, self.known.missions, "app.missions")

        step_no = get("step_no")
        if step_no is None:
            if event_type in STEP_EVENT_TYPES:
                raise EventError("step_no", f"required for {event_type} events")
            step_text = _NULL
        elif type(step_no) is int and 1 <= step_no <= STEP_NO_MAX:
            step_text = str(step_no)
        else:
            raise EventError("step_no", f"must be an integer from 1 to {STEP_NO_MAX} (got {step_no!r})")

        region_code = get("region_code")
        if region_code is None:
            region_text = _NULL
        elif type(region_code) is str and region_code in self.known.regions:
            region_text = region_code
        elif type(region_code) is str and len(region_code) == 5 and region_code.isdigit():
            raise EventError("region_code", f"unknown region {region_code!r} (not in raw.regions)")
        else:
            raise EventError("region_code", f"not a 5-digit region code (got {region_code!r})")

        lat = get("lat")
        lon = get("lon")
        if lat is None and lon is None:
            lat_text = lon_text = _NULL
        else:
            lat_text, lon_text = self._position(lat, lon)

        payload = get("payload")
        if payload is None:
            if event_type == "mission_failed":
                raise EventError("payload", "mission_failed needs payload.reason (see core/vocab.py FailureReason)")
            payload_text = _NULL
        else:
            payload_text = self._payload(payload, event_type)

        line = (f"{event_id}\t{user_id}\t{occurred}\t{event_type}\t{mission_text}\t{step_text}\t{region_text}\t"
                f"{lat_text}\t{lon_text}\t{payload_text}\t{self.source}\n")
        return event_id, line

    # ---- the rules that need more than one line --------------------------------------------------
    @staticmethod
    def _known_id(field: str, value: object, known: frozenset[str], table: str) -> str:
        if type(value) is str:
            lowered = value.lower()
            if lowered in known:  # a known id is a UUID: the common case needs no other check
                return lowered
        if not is_uuid(value):
            raise EventError(field, f"not a UUID (expected 8-4-4-4-12 hex digits, got {value!r})")
        raise EventError(field, f"unknown id {value} (not in {table})")

    def _timestamp(self, value: object) -> str:
        if type(value) is not str:
            raise EventError("occurred_at", "not an ISO 8601 timestamp with a time zone")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise EventError("occurred_at", "not an ISO 8601 timestamp with a time zone") from None
        if parsed.tzinfo is None:
            raise EventError("occurred_at", "not an ISO 8601 timestamp with a time zone (no offset or Z)")
        ts = parsed.timestamp()
        if ts < self.earliest_ts:
            raise EventError("occurred_at", f"before {EARLIEST.date().isoformat()} (got {value})")
        if ts > self.latest_ts:
            raise EventError("occurred_at", f"more than 1 day in the future (got {value})")
        return _pg_timestamp(value, parsed)

    @staticmethod
    def _position(lat: object, lon: object) -> tuple[str, str]:
        if lat is None or lon is None:
            raise EventError("lat" if lat is None else "lon", "lat and lon come together (one is missing)")
        if not _is_number(lat) or not _is_number(lon):
            raise EventError("lat" if not _is_number(lat) else "lon", "not a number")
        if not LAT_RANGE[0] <= lat <= LAT_RANGE[1]:  # type: ignore[operator]
            raise EventError("lat", f"outside Korea ({LAT_RANGE[0]}–{LAT_RANGE[1]}, got {lat})")
        if not LON_RANGE[0] <= lon <= LON_RANGE[1]:  # type: ignore[operator]
            raise EventError("lon", f"outside Korea ({LON_RANGE[0]}–{LON_RANGE[1]}, got {lon})")
        return repr(float(lat)), repr(float(lon))  # type: ignore[arg-type]

    @staticmethod
    def _payload(payload: object, event_type: str) -> str:
        if type(payload) is not dict:
            raise EventError("payload", f"not a JSON object (got {type(payload).__name__})")
        if event_type == "mission_failed" and payload.get("reason") not in FAILURE_REASONS:
            raise EventError("payload", f"mission_failed needs payload.reason, one of "
                             f"{', '.join(sorted(FAILURE_REASONS))} (got {payload.get('reason')!r})")
        text = orjson.dumps(payload).decode()
        if "\\" in text:
            if "\\u0000" in text:
                raise EventError("payload", "contains a NUL character (\\u0000), which PostgreSQL cannot store")
            text = text.replace("\\", "\\\\")
        return text


def normalise_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """An event built in Python (UUID and datetime objects allowed) → the JSON shape files carry.

    The API and xAPI adapters hand over typed values; files carry strings. Normalising first lets
    both go through the same validator.
    """
    out: dict[str, Any] = {}
    for key, value in event.items():
        if isinstance(value, uuid.UUID):
            value = str(value)
        elif isinstance(value, date):  # datetime included
            value = value.isoformat()
        out[key] = value
    return out


def event_ids(events: Iterable[Mapping[str, Any]], field: str) -> set[str]:
    """The distinct, lower-cased UUID strings of a field, for looking up only what a batch names."""
    return {str(e[field]).lower() for e in events if is_uuid(str(e.get(field)))}


# ---------------------------------------------------------------------------------- files, in chunks
@dataclass(frozen=True)
class BadLine:
    number: int  # 1-based line number
    reason: str  # "line 17: occurred_at: …", as raw.quarantine keeps it
    field: str
    content: bytes  # the line as it came, without its newline


class ChunkParser:
    """JSONL lines → chunks of (event ids, COPY lines), collecting the bad lines on the way.

    The same loop runs in-process (small files) and in the parser process (large ones). Duplicate
    ids are left in: the loader removes them, so both paths count them the same way.
    """

    def __init__(self, validator: EventValidator, chunk_size: int) -> None:
        self.validator = validator
        self.chunk_size = chunk_size
        self.bad: list[BadLine] = []
        self.lines = 0

    def chunks(self, lines: Iterable[bytes]) -> Iterator[tuple[list[str], list[bytes]]]:
        """(event ids, COPY lines as bytes) of up to `chunk_size` valid lines at a time."""
        fast, check, loads, chunk_size = self.validator.line_check(), self.validator.check, orjson.loads, \
            self.chunk_size
        ids: list[str] = []
        texts: list[bytes] = []
        number = 0
        for number, raw in enumerate(lines, start=1):
            got = fast(raw)
            if got is None:  # anything unusual: the dict path decides, and words the reason
                try:
                    try:
                        obj = loads(raw)
                    except orjson.JSONDecodeError:
                        obj = parse_line(raw)  # raises EventError with the reason
                    if type(obj) is not dict:
                        obj = parse_line(raw)
                    event_id, text = check(obj)
                    got = event_id, text.encode()
                except EventError as exc:
                    self.bad.append(BadLine(number, f"line {number}: {exc}", exc.field, raw.rstrip(b"\r\n")))
                    continue
                except (TypeError, ValueError, KeyError, OverflowError) as exc:  # a rule we did not foresee
                    self.bad.append(BadLine(number, f"line {number}: could not be checked ({exc})", "unexpected",
                                            raw.rstrip(b"\r\n")))
                    continue
            ids.append(got[0])
            texts.append(got[1])
            if len(ids) >= chunk_size:
                yield ids, texts
                ids, texts = [], []
        self.lines = number
        if ids:
            yield ids, texts


def parser_worker(conn: Any) -> None:
    """The parser process: ("known", KnownIds) once, then ("file", path, source, now, chunk_size)
    per file → ("chunk", "id,id,…", COPY bytes)… ("done", line count, bad lines); None ends it.

    Its own process, so parsing (one core) runs beside PostgreSQL (the other) without sharing a
    GIL with the process that feeds the COPY.
    """
    gc.disable()  # a dict per line and no cycles: the collector would only rescan live chunks
    known: KnownIds | None = None
    while (task := conn.recv()) is not None:
        if task[0] == "known":
            known = task[1]
            continue
        _, path, source, now, chunk_size = task
        try:
            assert known is not None
            parser = ChunkParser(EventValidator(known, source, now=now), chunk_size)
            with open(path, "rb") as f:
                for ids, texts in parser.chunks(f):
                    conn.send(("chunk", ",".join(ids), b"".join(texts)))
            conn.send(("done", parser.lines, parser.bad))
        except Exception as exc:  # report it to the loader, which raises it in its own process
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


def parser_main() -> None:
    """Entry point of the parser process (`python -c "from core.events import parser_main; …"`):
    the loader hands it two pipe descriptors in argv, for tasks in and results out."""
    import sys
    from multiprocessing.connection import Connection

    tasks, results = int(sys.argv[1]), int(sys.argv[2])
    parser_worker(_Duplex(Connection(tasks, writable=False), Connection(results, readable=False)))


class _Duplex:
    """Two one-way pipes as one connection (recv from the first, send on the second)."""

    def __init__(self, inbound: Any, outbound: Any) -> None:
        self.recv = inbound.recv
        self.send = outbound.send
