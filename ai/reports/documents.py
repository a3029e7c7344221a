"""Build a finished document: gather from the marts → inputs hash → HTML → PDF.

`build_regional`, `build_policy` and `build_personal` return a `ReportDocument` (bytes, page count,
inputs hash, engine). Callers (the Dagster assets, the API) store and index it (ai.reports.index).
`inputs_hash` covers the exact query results and the template version, never the generation time,
so the same data gives the same hash and the document is not made again.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from ai.reports import charts, maps, personal, policy, regional
from ai.reports.common import NOT_AGGREGATED, Inputs, Period
from ai.reports.narrative import NarrativeWriter, TemplateWriter
from ai.reports.render import TEMPLATE_VERSION, render_pdf
from ai.reports.suppression import FOOTNOTE, MARK

KINDS = ("regional", "policy", "personal")
TEMPLATE_ENGINE = "template-v1"
SEOUL = ZoneInfo("Asia/Seoul")


@dataclass(frozen=True)
class ReportDocument:
    kind: str  # regional | policy | personal
    period_key: str
    region_code: str | None
    user_id: uuid.UUID | None
    title: str
    pdf: bytes
    pages: int
    inputs_hash: str
    engine: str
    generated_at: datetime
    state: str = "full"  # full | small | none (regional); the short version for the last two
    fallback_reason: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()


def _generated(now: datetime | None) -> tuple[datetime, str]:
    now = now or datetime.now(UTC)
    return now, now.astimezone(SEOUL).strftime("%Y년 %m월 %d일 %H:%M")


def regional_inputs(conn: Connection, region_code: str, period: Period,
                    atlas: maps.Atlas | None = None) -> tuple[dict[str, Any], str]:
    """The template context and its inputs hash (what decides whether to render again)."""
    context = regional.gather(conn, region_code, period, atlas)
    inputs: Inputs = context.pop("inputs")
    return context, inputs.digest(TEMPLATE_VERSION, {"kind": "regional", "engine": TEMPLATE_ENGINE})


def build_regional(conn: Connection, region_code: str, period_key: str, *, atlas: maps.Atlas | None = None,
                   now: datetime | None = None) -> ReportDocument:
    period = Period.parse(period_key)
    context, digest = regional_inputs(conn, region_code, period, atlas)
    generated_at, label = _generated(now)
    title = f"{context['region']['full_name']} 사회공헌 효과 보고서 · {period.label_ko}"
    context.update({"title": title, "engine": TEMPLATE_ENGINE, "generated_label": label,
                    "inputs_hash": digest, "template_version": TEMPLATE_VERSION,
                    "empty_reason": regional.empty_reason(context), "not_aggregated": NOT_AGGREGATED})
    rendered = render_pdf("regional.html", context)
    return ReportDocument("regional", period.key, region_code, None, title, rendered.pdf, rendered.pages, digest,
                          TEMPLATE_ENGINE, generated_at, context["state"])


def policy_inputs(conn: Connection, region_code: str, period: Period, engine: str) -> tuple[dict[str, Any], str]:
    context = policy.gather(conn, region_code, period)
    inputs: Inputs = context.pop("inputs")
    return context, inputs.digest(TEMPLATE_VERSION, {"kind": "policy", "engine": engine})


def _policy_charts(findings: list[policy.Finding]) -> tuple[dict[str, Any], dict[str, str]]:
    """A bar chart for the findings whose evidence has a rate column (return, failure, groups)."""
    out: dict[str, Any] = {}
    captions: dict[str, str] = {}
    for f in findings:
        if f.evidence is None or not f.evidence.rows:
            continue
        headers = f.evidence.headers
        rate_col = next((k for k, h in enumerate(headers) if h.endswith("율")), None)
        if rate_col is None:
            continue
        labels = [row[0] for row in f.evidence.rows]
        values = [None if row[rate_col] == MARK else float(row[rate_col].rstrip("%")) for row in f.evidence.rows]
        if not charts.any_shown(values):
            continue
        out[f.id] = charts.hbar(labels, values, "%", f"{headers[rate_col]} ({headers[0]}별)", width_mm=150, digits=1)
        captions[f.id] = f"{headers[0]}별 {headers[rate_col]} (X: 5명 미만으로 비공개)"
    return out, captions


def build_policy(conn: Connection, region_code: str, period_key: str, *, writer: NarrativeWriter | None = None,
                 now: datetime | None = None) -> ReportDocument:
    period = Period.parse(period_key)
    writer = writer or TemplateWriter()
    context, digest = policy_inputs(conn, region_code, period, writer.engine)
    region = context["region"]
    narrative = writer.write(region["full_name"], period.label_ko, context["findings"])
    generated_at, label = _generated(now)
    title = f"{region['full_name']} 정책 제안서 · {period.label_ko}"
    chart_map, captions = _policy_charts(context["findings"])
    context.update({
        "title": title, "narrative": narrative, "generated_label": label, "inputs_hash": digest,
        "template_version": TEMPLATE_VERSION, "footnote": FOOTNOTE, "charts": chart_map, "chart_captions": captions,
        "toc_findings": [(f"f-{f.id}", f"{k + 2}. {f.title}") for k, f in enumerate(context["findings"])],
        "alert": policy.FAILURE_RATE_ALERT, "need_days": policy.NEED_WAIT_DAYS})
    rendered = render_pdf("policy.html", context)
    return ReportDocument("policy", period.key, region_code, None, title, rendered.pdf, rendered.pages, digest,
                          narrative.engine, generated_at, "full", narrative.fallback_reason)


def personal_inputs(conn: Connection, user_id: uuid.UUID, period: Period) -> tuple[dict[str, Any], str]:
    context = personal.gather(conn, user_id, period)
    inputs: Inputs = context.pop("inputs")
    return context, inputs.digest(TEMPLATE_VERSION, {"kind": "personal", "engine": TEMPLATE_ENGINE,
                                                     "user": str(user_id)})


def build_personal(conn: Connection, user_id: uuid.UUID, period_key: str, *,
                   now: datetime | None = None) -> ReportDocument:
    """One user's report over their history until the end of `period_key` (a month)."""
    period = Period.parse(period_key)
    context, digest = personal_inputs(conn, user_id, period)
    generated_at, label = _generated(now)
    title = f"{context['display_name']}님의 고향으로 ON 활동 보고서 · {period.label_ko}"
    context.update({"title": title, "engine": TEMPLATE_ENGINE, "generated_label": label, "inputs_hash": digest,
                    "template_version": TEMPLATE_VERSION, "not_aggregated": NOT_AGGREGATED})
    rendered = render_pdf("personal.html", context)
    return ReportDocument("personal", period.key, None, user_id, title, rendered.pdf, rendered.pages, digest,
                          TEMPLATE_ENGINE, generated_at)
