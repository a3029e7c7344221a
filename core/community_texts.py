"""User-facing Korean texts the community shares between the API and the demo seed.

`status_reason` is shown to a post's or comment's author (and to moderators), so it is written for people, in
Korean like the rest of the app; the machine-readable state stays in `status` ('held', 'hidden', 'deleted').
"""

from __future__ import annotations

HELD_BY_SCREEN = "자동 검토에서 확인이 필요한 글로 분류되어 운영자 검토를 기다리고 있어요"
APPEAL_HINT = "이의가 있으면 앱의 '이의 신청'에서 알려 주세요."


def held_by_reports(reporters: int) -> str:
    """Why content went on hold after enough people reported it."""
    return f"신고가 {reporters}건 접수되어 운영자 검토를 기다리고 있어요"


def appeal_path(action_id: int) -> str:
    """Where a client sends an appeal against a moderation action (kept in notification data, not in the text)."""
    return f"/moderation/actions/{action_id}/appeal"
