import select
import uuid

import psycopg

from core.accounts import NewUser, create_users
from core.audit import audit
from core.db import libpq_url
from core.notify import CHANNEL, notify


def test_notification_is_stored_once_and_announced_on_commit(engine, db_url):
    with engine.begin() as conn:
        (user_id,) = create_users(conn, [NewUser(email=f"n{uuid.uuid4().hex[:8]}@example.kr",
                                                 display_name="n", password_hash="x")])
    with psycopg.connect(libpq_url(db_url), autocommit=True) as listener:
        listener.execute(f"listen {CHANNEL}")
        with engine.begin() as conn:
            first = notify(conn, user_id, "badge_awarded", "배지 획득", dedupe_key=f"badge:{user_id}:b1")
            again = notify(conn, user_id, "badge_awarded", "배지 획득", dedupe_key=f"badge:{user_id}:b1")
        assert first is not None and again is None
        assert select.select([listener.pgconn.socket], [], [], 5)[0], "no NOTIFY arrived"
        received = list(listener.notifies(timeout=1, stop_after=1))
        assert received and str(user_id) in received[0].payload


def test_audit_records_actor_action_and_reason(engine):
    with engine.begin() as conn:
        audit_id = audit(conn, None, "report.download_refused", "report", "47730/2026-10", reason="other region")
        row = conn.exec_driver_sql("select action, reason from app.audit_log where id = %s", (audit_id,)).one()
    assert row == ("report.download_refused", "other region")
