"""xAPI statement validation: what passes, and for what fails, where and why."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from core.xapi import (
    PLATFORM_HOME,
    XapiError,
    activity_iri,
    mission_from_iri,
    validate,
    validate_all,
)

USER = uuid.uuid4()
MISSION = uuid.uuid4()


def statement(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "name": "학습자", "account": {"homePage": PLATFORM_HOME, "name": str(USER)}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"ko-KR": "완료", "en-US": "completed"}},
        "object": {"objectType": "Activity", "id": activity_iri(MISSION),
                   "definition": {"name": {"ko-KR": "의성 역사 강좌"}, "type": "http://adlnet.gov/expapi/activities/course"}},
        "result": {"score": {"scaled": 0.9, "raw": 90, "min": 0, "max": 100}, "success": True, "completion": True,
                   "duration": "PT1H30M"},
        "timestamp": "2025-11-20T10:00:00+09:00",
        "version": "1.0.3",
    }
    base.update(changes)
    return base


def test_a_complete_statement_validates_and_maps() -> None:
    raw = statement()
    st = validate(raw)
    assert st.id == uuid.UUID(raw["id"]) and st.actor.user_id == USER and st.is_completion
    assert st.score_scaled == 0.9 and st.success is True and st.timestamp is not None
    assert mission_from_iri(st.object_id) == (MISSION, None)
    assert mission_from_iri(activity_iri(MISSION, 2)) == (MISSION, 2)
    assert mission_from_iri("https://example.org/course/1") is None
    assert "version" not in st.body and st.body["id"] == raw["id"]  # the LRS sets the version


def test_mbox_actor_and_a_missing_id_get_filled_in() -> None:
    raw = statement(actor={"mbox": "mailto:Learner@Example.kr"})
    del raw["id"]
    st = validate(raw)
    assert st.actor.email == "learner@example.kr" and st.actor.user_id is None
    assert st.body["id"] == str(st.id)


@pytest.mark.parametrize(("change", "path", "words"), [
    ({"id": "nope"}, "statement[0].id", "UUID"),
    ({"actor": {"mbox": "learner@example.kr"}}, "statement[0].actor.mbox", "mailto"),
    ({"actor": {"mbox": "mailto:a@b.kr", "account": {"homePage": PLATFORM_HOME, "name": "x"}}},
     "statement[0].actor", "exactly one identifier"),
    ({"actor": {"account": {"homePage": "https://other.example", "name": "42"}}}, "statement[0].actor.account.homePage",
     "mapped"),
    ({"actor": {"account": {"homePage": PLATFORM_HOME, "name": "42"}}}, "statement[0].actor.account.name", "UUID"),
    ({"actor": {"objectType": "Group", "member": []}}, "statement[0].actor.objectType", "groups"),
    ({"verb": {"id": "completed"}}, "statement[0].verb.id", "IRI"),
    ({"verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"ko_KR!": "x"}}},
     "statement[0].verb.display.ko_KR!", "language"),
    ({"object": {"id": "not an iri"}}, "statement[0].object.id", "IRI"),
    ({"object": {"objectType": "Agent", "mbox": "mailto:a@b.kr"}}, "statement[0].object.objectType", "Activities"),
    ({"result": {"score": {"scaled": 1.5}}}, "statement[0].result.score.scaled", "between -1 and 1"),
    ({"result": {"score": {"raw": 120, "min": 0, "max": 100}}}, "statement[0].result.score.raw", "between min"),
    ({"result": {"success": "yes"}}, "statement[0].result.success", "true or false"),
    ({"result": {"duration": "90 minutes"}}, "statement[0].result.duration", "ISO 8601"),
    ({"result": {"grade": "A"}}, "statement[0].result.grade", "unknown"),
    ({"timestamp": "2025-11-20T10:00:00"}, "statement[0].timestamp", "time zone"),
    ({"timestamp": "yesterday"}, "statement[0].timestamp", "ISO 8601"),
    ({"version": "2.0.0"}, "statement[0].version", "1.0"),
    ({"mood": "happy"}, "statement[0].mood", "not a property"),
])
def test_invalid_statements_say_where_and_what(change: dict[str, Any], path: str, words: str) -> None:
    with pytest.raises(XapiError) as caught:
        validate(statement(**change))
    assert caught.value.path == path
    assert words in caught.value.message


def test_required_parts() -> None:
    for part in ("actor", "verb", "object"):
        raw = statement()
        del raw[part]
        with pytest.raises(XapiError, match=f"statement\\[0\\].{part}: is required"):
            validate(raw)


def test_a_batch_reports_every_problem_and_rejects_conflicting_duplicate_ids() -> None:
    good = statement()
    twin = copy.deepcopy(good)
    twin["result"] = {"success": False}
    statements, problems = validate_all([good, statement(verb={"id": "x"}), good, twin])
    assert [p["field"] for p in problems] == ["statement[1].verb.id", "statement[3].id"]
    assert len(statements) == 2  # the exact repeat of the first is fine
    assert validate_all([])[1][0]["message"].startswith("an empty list")
    assert "at most 3" in validate_all([good] * 4, max_statements=3)[1][0]["message"]
    single, problems = validate_all(good)
    assert not problems and len(single) == 1
