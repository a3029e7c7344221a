"""The pieces of moderation every writer needs: is this user sanctioned, and open (or add to) a case.

Kept apart from api/moderation/service.py so the community service can hold content for review without
importing the moderation actions, which in turn publish content through the community service.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text

# how urgent a report category is (the queue puts the worst first)
CATEGORY_SEVERITY = {"violence": 5, "privacy": 4, "hate": 4, "sexual": 4, "harassment": 3, "abuse": 3,
                     "spam": 2, "misinformation": 2, "other": 1}
SCREEN_SEVERITY = {"abuse": 3, "spam": 2}


@dataclass(frozen=True)
class Sanction:
    kind: str  # suspend | ban
    ends_at: datetime | None
    reason: str


def active_sanction(conn: Connection, user_id: uuid.UUID) -> Sanction | None:
    """A ban, or the suspension that ends last, in force now; warnings do not stop anyone."""
    row = conn.execute(text(
        "select s.kind, s.ends_at, a.reason from app.user_sanctions s "
        "join app.moderation_actions a on a.id = s.action_id "
        "where s.user_id = :user_id and s.kind in ('suspend', 'ban') and s.lifted_at is null "
        "and (s.ends_at is null or s.ends_at > now()) "
        "order by (s.kind = 'ban') desc, s.ends_at desc nulls first limit 1"), {"user_id": user_id}).first()
    return Sanction(row.kind, row.ends_at, row.reason) if row else None


def open_case(conn: Connection, target_type: str, target_id: uuid.UUID, target_user_id: uuid.UUID, opened_by: str,
              severity: int, screen_score: float | None = None, screen_reasons: Sequence[str] = (),
              report: bool = False) -> int:
    """The open case on a target, created or updated (worst severity kept, reports counted); its id."""
    row = conn.execute(text(
        "insert into app.moderation_cases (target_type, target_id, target_user_id, opened_by, severity, "
        "report_count, screen_score, screen_reasons) "
        "values (:target_type, :target_id, :target_user_id, :opened_by, :severity, :reports, :score, :reasons) "
        "on conflict (target_type, target_id) where status = 'open' do update set "
        "severity = greatest(app.moderation_cases.severity, excluded.severity), "
        "report_count = app.moderation_cases.report_count + excluded.report_count, "
        "screen_score = coalesce(excluded.screen_score, app.moderation_cases.screen_score), "
        "screen_reasons = case when excluded.screen_score is null then app.moderation_cases.screen_reasons "
        "else excluded.screen_reasons end "
        "returning id"),
        {"target_type": target_type, "target_id": target_id, "target_user_id": target_user_id,
         "opened_by": opened_by, "severity": severity, "reports": 1 if report else 0, "score": screen_score,
         "reasons": list(screen_reasons)}).one()
    return int(row.id)


def screen_severity(label: str, score: float) -> int:
    return min(5, SCREEN_SEVERITY.get(label, 2) + (1 if score >= 0.95 else 0))
