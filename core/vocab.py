"""The domain vocabulary: who uses the platform, what missions and events there are.

Korean labels are what users and officials read; English keys are what the code and data store.
"""

from __future__ import annotations

from enum import StrEnum


class UserType(StrEnum):
    """What brings an app user to a region."""

    RETURNEE = "returnee"  # 귀향자: moving (back) to a region
    YOUTH = "youth"  # 청년: young people looking for a place and a purpose
    SUPPORTER = "supporter"  # 고향 응원자: hometown supporters (고향사랑기부 and visits)
    REQUESTER = "requester"  # 지역 의뢰자: local people and bodies who post needs and host missions
    MENTOR = "mentor"  # 멘토: people who have made the move and guide others


USER_TYPE_LABELS_KO = {
    UserType.RETURNEE: "귀향자",
    UserType.YOUTH: "청년",
    UserType.SUPPORTER: "고향 응원자",
    UserType.REQUESTER: "지역 의뢰자",
    UserType.MENTOR: "멘토",
}


class Role(StrEnum):
    """Staff and platform roles; a person can hold several. App users hold none."""

    ADMIN = "admin"  # 관리자
    POLICY_STAFF = "policy_staff"  # 정책 담당자: sees every region
    MUNICIPALITY_OFFICER = "municipality_officer"  # 지자체 담당자: sees their own 시군구 only
    HOST = "host"  # 미션 호스트: issues QR tokens, confirms volunteer hours
    MODERATOR = "moderator"  # 커뮤니티 운영자


ROLE_LABELS_KO = {
    Role.ADMIN: "관리자",
    Role.POLICY_STAFF: "정책 담당자",
    Role.MUNICIPALITY_OFFICER: "지자체 담당자",
    Role.HOST: "미션 호스트",
    Role.MODERATOR: "커뮤니티 운영자",
}


class MissionType(StrEnum):
    EXPLORATION = "exploration"  # 지역탐색형: map and QR check-ins at real places
    SOCIAL = "social"  # 사회유대형: volunteering and time with local people
    SKILL = "skill"  # 재능기부형: a certified skill brought to a local need
    LEARNING = "learning"  # 학습형: learning about a region (also from external platforms via xAPI)


MISSION_TYPE_LABELS_KO = {
    MissionType.EXPLORATION: "지역탐색형",
    MissionType.SOCIAL: "사회유대형",
    MissionType.SKILL: "재능기부형",
    MissionType.LEARNING: "학습형",
}


class MissionStatus(StrEnum):
    DRAFT = "draft"  # written (by staff or AI), not yet approved
    PUBLISHED = "published"  # users can take it
    CLOSED = "closed"  # finished or withdrawn
    REJECTED = "rejected"  # a draft an admin turned down


class StepVerification(StrEnum):
    """How a mission step is proven."""

    NONE = "none"
    CHECKIN = "checkin"  # geofenced position at the spot
    QR = "qr"  # a signed, time-limited QR token shown by the host
    PHOTO = "photo"  # photo evidence, handed to certification
    HOST_CONFIRM = "host_confirm"  # the host confirms (e.g. volunteer hours)


class EventType(StrEnum):
    """Activity events: the contract shared by batch files, the API and xAPI statements."""

    USER_REGISTERED = "user_registered"
    MISSION_ENROLLED = "mission_enrolled"
    MISSION_RESUMED = "mission_resumed"
    STEP_COMPLETED = "step_completed"
    MISSION_COMPLETED = "mission_completed"
    MISSION_FAILED = "mission_failed"
    MISSION_ABANDONED = "mission_abandoned"
    CHECKIN = "checkin"  # payload: accepted, reason, distance_m, speed_kmh
    QR_SCANNED = "qr_scanned"  # payload: accepted, reason
    HOURS_CLAIMED = "hours_claimed"  # payload: hours
    HOURS_CONFIRMED = "hours_confirmed"  # payload: hours, host_id
    HOURS_REJECTED = "hours_rejected"
    LEARNING_COMPLETED = "learning_completed"  # payload: xapi statement id, score


# events that must name a mission, and those that must also name a step
MISSION_EVENTS = frozenset({
    EventType.MISSION_ENROLLED, EventType.MISSION_RESUMED, EventType.STEP_COMPLETED,
    EventType.MISSION_COMPLETED, EventType.MISSION_FAILED, EventType.MISSION_ABANDONED,
    EventType.HOURS_CLAIMED, EventType.HOURS_CONFIRMED, EventType.HOURS_REJECTED,
    EventType.LEARNING_COMPLETED,
})
STEP_EVENTS = frozenset({EventType.STEP_COMPLETED})


class FailureReason(StrEnum):
    """Why a mission failed: a fixed list (plus free text in the payload)."""

    WEATHER = "weather"
    SCHEDULE = "schedule_conflict"
    DISTANCE = "too_far"
    DIFFICULTY = "too_difficult"
    HOST_UNAVAILABLE = "host_unavailable"
    SAFETY = "safety"
    HEALTH = "health"
    VERIFICATION = "verification_failed"
    OTHER = "other"


FAILURE_REASON_LABELS_KO = {
    FailureReason.WEATHER: "날씨",
    FailureReason.SCHEDULE: "일정 충돌",
    FailureReason.DISTANCE: "이동 거리 부담",
    FailureReason.DIFFICULTY: "난이도",
    FailureReason.HOST_UNAVAILABLE: "호스트 부재",
    FailureReason.SAFETY: "안전 문제",
    FailureReason.HEALTH: "건강 문제",
    FailureReason.VERIFICATION: "인증 실패",
    FailureReason.OTHER: "기타",
}

SKILLS_KO = ("목공", "농업", "요리", "사진", "영상", "교육", "돌봄", "IT", "통역", "디자인", "마케팅", "건축", "의료",
             "음악", "미술", "상담", "법률", "회계")

INTERESTS_KO = ("자연", "역사", "축제", "음식", "농촌체험", "문화예술", "봉사", "창업", "귀농", "귀촌", "관광",
                "생태", "전통시장", "스포츠", "교육", "어촌")

# Extinction-risk index (소멸위험지수) = women aged 20–39 ÷ people aged 65+; classes as published by
# the Korea Employment Information Service (이상호, 2016 onward).
EXTINCTION_RISK_CLASSES = (
    # (lower bound inclusive, class key, Korean label)
    (1.5, "very_low", "소멸위험 매우 낮음"),
    (1.0, "low", "소멸위험 보통"),
    (0.5, "caution", "소멸위험 주의"),
    (0.2, "risk", "소멸위험 진입"),
    (0.0, "high_risk", "소멸고위험"),
)


def extinction_risk_class(index: float) -> tuple[str, str]:
    for lower, key, label in EXTINCTION_RISK_CLASSES:
        if index >= lower:
            return key, label
    return EXTINCTION_RISK_CLASSES[-1][1], EXTINCTION_RISK_CLASSES[-1][2]
