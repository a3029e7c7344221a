"""xAPI 1.0.3 statements from learning platforms: validation, and what maps them onto the platform.

Validation follows the parts of the xAPI 1.0.3 data model that a Learning Record Store must check on
POST /statements (id, actor, verb, object, result, timestamp, version) and says, for each problem, where
it is (`statement[2].result.score.scaled`) and what is wrong. On top of the spec, a statement must be
mappable:
- the actor is one of our users: `account` with homePage PLATFORM_HOME and name = the user id, or
  `mbox` = mailto:<the user's e-mail>;
- the object is an Activity; completions (`completed`, `passed`) of an activity that maps to a learning
  mission become mission events. An activity maps through its IRI, `<PLATFORM_HOME>/xapi/activities/
  missions/<mission id>` (optionally `/steps/<n>`), or through app.xapi_activities (a platform's own IRIs).
Client secrets are argon2id hashes (core.accounts' hasher).
"""

from __future__ import annotations

import copy
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

PLATFORM_HOME = "https://hometown-on.kr"
ACTIVITY_PREFIX = f"{PLATFORM_HOME}/xapi/activities/missions/"
VERSION = "1.0.3"
COMPLETION_VERBS = frozenset({"http://adlnet.gov/expapi/verbs/completed", "http://adlnet.gov/expapi/verbs/passed"})
TOP_LEVEL = frozenset({"id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority",
                       "version", "attachments", "objectType"})
SET_BY_LRS = ("stored", "authority", "version")  # the LRS sets these; not part of what is compared
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")
_DURATION = re.compile(r"^P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
                       r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$")
_MISSION_IRI = re.compile(re.escape(ACTIVITY_PREFIX) + r"([0-9a-fA-F-]{36})(?:/steps/(\d{1,3}))?$")
_EMAIL = re.compile(r"^mailto:[^@\s]+@[^@\s]+$")


class XapiError(ValueError):
    """One problem with one statement: `path` locates it, the message says what is wrong."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Actor:
    email: str | None
    user_id: uuid.UUID | None


@dataclass(frozen=True)
class Statement:
    id: uuid.UUID
    actor: Actor
    verb_id: str
    object_id: str
    timestamp: datetime | None
    score_scaled: float | None
    success: bool | None
    completion: bool | None
    body: dict[str, Any]  # the statement as it is stored and compared (id filled in, LRS fields dropped)

    @property
    def is_completion(self) -> bool:
        return self.verb_id in COMPLETION_VERBS


def is_iri(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 2048 and bool(_IRI.match(value))


def _object(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise XapiError(path, f"must be a JSON object (got {type(value).__name__})")
    return value


def _language_map(value: object, path: str) -> None:
    mapping = _object(value, path)
    for key, text in mapping.items():
        if not isinstance(text, str) or not re.match(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$", key):
            raise XapiError(f"{path}.{key}", "a language map takes RFC 5646 tags (e.g. ko-KR) to strings")


def _actor(value: object, path: str) -> Actor:
    actor = _object(value, path)
    kind = actor.get("objectType", "Agent")
    if kind == "Group":
        raise XapiError(f"{path}.objectType", "groups are not recorded; send one statement per learner (Agent)")
    if kind != "Agent":
        raise XapiError(f"{path}.objectType", f"must be Agent (got {kind!r})")
    ifis = [k for k in ("mbox", "mbox_sha1sum", "openid", "account") if k in actor]
    if len(ifis) != 1:
        raise XapiError(path, "an Agent needs exactly one identifier: mbox, mbox_sha1sum, openid or account "
                        f"(got {', '.join(ifis) or 'none'})")
    if "name" in actor and not isinstance(actor["name"], str):
        raise XapiError(f"{path}.name", "must be a string")
    if "mbox" in actor:
        mbox = actor["mbox"]
        if not isinstance(mbox, str) or not _EMAIL.match(mbox):
            raise XapiError(f"{path}.mbox", "must be mailto:<e-mail address>")
        return Actor(email=mbox.removeprefix("mailto:").strip().lower(), user_id=None)
    if "account" in actor:
        account = _object(actor["account"], f"{path}.account")
        if not is_iri(account.get("homePage")):
            raise XapiError(f"{path}.account.homePage", "must be an IRI")
        if not isinstance(account.get("name"), str) or not account["name"]:
            raise XapiError(f"{path}.account.name", "must be a non-empty string")
        if account["homePage"].rstrip("/") != PLATFORM_HOME:
            raise XapiError(f"{path}.account.homePage", f"accounts are mapped for {PLATFORM_HOME} only (the "
                            "name is the Hometown ON user id); or identify the learner by mbox")
        try:
            return Actor(email=None, user_id=uuid.UUID(account["name"]))
        except ValueError:
            raise XapiError(f"{path}.account.name", "must be the learner's Hometown ON user id (a UUID)") from None
    raise XapiError(path, f"{ifis[0]} cannot be mapped to a Hometown ON user; use mbox or account")


def _verb(value: object, path: str) -> str:
    verb = _object(value, path)
    if not is_iri(verb.get("id")):
        raise XapiError(f"{path}.id", "must be an IRI, e.g. http://adlnet.gov/expapi/verbs/completed")
    if "display" in verb:
        _language_map(verb["display"], f"{path}.display")
    return str(verb["id"])


def _activity(value: object, path: str) -> str:
    obj = _object(value, path)
    kind = obj.get("objectType", "Activity")
    if kind != "Activity":
        raise XapiError(f"{path}.objectType", f"only Activities are recorded (got {kind!r})")
    if not is_iri(obj.get("id")):
        raise XapiError(f"{path}.id", "must be an IRI identifying the activity")
    if "definition" in obj:
        definition = _object(obj["definition"], f"{path}.definition")
        for key in ("name", "description"):
            if key in definition:
                _language_map(definition[key], f"{path}.definition.{key}")
        if "type" in definition and not is_iri(definition["type"]):
            raise XapiError(f"{path}.definition.type", "must be an IRI")
    return str(obj["id"])


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _result(value: object, path: str) -> tuple[float | None, bool | None, bool | None]:
    result = _object(value, path)
    allowed = {"score", "success", "completion", "response", "duration", "extensions"}
    unknown = set(result) - allowed
    if unknown:
        raise XapiError(f"{path}.{sorted(unknown)[0]}", f"unknown property (allowed: {', '.join(sorted(allowed))})")
    scaled = None
    if "score" in result:
        score = _object(result["score"], f"{path}.score")
        for key in ("scaled", "raw", "min", "max"):
            if key in score and not _number(score[key]):
                raise XapiError(f"{path}.score.{key}", "must be a number")
        if "scaled" in score:
            scaled = float(score["scaled"])
            if not -1 <= scaled <= 1:
                raise XapiError(f"{path}.score.scaled", f"must be between -1 and 1 (got {scaled})")
        low, high, raw = score.get("min"), score.get("max"), score.get("raw")
        if low is not None and high is not None and low >= high:
            raise XapiError(f"{path}.score.min", "must be less than max")
        if raw is not None and ((low is not None and raw < low) or (high is not None and raw > high)):
            raise XapiError(f"{path}.score.raw", "must lie between min and max")
    for key in ("success", "completion"):
        if key in result and not isinstance(result[key], bool):
            raise XapiError(f"{path}.{key}", "must be true or false")
    if "duration" in result and (not isinstance(result["duration"], str) or not _DURATION.match(result["duration"])):
        raise XapiError(f"{path}.duration", "must be an ISO 8601 duration such as PT1H30M")
    if "response" in result and not isinstance(result["response"], str):
        raise XapiError(f"{path}.response", "must be a string")
    if "extensions" in result:
        for key in _object(result["extensions"], f"{path}.extensions"):
            if not is_iri(key):
                raise XapiError(f"{path}.extensions", f"extension keys must be IRIs (got {key!r})")
    return scaled, result.get("success"), result.get("completion")


def _timestamp(value: object, path: str) -> datetime:
    if not isinstance(value, str):
        raise XapiError(path, "must be an ISO 8601 timestamp string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise XapiError(path, f"is not an ISO 8601 timestamp (got {value[:40]!r})") from None
    if parsed.tzinfo is None:
        raise XapiError(path, "needs a time zone (Z or an offset such as +09:00)")
    return parsed


def validate(value: object, index: int = 0) -> Statement:
    """One statement → Statement, or XapiError naming where the problem is (`statement[i].…`)."""
    path = f"statement[{index}]"
    raw = _object(value, path)
    unknown = set(raw) - TOP_LEVEL
    if unknown:
        raise XapiError(f"{path}.{sorted(unknown)[0]}", "not a property of an xAPI statement")
    body = {k: copy.deepcopy(v) for k, v in raw.items() if k not in SET_BY_LRS}
    if "id" in raw:
        try:
            statement_id = uuid.UUID(str(raw["id"]))
        except ValueError:
            raise XapiError(f"{path}.id", "must be a UUID") from None
        if not isinstance(raw["id"], str):
            raise XapiError(f"{path}.id", "must be a UUID string")
    else:
        statement_id = uuid.uuid4()
    body["id"] = str(statement_id)
    if "version" in raw and (not isinstance(raw["version"], str) or not raw["version"].startswith("1.0")):
        raise XapiError(f"{path}.version", f"only xAPI 1.0.x statements are accepted (got {raw['version']!r})")
    for required in ("actor", "verb", "object"):
        if required not in raw:
            raise XapiError(f"{path}.{required}", "is required")
    actor = _actor(raw["actor"], f"{path}.actor")
    verb_id = _verb(raw["verb"], f"{path}.verb")
    object_id = _activity(raw["object"], f"{path}.object")
    scaled, success, completion = _result(raw["result"], f"{path}.result") if "result" in raw else (None, None, None)
    timestamp = _timestamp(raw["timestamp"], f"{path}.timestamp") if "timestamp" in raw else None
    if "context" in raw:
        context = _object(raw["context"], f"{path}.context")
        if "registration" in context:
            try:
                uuid.UUID(str(context["registration"]))
            except ValueError:
                raise XapiError(f"{path}.context.registration", "must be a UUID") from None
    return Statement(id=statement_id, actor=actor, verb_id=verb_id, object_id=object_id, timestamp=timestamp,
                     score_scaled=scaled, success=success, completion=completion, body=body)


def validate_all(payload: object, max_statements: int = 500) -> tuple[list[Statement], list[dict[str, str]]]:
    """A statement or a list of them → (statements, problems). Any problem rejects the whole batch."""
    items = payload if isinstance(payload, list) else [payload]
    if not items:
        return [], [{"field": "body", "message": "an empty list holds no statements", "type": "value_error"}]
    if len(items) > max_statements:
        return [], [{"field": "body", "message": f"at most {max_statements} statements per request (got "
                     f"{len(items)}); send them in several requests", "type": "value_error"}]
    statements, problems = [], []
    seen: dict[uuid.UUID, dict[str, Any]] = {}
    for i, item in enumerate(items):
        try:
            statement = validate(item, i)
        except XapiError as exc:
            problems.append({"field": exc.path, "message": exc.message, "type": "xapi_invalid"})
            continue
        if statement.id in seen and seen[statement.id] != statement.body:
            problems.append({"field": f"statement[{i}].id", "message": "the same id is used for two different "
                             "statements in this request", "type": "xapi_invalid"})
            continue
        seen[statement.id] = statement.body
        statements.append(statement)
    return statements, problems


def mission_from_iri(activity_id: str) -> tuple[uuid.UUID, int | None] | None:
    """Our own activity IRIs name the mission (and step) directly."""
    match = _MISSION_IRI.match(activity_id)
    if match is None:
        return None
    try:
        return uuid.UUID(match.group(1)), int(match.group(2)) if match.group(2) else None
    except ValueError:
        return None


def activity_iri(mission_id: uuid.UUID, step_no: int | None = None) -> str:
    return f"{ACTIVITY_PREFIX}{mission_id}" + (f"/steps/{step_no}" if step_no else "")


def new_secret() -> str:
    return secrets.token_urlsafe(32)
