"""Each kind of report, built from the session's marts (demo data) and read back from the PDF.

The numbers printed are compared with the marts, small cells must be absent, the NanumGothic font
embedded, the pages as many as the renderer counted; the PNGs go under the test's tmp folder.
"""

from __future__ import annotations

import re
import socket
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from ai.reports import documents, index
from ai.reports.common import Period
from ai.reports.narrative import OpenAIWriter, TemplateWriter
from core.badges import user_key
from core.storage import get_storage
from tests.ai.report_checks import embedded_fonts, page_count, pdf_metadata, pdf_text, render_png
from tests.fixtures.warehouse import DbtRun

PERIOD = "2026-10"


@pytest.fixture(scope="module")
def busiest(marts_built: DbtRun, engine: Engine) -> tuple[str, str]:
    """The region-month with the most active people in the demo (a full report)."""
    with engine.connect() as conn:
        row = conn.execute(text(
            "select region_code, to_char(activity_month, 'YYYY-MM') from marts.mart_region_activity_monthly "
            "order by active_users_count desc, region_code limit 1")).one()
    return row[0], row[1]


@pytest.fixture(scope="module")
def regional_doc(busiest: tuple[str, str], engine: Engine) -> documents.ReportDocument:
    with engine.connect() as conn:
        return documents.build_regional(conn, *busiest)


def _assert_korean_pdf(doc: documents.ReportDocument, tmp: Path) -> str:
    assert doc.pdf.startswith(b"%PDF-")
    assert page_count(doc.pdf) == doc.pages
    assert any(name.endswith("+NanumGothic") for name in embedded_fonts(doc.pdf)), embedded_fonts(doc.pdf)
    info = pdf_metadata(doc.pdf)  # plain strings: no U+2060 word joiners from the body's line breaking
    assert info["/Title"] == doc.title and info["/Author"] == "고향으로 ON", info
    pngs = render_png(doc.pdf, tmp, doc.kind)
    assert not pngs or len(pngs) == doc.pages
    return pdf_text(doc.pdf)


def test_regional_report_prints_the_marts_numbers(regional_doc: documents.ReportDocument,
                                                  busiest: tuple[str, str], engine: Engine, tmp_path: Path) -> None:
    code, month = busiest
    body = _assert_korean_pdf(regional_doc, tmp_path)
    with engine.connect() as conn:
        name = conn.execute(text("select sgg_name from marts.dim_region where region_code = :c"), {"c": code}).scalar()
        monthly = conn.execute(text(
            "select active_users_count, completions_count, failures_count, checkins_count "
            "from marts.mart_region_activity_monthly "
            "where region_code = :c and to_char(activity_month, 'YYYY-MM') = :m"),
            {"c": code, "m": month}).one()
        stays = conn.execute(text(
            "select stay_days_count, stay_users_count from marts.mart_stay_days_monthly "
            "where region_code = :c and to_char(stay_month, 'YYYY-MM') = :m"), {"c": code, "m": month}).first()
    assert regional_doc.state == "full" and 6 <= regional_doc.pages <= 12
    assert f"{name} 사회공헌 효과 보고서" in body and "차례" in body
    assert f"고향으로 ON 참여자 {monthly.active_users_count:,}명이 활동했습니다" in body
    assert re.search(rf"합계 {monthly.completions_count:,} {monthly.failures_count:,} ", body)
    assert f"체크인 (승인된 것) {monthly.checkins_count:,}회" in body
    if stays is not None and stays.stay_users_count >= 5:
        assert f"체류일 (생활인구 기준) {stays.stay_days_count:,}일" in body
    assert "출처: marts.fct_mission_attempts, " + month + " 기준" in body
    assert "출처: marts.dim_region" in body


def test_regional_report_hides_small_cells(regional_doc: documents.ReportDocument, busiest: tuple[str, str],
                                           engine: Engine) -> None:
    code, month = busiest
    body = pdf_text(regional_doc.pdf)
    with engine.connect() as conn:
        by_type = conn.execute(text(
            "select coalesce(u.user_type, 'staff'), count(distinct e.user_key) from marts.fct_activity_events e "
            "join marts.dim_user u using (user_key) where e.region_code = :c and to_char(e.event_date, 'YYYY-MM') = :m "
            "group by 1"), {"c": code, "m": month}).all()
    labels = {"returnee": "귀향자", "youth": "청년", "supporter": "고향 응원자", "requester": "지역 의뢰자",
              "mentor": "멘토", "staff": "운영진·기타"}
    small = [(labels[t], n) for t, n in by_type if 0 < n < 5]
    for label, n in small:
        assert re.search(rf"^{label} X$", body, re.M), f"{label} ({n}) should print as X"
        assert not re.search(rf"^{label} {n}$", body, re.M)
    for label, n in ((labels[t], n) for t, n in by_type if n >= 5):
        assert re.search(rf"^{label} ({n}|X)$", body, re.M)  # shown, or hidden as a secondary cell
    assert "5명 미만의 인원에 해당하는 칸" in body


def test_a_quiet_region_gets_a_short_report_that_says_so(marts_built: DbtRun, engine: Engine, tmp_path: Path) -> None:
    with engine.connect() as conn:
        code = conn.execute(text(
            "select region_code from marts.dim_region where region_code not in (select region_code from "
            "marts.fct_activity_events where region_code is not null and event_date >= '2026-10-01') "
            "order by region_code limit 1")).scalar_one()
        doc = documents.build_regional(conn, code, PERIOD)
    body = _assert_korean_pdf(doc, tmp_path)
    assert doc.state == "none" and doc.pages == 2
    assert "기록된 고향으로 ON 활동이 없습니다" in body and "소멸위험지수" in body
    assert "차례" not in body


def test_policy_proposal_has_rules_evidence_and_a_named_engine(busiest: tuple[str, str], engine: Engine,
                                                              tmp_path: Path) -> None:
    code, month = busiest
    with engine.connect() as conn:
        doc = documents.build_policy(conn, code, month, writer=TemplateWriter())
    body = _assert_korean_pdf(doc, tmp_path)
    assert doc.engine == "template-v1" and "작성 방식: template-v1" in body
    for title in ("다시 오게 하는 미션", "실패가 잦은 미션", "채워지지 않은 지역 수요", "반응하는 집단",
                  "체류가 몰리는 때와 곳"):
        assert title in body
    assert "제안" in body and "근거" in body and "출처: marts.fct_mission_attempts" in body


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_openai_failure_falls_back_to_the_template_and_says_so(busiest: tuple[str, str], engine: Engine) -> None:
    code, month = busiest
    broken = OpenAIWriter("sk-test", "gpt-4o-mini", f"http://127.0.0.1:{_closed_port()}/v1", timeout_s=2)
    with engine.connect() as conn:
        doc = documents.build_policy(conn, code, month, writer=broken)
    body = pdf_text(doc.pdf)
    assert doc.engine == "template-v1" and doc.fallback_reason and "OpenAI 작성 실패" in doc.fallback_reason
    assert "OpenAI 작성 실패" in body and "(대체 작성)" in body


def test_personal_report_is_about_one_user_only(marts_built: DbtRun, engine: Engine, tmp_path: Path) -> None:
    with engine.connect() as conn:
        users = conn.execute(text("select id, display_name from app.users where user_type is not null "
                                  "order by id limit 60")).all()
        counts = {u.id: conn.execute(text(
            "select count(*) filter (where outcome = 'completed'), count(*) from marts.fct_mission_attempts "
            "where user_key = :k"), {"k": user_key(u.id)}).one() for u in users}
        me = next(u for u in users if counts[u.id][1] >= 3)
        doc = documents.build_personal(conn, me.id, PERIOD)
    body = _assert_korean_pdf(doc, tmp_path)
    completed, attempts = counts[me.id]
    assert f"{me.display_name}님의 고향으로 ON" in body
    assert f"미션 {attempts:,}번에 도전해 {completed:,}개를 완료했습니다" in body
    others = [u.display_name for u in users if u.id != me.id and u.display_name not in me.display_name]
    assert not [name for name in others if name in body]


def test_documents_are_stored_indexed_and_made_again_only_when_inputs_change(busiest: tuple[str, str],
                                                                              engine: Engine) -> None:
    code, month = busiest
    with engine.begin() as conn:
        first = index.ensure_regional(conn, code, month, force=True)
    with engine.begin() as conn:
        again = index.ensure_regional(conn, code, month)
    assert first.generated and not again.generated
    assert again.row["inputs_hash"] == first.row["inputs_hash"] and again.row["sha256"] == first.row["sha256"]
    pdf = get_storage().get(first.row["storage_key"])
    assert pdf.startswith(b"%PDF-") and first.row["pages"] == page_count(pdf)
    with engine.begin() as conn:  # a changed input (a new event in the month) gives a new hash and a new PDF
        conn.execute(text(
            "insert into marts.fct_activity_events (event_id, user_key, occurred_at, event_date, event_type, "
            "region_code, source, ingested_at) select :id, user_key, now(), :day, 'checkin', :c, 'test', now() "
            "from marts.dim_user limit 1"), {"id": uuid.uuid4(), "day": f"{month}-15", "c": code})
        _, changed = documents.regional_inputs(conn, code, Period.parse(month))
        conn.rollback()
    assert changed != first.row["inputs_hash"]
