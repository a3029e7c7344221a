"""The local moderation classifier as an asset: retrained on the seed set plus every moderation decision.

Thin by design: ai.moderation does the work. The asset reads the decisions (app.moderation_actions,
written by the API), cross-validates, trains on everything, saves the model under var/models/moderation
(the API picks the new version up on its next screen), and reports the training size and the
cross-validated precision and recall. (No `from __future__ import annotations`: Dagster reads the
annotations at definition time.)
"""

import json
from collections import Counter

from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)

from ai.moderation.classifier import current_version, train
from ai.moderation.dataset import decision_examples, seed_examples
from assets.resources import PostgresResource, SettingsResource

GROUP = "community"
MIN_PRECISION = 0.8  # of content flagged as spam or abuse, the share that was (out of fold)
MIN_RECALL = 0.8  # of spam and abuse, the share flagged


@asset(
    group_name=GROUP,
    deps=[AssetKey(["app", "moderation_actions"])],
    kinds={"python", "scikitlearn"},
    description="Local moderation classifier (character n-grams, logistic regression) trained on the committed "
                "seed set and the platform's moderation decisions; saved under var/models/moderation.",
)
def moderation_classifier(context: AssetExecutionContext, postgres: PostgresResource,
                          settings: SettingsResource) -> MaterializeResult:
    with postgres.engine().connect() as conn:
        decisions = decision_examples(conn)
    examples = seed_examples() + decisions
    model = train(examples)
    models_dir = settings.get().var_dir / "models"
    previous = current_version(models_dir)
    path = model.save(models_dir)
    context.log.info(f"moderation classifier {model.version} trained on {len(examples)} examples "
                     f"({len(decisions)} decisions), saved to {path}")
    labels = Counter(e.label for e in examples)
    return MaterializeResult(metadata={
        "training_size": len(examples),
        "decision_examples": len(decisions),
        "labels": MetadataValue.json(dict(labels)),
        "cv_precision": model.metrics["precision"],
        "cv_recall": model.metrics["recall"],
        "cv_metrics": MetadataValue.json(model.metrics),
        "version": model.version,
        "previous_version": previous or "none",
        "path": str(path),
    })


@asset_check(asset=moderation_classifier, description=f"Cross-validated precision ≥ {MIN_PRECISION} and recall "
             f"≥ {MIN_RECALL} of flagging spam and abuse")
def moderation_classifier_quality(settings: SettingsResource) -> AssetCheckResult:
    pointer = settings.get().var_dir / "models" / "moderation" / "current.json"
    if not pointer.exists():
        return AssetCheckResult(passed=False, description="no moderation model saved yet")
    metrics = json.loads(pointer.read_text())["metrics"]
    passed = metrics.get("precision", 0) >= MIN_PRECISION and metrics.get("recall", 0) >= MIN_RECALL
    return AssetCheckResult(passed=passed, metadata={"precision": metrics.get("precision", 0.0),
                                                     "recall": metrics.get("recall", 0.0)})
