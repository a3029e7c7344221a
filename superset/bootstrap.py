"""Bring Superset's metadata to the state the repository describes; run inside superset/.venv.

    HOMETOWN_WAREHOUSE_URL=… SUPERSET_CONFIG_PATH=superset/superset_config.py \
        superset/.venv/bin/python superset/bootstrap.py

In order: create the metadata database if missing, migrate it (`superset db upgrade`), sync the
built-in roles (`superset init`), create or update the admin (SUPERSET_ADMIN_USER /
SUPERSET_ADMIN_PASSWORD; admin/admin only in development), import bundle/ with the warehouse URL
filled in from the environment, then mirror the platform's staff: a 정책 담당자 role reading every
dataset, a 지자체 담당자 role reading the datasets that have region_code, and per 시군구 a role
with a row-level security filter `region_code = '<code>'` on each of those datasets; every policy
officer and municipality officer in app.users gets a Superset user with those roles (logging in with
the platform password, see superset_config.HometownSecurityManager).

Idempotent: objects are keyed by UUID (bundle) or name (roles, users, filters); a second run with
the same inputs leaves every id, role, permission and filter as it was and prints "0 changed".
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
import yaml
from psycopg2 import sql
from sqlalchemy.engine import URL, make_url

HERE = Path(__file__).resolve().parent
BUNDLE = HERE / "bundle"
sys.path.insert(0, str(HERE))

from superset_config import PLATFORM_PASSWORD_MARK, metadata_url, warehouse_url  # noqa: E402

log = logging.getLogger("bootstrap")

POLICY_ROLE = "정책 담당자"
OFFICER_ROLE = "지자체 담당자"
REGION_ROLE_PREFIX = "지자체 "  # + region code: carries the region's row-level security filter
RLS_PREFIX = "시군구 제한 "  # + region code
REGION_COLUMN = "region_code"
ENV = os.environ.get("HOMETOWN_ENV", "development")


@dataclass
class Changes:
    """What the run changed, so a second run can show that it changed nothing."""

    items: list[str] = field(default_factory=list)

    def add(self, what: str) -> None:
        self.items.append(what)
        log.info("changed: %s", what)


# ---------------------------------------------------------------------------------- connections
def libpq_params(url: URL) -> dict[str, Any]:
    params: dict[str, Any] = {"dbname": url.database, "user": url.username or "postgres"}
    host = url.query.get("host") or url.host
    if host:
        params["host"] = host if isinstance(host, str) else host[0]
    if url.port:
        params["port"] = url.port
    if url.password:
        params["password"] = url.password
    return params


def ensure_metadata_database(changes: Changes) -> None:
    """Create Superset's own database beside the warehouse on first run."""
    url = make_url(metadata_url())
    params = libpq_params(url)
    name = params.pop("dbname")
    conn = psycopg2.connect(dbname="postgres", connect_timeout=10, **params)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("select 1 from pg_database where datname = %s", (name,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
            changes.add(f"metadata database {name}")
    conn.close()


def platform_staff() -> list[dict[str, Any]]:
    """Policy officers and municipality officers of the platform, active or not."""
    conn = psycopg2.connect(connect_timeout=10, **libpq_params(make_url(warehouse_url())))
    with conn, conn.cursor() as cur:
        cur.execute("""
            select email, display_name, roles, managed_region_code, is_active
            from app.users
            where roles && array['policy_staff', 'municipality_officer']::text[]
            order by email
        """)
        rows = [dict(zip(("email", "display_name", "roles", "region_code", "is_active"), row, strict=True))
                for row in cur.fetchall()]
    conn.close()
    return rows


# ---------------------------------------------------------------------------------- superset steps
def upgrade_and_init(changes: Changes) -> None:
    """`superset db upgrade` and `superset init`, in this process."""
    from flask_migrate import upgrade

    from superset import appbuilder, security_manager

    upgrade()
    appbuilder.add_permissions(update_perms=True)
    security_manager.sync_role_definitions()


def ensure_admin(changes: Changes) -> Any:
    from superset.extensions import db
    from werkzeug.security import check_password_hash

    from superset import security_manager

    username = os.environ.get("SUPERSET_ADMIN_USER", "").strip()
    password = os.environ.get("SUPERSET_ADMIN_PASSWORD", "")
    if not username or not password:
        if ENV == "production":
            raise SystemExit("set SUPERSET_ADMIN_USER and SUPERSET_ADMIN_PASSWORD (HOMETOWN_ENV=production)")
        username, password = username or "admin", password or "admin"
    admin_role = security_manager.find_role("Admin")
    user = security_manager.find_user(username=username)
    if user is None:
        user = security_manager.add_user(username, "Superset", "관리자", f"{username}@superset.local",
                                         admin_role, password=password)
        changes.add(f"admin user {username}")
    elif not check_password_hash(user.password, password) or admin_role not in user.roles:
        user.password = security_manager.hash_password(password)
        if admin_role not in user.roles:
            user.roles.append(admin_role)
        db.session.flush()
        changes.add(f"admin user {username} password/role")
    return user


def bundle_contents() -> dict[str, str]:
    """bundle/ as {relative path: YAML text}, the database's URL filled from the environment."""
    contents: dict[str, str] = {}
    for path in sorted(BUNDLE.rglob("*.yaml")):
        relative = path.relative_to(BUNDLE).as_posix()
        text = path.read_text(encoding="utf-8")
        if relative.startswith("databases/"):
            config = yaml.safe_load(text)
            config["sqlalchemy_uri"] = warehouse_url()
            text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
        contents[relative] = text
    return contents


def import_bundle(admin: Any, changes: Changes) -> None:
    """Import databases, datasets, charts and dashboards (overwriting by UUID)."""
    from superset.commands.importers.v1.assets import ImportAssetsCommand
    from superset.utils.core import override_user

    before = _bundle_state()
    with override_user(admin):
        ImportAssetsCommand(bundle_contents()).run()
    scope_native_filters(changes)
    after = _bundle_state()
    if before != after:
        changes.add(f"bundle ({len(after)} objects)")


def scope_native_filters(changes: Changes) -> None:
    """Give each native filter of the bundle's dashboards the ids of the charts it applies to.

    The bundle names the excluded charts (remapped by the import); the charts in scope are what the
    frontend reads, and only the importing server knows their ids.
    """
    from superset.extensions import db
    from superset.models.dashboard import Dashboard

    uuids = {str(yaml.safe_load(p.read_text(encoding="utf-8"))["uuid"]) for p in (BUNDLE / "dashboards").glob("*.yaml")}
    for dashboard in db.session.query(Dashboard):
        if str(dashboard.uuid) not in uuids:
            continue
        metadata = json.loads(dashboard.json_metadata or "{}")
        filters = metadata.get("native_filter_configuration", [])
        for native_filter in filters:
            excluded = set(native_filter.get("scope", {}).get("excluded", []))
            native_filter["chartsInScope"] = sorted(s.id for s in dashboard.slices if s.id not in excluded)
            native_filter.setdefault("tabsInScope", [])
        rendered = json.dumps(metadata, ensure_ascii=False, sort_keys=True)
        if filters and rendered != json.dumps(json.loads(dashboard.json_metadata or "{}"), ensure_ascii=False,
                                              sort_keys=True):
            dashboard.json_metadata = rendered
    db.session.flush()


def _bundle_state() -> dict[str, Any]:
    """The imported objects as they matter to a user: id, and the definition that was imported."""
    from superset.connectors.sqla.models import SqlaTable
    from superset.extensions import db
    from superset.models.core import Database
    from superset.models.dashboard import Dashboard
    from superset.models.slice import Slice

    state: dict[str, Any] = {}
    for database in db.session.query(Database):
        state[f"database:{database.uuid}"] = (database.id, database.sqlalchemy_uri)
    for dataset in db.session.query(SqlaTable):
        columns = sorted((c.column_name, c.type, c.expression or "") for c in dataset.columns)
        metrics = sorted((m.metric_name, m.expression) for m in dataset.metrics)
        state[f"dataset:{dataset.uuid}"] = (dataset.id, dataset.table_name, columns, metrics)
    for chart in db.session.query(Slice):
        state[f"chart:{chart.uuid}"] = (chart.id, chart.slice_name, chart.viz_type, chart.params)
    for dashboard in db.session.query(Dashboard):
        state[f"dashboard:{dashboard.uuid}"] = (dashboard.id, dashboard.dashboard_title,
                                                 dashboard.position_json, dashboard.json_metadata,
                                                 sorted(s.id for s in dashboard.slices))
    return state


def _set_permissions(role: Any, wanted: list[Any], changes: Changes) -> None:
    current = {pvm.id for pvm in role.permissions}
    if current != {pvm.id for pvm in wanted}:
        role.permissions = list(wanted)
        changes.add(f"permissions of role {role.name}")


def _role(name: str, changes: Changes) -> Any:
    from superset import security_manager

    role = security_manager.find_role(name)
    if role is None:
        role = security_manager.add_role(name)
        changes.add(f"role {name}")
    return role


def region_datasets() -> tuple[list[Any], list[Any]]:
    """(all datasets of the bundle, those with a region_code column)."""
    from superset.connectors.sqla.models import SqlaTable
    from superset.extensions import db

    uuids = {str(yaml.safe_load(p.read_text(encoding="utf-8"))["uuid"]) for p in (BUNDLE / "datasets").rglob("*.yaml")}
    datasets = [d for d in db.session.query(SqlaTable).order_by(SqlaTable.table_name) if str(d.uuid) in uuids]
    regional = [d for d in datasets if any(c.column_name == REGION_COLUMN for c in d.columns)]
    return datasets, regional


def sync_roles_and_filters(regions: list[str], changes: Changes) -> None:
    """The two staff roles, and per 시군구 a role with its row-level security filter."""
    from superset.connectors.sqla.models import RowLevelSecurityFilter
    from superset.extensions import db

    from superset import security_manager

    _, regional = region_datasets()
    policy = _role(POLICY_ROLE, changes)
    all_access = security_manager.find_permission_view_menu("all_datasource_access", "all_datasource_access")
    _set_permissions(policy, [all_access], changes)

    officer = _role(OFFICER_ROLE, changes)
    wanted = []
    for dataset in regional:
        pvm = security_manager.find_permission_view_menu("datasource_access", dataset.perm)
        if pvm is None:
            pvm = security_manager.add_permission_view_menu("datasource_access", dataset.perm)
        wanted.append(pvm)
    _set_permissions(officer, wanted, changes)

    for code in regions:
        role = _role(f"{REGION_ROLE_PREFIX}{code}", changes)
        _set_permissions(role, [], changes)
        name = f"{RLS_PREFIX}{code}"
        clause = f"{REGION_COLUMN} = '{code}'"
        rls = db.session.query(RowLevelSecurityFilter).filter_by(name=name).one_or_none()
        if rls is None:
            rls = RowLevelSecurityFilter(name=name, filter_type="Regular", group_key=REGION_COLUMN,
                                         clause=clause, tables=list(regional), roles=[role],
                                         description="지자체 담당자는 자기 시군구의 행만 봅니다 (bootstrap)")
            db.session.add(rls)
            changes.add(f"row-level security filter {name}")
        elif (rls.clause, rls.filter_type, {t.id for t in rls.tables}, [r.id for r in rls.roles]) != (
                clause, "Regular", {d.id for d in regional}, [role.id]):
            rls.clause, rls.filter_type, rls.group_key = clause, "Regular", REGION_COLUMN
            rls.tables, rls.roles = list(regional), [role]
            changes.add(f"row-level security filter {name}")
    db.session.flush()


def sync_dashboard_roles(changes: Changes) -> None:
    """Who sees which dashboard (DASHBOARD_RBAC): policy staff every one; municipality officers those
    whose charts all read datasets with region_code, which row-level security narrows to their 시군구.
    A dashboard mixing in national data (certification, community, recommendation evaluation) would
    show officers charts they may not read, so it is not listed for them."""
    from superset.extensions import db
    from superset.models.dashboard import Dashboard

    _, regional = region_datasets()
    regional_ids = {d.id for d in regional}
    policy, officer = _role(POLICY_ROLE, changes), _role(OFFICER_ROLE, changes)
    slugs = [str(yaml.safe_load(p.read_text(encoding="utf-8"))["slug"]) for p in (BUNDLE / "dashboards").glob("*.yaml")]
    for dashboard in db.session.query(Dashboard).filter(Dashboard.slug.in_(slugs)).order_by(Dashboard.slug):
        wanted = [policy, officer] if {c.datasource_id for c in dashboard.slices} <= regional_ids else [policy]
        if sorted(r.id for r in dashboard.roles) != sorted(r.id for r in wanted):
            dashboard.roles = wanted
            changes.add(f"roles of dashboard {dashboard.slug}")
    db.session.flush()


def sync_platform_users(staff: list[dict[str, Any]], changes: Changes) -> None:
    """A Superset user per platform policy officer and municipality officer; stale ones deactivated."""
    from superset.extensions import db

    from superset import security_manager

    gamma = security_manager.find_role("Gamma")
    seen = set()
    for person in staff:
        roles = [gamma]
        if "policy_staff" in person["roles"]:
            roles.append(security_manager.find_role(POLICY_ROLE))
        if "municipality_officer" in person["roles"]:
            if not person["region_code"]:
                log.warning("municipality officer %s has no managed_region_code: skipped", person["email"])
                continue
            roles += [security_manager.find_role(OFFICER_ROLE),
                      security_manager.find_role(f"{REGION_ROLE_PREFIX}{person['region_code']}")]
        username = person["email"].lower()
        seen.add(username)
        user = security_manager.find_user(username=username)
        first, last = person["display_name"], "(고향으로 ON)"
        if user is None:
            user = security_manager.add_user(username, first, last, username, roles,
                                             password="unused-" + os.urandom(16).hex())
            if not user:
                raise RuntimeError(f"could not create the Superset user {username}")
            user.password = PLATFORM_PASSWORD_MARK
            user.active = bool(person["is_active"])
            changes.add(f"user {username}")
            continue
        wanted = (first, last, username, PLATFORM_PASSWORD_MARK, bool(person["is_active"]),
                  sorted(r.id for r in roles))
        current = (user.first_name, user.last_name, user.email, user.password, bool(user.active),
                   sorted(r.id for r in user.roles))
        if wanted != current:
            user.first_name, user.last_name, user.email = first, last, username
            user.password, user.active, user.roles = PLATFORM_PASSWORD_MARK, bool(person["is_active"]), roles
            changes.add(f"user {username}")
    for user in security_manager.get_all_users():
        if user.password == PLATFORM_PASSWORD_MARK and user.username not in seen and user.active:
            user.active = False
            changes.add(f"user {user.username} deactivated (no longer staff on the platform)")
    db.session.flush()


def run() -> Changes:
    changes = Changes()
    ensure_metadata_database(changes)
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset.extensions import db

        upgrade_and_init(changes)
        admin = ensure_admin(changes)
        db.session.commit()
        import_bundle(admin, changes)
        db.session.commit()
        staff = platform_staff()
        regions = sorted({p["region_code"] for p in staff
                          if "municipality_officer" in p["roles"] and p["region_code"]})
        sync_roles_and_filters(regions, changes)
        sync_dashboard_roles(changes)
        sync_platform_users(staff, changes)
        db.session.commit()
    return changes


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="[superset] %(message)s", stream=sys.stderr)
    changes = run()
    summary = {"changed": len(changes.items), "items": changes.items}
    print(json.dumps(summary, ensure_ascii=False))
    log.info("bootstrap done: %d changed", len(changes.items))


if __name__ == "__main__":
    main()
