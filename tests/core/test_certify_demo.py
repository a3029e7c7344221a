"""The demo's certifications: real files, real checks, real decisions and credentials, on the session demo."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text

from core.certify_demo import CertificationDemoSummary, remove_demo_certifications, seed_certifications
from core.credentials import verify_credential
from core.settings import get_settings
from core.storage import storage_for

SEED = 20261125


def _state(engine: Engine) -> list[tuple]:
    """What a run decided, per submission: id, skill, status, tier, and its check results in order."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("""
            select s.id, s.skill, s.status, s.resubmission_of, s.created_at, r.tier,
                   array_agg(c.name || ':' || c.status order by c.id) as checks
            from app.certification_submissions s
            join app.users u on u.id = s.user_id and u.is_demo
            left join app.certification_reviews r on r.submission_id = s.id
            left join app.certification_checks c on c.submission_id = s.id
            group by s.id, r.tier order by s.created_at""")).all()]


@pytest.fixture(scope="module")
def seeded(demo_loaded: object, engine: Engine) -> Iterator[CertificationDemoSummary]:
    summary = seed_certifications(engine, seed=SEED, settings=get_settings())
    yield summary
    with engine.begin() as conn:
        remove_demo_certifications(conn, storage_for(get_settings()))


def test_a_sample_of_skilled_users_submits_real_evidence(seeded: CertificationDemoSummary, engine: Engine) -> None:
    with engine.connect() as conn:
        skilled = conn.execute(text("select count(*) from app.users where is_demo and user_type is not null "
                                    "and cardinality(skills) > 0")).scalar_one()
        rows = conn.execute(text("""
            select e.kind, e.sniffed_type, e.storage_key, e.stored_sha256, e.width, e.exif_taken_at, e.exif_lat,
                   e.duration_s, s.created_at, u.skills @> array[s.skill] as declared
            from app.certification_evidence e join app.certification_submissions s on s.id = e.submission_id
            join app.users u on u.id = s.user_id where u.is_demo""")).all()
    assert 12 <= seeded.users <= 200 and seeded.users < skilled  # a sample, "a few dozen" at 400 users
    assert seeded.submissions >= seeded.users
    assert seeded.photos == sum(r.kind == "image" for r in rows) and seeded.recordings == sum(
        r.kind == "audio" for r in rows) > 0
    assert all(r.declared for r in rows), "users certify skills they declared"
    assert {r.sniffed_type for r in rows} == {"jpeg", "wav"}
    storage = storage_for(get_settings())
    for row in rows[:: max(1, len(rows) // 15)]:  # stored objects are what the rows say
        assert hashlib.sha256(storage.get(row.storage_key)).hexdigest() == row.stored_sha256
    photos = [r for r in rows if r.kind == "image"]
    with_exif = [r for r in photos if r.exif_taken_at is not None]
    assert 0.4 < len(with_exif) / len(photos) < 0.95  # most phones keep EXIF; messengers strip it
    assert all(r.exif_taken_at < r.created_at and 33 < r.exif_lat < 39 for r in with_exif)
    assert all(20 <= r.duration_s <= 71 for r in rows if r.kind == "audio")


def test_checks_and_assessments_ran_and_found_the_bad_photos(seeded: CertificationDemoSummary,
                                                             engine: Engine) -> None:
    with engine.connect() as conn:
        checks = conn.execute(text("""
            select c.name, c.status, c.message from app.certification_checks c
            join app.certification_submissions s on s.id = c.submission_id
            join app.users u on u.id = s.user_id where u.is_demo""")).all()
        unassessed = conn.execute(text("""
            select count(*) from app.certification_submissions s join app.users u on u.id = s.user_id
            left join app.certification_assessments a on a.submission_id = s.id
            where u.is_demo and (a.engine is distinct from 'template-v1' or s.checked_at is null)""")).scalar_one()
    assert unassessed == 0
    by = {(c.name, c.status) for c in checks}
    assert {("blur", "fail"), ("blur", "pass"), ("duplicate", "fail"), ("exposure", "fail"),
            ("speech", "pass")} <= by
    assert ("blur", "warn") in by or ("resolution", "warn") in by
    duplicates = [c for c in checks if c.name == "duplicate" and c.status == "fail"]
    assert len(duplicates) == seeded.duplicate_flags > 0
    assert all("another user" in c.message for c in duplicates)
    assert seeded.failed_checks == sum(c.status == "fail" for c in checks)


def test_the_admin_decides_with_tiers_feedback_credentials_and_an_audit_trail(
        seeded: CertificationDemoSummary, engine: Engine) -> None:
    with engine.connect() as conn:
        statuses = dict(conn.execute(text("""
            select s.status, count(*) from app.certification_submissions s join app.users u on u.id = s.user_id
            where u.is_demo group by 1""")).all())
        reviews = conn.execute(text("""
            select r.decision, r.tier, r.feedback, r.created_at, s.created_at as submitted_at, s.decided_at,
                   a.recommended_tier, rv.email, (select count(*) from app.audit_log l
                   where l.object_id = s.id::text and l.action = 'certification.' ||
                   case r.decision when 'approved' then 'approve' else 'reject' end) as audited,
                   (select count(*) from app.notifications n
                   where n.dedupe_key = concat('certification:', s.id, ':', 'decision')) as notified
            from app.certification_reviews r join app.certification_submissions s on s.id = r.submission_id
            join app.certification_assessments a on a.submission_id = s.id
            join app.users rv on rv.id = r.reviewer_id join app.users u on u.id = s.user_id
            where u.is_demo""")).all()
        resubmitted = conn.execute(text("""
            select count(*) from app.certification_submissions s join app.certification_submissions f
            on f.id = s.resubmission_of where f.status = 'rejected' and s.status = 'approved'""")).scalar_one()
        credentials = conn.execute(text("""
            select c.document, c.tier, t.tier as current_tier from app.credentials c
            join app.users u on u.id = c.user_id and u.is_demo
            left join app.user_skill_tiers t on t.credential_id = c.id""")).all()
        for row in credentials[:5]:
            assert verify_credential(conn, row.document).verified
    assert statuses == {"approved": seeded.approved, "rejected": seeded.rejected, "checked": seeded.awaiting_review}
    assert seeded.approved > 2 * seeded.rejected > 0 and seeded.awaiting_review >= 2
    assert {r.email.split("@")[0] for r in reviews} == {"admin"}
    assert all(r.audited == 1 and r.notified == 1 for r in reviews)
    assert all(r.submitted_at < r.created_at == r.decided_at <= datetime.now(UTC) for r in reviews)
    assert all(r.tier == r.recommended_tier for r in reviews if r.decision == "approved")
    assert all(r.feedback.strip() and r.tier is None for r in reviews if r.decision == "rejected")
    assert {1, 2} <= set(seeded.tiers) <= {1, 2, 3}
    assert resubmitted > 0
    assert len(credentials) == seeded.credentials == seeded.approved
    assert sum(1 for c in credentials if c.current_tier is not None) >= seeded.approved - resubmitted - 5


def test_certified_people_fill_needs(seeded: CertificationDemoSummary, engine: Engine) -> None:
    with engine.connect() as conn:
        needs = conn.execute(text("""
            select n.status, n.headcount, n.created_at, n.starts_on,
                   count(e.id) filter (where e.status = 'accepted') as accepted,
                   min(e.created_at) as first_engaged, bool_and(t.tier >= n.tier_wanted - 1) as qualified
            from app.regional_needs n join app.users p on p.id = n.posted_by and p.is_demo
            left join app.need_engagements e on e.need_id = n.id
            left join app.user_skill_tiers t on t.user_id = e.user_id and t.skill = n.skill
            group by n.id""")).all()
    engaged = [n for n in needs if n.first_engaged is not None]
    filled = [n for n in needs if n.status == "filled"]
    assert seeded.invitations > 0 and seeded.applications > 0 and seeded.accepted > 0
    assert len(filled) == seeded.needs_filled > 0
    assert all(n.accepted >= n.headcount for n in filled)
    assert all(n.qualified and n.created_at < n.first_engaged for n in engaged)
    assert all(n.created_at.date() <= n.starts_on for n in needs if n.starts_on)  # posted before they start


def test_history_spans_months_before_the_demo_ends(seeded: CertificationDemoSummary, engine: Engine) -> None:
    with engine.connect() as conn:
        months, latest, end = conn.execute(text("""
            select count(distinct date_trunc('month', s.created_at)), max(s.created_at),
                   (select max(occurred_at) from raw.activity_events)
            from app.certification_submissions s join app.users u on u.id = s.user_id where u.is_demo""")).one()
    assert months >= 6 and latest <= end


def test_same_seed_same_certifications_and_rerun_replaces(seeded: CertificationDemoSummary,
                                                         engine: Engine) -> None:
    first = _state(engine)
    again = seed_certifications(engine, seed=SEED, settings=get_settings())
    assert _state(engine) == first
    assert {**again.as_dict(), "seconds": 0} == {**seeded.as_dict(), "seconds": 0}
    other = seed_certifications(engine, seed=SEED + 1, settings=get_settings())
    assert {row[0] for row in _state(engine)}.isdisjoint({row[0] for row in first})
    assert other.submissions > 0
    seed_certifications(engine, seed=SEED, settings=get_settings())  # back to the module's state
    assert _state(engine) == first


def test_remove_takes_everything_out(seeded: CertificationDemoSummary, engine: Engine) -> None:
    storage = storage_for(get_settings())
    with engine.begin() as conn:
        keys = list(conn.execute(text("select e.storage_key from app.certification_evidence e "
                                      "join app.certification_submissions s on s.id = e.submission_id "
                                      "join app.users u on u.id = s.user_id where u.is_demo")).scalars())
        removed = remove_demo_certifications(conn, storage)
        left = conn.execute(text("""
            select (select count(*) from app.certification_submissions s join app.users u on u.id = s.user_id
                    where u.is_demo) + (select count(*) from app.credentials c join app.users u on u.id = c.user_id
                    where u.is_demo) + (select count(*) from app.need_engagements e join app.users u
                    on u.id = e.user_id where u.is_demo) + (select count(*) from app.regional_needs n
                    join app.users u on u.id = n.posted_by where u.is_demo and n.status = 'filled')""")).scalar_one()
        conn.rollback()  # keep the module's state for the other tests
    assert removed == seeded.submissions and left == 0
    assert not any(storage.exists(key) for key in keys)
    seed_certifications(engine, seed=SEED, settings=get_settings())  # the files are back
