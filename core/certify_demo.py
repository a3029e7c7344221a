"""Skill certifications for the demo population: real evidence, real checks, real reviews, real credentials.

For a deterministic sample of the demo users who declared skills, this makes submissions the way the
API does (`POST /certifications`): photos drawn with numpy/OpenCV (textured scenes; EXIF capture time
and GPS near the user's hometown written by Pillow on most of them), a speech-like WAV on about half,
each file sniffed, refused if a polyglot, re-encoded without EXIF (images) or measured (audio), stored
through core.storage and recorded in app.certification_*; then the automatic checks and the
assessment run through `ai.evidence.pipeline.check_submission` (what the Dagster sensor runs), so a
blurred, dark or reused photo warns or fails for real and a reused photo is flagged as a duplicate by
the pHash index. The demo admin decides as the review API does: approve at the assessment's tier
(1–3), or reject with feedback when a photo is reused, too blurred or too dark; the newest few stay in
the review queue. Approval issues a signed Open Badges credential (core.credentials) and sets the
user's tier; every decision is audited and notified. Some rejected users resubmit and are approved;
some tier-2 holders later prove tier 3. Finally certified users apply or are invited to the demo's
regional needs, most are accepted, and a need whose headcount is reached is filled.

Timestamps form a history ending at the demo's last activity (`raw.activity_events`), so the monthly
marts show months, not one day. Demo needs posted "after" they started (the generator leaves
created_at at generation time) are dated a few days before their start, so time-to-fill is real.

    from core.certify_demo import seed_certifications
    summary = seed_certifications(engine, seed=20261125, settings=get_settings())

Same data and seed → the same submissions, files, checks, decisions and tiers (credential salts and
signatures aside). A second call replaces the first (`remove_demo_certifications`, which must also
run before the demo users are deleted: their certification rows reference them). About 5 s at the
test fixture's 400 users, about 25 s at 10,000 (at most `max_users` people: the cost is the photos).

core never imports ai at module level; this module is the one orchestration that needs the evidence
pipeline, so it imports it inside `seed_certifications`.
"""

from __future__ import annotations

import io
import math
import random
import struct
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import cv2
import numpy as np
import soundfile as sf
from PIL import Image
from scipy.signal import lfilter
from sqlalchemy import Connection, Engine, insert, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core.audit import audit
from core.credentials import TIER_NAMES, CredentialClaim, EvidenceRef, issue_credential, load_signing_key
from core.demo.ids import uuid4_from
from core.korean import josa
from core.notify import notify
from core.settings import Settings, get_settings
from core.storage import ObjectStorage, storage_for
from core.tables_certify import (
    certification_evidence,
    certification_reviews,
    certification_submissions,
    need_engagements,
    user_skill_tiers,
)

KST = timezone(timedelta(hours=9))
PHOTO_SIZE = (960, 720)  # short side 720: exactly the resolution check's pass mark, and cheap to make
SAMPLE_RATE = 16_000
REJECTING_CHECKS = ("duplicate", "blur", "exposure")
SKILL_WORK = {
    "목공": "원목 식탁과 의자", "농업": "고추밭 지주 세우기와 마늘 수확", "요리": "지역 농산물로 만든 한식 상차림",
    "사진": "마을 축제 기록 사진", "영상": "마을 소개 영상 촬영과 편집", "교육": "초등학생 방과후 코딩 수업",
    "돌봄": "어르신 말벗과 식사 돌봄", "IT": "마을회관 공유기와 PC 점검", "통역": "외국인 방문객 마을 안내 통역",
    "디자인": "마을 카페 메뉴판과 간판 디자인", "마케팅": "농산물 온라인 판매 페이지", "건축": "빈집 지붕 보수",
    "의료": "마을 건강검진 보조", "음악": "경로당 음악회 기타 연주", "미술": "마을 담벼락 벽화",
    "상담": "귀농 청년 진로 상담", "법률": "빈집 임대차 계약 서류 검토", "회계": "마을기업 장부 정리",
}
FEEDBACK = {
    "duplicate": ("다른 분이 먼저 제출한 사진과 같은 사진이 있습니다. "
                  "직접 작업한 모습을 새로 촬영해 다시 제출해 주세요."),
    "blur": "사진이 흐려 작업의 세부를 확인할 수 없습니다. 초점을 맞추고 흔들리지 않게 다시 촬영해 주세요.",
    "exposure": "사진이 너무 어두워 작업을 확인할 수 없습니다. 밝은 곳에서 다시 촬영해 주세요.",
}
CLOSINGS = ("마을 어르신들께 도움이 되었습니다.", "주민분들 반응이 좋았습니다.", "다음에는 더 크게 해 보려고 합니다.")
APPROVAL_NOTES = {1: "기본기를 확인했습니다.", 2: "작업 과정과 설명이 충실합니다.", 3: "전문가 수준의 완성도입니다."}


# ---------------------------------------------------------------------------------- summary
@dataclass
class CertificationDemoSummary:
    """What one run made (the demo generator prints it; tests compare two runs)."""

    users: int = 0
    submissions: int = 0
    photos: int = 0
    recordings: int = 0
    duplicate_flags: int = 0
    warned_checks: int = 0
    failed_checks: int = 0
    approved: int = 0
    rejected: int = 0
    awaiting_review: int = 0
    credentials: int = 0
    tiers: dict[int, int] = field(default_factory=dict)  # approved tier → submissions
    invitations: int = 0
    applications: int = 0
    accepted: int = 0
    needs_filled: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------- plan
@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    skills: tuple[str, ...]
    lat: float
    lon: float


@dataclass
class PhotoPlan:
    scene_seed: int
    defect: str | None = None  # blur | soft | dark | reuse
    exif: bool = True


@dataclass
class SubmissionPlan:
    id: uuid.UUID
    person: Person
    skill: str
    created_at: datetime
    photos: list[PhotoPlan]
    recording_seconds: list[float]
    description: str
    resubmission_of: uuid.UUID | None = None
    followups: list[str] = field(default_factory=list)  # what may come after: resubmit | expert


def _description(rng: random.Random, skill: str, detail: str) -> str:
    work = SKILL_WORK.get(skill, f"{skill} 작업")
    short = f"{work} 작업 사진입니다."
    if detail == "short":
        return short
    closing = rng.choice(CLOSINGS)
    text = (f"{josa(work, '을', '를')} 처음부터 끝까지 직접 했습니다. 준비한 재료와 도구, 작업 순서를 사진으로 남겼고 "
            f"마무리한 결과물도 함께 올립니다. {closing}")
    if detail == "expert":
        text += (f" {skill} 경력은 {rng.randint(6, 20)}년이고, 지난 일 년 동안 비슷한 작업을 {rng.randint(8, 30)}건 "
                 "했습니다. 사진 다섯 장에 단계별 과정을 담았고, 음성으로 재료 선택의 이유, 안전 수칙, 흔한 실수와 "
                 "바로잡는 방법을 자세히 설명했습니다. 완성 후 점검 기준과 유지 관리 방법까지 정리했습니다.")
    return text


def _photos(rng: random.Random, count: int, defect: str | None) -> list[PhotoPlan]:
    photos = [PhotoPlan(rng.getrandbits(31), exif=rng.random() < 0.7) for _ in range(count)]
    if defect:
        photos[rng.randrange(count)].defect = defect
    return photos


def _first_submission(rng: random.Random, person: Person, start: datetime, span_days: float) -> SubmissionPlan:
    roll = rng.random()
    defect = ("blur" if roll < 0.12 else "soft" if roll < 0.20 else "dark" if roll < 0.26
              else "reuse" if roll < 0.34 else None)
    recordings = [round(rng.uniform(21, 28), 1)] if rng.random() < 0.55 else []
    created = start + timedelta(days=rng.uniform(0, span_days), hours=rng.uniform(0, 13))
    skill = rng.choice(person.skills)
    return SubmissionPlan(uuid4_from(rng), person, skill, created,
                          _photos(rng, rng.choice((2, 3, 3, 3, 4, 5)), defect), recordings,
                          _description(rng, skill, "long" if rng.random() < 0.8 else "short"),
                          followups=["resubmit" if rng.random() < 0.6 else "", "expert" if rng.random() < 0.3 else ""])


def _followup(rng: random.Random, first: SubmissionPlan, kind: str) -> SubmissionPlan:
    created = first.created_at + timedelta(days=rng.uniform(20, 60), hours=rng.uniform(0, 8))
    if kind == "expert":
        return SubmissionPlan(uuid4_from(rng), first.person, first.skill, created, _photos(rng, 5, None),
                              [round(rng.uniform(62, 70), 1)], _description(rng, first.skill, "expert"))
    return SubmissionPlan(uuid4_from(rng), first.person, first.skill, created, _photos(rng, 3, None),
                          [round(rng.uniform(21, 26), 1)], _description(rng, first.skill, "long"),
                          resubmission_of=first.id)


# ---------------------------------------------------------------------------------- media
class MediaMaker:
    """Photos and recordings, deterministic per seed; a shared grain tile keeps each photo cheap."""

    def __init__(self) -> None:
        width, height = PHOTO_SIZE
        rng = np.random.default_rng(7)
        y, x = np.mgrid[0:height + 64, 0:width + 64].astype(np.float32)
        stripes = 18 * np.sin(x / 7 + 3 * np.sin(y / 90.0))
        self.voice = SpeechLike()
        self.grain = np.clip(24 + stripes[..., None] + rng.normal(0, 5, (height + 64, width + 64, 3)),
                             0, 48).astype(np.uint8)

    def scene(self, seed: int) -> np.ndarray:
        """A textured colour scene: smooth colour fields, rectangles with hard edges, wood-like grain."""
        width, height = PHOTO_SIZE
        rng = np.random.default_rng(seed)
        image = cv2.resize(rng.integers(0, 230, (6, 8, 3), dtype=np.uint8), (width, height),
                           interpolation=cv2.INTER_LINEAR)
        corners = rng.integers(0, (width, height), (25, 2, 2))
        colours = rng.integers(0, 230, (25, 3))
        thickness = rng.integers(2, 9, 25)
        for (p1, p2), colour, thick in zip(corners, colours, thickness, strict=True):
            cv2.rectangle(image, (int(p1[0]), int(p1[1])), (int(p2[0]), int(p2[1])),
                          tuple(int(c) for c in colour), int(thick))
        dy, dx = (int(v) for v in rng.integers(0, 64, 2))
        image = cv2.add(image, self.grain[dy:dy + height, dx:dx + width])
        return cv2.subtract(image, np.full_like(image, 12))

    def photo(self, plan: PhotoPlan, taken_at: datetime | None, lat: float, lon: float) -> bytes:
        image = self.scene(plan.scene_seed)
        if plan.defect == "blur":
            image = cv2.GaussianBlur(image, (0, 0), 5.0)  # Laplacian variance far below the warn mark
        elif plan.defect == "soft":
            image = cv2.GaussianBlur(image, (0, 0), 2.2)  # between the warn and pass marks
        elif plan.defect == "dark":
            image = cv2.convertScaleAbs(image, alpha=0.08, beta=0)
        elif plan.defect == "reuse":  # someone else's photo, re-saved smaller, as a messenger would
            image = cv2.resize(image, (800, 600), interpolation=cv2.INTER_AREA)
        if taken_at is None:
            ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 88])
            assert ok
            return buffer.tobytes()
        return with_exif(image, taken_at, lat, lon)

    def recording(self, seconds: float, seed: int) -> bytes:
        buffer = io.BytesIO()
        sf.write(buffer, self.voice.speech(seconds, seed), SAMPLE_RATE, format="WAV", subtype="PCM_16")
        return buffer.getvalue()


def with_exif(image: np.ndarray, taken_at: datetime, lat: float, lon: float) -> bytes:
    """A JPEG with DateTimeOriginal (+09:00) and GPS, as a phone camera writes it: OpenCV encodes the
    pixels, Pillow writes the EXIF block, which goes in as the APP1 segment right after the JPEG's SOI."""
    exif = Image.Exif()
    exif[0x010F] = "HometownCam"
    sub = exif.get_ifd(0x8769)
    sub[36867] = taken_at.astimezone(KST).strftime("%Y:%m:%d %H:%M:%S")
    sub[36881] = "+09:00"
    gps = exif.get_ifd(0x8825)

    def dms(value: float) -> tuple[float, float, float]:
        value = abs(value)
        degrees = int(value)
        minutes = int((value - degrees) * 60)
        return float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 4)

    gps[1], gps[2] = "N", dms(lat)
    gps[3], gps[4] = "E", dms(lon)
    block = exif.tobytes()
    if not block.startswith(b"Exif\x00\x00"):
        block = b"Exif\x00\x00" + block
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 88])
    assert ok
    jpeg = buffer.tobytes()
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(block) + 2) + block + jpeg[2:]


class SpeechLike:
    """Speech-like recordings: syllables of a pulse-train voice through three formant resonators (and
    a quarter of fricatives: shaped noise), made once as a bank, then strung together per recording
    with short gaps and phrase pauses over faint room noise."""

    def __init__(self, syllables: int = 48) -> None:
        rng = np.random.default_rng(11)
        rate = SAMPLE_RATE
        self.bank: list[np.ndarray] = []
        for _ in range(syllables):
            length = int(rng.uniform(0.12, 0.28) * rate)
            phase = np.cumsum(np.full(length, rng.uniform(100, 170) / rate))
            source = (np.diff(np.floor(phase), prepend=0) > 0).astype(np.float64)
            if rng.random() < 0.25:
                source = np.diff(rng.standard_normal(length), prepend=0) * 0.3
            voice = source
            for formant, bandwidth in ((rng.uniform(400, 850), 80), (rng.uniform(900, 2200), 120), (2600, 200)):
                r = math.exp(-math.pi * bandwidth / rate)
                voice = lfilter([1 - r], [1, -2 * r * math.cos(2 * math.pi * formant / rate), r * r], voice)
            self.bank.append(voice * np.hanning(length))

    def speech(self, seconds: float, seed: int, level_dbfs: float = -24.0) -> np.ndarray:
        rng = np.random.default_rng(seed)
        rate = SAMPLE_RATE
        out = np.zeros(int(seconds * rate))
        pos = int(0.3 * rate)
        while True:
            syllable = self.bank[int(rng.integers(len(self.bank)))]
            if pos + syllable.size >= out.size - rate // 2:
                break
            out[pos:pos + syllable.size] += syllable
            pos += syllable.size + int(rng.uniform(0.03, 0.08) * rate)
            if rng.random() < 0.1:
                pos += int(rng.uniform(0.3, 0.7) * rate)
        out *= 10 ** (level_dbfs / 20) / max(1e-9, float(np.sqrt(np.mean(out ** 2))))
        out += rng.normal(0, 10 ** (-60 / 20), out.size)
        return np.clip(out, -1, 1).astype(np.float32)


# ---------------------------------------------------------------------------------- removal
_DEMO = "select id from app.users where is_demo"
_DEMO_SUBMISSIONS = f"select id from app.certification_submissions where user_id in ({_DEMO})"


def remove_demo_certifications(conn: Connection, storage: ObjectStorage | None = None) -> int:
    """Delete the demo users' certification rows, credentials, tiers, need engagements and the audit
    entries and notifications they caused (and, given `storage`, the stored evidence); reopen demo
    needs that no accepted engagement fills any more. Returns the submissions removed."""
    keys = list(conn.execute(text(
        f"select storage_key from app.certification_evidence where submission_id in ({_DEMO_SUBMISSIONS})"))
        .scalars())
    conn.execute(text(
        "delete from app.audit_log where (action like 'certification.%' and object_id in "
        f"(select id::text from app.certification_submissions where user_id in ({_DEMO}))) "
        "or (action like 'need.%' and object_id in (select id::text from app.need_engagements "
        f"where user_id in ({_DEMO})))"))
    conn.execute(text(f"delete from app.notifications where user_id in ({_DEMO}) and "
                      "(dedupe_key like 'certification:%' or dedupe_key like 'engagement:%')"))
    conn.execute(text(f"delete from app.notifications where dedupe_key like 'engagement:%' and "
                      f"(data ->> 'engagement_id') in (select id::text from app.need_engagements "
                      f"where user_id in ({_DEMO}))"))
    conn.execute(text(f"delete from app.need_engagements where user_id in ({_DEMO})"))
    conn.execute(text(
        f"update app.regional_needs n set status = 'open' where n.status = 'filled' and n.posted_by in ({_DEMO}) "
        "and (select count(*) from app.need_engagements e where e.need_id = n.id and e.status = 'accepted') "
        "< n.headcount"))
    conn.execute(text(f"delete from app.user_skill_tiers where user_id in ({_DEMO})"))
    conn.execute(text(f"delete from app.credentials where user_id in ({_DEMO})"))
    conn.execute(text(f"update app.certification_submissions set resubmission_of = null "
                      f"where user_id in ({_DEMO})"))
    removed = conn.execute(text(f"delete from app.certification_submissions where user_id in ({_DEMO})")).rowcount
    if storage is not None:
        for key in keys:
            storage.delete(key)
    return int(removed)


# ---------------------------------------------------------------------------------- the run
@contextmanager
def _connection(engine_or_conn: Engine | Connection) -> Iterator[Connection]:
    if isinstance(engine_or_conn, Engine):
        with engine_or_conn.begin() as conn:
            yield conn
    else:
        yield engine_or_conn


def _people(conn: Connection) -> list[Person]:
    rows = conn.execute(text(
        "select u.id, u.skills, coalesce(r.centroid_lat, 36.35) as lat, coalesce(r.centroid_lon, 128.69) as lon "
        "from app.users u left join raw.regions r on r.region_code = u.hometown_region_code "
        "where u.is_demo and u.is_active and u.user_type is not null and cardinality(u.skills) > 0 "
        "order by u.email")).all()
    return [Person(r.id, tuple(r.skills), float(r.lat), float(r.lon)) for r in rows]


def _history_end(conn: Connection) -> datetime:
    """The demo's last activity (its history ends there), never later than now."""
    latest = conn.execute(text("select max(occurred_at) from raw.activity_events")).scalar()
    now = datetime.now(UTC).replace(microsecond=0)
    return min(latest, now) if latest is not None else now


def plan_submissions(people: Sequence[Person], seed: int, end: datetime, share: float = 0.15,
                     max_users: int = 150, min_users: int = 12, span_days: float = 330) -> list[SubmissionPlan]:
    """First submissions for a deterministic sample of `people`, in time order (follow-ups come later)."""
    rng = random.Random(f"certify-demo:{seed}")
    wanted = min(len(people), max_users, max(min_users, round(len(people) * share)))
    chosen = rng.sample(list(people), wanted)
    start = end - timedelta(days=span_days)
    plans = sorted((_first_submission(rng, person, start, span_days - 3) for person in chosen),
                   key=lambda p: p.created_at)
    for fraction, defect in ((0.3, "reuse"), (0.5, "blur"), (0.7, "reuse")):  # every demo shows each case
        plan = plans[int(len(plans) * fraction)]
        if all(photo.defect is None for photo in plan.photos):
            plan.photos[-1].defect = defect
    return plans


class _Seeder:
    """Stores, checks and decides submissions in time order, as the API and the sensor would."""

    def __init__(self, conn: Connection, settings: Settings, storage: ObjectStorage, seed: int, end: datetime):
        from ai.evidence.assessment import TemplateWriter  # core ↛ ai at import time (see the module docstring)
        from ai.evidence.pipeline import check_submission

        self.conn, self.settings, self.storage, self.end = conn, settings, storage, end
        self.rng = random.Random(f"certify-demo-run:{seed}")
        self.check_submission: Callable[..., Any] = check_submission
        self.writer = TemplateWriter()
        self.secret = settings.resolved_secret_key()
        self.key = load_signing_key(settings)
        self.media = MediaMaker()
        self.summary = CertificationDemoSummary()
        self.written: list[str] = []
        self.admin = conn.execute(text("select id from app.users where is_demo and 'admin' = any(roles) "
                                       "order by email limit 1")).scalar()
        if self.admin is None:
            raise ValueError("the demo has no admin to review certifications: generate the demo first")
        self.scene_owner: dict[int, uuid.UUID] = {}  # scene seed → user who submitted it first

    # -- storing, as POST /certifications does
    def _files(self, plan: SubmissionPlan) -> list[tuple[str, bytes]]:
        files = []
        for number, photo in enumerate(plan.photos, start=1):
            if photo.defect == "reuse":
                earlier = [s for s, owner in self.scene_owner.items() if owner != plan.person.id]
                if earlier:
                    photo.scene_seed = self.rng.choice(sorted(earlier))
                else:
                    photo.defect = None
            taken = plan.created_at - timedelta(hours=self.rng.uniform(1, 240)) if photo.exif else None
            lat = plan.person.lat + self.rng.uniform(-0.04, 0.04)
            lon = plan.person.lon + self.rng.uniform(-0.04, 0.04)
            files.append((f"work_{number}.jpg", self.media.photo(photo, taken, lat, lon)))
            self.scene_owner.setdefault(photo.scene_seed, plan.person.id)
        for number, seconds in enumerate(plan.recording_seconds, start=1):
            files.append((f"explain_{number}.wav", self.media.recording(seconds, self.rng.getrandbits(31))))
        return files

    def store(self, plan: SubmissionPlan) -> None:
        from ai.evidence.prepare import prepare_evidence  # what POST /certifications does to each file
        from ai.evidence.sniff import MediaKind, sniff

        rows = []
        for position, (name, data) in enumerate(self._files(plan)):
            sniffed = sniff(data[:64], name)
            evidence = prepare_evidence(data, sniffed)
            stored, ext, content_type = evidence.stored, evidence.stored_ext, evidence.content_type
            if sniffed.kind is MediaKind.IMAGE:
                self.summary.photos += 1
            else:
                self.summary.recordings += 1
            key = f"certifications/{plan.created_at:%Y/%m}/{plan.id}/{position}.{ext}"
            stored_sha = self.storage.put(key, stored, content_type)
            self.written.append(key)
            rows.append({"submission_id": plan.id, "position": position, "kind": sniffed.kind.value,
                         "original_name": name, "sniffed_type": sniffed.name,
                         "sha256": evidence.sha256, "size_bytes": len(data), "storage_key": key,
                         "stored_sha256": stored_sha, "stored_size_bytes": len(stored),
                         "content_type": content_type, "created_at": plan.created_at, **evidence.facts})
        self.conn.execute(insert(certification_submissions).values(
            id=plan.id, user_id=plan.person.id, skill=plan.skill, description=plan.description,
            resubmission_of=plan.resubmission_of, status="pending", created_at=plan.created_at))
        self.conn.execute(insert(certification_evidence), rows)
        self.summary.submissions += 1

    # -- checking, as the sensor's run does
    def check(self, plan: SubmissionPlan) -> Any:
        outcome = self.check_submission(self.conn, self.storage, plan.id, self.writer, self.secret)
        checked = plan.created_at + timedelta(minutes=self.rng.uniform(1, 8))
        self.conn.execute(update(certification_submissions).where(certification_submissions.c.id == plan.id)
                          .values(checked_at=checked))
        statuses = [c.status.value for c in outcome.checks]
        self.summary.warned_checks += statuses.count("warn")
        self.summary.failed_checks += statuses.count("fail")
        self.summary.duplicate_flags += sum(1 for c in outcome.checks
                                            if c.name == "duplicate" and c.status.value == "fail")
        return outcome

    # -- deciding, as POST /certifications/{id}/review does
    def decide(self, plan: SubmissionPlan, outcome: Any) -> str:
        failed = [c.name for c in outcome.checks if c.status.value == "fail" and c.name in REJECTING_CHECKS]
        delay = min(240.0, max(0.5, self.rng.lognormvariate(math.log(18), 0.9)))
        decided = min(plan.created_at + timedelta(hours=delay), datetime.now(UTC))
        approve = not failed
        tier = int(outcome.report.recommended_tier) if approve else None
        feedback = APPROVAL_NOTES[tier] if tier else " ".join(FEEDBACK[name] for name in dict.fromkeys(failed))
        status = "approved" if approve else "rejected"
        self.conn.execute(insert(certification_reviews).values(
            submission_id=plan.id, reviewer_id=self.admin, decision=status, tier=tier, feedback=feedback,
            created_at=decided))
        self.conn.execute(update(certification_submissions).where(certification_submissions.c.id == plan.id)
                          .values(status=status, decided_at=decided))
        credential_id = None
        if tier is not None:
            credential_id = uuid4_from(self.rng)
            refs = self.conn.execute(text(
                "select e.sha256, e.kind, count(c.id) filter (where c.status = 'pass') as passed, "
                "count(c.id) as total from app.certification_evidence e left join app.certification_checks c "
                "on c.evidence_id = e.id where e.submission_id = :s group by e.id order by e.position"),
                {"s": plan.id}).all()
            issue_credential(self.conn, CredentialClaim(
                credential_id, plan.person.id, plan.skill, tier, decided,
                [EvidenceRef(r.sha256, r.kind, int(r.passed), int(r.total)) for r in refs]), plan.id, self.key)
            upsert = pg_insert(user_skill_tiers).values(user_id=plan.person.id, skill=plan.skill, tier=tier,
                                                        submission_id=plan.id, credential_id=credential_id,
                                                        certified_at=decided)
            self.conn.execute(upsert.on_conflict_do_update(
                index_elements=["user_id", "skill"],
                set_={"tier": tier, "submission_id": plan.id, "credential_id": credential_id,
                      "certified_at": decided}))
            self.summary.approved += 1
            self.summary.credentials += 1
            self.summary.tiers[tier] = self.summary.tiers.get(tier, 0) + 1
        else:
            self.summary.rejected += 1
        audit(self.conn, self.admin, f"certification.{'approve' if approve else 'reject'}",
              "certification_submission", str(plan.id), feedback,
              {"skill": plan.skill, "tier": tier, "credential_id": str(credential_id) if credential_id else None,
               "demo": True})
        self._notify(plan, tier, feedback, credential_id)
        return status

    def _notify(self, plan: SubmissionPlan, tier: int | None, feedback: str, credential_id: uuid.UUID | None) -> None:
        if tier is not None:
            notify(self.conn, plan.person.id, "certification_approved",
                   f"{plan.skill} {TIER_NAMES[tier][0]}({tier}단계) 인증이 승인되었습니다",
                   f"디지털 인증서(Open Badge)가 발급되었습니다. {feedback}",
                   {"submission_id": str(plan.id), "tier": tier, "credential_id": str(credential_id)},
                   dedupe_key=f"certification:{plan.id}:decision")
        else:
            notify(self.conn, plan.person.id, "certification_rejected", f"{plan.skill} 인증 신청이 반려되었습니다",
                   f"검토 의견: {feedback} 보완하여 다시 제출할 수 있습니다.",
                   {"submission_id": str(plan.id), "feedback": feedback, "can_resubmit": True},
                   dedupe_key=f"certification:{plan.id}:decision")


def _run_submissions(seeder: _Seeder, firsts: list[SubmissionPlan], queue_share: float) -> None:
    """Store, check and decide every submission in time order; follow-ups join the timeline as they arise."""
    pending = sorted(firsts, key=lambda p: p.created_at)
    undecided = max(2, round(len(pending) * queue_share))
    cutoff = sorted(p.created_at for p in pending)[-undecided] if len(pending) > undecided else pending[0].created_at
    while pending:
        plan = pending.pop(0)
        seeder.store(plan)
        outcome = seeder.check(plan)
        if plan.created_at >= cutoff:
            seeder.summary.awaiting_review += 1
            continue
        status = seeder.decide(plan, outcome)
        follow = ("resubmit" if status == "rejected" and "resubmit" in plan.followups else
                  "expert" if status == "approved" and outcome.report.recommended_tier == 2
                  and "expert" in plan.followups else None)
        if follow:
            later = _followup(seeder.rng, plan, follow)
            if later.created_at < cutoff:
                pending.append(later)
                pending.sort(key=lambda p: p.created_at)


# ---------------------------------------------------------------------------------- needs
def _date_needs(conn: Connection) -> None:
    """Demo needs dated at generation time, after their own start, get a posting date 3–21 days before it."""
    conn.execute(text(
        "update app.regional_needs set created_at = (starts_on::timestamp at time zone 'Asia/Seoul') "
        "- make_interval(days => 3 + abs(hashtext(id::text)) % 19, hours => abs(hashtext(title)) % 10) "
        f"where posted_by in ({_DEMO}) and starts_on is not null "
        "and created_at > (starts_on::timestamp at time zone 'Asia/Seoul')"))


def _engage_needs(conn: Connection, rng: random.Random, summary: CertificationDemoSummary, end: datetime) -> None:
    """Certified demo users apply or are invited to open demo needs of their skill; most are accepted."""
    needs = conn.execute(text(
        "select n.id, n.region_code, n.skill, n.tier_wanted, n.headcount, n.title, n.posted_by, n.created_at, "
        "       (n.ends_on + 1)::timestamp at time zone 'Asia/Seoul' as ends_at "
        f"from app.regional_needs n where n.status = 'open' and n.posted_by in ({_DEMO}) order by n.id")).all()
    certified = conn.execute(text(
        "select t.user_id, t.skill, t.tier, t.certified_at, u.hometown_region_code from app.user_skill_tiers t "
        f"join app.users u on u.id = t.user_id where t.user_id in ({_DEMO}) order by t.user_id, t.skill")).all()
    by_skill: dict[str, list[Any]] = {}
    for row in certified:
        by_skill.setdefault(row.skill, []).append(row)
    now = datetime.now(UTC)
    for need in needs:
        able = [c for c in by_skill.get(need.skill, []) if c.tier >= need.tier_wanted - 1]
        if not able or rng.random() < 0.3:
            continue
        able.sort(key=lambda c: (c.hometown_region_code != need.region_code, str(c.user_id)))
        people = able[:need.headcount + 1]
        accepted = 0
        for person in people:
            start = max(need.created_at, person.certified_at) + timedelta(hours=rng.uniform(6, 240))
            answered = start + timedelta(hours=rng.uniform(1, 72))
            if answered > min(now, end + timedelta(days=30)) or (need.ends_at and start > need.ends_at):
                continue
            kind = "invite" if rng.random() < 0.5 else "apply"
            wants = accepted < need.headcount and rng.random() < 0.8
            status = "accepted" if wants else rng.choice(("declined", "pending"))
            engagement_id = uuid4_from(rng)
            initiator = need.posted_by if kind == "invite" else person.user_id
            responder = person.user_id if kind == "invite" else need.posted_by
            conn.execute(insert(need_engagements).values(
                id=engagement_id, need_id=need.id, user_id=person.user_id, kind=kind, status=status,
                initiated_by=initiator, message="함께하고 싶습니다." if kind == "apply" else "도움을 요청드립니다.",
                created_at=start, responded_at=answered if status != "pending" else None,
                responded_by=responder if status != "pending" else None))
            summary.invitations += int(kind == "invite")
            summary.applications += int(kind == "apply")
            if status == "pending":
                continue
            accepted += int(status == "accepted")
            audit(conn, responder, f"need.{'accept' if status == 'accepted' else 'decline'}", "need_engagement",
                  str(engagement_id), None, {"need_id": str(need.id), "kind": kind, "demo": True})
            verb = "수락" if status == "accepted" else "거절"
            notify(conn, initiator, f"need_{status}", f"'{need.title}' 요청이 {verb}되었습니다", "",
                   {"need_id": str(need.id), "engagement_id": str(engagement_id)},
                   dedupe_key=f"engagement:{engagement_id}:{verb}")
        summary.accepted += accepted
        if accepted >= need.headcount:
            conn.execute(text("update app.regional_needs set status = 'filled' where id = :n"), {"n": need.id})
            summary.needs_filled += 1


# ---------------------------------------------------------------------------------- entry point
def seed_certifications(engine_or_conn: Engine | Connection, seed: int = 20261125, settings: Settings | None = None,
                        *, share: float = 0.15, max_users: int = 150, queue_share: float = 0.06,
                        storage: ObjectStorage | None = None) -> CertificationDemoSummary:
    """Replace the demo certifications with those made from `seed` (see the module docstring).

    `engine_or_conn`: an Engine (one transaction of its own) or a Connection (the caller's transaction).
    `share` of the demo users with skills take part, at most `max_users`; `queue_share` of the newest
    submissions stay undecided in the review queue.
    """
    started = time.monotonic()
    settings = settings or get_settings()
    storage = storage or storage_for(settings)
    with _connection(engine_or_conn) as conn:
        remove_demo_certifications(conn, storage)
        people = _people(conn)
        if not people:
            return CertificationDemoSummary(seconds=round(time.monotonic() - started, 1))
        end = _history_end(conn)
        seeder = _Seeder(conn, settings, storage, seed, end)
        firsts = plan_submissions(people, seed, end, share=share, max_users=max_users)
        seeder.summary.users = len(firsts)
        try:
            _run_submissions(seeder, firsts, queue_share)
            _date_needs(conn)
            _engage_needs(conn, random.Random(f"certify-demo-needs:{seed}"), seeder.summary, end)
        except BaseException:
            for key in seeder.written:  # the rows roll back with the caller's transaction; the files go too
                storage.delete(key)
            raise
    seeder.summary.tiers = dict(sorted(seeder.summary.tiers.items()))
    seeder.summary.seconds = round(time.monotonic() - started, 1)
    return seeder.summary
