"""Certification assets (group "certify"): the automatic checks and assessment of new submissions, and
the ranking of certified people for open regional needs (serving.need_matches).

Thin: `ai.evidence.pipeline.check_submission` and `ai.evidence.matching.run_matching` do the work;
these assets read resources, call them, and report. (No `from __future__ import annotations`:
Dagster reads the annotations at definition time.)
"""

from typing import Any

from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetKey,
    ConfigurableResource,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)
from sqlalchemy import text

from ai.evidence.assessment import AssessmentWriter, writer_from_settings
from ai.evidence.matching import run_matching
from ai.evidence.pipeline import check_submission, pending_submissions
from assets.resources import PostgresResource, SettingsResource
from core.storage import storage_for

GROUP = "certify"
CHECKS_KEY = AssetKey(["app", "certification_checks"])
MATCHES_KEY = AssetKey(["serving", "need_matches"])
BATCH = 200


class AssessmentWriterResource(ConfigurableResource):
    """The assessment writer: OpenAI through LangChain when a key is set (here or OPENAI_API_KEY), else the
    deterministic template writer. Tests swap it (e.g. a base_url that refuses connections)."""

    api_key: str | None = None
    base_url: str | None = None
    model: str | None = None

    def writer(self, settings: SettingsResource) -> AssessmentWriter:
        s = settings.get()
        return writer_from_settings(self.api_key or s.openai_api_key, self.model or s.openai_chat_model,
                                    self.base_url or s.openai_base_url)


@asset(key=CHECKS_KEY, group_name=GROUP, kinds={"python", "postgres"},
       deps=[AssetKey(["app", "certification_submissions"])],
       description="Automatic checks (image, voice, duplicates, EXIF, QR) and the assessment report of every "
                   "pending certification submission; each check stores value, threshold and pass/warn/fail.")
def certification_checks(context: AssetExecutionContext, postgres: PostgresResource, settings: SettingsResource,
                         assessment_writer: AssessmentWriterResource) -> MaterializeResult:
    s = settings.get()
    storage = storage_for(s)
    writer = assessment_writer.writer(settings)
    engine = postgres.engine()
    with engine.connect() as conn:
        pending = pending_submissions(conn, BATCH)
    done, failed, engines, risky = 0, [], {}, 0
    for submission_id in pending:
        try:
            with engine.begin() as conn:  # one transaction per submission: one bad file never blocks the rest
                outcome = check_submission(conn, storage, submission_id, writer, s.resolved_secret_key())
        except Exception as exc:  # recorded and retried on the next run; the rest go on
            context.log.error(f"submission {submission_id}: checks failed: {exc}")
            failed.append(f"{submission_id}: {type(exc).__name__}: {exc}")
            continue
        done += 1
        engines[outcome.report.engine] = engines.get(outcome.report.engine, 0) + 1
        risky += outcome.report.risk_level == "high"
        if outcome.report.fallback_reason:
            context.log.warning(f"submission {submission_id}: {outcome.report.fallback_reason}")
    return MaterializeResult(metadata={
        "checked": done, "failed": len(failed), "high_risk": risky, "engines": MetadataValue.json(engines),
        "failures": MetadataValue.md("\n".join(f"- {f}" for f in failed[:20]) or "none"),
        "still_pending": max(0, len(pending) - done)})


@asset_check(asset=CHECKS_KEY, description="Every checked submission has its checks and one assessment")
def checked_submissions_complete(postgres: PostgresResource) -> AssetCheckResult:
    with postgres.engine().connect() as conn:
        missing = conn.execute(text(
            "select count(*) from app.certification_submissions s where s.status <> 'pending' and ("
            " not exists (select 1 from app.certification_checks c where c.submission_id = s.id) or"
            " not exists (select 1 from app.certification_assessments a where a.submission_id = s.id))")).scalar_one()
    return AssetCheckResult(passed=missing == 0, metadata={"incomplete_submissions": int(missing)})


@asset(key=MATCHES_KEY, group_name=GROUP, kinds={"python", "postgres"},
       deps=[CHECKS_KEY, AssetKey(["app", "regional_needs"]), AssetKey(["raw", "activity_events"])],
       description="Certified people ranked for each open regional need (top 20, with reasons), after an "
                   "exposure-discounted fairness pass so the same few are not always first.")
def need_matches(context: AssetExecutionContext, postgres: PostgresResource) -> MaterializeResult:
    with postgres.engine().begin() as conn:
        matches = run_matching(conn)
    needs = {m.need_id for m in matches}
    firsts: dict[str, int] = {}
    for match in matches:
        if match.rank == 1:
            firsts[match.user_id] = firsts.get(match.user_id, 0) + 1
    top_share = max(firsts.values()) / len(needs) if needs else 0.0
    context.log.info(f"{len(matches)} matches for {len(needs)} needs")
    metadata: dict[str, Any] = {"dagster/row_count": len(matches), "needs_matched": len(needs),
                                "distinct_first_ranked": len(firsts),
                                "largest_share_of_first_places": round(top_share, 3)}
    return MaterializeResult(metadata=metadata)


@asset_check(asset=MATCHES_KEY, description="Ranks run 1..n without gaps for every need, and only open needs "
                                            "are matched")
def need_matches_consistent(postgres: PostgresResource) -> AssetCheckResult:
    with postgres.engine().connect() as conn:
        bad_ranks = conn.execute(text(
            "select count(*) from (select need_id, max(rank) as top, count(*) as n from serving.need_matches "
            "group by need_id) q where q.top <> q.n")).scalar_one()
        closed = conn.execute(text(
            "select count(*) from serving.need_matches m join app.regional_needs n on n.id = m.need_id "
            "where n.status <> 'open'")).scalar_one()
    return AssetCheckResult(passed=bad_ranks == 0 and closed == 0,
                            metadata={"needs_with_rank_gaps": int(bad_ranks), "matches_of_closed_needs": int(closed)})


CERTIFY_ASSETS = [certification_checks, need_matches]
CERTIFY_CHECKS = [checked_submissions_complete, need_matches_consistent]
