"""The community's Dagster pieces: the definitions hold them, and the classifier asset trains for real."""

from __future__ import annotations

import json
import uuid

from dagster import AssetKey, materialize
from sqlalchemy import Engine, text

from ai.moderation.dataset import seed_examples
from assets.community import moderation_classifier, moderation_classifier_quality
from assets.resources import PostgresResource, SettingsResource
from core.accounts import NewUser, create_users
from core.settings import get_settings


def test_definitions_hold_the_classifier_in_its_group_and_the_community_marts() -> None:
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    key = AssetKey(["moderation_classifier"])
    assert graph.get(key).group_name == "community"
    assert AssetKey(["app", "moderation_actions"]) in graph.get(key).parent_keys
    marts = {k for k in graph.get_all_asset_keys() if k.path[0] == "marts"}
    assert {AssetKey(["marts", name]) for name in ("mart_community_activity_weekly", "fct_mentor_requests",
                                                    "mart_mentoring_by_region", "fct_moderation_cases",
                                                    "mart_moderation_weekly")} <= marts
    community_sources = graph.get(AssetKey(["marts", "fct_moderation_cases"])).parent_keys
    assert AssetKey(["staging", "stg_app__moderation_cases"]) in community_sources


def test_the_classifier_retrains_on_decisions(db_url: str, engine: Engine) -> None:
    with engine.begin() as conn:
        author, moderator = create_users(conn, [
            NewUser(email=f"a-{uuid.uuid4().hex[:8]}@test.kr", display_name="작성자", password_hash="x"),
            NewUser(email=f"m-{uuid.uuid4().hex[:8]}@test.kr", display_name="운영자", password_hash="x",
                    roles=["moderator"])])
        for action, category, content in (("hide", "spam", "흑염소 진액 특가 주문은 문자로"),
                                          ("dismiss", None, "의성 흑염소 농장 체험 다녀왔어요")):
            conn.execute(text(
                "insert into app.moderation_actions (target_type, target_id, target_user_id, action, reason, "
                "moderator_id, content_text, report_category) values ('post', gen_random_uuid(), :u, :a, 'test', "
                ":m, :c, :cat)"), {"u": author, "a": action, "m": moderator, "c": content, "cat": category})
        decisions = conn.execute(text("select count(*) from app.moderation_actions where content_text is not null "
                                      "and (action = 'dismiss' or report_category in ('spam', 'abuse', "
                                      "'harassment', 'hate', 'sexual', 'violence', 'privacy'))")).scalar_one()
    result = materialize([moderation_classifier, moderation_classifier_quality],
                         resources={"postgres": PostgresResource(url=db_url), "settings": SettingsResource()})
    assert result.success
    metadata = result.asset_materializations_for_node("moderation_classifier")[0].metadata
    assert metadata["training_size"].value == len(seed_examples()) + metadata["decision_examples"].value
    assert metadata["decision_examples"].value >= 2 and metadata["decision_examples"].value <= decisions
    assert 0.8 <= metadata["cv_precision"].value <= 1 and 0.8 <= metadata["cv_recall"].value <= 1
    checks = result.get_asset_check_evaluations()
    assert [c.passed for c in checks] == [True]
    pointer = json.loads((get_settings().var_dir / "models" / "moderation" / "current.json").read_text())
    assert pointer["version"] == metadata["version"].value and pointer["training_size"] == metadata[
        "training_size"].value
