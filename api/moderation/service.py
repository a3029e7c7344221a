"""Reports, the moderation queue, actions, sanctions and appeals.

A report opens (or joins) the target's open case; three reports from different people hold a published
post or comment until a moderator looks (the worst of it is out of sight at once, and nothing is deleted).
An action closes the case, changes the content or the account, is audited, notifies the author and every
reporter ('moderation_outcome'), and is the label the classifier later learns from. An appeal overturned
reverts the action (content republished, sanctions lifted).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, text
from sqlalchemy.exc import IntegrityError

from api.community import service as community
from api.errors import ApiError
from api.moderation.cases import CATEGORY_SEVERITY, open_case
from api.moderation.schemas import ActionCreate
from api.users.service import UserRecord
from core import ratelimit
from core.audit import audit
from core.community_texts import APPEAL_HINT, appeal_path, held_by_reports
from core.notify import notify

AUTO_HOLD_REPORTS = 3
ACTION_LABELS_KO = {"dismiss": "문제 없음으로 종결", "hide": "숨김 처리", "warn": "경고", "suspend": "활동 정지",
                    "ban": "영구 이용 제한"}


@dataclass(frozen=True)
class Target:
    target_type: str
    target_id: uuid.UUID
    user_id: uuid.UUID  # the author, or the user reported
    status: str | None  # content status; None for users
    text: str | None  # the content judged
    title: str | None
    post_id: uuid.UUID | None  # for comments: their post


def load_target(conn: Connection, target_type: str, target_id: uuid.UUID) -> Target | None:
    if target_type == "post":
        row = conn.execute(text("select author_id, status, title, body_md from app.posts where id = :id"),
                           {"id": target_id}).first()
        return Target("post", target_id, row.author_id, row.status, f"{row.title}\n{row.body_md}", row.title,
                      target_id) if row else None
    if target_type == "comment":
        row = conn.execute(text("select author_id, status, body_md, post_id from app.comments where id = :id"),
                           {"id": target_id}).first()
        return Target("comment", target_id, row.author_id, row.status, row.body_md, None,
                      row.post_id) if row else None
    row = conn.execute(text("select id from app.users where id = :id"), {"id": target_id}).first()
    return Target("user", target_id, row.id, None, None, None, None) if row else None


def _set_content_status(conn: Connection, target: Target, status: str, reason: str | None,
                        actor: uuid.UUID | None) -> None:
    table = "posts" if target.target_type == "post" else "comments"
    extra = ", published_at = coalesce(published_at, now())" if table == "posts" and status == "published" else ""
    conn.execute(text(f"update app.{table} set status = :status, status_reason = :reason, "
                      f"status_changed_at = now(), status_changed_by = :actor{extra} where id = :id"),
                 {"status": status, "reason": reason, "actor": actor, "id": target.target_id})
    if target.target_type == "comment" and target.post_id is not None:
        community.recount_comments(conn, target.post_id)


# ---------------------------------------------------------------------------------- reports
def create_report(conn: Connection, reporter: UserRecord, target_type: str, target_id: uuid.UUID, category: str,
                  details: str) -> RowMapping:
    target = load_target(conn, target_type, target_id)
    visible = target is not None and (target.status in (None, "published") or community.is_moderator(reporter)
                                      or target.user_id == reporter.id)
    if target is None or not visible:
        raise ApiError.not_found(f"There is no {target_type} {target_id} that you can see; check the id.")
    if target.user_id == reporter.id:
        raise ApiError(422, "own_content", "You cannot report your own content or account; delete or edit it.")
    duplicate = conn.execute(text("select id from app.reports where reporter_id = :r and target_type = :t "
                                  "and target_id = :i"), {"r": reporter.id, "t": target_type, "i": target_id}).first()
    if duplicate:
        raise ApiError(409, "already_reported", f"You already reported this {target_type} (report {duplicate.id}); "
                       "a moderator will look at it, and you will be notified of the outcome.")
    community.rate_limited(conn, (ratelimit.REPORTS_PER_HOUR,), reporter)
    case_id = open_case(conn, target_type, target_id, target.user_id, "report", CATEGORY_SEVERITY[category],
                        report=True)
    try:
        row = conn.execute(text(
            "insert into app.reports (reporter_id, target_type, target_id, category, details, case_id) "
            "values (:r, :t, :i, :c, :d, :case) returning id, target_type, target_id, category, case_id, created_at"),
            {"r": reporter.id, "t": target_type, "i": target_id, "c": category, "d": details, "case": case_id}
        ).mappings().one()
    except IntegrityError:  # the same report sent twice at the same moment
        conn.rollback()
        raise ApiError(409, "already_reported", f"You already reported this {target_type}.") from None
    _auto_hold(conn, target, case_id)
    audit(conn, reporter.id, "report.create", target_type, str(target_id), category, {"case_id": case_id})
    conn.commit()
    return row


def _auto_hold(conn: Connection, target: Target, case_id: int) -> None:
    if target.status != "published":
        return
    reporters: int = conn.execute(text("select count(distinct reporter_id) from app.reports where case_id = :c"),
                             {"c": case_id}).scalar_one()
    if reporters >= AUTO_HOLD_REPORTS:
        _set_content_status(conn, target, "held", held_by_reports(reporters), None)
        audit(conn, None, "content.auto_hold", target.target_type, str(target.target_id),
              f"{reporters} reports", {"case_id": case_id})


# ---------------------------------------------------------------------------------- queue
def queue(conn: Connection, limit: int, offset: int) -> tuple[Sequence[RowMapping], int]:
    """Open cases, worst first: severity, then how many people reported, then the oldest."""
    total: int = conn.execute(text("select count(*) from app.moderation_cases where status = 'open'")).scalar_one()
    rows = conn.execute(text(
        "select c.id as case_id, c.target_type, c.target_id, c.target_user_id, u.display_name as target_user_name, "
        "c.opened_by, c.severity, c.report_count, c.screen_score, c.screen_reasons, c.opened_at, "
        "coalesce((select array_agg(distinct r.category order by r.category) from app.reports r "
        "where r.case_id = c.id), '{}') as categories, "
        "coalesce(p.status, cm.status) as content_status, p.title, "
        "left(coalesce(p.body_text, cm.body_text), 300) as excerpt "
        "from app.moderation_cases c join app.users u on u.id = c.target_user_id "
        "left join app.posts p on c.target_type = 'post' and p.id = c.target_id "
        "left join app.comments cm on c.target_type = 'comment' and cm.id = c.target_id "
        "where c.status = 'open' order by c.severity desc, c.report_count desc, c.opened_at, c.id "
        "limit :limit offset :offset"), {"limit": limit, "offset": offset}).mappings().all()
    return rows, int(total)


# ---------------------------------------------------------------------------------- actions
def _case_label(conn: Connection, case_id: int | None) -> tuple[str | None, Sequence[uuid.UUID]]:
    """The most frequent report category of the case (or the screen's kind), and the reporters."""
    if case_id is None:
        return None, []
    category = conn.execute(text(
        "select category from app.reports where case_id = :c group by category "
        "order by count(*) desc, max(created_at) desc limit 1"), {"c": case_id}).scalar()
    if category is None:
        reasons = conn.execute(text("select screen_reasons from app.moderation_cases where id = :c"),
                               {"c": case_id}).scalar() or []
        abuse = any(r.startswith(("slurs", "abusive_terms", "threat", "classifier: abuse", "openai")) for r in reasons)
        category = "abuse" if abuse else "spam"
    reporters: Sequence[uuid.UUID] = conn.execute(text("select reporter_id from app.reports where case_id = :c"),
                             {"c": case_id}).scalars().all()
    return category, reporters


def act(conn: Connection, moderator: UserRecord, data: ActionCreate) -> RowMapping:
    target = load_target(conn, data.target_type, data.target_id)
    if target is None:
        raise ApiError.not_found(f"There is no {data.target_type} {data.target_id}.")
    if target.user_id == moderator.id:
        raise ApiError(409, "own_content", "A moderator does not judge their own content or account; ask another.")
    case_id = conn.execute(text("select id from app.moderation_cases where target_type = :t and target_id = :i "
                                "and status = 'open' for update"),
                           {"t": data.target_type, "i": data.target_id}).scalar()
    if data.action == "dismiss" and case_id is None:
        raise ApiError(409, "no_open_case", f"There is no open case on this {data.target_type} to dismiss.")
    if data.action == "hide" and target.status in ("hidden", "deleted"):
        raise ApiError(409, "already_hidden", f"This {data.target_type} is already {target.status}.")
    category, reporters = _case_label(conn, case_id)
    until = None
    if data.action == "suspend":
        until = conn.execute(text("select now() + make_interval(days => :d)"), {"d": data.suspend_days}).scalar()
    action = conn.execute(text(
        "insert into app.moderation_actions (case_id, target_type, target_id, target_user_id, action, reason, "
        "suspended_until, moderator_id, content_text, report_category) values (:case, :t, :i, :u, :a, :reason, "
        ":until, :m, :content, :category) returning *"),
        {"case": case_id, "t": data.target_type, "i": data.target_id, "u": target.user_id, "a": data.action,
         "reason": data.reason, "until": until, "m": moderator.id, "content": target.text, "category": category}
    ).mappings().one()
    _apply(conn, target, data.action, data.reason, moderator.id, action["id"], until)
    if case_id is not None:
        conn.execute(text("update app.moderation_cases set status = 'closed', closed_at = now(), "
                          "closing_action_id = :a where id = :c"), {"a": action["id"], "c": case_id})
    audit(conn, moderator.id, f"moderation.{data.action}", data.target_type, str(data.target_id), data.reason,
          {"action_id": action["id"], "case_id": case_id, "suspended_until": until.isoformat() if until else None})
    _notify_outcome(conn, target, action, reporters)
    conn.commit()
    return action


def _apply(conn: Connection, target: Target, action: str, reason: str, moderator_id: uuid.UUID, action_id: int,
           until: Any) -> None:
    if action == "hide":
        _set_content_status(conn, target, "hidden", reason, moderator_id)
    elif action == "dismiss" and target.status == "held":
        _set_content_status(conn, target, "published", None, moderator_id)
        if target.target_type == "comment":
            community.announce_comment(conn, target.target_id)  # the conversation it joins hears of it now
    elif action in ("warn", "suspend", "ban"):
        conn.execute(text("insert into app.user_sanctions (user_id, kind, ends_at, action_id) "
                          "values (:u, :k, :until, :a)"), {"u": target.user_id, "k": action, "until": until,
                                                          "a": action_id})


def _notify_outcome(conn: Connection, target: Target, action: RowMapping, reporters: Sequence[uuid.UUID]) -> None:
    label = ACTION_LABELS_KO[action["action"]]
    data = {"action_id": action["id"], "action": action["action"], "target_type": target.target_type,
            "target_id": str(target.target_id), "reason": action["reason"],
            "suspended_until": action["suspended_until"].isoformat() if action["suspended_until"] else None}
    if action["action"] != "dismiss" or target.status == "held":
        appealable = action["action"] != "dismiss"
        notify(conn, target.user_id, "moderation_outcome", f"운영자 조치: {label}",
               f"사유: {action['reason']}." + (f" {APPEAL_HINT}" if appealable else ""),
               {**data, "role": "author", "appealable": appealable,
                "appeal_path": appeal_path(action["id"]) if appealable else None},
               f"moderation:{action['id']}:author")
    for reporter in reporters:
        notify(conn, reporter, "moderation_outcome", f"신고하신 내용이 검토되었어요: {label}",
               "신고해 주셔서 감사합니다.", {**data, "role": "reporter", "reason": None},
               f"moderation:{action['id']}:reporter:{reporter}")


def actions_on_user(conn: Connection, user_id: uuid.UUID) -> Sequence[RowMapping]:
    return conn.execute(text(
        "select a.*, ap.status as appeal_status from app.moderation_actions a "
        "left join app.appeals ap on ap.action_id = a.id where a.target_user_id = :u and a.action <> 'dismiss' "
        "order by a.created_at desc"), {"u": user_id}).mappings().all()


# ---------------------------------------------------------------------------------- appeals
def create_appeal(conn: Connection, user: UserRecord, action_id: int, body: str) -> RowMapping:
    action = conn.execute(text("select * from app.moderation_actions where id = :a"),
                          {"a": action_id}).mappings().first()
    if action is None or action["target_user_id"] != user.id:
        raise ApiError.not_found(f"No moderation action {action_id} concerns you; list yours at GET "
                                 "/moderation/me/actions.")
    if action["action"] == "dismiss" or action["reverted_at"] is not None:
        raise ApiError(409, "nothing_to_appeal", "This decision took nothing from you (dismissed or already "
                       "reverted); there is nothing to appeal.")
    try:
        row = conn.execute(text("insert into app.appeals (action_id, appellant_id, body) values (:a, :u, :b) "
                                "returning *"), {"a": action_id, "u": user.id, "b": body}).mappings().one()
    except IntegrityError:
        conn.rollback()
        raise ApiError(409, "already_appealed", f"You already appealed action {action_id}; one appeal per "
                       "decision. You will be notified of the outcome.") from None
    audit(conn, user.id, "appeal.create", "moderation_action", str(action_id), None, {"appeal_id": row["id"]})
    conn.commit()
    return row


def list_appeals(conn: Connection, status: str) -> Sequence[RowMapping]:
    return conn.execute(text("select * from app.appeals where status = :s order by created_at"),
                        {"s": status}).mappings().all()


def decide_appeal(conn: Connection, moderator: UserRecord, appeal_id: int, decision: str, reason: str) -> RowMapping:
    appeal = conn.execute(text("select * from app.appeals where id = :id for update"),
                          {"id": appeal_id}).mappings().first()
    if appeal is None:
        raise ApiError.not_found(f"There is no appeal {appeal_id}.")
    if appeal["status"] != "open":
        raise ApiError(409, "appeal_decided", f"Appeal {appeal_id} was already decided ({appeal['status']}).")
    action = conn.execute(text("select * from app.moderation_actions where id = :a"),
                          {"a": appeal["action_id"]}).mappings().one()
    if action["moderator_id"] == moderator.id:
        raise ApiError(409, "own_decision", "An appeal is decided by a moderator other than the one who acted.")
    if decision == "overturned":
        _revert(conn, action, moderator.id)
    row = conn.execute(text("update app.appeals set status = :s, decided_by = :m, decision_reason = :r, "
                            "decided_at = now() where id = :id returning *"),
                       {"s": decision, "m": moderator.id, "r": reason, "id": appeal_id}).mappings().one()
    audit(conn, moderator.id, f"appeal.{decision}", "moderation_action", str(action["id"]), reason,
          {"appeal_id": appeal_id})
    title = "이의 신청이 받아들여졌어요" if decision == "overturned" else "이의 신청이 기각되었어요"
    notify(conn, appeal["appellant_id"], "moderation_outcome", title, f"사유: {reason}",
           {"appeal_id": appeal_id, "action_id": action["id"], "decision": decision}, f"appeal:{appeal_id}")
    conn.commit()
    return row


def _revert(conn: Connection, action: RowMapping, moderator_id: uuid.UUID) -> None:
    conn.execute(text("update app.moderation_actions set reverted_at = now() where id = :a"), {"a": action["id"]})
    if action["action"] == "hide":
        target = load_target(conn, action["target_type"], action["target_id"])
        if target is not None and target.status == "hidden":
            _set_content_status(conn, target, "published", None, moderator_id)
    elif action["action"] in ("warn", "suspend", "ban"):
        conn.execute(text("update app.user_sanctions set lifted_at = now() where action_id = :a "
                          "and lifted_at is null"), {"a": action["id"]})
