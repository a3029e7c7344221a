"""/reports: officers get their own region only (others: 403, audited), policy staff any region, users
only their own personal report; the list shows what the caller may see, with periods and times."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine, text

from tests.api.conftest import MakeUser, assert_error
from tests.fixtures.warehouse import DbtRun

PERIOD = "2026-10"


@pytest.fixture(scope="module")
def regions(marts_built: DbtRun, engine: Engine) -> tuple[str, str]:
    """An active region this month and another one."""
    with engine.connect() as conn:
        codes = conn.execute(text(
            "select region_code from marts.mart_region_activity_monthly where activity_month = '2026-10-01' "
            "order by active_users_count desc, region_code limit 2")).scalars().all()
    return codes[0], codes[1]


def _is_pdf(response: object, title_part: str) -> None:
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/pdf"  # type: ignore[attr-defined]
    body = response.content  # type: ignore[attr-defined]
    reader = PdfReader(io.BytesIO(body))
    text_ = "\n".join(p.extract_text() for p in reader.pages)
    assert title_part in text_
    assert reader.metadata is not None and title_part in str(reader.metadata.title)  # no U+2060 in the title


def test_an_officer_downloads_the_own_regions_report_and_proposal(client: TestClient, make_user: MakeUser,
                                                                   regions: tuple[str, str]) -> None:
    own, _ = regions
    officer = make_user(roles=("municipality_officer",), user_type=None, managed_region_code=own)
    _is_pdf(client.get(f"/reports/regions/{own}/regional/{PERIOD}.pdf", headers=officer.headers),
            "사회공헌 효과 보고서")
    _is_pdf(client.get(f"/reports/regions/{own}/policy/{PERIOD}.pdf", headers=officer.headers), "정책 제안서")
    listed = client.get("/reports", headers=officer.headers).json()
    assert {(r["kind"], r["region_code"], r["period"]) for r in listed} >= {("regional", own, PERIOD),
                                                                            ("policy", own, PERIOD)}
    assert all(r["region_code"] == own for r in listed) and all(r["generated_at"] for r in listed)


def test_another_regions_report_is_refused_and_audited(client: TestClient, make_user: MakeUser, engine: Engine,
                                                       regions: tuple[str, str]) -> None:
    own, other = regions
    officer = make_user(roles=("municipality_officer",), user_type=None, managed_region_code=own)
    error = assert_error(client.get(f"/reports/regions/{other}/regional/{PERIOD}.pdf", headers=officer.headers),
                         403, "forbidden")
    assert other in error["message"]
    with engine.connect() as conn:
        audited = conn.execute(text("select count(*) from app.audit_log where actor_id = :a and "
                                    "action = 'report.download_refused' and object_id = :o"),
                               {"a": officer.id, "o": f"regional:{other}:{PERIOD}"}).scalar_one()
    assert audited == 1
    app_user = make_user()
    assert_error(client.get(f"/reports/regions/{own}/policy/{PERIOD}.pdf", headers=app_user.headers), 403, "forbidden")


def test_policy_staff_see_any_region(client: TestClient, make_user: MakeUser, regions: tuple[str, str]) -> None:
    staff = make_user(roles=("policy_staff",), user_type=None)
    _is_pdf(client.get(f"/reports/regions/{regions[1]}/regional/{PERIOD}.pdf", headers=staff.headers),
            "사회공헌 효과 보고서")
    kinds = {r["kind"] for r in client.get("/reports", headers=staff.headers).json()}
    assert "regional" in kinds and "personal" not in kinds


def test_users_get_only_their_own_personal_report(client: TestClient, make_user: MakeUser, engine: Engine,
                                                  marts_built: DbtRun) -> None:
    me, someone = make_user(), make_user()
    _is_pdf(client.get(f"/reports/me/{PERIOD}.pdf", headers=me.headers), "님의 고향으로 ON")
    assert_error(client.get(f"/reports/users/{someone.id}/{PERIOD}.pdf", headers=me.headers), 403, "forbidden")
    with engine.connect() as conn:
        audited = conn.execute(text("select count(*) from app.audit_log where actor_id = :a and "
                                    "action = 'report.download_refused'"), {"a": me.id}).scalar_one()
    assert audited == 1
    mine = client.get("/reports", headers=me.headers).json()
    assert [(r["kind"], r["user_id"]) for r in mine] == [("personal", str(me.id))]
    assert_error(client.get("/reports/me/2026-Q3.pdf", headers=me.headers), 422, "validation_error")
    assert_error(client.get(f"/reports/regions/4773/regional/{PERIOD}.pdf", headers=me.headers), 422,
                 "validation_error")
    assert client.get(f"/reports/me/{PERIOD}.pdf").status_code == 401


def test_a_period_that_has_not_started_is_refused_and_the_current_one_is_made(
        client: TestClient, make_user: MakeUser, regions: tuple[str, str]) -> None:
    own, _ = regions
    officer = make_user(roles=("municipality_officer",), user_type=None, managed_region_code=own)
    today = datetime.now(ZoneInfo("Asia/Seoul")).date()
    later = f"{today.year + 1}-{today.month:02d}"
    error = assert_error(client.get(f"/reports/regions/{own}/regional/{later}.pdf", headers=officer.headers), 422,
                         "validation_error")
    assert "has not started yet" in error["message"] and later in error["message"]
    next_quarter = f"{today.year + 1}-Q1"
    assert_error(client.get(f"/reports/regions/{own}/policy/{next_quarter}.pdf", headers=officer.headers), 422,
                 "validation_error")
    me = make_user()
    assert_error(client.get(f"/reports/me/{later}.pdf", headers=me.headers), 422, "validation_error")
    current = f"{today.year}-{today.month:02d}"
    _is_pdf(client.get(f"/reports/me/{current}.pdf", headers=me.headers), "님의 고향으로 ON")


def test_the_periods_list_offers_every_report_one_may_download_generated_or_not(
        client: TestClient, make_user: MakeUser, engine: Engine, regions: tuple[str, str]) -> None:
    own, other = regions
    officer = make_user(roles=("municipality_officer",), user_type=None, managed_region_code=own)
    offered = client.get("/reports/periods", headers=officer.headers).json()
    with engine.connect() as conn:
        first = conn.execute(text("select min(activity_month) from marts.mart_region_activity_monthly "
                                  "where region_code = :r"), {"r": own}).scalar_one()
    today = datetime.now(ZoneInfo("Asia/Seoul")).date()
    months = [f"{y}-{m:02d}" for y in range(first.year, today.year + 1) for m in range(1, 13)
              if (first.year, first.month) <= (y, m) <= (today.year, today.month)]
    assert [o["period"] for o in offered if o["kind"] == "regional" and "Q" not in o["period"]] == months[::-1]
    assert {o["period"] for o in offered if o["kind"] == "policy"} >= {PERIOD, "2026-Q4", months[-1]}
    assert {o["region_code"] for o in offered} == {own} and {o["kind"] for o in offered} == {"regional", "policy"}
    assert all(o["download_url"] == f"/reports/regions/{own}/{o['kind']}/{o['period']}.pdf" for o in offered)
    pending = next(o for o in offered if o["generated_at"] is None)
    _is_pdf(client.get(pending["download_url"], headers=officer.headers),
            "정책 제안서" if pending["kind"] == "policy" else "사회공헌 효과 보고서")
    again = {(o["kind"], o["period"]): o for o in client.get("/reports/periods", headers=officer.headers).json()}
    made = again[pending["kind"], pending["period"]]
    assert made["generated_at"] is not None and made["state"] in ("full", "small", "none")

    assert_error(client.get(f"/reports/periods?region_code={other}", headers=officer.headers), 403, "forbidden")
    staff = make_user(roles=("policy_staff",), user_type=None)
    assert_error(client.get("/reports/periods?kind=policy", headers=staff.headers), 422, "validation_error")
    assert {o["region_code"] for o in client.get(f"/reports/periods?region_code={other}",
                                                  headers=staff.headers).json()} == {other}
    assert_error(client.get("/reports/periods?region_code=99999", headers=staff.headers), 404, "not_found")

    me = make_user()
    mine = client.get("/reports/periods", headers=me.headers).json()
    assert [(o["kind"], o["period"], o["download_url"]) for o in mine] == [
        ("personal", months[-1], f"/reports/me/{months[-1]}.pdf")]  # signed up this month
    assert_error(client.get(f"/reports/periods?region_code={own}", headers=me.headers), 403, "forbidden")
