"""Badge rules: one YAML file, validated and compiled into SQL for both ways a badge is earned.

`dbt/badges.yml` declares every badge (id, Korean and English name, tier, criteria in a small
vocabulary documented at the top of that file) and the points that go with badges and volunteer
hours. This module

- validates it (`load_rules`), with errors that name the file, the badge and the field;
- compiles it into the dbt model `marts.fct_badge_awards` (`compile_model`; written by
  `python -m core.badges compile`, checked to be current by a test). dbt 1.11 has no way to read
  an arbitrary file at parse time offline (no `load_file`; vars cannot include files), so the rules
  become plain, reviewable SQL in the project rather than Jinja that re-reads YAML;
- evaluates the same compiled rule SQL for ONE user directly on raw.activity_events (+ app.missions
  and the regions) right after a completion (`award_for_user`, called by the API), so a badge
  arrives within seconds instead of at the next pipeline run;
- issues awards through one path (`issue_award`): a row in app.badge_awards (primary key user and
  badge) and a notification with dedupe key 'badge:<user_id>:<badge_id>', in the caller's
  transaction. Whichever of the API and the awards sensor (`issue_from_mart`) gets there first
  issues it; the other finds it issued.

The mart is the single truth: every award can be recomputed from the events. Rules over stay days
need the stay-day mart, so only the sensor issues them.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg
import yaml  # type: ignore[import-untyped]
from psycopg.rows import namedtuple_row
from sqlalchemy import Connection, text

from core.notify import notify
from core.ranking import DAILY_POINTS_CAP
from core.settings import ROOT
from core.vocab import EventType, MissionType

RULES_PATH = ROOT / "dbt" / "badges.yml"
MODEL_PATH = ROOT / "dbt" / "models" / "marts" / "loop" / "fct_badge_awards.sql"
MACRO_PATH = ROOT / "dbt" / "macros" / "loop" / "loop_rules.sql"
PSEUDONYM_SALT_DEFAULT = "hometown-dev-salt"  # the dbt macro pseudonymize() uses the same default
NOTIFICATION_KIND = "badge_awarded"

SOURCES = ("events", "stay_days")
# filters each source offers, and what their values must look like
FILTERS: dict[str, dict[str, str]] = {
    "events": {"event_type": "event_type", "mission_type": "mission_type", "region_code": "region_code",
               "sido_code": "sido_code", "is_decline_area": "bool", "is_accepted": "bool"},
    "stay_days": {"region_code": "region_code", "sido_code": "sido_code", "is_decline_area": "bool"},
}
DISTINCT_COLUMNS = {"events": ("mission_id", "region_code", "sido_code"),
                    "stay_days": ("region_code", "sido_code", "stay_date")}
SUM_COLUMNS = {"events": ("hours",), "stay_days": ("minutes_present",)}
PER_COLUMNS = ("region_code", "sido_code")
CRITERIA_KEYS = frozenset({"of", "where", "measure", "per", "at_least", "within_days"})
BADGE_KEYS = frozenset({"id", "name_ko", "name_en", "tier", "description", "criteria"})
TIER_KEYS = frozenset({"level", "name_ko", "bonus_points"})
POINTS_KEYS = frozenset({"volunteer_points_per_hour", "volunteer_hours_cap"})
PRESENCE_KEYS = frozenset({"stay_day_minutes", "max_gap_minutes"})
TOP_LEVEL_KEYS = ("points", "presence", "tiers", "badges")
BADGE_ID = re.compile(r"[a-z][a-z0-9_]{1,47}")
VALUE_PATTERNS = {"region_code": re.compile(r"\d{5}"), "sido_code": re.compile(r"\d{2}")}
VOCABULARIES = {"event_type": sorted(e.value for e in EventType),
                "mission_type": sorted(m.value for m in MissionType)}


class BadgeRuleError(ValueError):
    """The rules file is invalid. `problems` lists every broken rule, each naming badge and field."""

    def __init__(self, path: Path | str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{path}: {len(self.problems)} problem(s) in the badge rules:\n{lines}")


# ------------------------------------------------------------------------------------ the rules
@dataclass(frozen=True)
class Tier:
    key: str
    level: int
    name_ko: str
    bonus_points: int


@dataclass(frozen=True)
class Criteria:
    of: str
    where: tuple[tuple[str, tuple[Any, ...]], ...]
    measure: str  # count | distinct | sum
    measure_column: str | None
    per: str | None
    at_least: Decimal
    within_days: int | None


@dataclass(frozen=True)
class Badge:
    id: str
    name_ko: str
    name_en: str
    tier: Tier
    description: str
    criteria: Criteria

    @property
    def realtime(self) -> bool:
        """Rules over events can be evaluated by the API; rules over marts only by the pipeline."""
        return self.criteria.of == "events"


@dataclass(frozen=True)
class PointRules:
    volunteer_points_per_hour: int
    volunteer_hours_cap: Decimal

    def for_hours(self, hours: float | Decimal) -> int:
        """Points for one confirmed volunteering claim (capped hours × rate, rounded half up)."""
        capped = min(Decimal(str(hours)), self.volunteer_hours_cap)
        if capped <= 0:
            return 0
        return int((capped * self.volunteer_points_per_hour).quantize(Decimal(1), rounding="ROUND_HALF_UP"))


@dataclass(frozen=True)
class PresenceRules:
    stay_day_minutes: int
    max_gap_minutes: int


@dataclass(frozen=True)
class Rules:
    points: PointRules
    presence: PresenceRules
    tiers: dict[str, Tier]
    badges: tuple[Badge, ...]

    def badge(self, badge_id: str) -> Badge:
        for badge in self.badges:
            if badge.id == badge_id:
                return badge
        raise KeyError(badge_id)


class _Problems:
    """Collects problems so that one run reports every broken rule, not just the first."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")


def _positive_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _choices(values: Sequence[str]) -> str:
    return ", ".join(values)


def _parse_points(raw: object, problems: _Problems) -> PointRules:
    if not isinstance(raw, dict):
        problems.add("points", "must be a mapping with volunteer_points_per_hour and volunteer_hours_cap")
        return PointRules(0, Decimal(1))
    for key in sorted(set(raw) - POINTS_KEYS):
        problems.add(f"points.{key}", f"unknown key (allowed: {_choices(sorted(POINTS_KEYS))})")
    rate, cap = raw.get("volunteer_points_per_hour"), raw.get("volunteer_hours_cap")
    if not isinstance(rate, int) or isinstance(rate, bool) or rate < 0:
        problems.add("points.volunteer_points_per_hour", f"must be a whole number >= 0, got {rate!r}")
        rate = 0
    if not _positive_number(cap):
        problems.add("points.volunteer_hours_cap", f"must be a number > 0, got {cap!r}")
        cap = 1
    return PointRules(rate, Decimal(str(cap)))


def _parse_presence(raw: object, problems: _Problems) -> PresenceRules:
    if not isinstance(raw, dict):
        problems.add("presence", "must be a mapping with stay_day_minutes and max_gap_minutes")
        return PresenceRules(180, 240)
    for key in sorted(set(raw) - PRESENCE_KEYS):
        problems.add(f"presence.{key}", f"unknown key (allowed: {_choices(sorted(PRESENCE_KEYS))})")
    values = {}
    for key in sorted(PRESENCE_KEYS):
        value = raw.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 24 * 60:
            problems.add(f"presence.{key}", f"must be whole minutes between 1 and 1440, got {value!r}")
            value = 1
        values[key] = value
    return PresenceRules(**values)


def _parse_tiers(raw: object, problems: _Problems) -> dict[str, Tier]:
    if not isinstance(raw, dict) or not raw:
        problems.add("tiers", "must be a non-empty mapping of tier name to {level, name_ko, bonus_points}")
        return {}
    tiers = {}
    for key, spec in raw.items():
        where = f"tiers.{key}"
        if not isinstance(spec, dict):
            problems.add(where, "must be a mapping {level, name_ko, bonus_points}")
            continue
        for extra in sorted(set(spec) - TIER_KEYS):
            problems.add(f"{where}.{extra}", f"unknown key (allowed: {_choices(sorted(TIER_KEYS))})")
        level, name_ko, bonus = spec.get("level"), spec.get("name_ko"), spec.get("bonus_points")
        if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 3:
            problems.add(f"{where}.level", f"must be 1, 2 or 3, got {level!r}")
            level = 1
        if not isinstance(name_ko, str) or not name_ko.strip():
            problems.add(f"{where}.name_ko", "must be a non-empty text")
            name_ko = str(key)
        if not isinstance(bonus, int) or isinstance(bonus, bool) or bonus < 0:
            problems.add(f"{where}.bonus_points", f"must be a whole number >= 0, got {bonus!r}")
            bonus = 0
        tiers[str(key)] = Tier(str(key), level, name_ko, bonus)
    return tiers


def _check_value(where: str, kind: str, value: object, problems: _Problems) -> None:
    if kind == "bool":
        if not isinstance(value, bool):
            problems.add(where, f"must be true or false, got {value!r}")
    elif kind in VOCABULARIES:
        if value not in VOCABULARIES[kind]:
            problems.add(where, f"{value!r} is not one of: {_choices(VOCABULARIES[kind])}")
    elif not isinstance(value, str) or not VALUE_PATTERNS[kind].fullmatch(value):
        digits = 5 if kind == "region_code" else 2
        problems.add(where, f"must be a {digits}-digit code in quotes, got {value!r}")


Filters = tuple[tuple[str, tuple[Any, ...]], ...]


def _parse_where(raw: object, source: str, where: str, problems: _Problems) -> Filters:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        problems.add(where, "must be a mapping of column to value (or list of values)")
        return ()
    allowed = FILTERS[source]
    filters = []
    for column, value in raw.items():
        at = f"{where}.{column}"
        if column not in allowed:
            problems.add(at, f"no such filter for of: {source} (allowed: {_choices(sorted(allowed))})")
            continue
        values = tuple(value) if isinstance(value, list) else (value,)
        if not values:
            problems.add(at, "an empty list matches nothing")
        if allowed[column] == "bool" and len(values) != 1:
            problems.add(at, "must be a single true or false")
        for item in values:
            _check_value(at, allowed[column], item, problems)
        filters.append((str(column), values))
    return tuple(filters)


def _parse_measure(raw: object, source: str, where: str, problems: _Problems) -> tuple[str, str | None]:
    if raw is None or raw == "count":
        return "count", None
    if not isinstance(raw, dict) or len(raw) != 1:
        problems.add(where, f"must be count, {{distinct: <column>}} or {{sum: <column>}}, got {raw!r}")
        return "count", None
    (kind, column), = raw.items()
    options = {"distinct": DISTINCT_COLUMNS[source], "sum": SUM_COLUMNS[source]}.get(kind)
    if options is None:
        problems.add(where, f"unknown measure {kind!r} (use count, distinct or sum)")
        return "count", None
    if column not in options:
        problems.add(f"{where}.{kind}", f"{column!r} cannot be used with of: {source} (allowed: {_choices(options)})")
        return "count", None
    return kind, column


def _parse_criteria(raw: object, where: str, problems: _Problems) -> Criteria | None:
    if not isinstance(raw, dict):
        problems.add(where, "must be a mapping with at least `of` and `at_least`")
        return None
    for extra in sorted(set(raw) - CRITERIA_KEYS):
        problems.add(f"{where}.{extra}", f"unknown key (allowed: {_choices(sorted(CRITERIA_KEYS))})")
    source = raw.get("of")
    if source not in SOURCES:
        problems.add(f"{where}.of", f"must be one of: {_choices(SOURCES)}, got {source!r}")
        return None
    filters = _parse_where(raw.get("where"), source, f"{where}.where", problems)
    measure, column = _parse_measure(raw.get("measure"), source, f"{where}.measure", problems)
    per = raw.get("per")
    if per is not None and per not in PER_COLUMNS:
        problems.add(f"{where}.per", f"must be one of: {_choices(PER_COLUMNS)}, got {per!r}")
        per = None
    at_least = raw.get("at_least")
    if not _positive_number(at_least):
        problems.add(f"{where}.at_least", f"must be a number > 0, got {at_least!r}")
        at_least = 1
    elif measure != "sum" and not isinstance(at_least, int):
        problems.add(f"{where}.at_least", f"counts are whole numbers, got {at_least!r}")
    within = raw.get("within_days")
    if within is not None and (not isinstance(within, int) or isinstance(within, bool) or within < 1):
        problems.add(f"{where}.within_days", f"must be a whole number of days >= 1, got {within!r}")
        within = None
    return Criteria(source, filters, measure, column, per, Decimal(str(at_least)), within)


def _parse_badge(raw: object, index: int, tiers: dict[str, Tier], seen: set[str],
                 problems: _Problems) -> Badge | None:
    if not isinstance(raw, dict):
        problems.add(f"badges[{index}]", "must be a mapping")
        return None
    badge_id = raw.get("id")
    where = f"badge {badge_id!r} (badges[{index}])" if badge_id else f"badges[{index}]"
    if not isinstance(badge_id, str) or not BADGE_ID.fullmatch(badge_id):
        problems.add(f"{where}.id", "must be lower-case letters, digits and _ (2-48 characters, a letter first)")
    elif badge_id in seen:
        problems.add(f"{where}.id", "is used by an earlier badge; ids must be unique")
    else:
        seen.add(badge_id)
    for extra in sorted(set(raw) - BADGE_KEYS):
        problems.add(f"{where}.{extra}", f"unknown key (allowed: {_choices(sorted(BADGE_KEYS))})")
    for key in ("name_ko", "name_en", "description"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            problems.add(f"{where}.{key}", "must be a non-empty text")
    tier = tiers.get(str(raw.get("tier")))
    if tier is None:
        problems.add(f"{where}.tier", f"must be one of the tiers: {_choices(sorted(tiers))}, got {raw.get('tier')!r}")
    criteria = _parse_criteria(raw.get("criteria"), f"{where}.criteria", problems)
    if tier is None or criteria is None or not isinstance(badge_id, str):
        return None
    return Badge(badge_id, str(raw.get("name_ko", "")), str(raw.get("name_en", "")), tier,
                 str(raw.get("description", "")).strip(), criteria)


def parse_rules(document: object, path: Path | str = RULES_PATH) -> Rules:
    """Validate a parsed rules document; BadgeRuleError lists every problem found."""
    problems = _Problems()
    if not isinstance(document, dict):
        raise BadgeRuleError(path, [f"the file must be a mapping with {_choices(TOP_LEVEL_KEYS)}"])
    for extra in sorted(set(document) - set(TOP_LEVEL_KEYS)):
        problems.add(extra, f"unknown top-level key (allowed: {_choices(TOP_LEVEL_KEYS)})")
    points = _parse_points(document.get("points"), problems)
    presence = _parse_presence(document.get("presence"), problems)
    tiers = _parse_tiers(document.get("tiers"), problems)
    raw_badges = document.get("badges")
    badges: list[Badge] = []
    if not isinstance(raw_badges, list) or not raw_badges:
        problems.add("badges", "must be a non-empty list of badges")
    else:
        seen: set[str] = set()
        for index, raw in enumerate(raw_badges):
            badge = _parse_badge(raw, index, tiers, seen, problems)
            if badge is not None:
                badges.append(badge)
    if problems.items:
        raise BadgeRuleError(path, problems.items)
    return Rules(points, presence, tiers, tuple(badges))


def load_rules(path: Path = RULES_PATH) -> Rules:
    """Read and validate the rules file."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise BadgeRuleError(path, [f"not valid YAML: {exc}"]) from None
    return parse_rules(document, path)


@lru_cache(maxsize=1)
def default_rules() -> Rules:
    """The project's rules, read once per process (the API and the sensor call this)."""
    return load_rules(RULES_PATH)


# ------------------------------------------------------------------------------------ SQL
def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _condition(column: str, values: tuple[Any, ...]) -> str:
    if isinstance(values[0], bool):
        return f"{column} is {_literal(values[0])}"
    if len(values) == 1:
        return f"{column} = {_literal(values[0])}"
    return f"{column} in ({', '.join(_literal(v) for v in values)})"


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def rule_ctes(badge: Badge) -> str:
    """The CTEs that decide one badge: facts → running measure → the award (first fact at threshold)."""
    c, name = badge.criteria, f"badge_{badge.id}"
    group = c.per or "''"
    conditions = [_condition(column, values) for column, values in c.where]
    if c.measure_column and c.measure == "distinct":
        conditions.append(f"{c.measure_column} is not null")
    if c.per:
        conditions.append(f"{c.per} is not null")
    if c.measure == "distinct":  # the first occurrence of each value counts 1
        amount = (f"case\n            when row_number() over (\n                partition by user_id, {group}, "
                  f"{c.measure_column}\n                order by fact_at, fact_id\n            ) = 1 then 1\n"
                  "            else 0\n        end")
    elif c.measure == "sum":
        amount = f"coalesce({c.measure_column}, 0)"
    else:
        amount = "1"
    if c.within_days:
        frame = f"order by fact_at\n            range between interval '{c.within_days} days' preceding and current row"
    else:
        frame = "order by fact_at, fact_id\n            rows between unbounded preceding and current row"
    threshold = _number(c.at_least)
    where_sql = "\n        and ".join(conditions) if conditions else "true"
    return f"""{name}_facts as (
    -- {badge.id}: {badge.name_en}
    select
        user_id,
        fact_id,
        fact_at,
        ({group})::text as group_key,
        ({amount})::numeric as amount
    from {c.of}_facts
    where
        {where_sql}
),

{name}_running as (
    select
        user_id,
        fact_at,
        sum(amount) over (
            partition by user_id, group_key
            {frame}
        ) as running_value,
        sum(amount) over (partition by user_id, group_key) as group_total
    from {name}_facts
),

{name} as (
    select
        user_id,
        {_literal(badge.id)}::text as badge_id,
        min(fact_at) filter (where running_value >= {threshold}) as awarded_at,
        max(group_total) filter (where running_value >= {threshold}) as evidence_count
    from {name}_running
    group by user_id
    having bool_or(running_value >= {threshold})
)"""


def _awards_union(badges: Sequence[Badge]) -> str:
    parts = [f"    select\n        user_id,\n        badge_id,\n        awarded_at,\n        evidence_count\n"
             f"    from badge_{b.id}" for b in badges]
    return "awards as (\n" + "\n    union all\n".join(parts) + "\n)"


# Facts over events: one per activity event, with what the rules filter on. Used verbatim by the
# dbt model (over staging/marts) and by the one-user evaluation (over raw and app tables).
EVENTS_FACTS = """events_facts as (
    select
        events.event_id::text as fact_id,
        events.user_id,
        events.occurred_at as fact_at,
        events.event_type,
        events.mission_id,
        missions.mission_type,
        coalesce(events.region_code, missions.region_code)::text as region_code,
        regions.sido_code::text as sido_code,
        coalesce(regions.is_decline_area, false) as is_decline_area,
        coalesce(events.payload ->> 'accepted' = 'true', false) as is_accepted,
        case
            when jsonb_typeof(events.payload -> 'hours') = 'number'
                then least(greatest((events.payload ->> 'hours')::numeric, 0), {hours_cap})
        end as hours
    from events
    left join missions on events.mission_id = missions.mission_id
    left join regions on coalesce(events.region_code, missions.region_code) = regions.region_code
)"""


def _events_facts(rules: Rules) -> str:
    return EVENTS_FACTS.replace("{hours_cap}", _number(rules.points.volunteer_hours_cap))


def _badge_values(rules: Rules) -> str:
    rows = ",\n".join(
        f"        ({_literal(b.id)}, {_literal(b.name_ko)}, {_literal(b.name_en)}, {_literal(b.tier.key)}, "
        f"{b.tier.level}, {b.tier.bonus_points}, {_literal(b.criteria.of)})" for b in rules.badges)
    return f"""badges as (
    select * from (
        values
{rows}
    ) as declared (badge_id, badge_name_ko, badge_name_en, tier, tier_level, bonus_points, rule_source)
)"""


# The inputs of the facts in dbt (staging and marts) and for one user (raw and app tables).
DBT_INPUTS = """events as (
    select * from {{ ref('stg_raw__activity_events') }}
),

missions as (
    select
        mission_id,
        mission_type,
        region_code
    from {{ ref('stg_app__missions') }}
),

regions as (
    select
        region_code,
        sido_code,
        is_decline_area
    from {{ ref('dim_region') }}
),

stay_days_facts as (
    select
        user_id,
        region_code || ':' || stay_date::text as fact_id,
        stay_reached_at as fact_at,
        region_code,
        sido_code,
        is_decline_area,
        stay_date,
        minutes_present
    from {{ ref('int_stay_days__summed') }}
    where is_stay_day
)"""

ONE_USER_INPUTS = """events as (
    select * from raw.activity_events where user_id = any(cast(:user_ids as uuid[]))
),

missions as (
    select id as mission_id, mission_type, region_code from app.missions
),

regions as (
    select
        regions.region_code,
        regions.sido_code,
        coalesce(decline_areas.category = 'decline', false) as is_decline_area
    from raw.regions
    left join raw.decline_areas on regions.region_code = decline_areas.region_code
)"""

DBT_FINAL = """final as (
    select
        {{ pseudonymize('awards.user_id') }}::text as user_key,
        awards.badge_id::text as badge_id,
        badges.badge_name_ko::text as badge_name_ko,
        badges.badge_name_en::text as badge_name_en,
        badges.tier::text as tier,
        badges.tier_level::smallint as tier_level,
        badges.bonus_points::integer as bonus_points,
        badges.rule_source::text as rule_source,
        awards.awarded_at::timestamptz as awarded_at,
        awards.evidence_count::numeric(14, 2) as evidence_count,
        now()::timestamptz as computed_at
    from awards
    inner join badges on awards.badge_id = badges.badge_id
)"""

MODEL_HEADER = """\
-- GENERATED from dbt/badges.yml by `python -m core.badges compile` (core/badges.py): do not edit.
-- One row per user and badge earned: when the rule was first satisfied (the time of the fact that
-- made its measure reach the threshold) and the measure over all qualifying facts (computed_at:
-- when this table was built, so awards issued later by the API are compared on the next build).
-- Built after the model its relationships test reads (a subset build runs that test with this
-- model, never before it exists: assets/warehouse/assets.py):
-- depends_on: {{ ref('dim_user') }}
"""


def compile_model(rules: Rules) -> str:
    """The dbt model marts.fct_badge_awards for these rules (what `compile` writes)."""
    ctes = [DBT_INPUTS, _events_facts(rules), _badge_values(rules), *[rule_ctes(b) for b in rules.badges],
            _awards_union(rules.badges), DBT_FINAL]
    return MODEL_HEADER + "with\n\n" + ",\n\n".join(ctes) + "\n\nselect * from final\n"


def _event_types(badges: Sequence[Badge]) -> list[str] | None:
    """The event types these rules count, or None when one of them counts events of any type."""
    types: set[str] = set()
    for badge in badges:
        named = dict(badge.criteria.where).get("event_type")
        if named is None:
            return None
        types.update(str(t) for t in named)
    return sorted(types)


def one_user_sql(rules: Rules) -> str:
    """The awards of the real-time rules for some users (:user_ids, an array), over raw and app tables.

    Only the event types the rules count are read: every rule filters on its types anyway, and the API
    runs this after each completion over the users' whole history (enrolments and step reports, half of
    a mission's events, counted for no rule)."""
    realtime = [b for b in rules.badges if b.realtime]
    inputs, types = ONE_USER_INPUTS, _event_types(realtime)
    if types is not None:
        every = "where user_id = any(cast(:user_ids as uuid[]))"
        assert every in inputs
        inputs = inputs.replace(every, f"{every}\n        and event_type in ({', '.join(map(_literal, types))})")
    ctes = [inputs, _events_facts(rules), *[rule_ctes(b) for b in realtime], _awards_union(realtime)]
    return "with\n\n" + ",\n\n".join(ctes) + "\n\nselect user_id, badge_id, awarded_at, evidence_count from awards\n"


# ------------------------------------------------------------------------------------ issuing
@dataclass(frozen=True)
class Award:
    """A badge earned by a user (what the API pushes and returns)."""

    user_id: uuid.UUID
    badge_id: str
    name_ko: str
    name_en: str
    tier: str
    bonus_points: int
    awarded_at: datetime
    evidence_count: Decimal
    issued_via: str  # api | sensor
    notification_id: int | None = None


@dataclass
class IssueSummary:
    """What one sensor pass did."""

    candidates: int = 0
    issued: list[Award] = field(default_factory=list)
    already_issued: int = 0
    unknown_users: int = 0


def pseudonym_salt() -> str:
    """The salt of the pseudonymous user keys (the same variable as the dbt macro reads)."""
    return os.environ.get("HOMETOWN_PSEUDONYM_SALT", PSEUDONYM_SALT_DEFAULT)


def user_key(user_id: uuid.UUID | str) -> str:
    """The key of a user in the marts: md5(salt || ':' || user id)."""
    return hashlib.md5(f"{pseudonym_salt()}:{user_id}".encode()).hexdigest()


def issue_award(conn: Connection, user_id: uuid.UUID | str, badge: Badge, awarded_at: datetime,
                evidence_count: Decimal | float | int, issued_via: str) -> Award | None:
    """Record an award and notify the user, once: None when this user already has this badge.

    Runs in the caller's transaction. The primary key (user_id, badge_id) decides the race between
    the API and the sensor (the second insert waits for the first to commit, then does nothing);
    the notification's dedupe key 'badge:<user>:<badge>' makes the push once-only as well.
    """
    row = conn.execute(text(
        "insert into app.badge_awards (user_id, badge_id, tier, awarded_at, evidence_count, issued_via) "
        "values (cast(:user_id as uuid), :badge_id, :tier, :awarded_at, :evidence, :via) "
        "on conflict (user_id, badge_id) do nothing returning user_id"),
        {"user_id": str(user_id), "badge_id": badge.id, "tier": badge.tier.key, "awarded_at": awarded_at,
         "evidence": Decimal(str(evidence_count)), "via": issued_via}).first()
    if row is None:
        return None
    data = {"badge_id": badge.id, "name_ko": badge.name_ko, "name_en": badge.name_en, "tier": badge.tier.key,
            "tier_name_ko": badge.tier.name_ko, "bonus_points": badge.tier.bonus_points,
            "awarded_at": awarded_at.isoformat()}
    notification_id = notify(conn, user_id, NOTIFICATION_KIND, f"배지 획득: {badge.name_ko}", badge.description,
                             data, dedupe_key=f"badge:{user_id}:{badge.id}")
    return Award(uuid.UUID(str(user_id)), badge.id, badge.name_ko, badge.name_en, badge.tier.key,
                 badge.tier.bonus_points, awarded_at, Decimal(str(evidence_count)), issued_via, notification_id)


_PREPARED_SQL: dict[int, tuple[Rules, str]] = {}


def _evaluate(conn: Connection, rules: Rules, user_ids: list[str]) -> list[Any]:
    """The real-time rules' awards of these users, as a prepared statement with a generic plan.

    Planning this statement (a CTE per rule) takes about 1.1 ms and running it for one user about 0.25 ms:
    the API evaluates it after every completion, so the plan is made once per connection and kept.
    """
    cached = _PREPARED_SQL.get(id(rules))
    if cached is None or cached[0] is not rules:
        sql = one_user_sql(rules).replace("cast(:user_ids as uuid[])", "%(user_ids)s::uuid[]")
        cached = _PREPARED_SQL[id(rules)] = (rules, sql)
    pg = conn.connection.driver_connection
    if not isinstance(pg, psycopg.Connection):
        return list(conn.execute(text(one_user_sql(rules)), {"user_ids": user_ids}).all())
    pg.execute("set local plan_cache_mode = force_generic_plan")
    with pg.cursor(row_factory=namedtuple_row) as cur:
        return cur.execute(cached[1], {"user_ids": user_ids}, prepare=True).fetchall()


def award_for_user(conn: Connection, user_id: uuid.UUID | str, rules: Rules | None = None) -> list[Award]:
    """Evaluate the event rules for one user now and issue what is newly earned (the API's path).

    Reads the user's events in raw.activity_events (so call it after the completion's event is
    appended, in the same transaction or after its commit); returns only the awards issued by this
    call, each with its tier's bonus points (for the real-time boards).
    """
    return award_for_users(conn, [user_id], rules)


def award_for_users(conn: Connection, user_ids: Sequence[uuid.UUID | str], rules: Rules | None = None) -> list[Award]:
    """`award_for_user` for several users in two statements (the API's after-commit thread passes the users
    of every completion that queued up while it worked)."""
    rules = rules or default_rules()
    ids = sorted({str(u) for u in user_ids})
    if not ids:
        return []
    found = _evaluate(conn, rules, ids)
    if not found:
        return []
    held = {(str(r.user_id), r.badge_id) for r in conn.execute(text(
        "select user_id, badge_id from app.badge_awards where user_id = any(cast(:user_ids as uuid[]))"),
        {"user_ids": ids})}
    issued = []
    for row in sorted(found, key=lambda r: (str(r.user_id), r.awarded_at, r.badge_id)):
        if (str(row.user_id), row.badge_id) in held:
            continue
        award = issue_award(conn, row.user_id, rules.badge(row.badge_id), row.awarded_at, row.evidence_count, "api")
        if award is not None:
            issued.append(award)
    return issued


MART_CANDIDATES = """
select users.id as user_id, marts_awards.badge_id, marts_awards.awarded_at, marts_awards.evidence_count
from marts.fct_badge_awards as marts_awards
inner join app.users as users on md5(:salt || users.id::text) = marts_awards.user_key
where not exists (
    select 1 from app.badge_awards as issued
    where issued.user_id = users.id and issued.badge_id = marts_awards.badge_id
)
order by marts_awards.awarded_at, users.id, marts_awards.badge_id
"""


def issue_from_mart(conn: Connection, rules: Rules | None = None) -> IssueSummary:
    """Issue every award of marts.fct_badge_awards not issued yet (the sensor's path).

    User keys are mapped back to accounts here, in SQL, with the same salted hash the mart used;
    the mart itself never holds a user id. Re-running issues nothing twice.
    """
    rules = rules or default_rules()
    summary = IssueSummary()
    summary.unknown_users = int(conn.execute(text(
        "select count(*) from marts.fct_badge_awards a where not exists "
        "(select 1 from app.users u where md5(:salt || u.id::text) = a.user_key)"),
        {"salt": pseudonym_salt() + ":"}).scalar_one())
    known = {b.id: b for b in rules.badges}
    for row in conn.execute(text(MART_CANDIDATES), {"salt": pseudonym_salt() + ":"}).all():
        summary.candidates += 1
        badge = known.get(row.badge_id)
        if badge is None:  # a rule removed since the mart was built: nothing to issue
            continue
        award = issue_award(conn, row.user_id, badge, row.awarded_at, row.evidence_count, "sensor")
        if award is None:
            summary.already_issued += 1
        else:
            summary.issued.append(award)
    return summary


@dataclass(frozen=True)
class AwardsAgreement:
    """How app.badge_awards and the awards mart compare (the asset check's evidence)."""

    mart_count: int
    issued_count: int
    missing_in_app: int  # mart awards of known users not issued
    missing_in_mart: int  # issued before the mart was computed, yet absent from it

    @property
    def passed(self) -> bool:
        return self.missing_in_app == 0 and self.missing_in_mart == 0


def compare_with_mart(conn: Connection) -> AwardsAgreement:
    """mart ⊆ app (after issuing) and app ⊆ mart for awards issued before the mart was computed.

    Awards the API issued after the mart's last build are not in it yet; they are compared on the
    next run, when the mart has seen their events.
    """
    params = {"salt": pseudonym_salt() + ":"}
    mart_count = int(conn.execute(text("select count(*) from marts.fct_badge_awards")).scalar_one())
    issued_count = int(conn.execute(text("select count(*) from app.badge_awards")).scalar_one())
    missing_in_app = int(conn.execute(text(
        "select count(*) from (" + MART_CANDIDATES + ") as candidates"), params).scalar_one())
    missing_in_mart = int(conn.execute(text("""
        select count(*) from app.badge_awards as issued
        where issued.issued_at < coalesce((select max(computed_at) from marts.fct_badge_awards), '-infinity')
          and not exists (
            select 1 from marts.fct_badge_awards as marts_awards
            where marts_awards.user_key = md5(:salt || issued.user_id::text)
              and marts_awards.badge_id = issued.badge_id)"""), params).scalar_one())
    return AwardsAgreement(mart_count, issued_count, missing_in_app, missing_in_mart)


def compile_macro(rules: Rules) -> str:
    """The dbt macro loop_rule(name): the numbers of the rules file (and the boards' daily cap of
    core.ranking) for the ledger and stay-day models, so dbt and Python never disagree on them."""
    numbers = {
        "volunteer_points_per_hour": str(rules.points.volunteer_points_per_hour),
        "volunteer_hours_cap": _number(rules.points.volunteer_hours_cap),
        "daily_points_cap": str(DAILY_POINTS_CAP),
        "stay_day_minutes": str(rules.presence.stay_day_minutes),
        "max_gap_minutes": str(rules.presence.max_gap_minutes),
    }
    body = ",\n".join(f"        '{k}': {v}" for k, v in numbers.items())
    return f"""{{#- GENERATED from dbt/badges.yml (and core.ranking.DAILY_POINTS_CAP) by
    `python -m core.badges compile` (core/badges.py): do not edit. The numbers the loop models use:
    points per confirmed volunteer hour and the hours one confirmation counts at most, the mission
    points a user can earn per Korean day, the minutes that make a stay day and the longest gap
    between two verified proofs still counted as presence. -#}}
{{% macro loop_rule(name) -%}}
    {{%- set numbers = {{
{body}
    }} -%}}
    {{%- if name not in numbers -%}}
        {{{{ exceptions.raise_compiler_error("loop_rule: unknown rule '" ~ name ~ "'") }}}}
    {{%- endif -%}}
    {{{{ return(numbers[name]) }}}}
{{%- endmacro %}}
"""


# ------------------------------------------------------------------------------------ CLI
def generated_files(rules: Rules) -> dict[Path, str]:
    """What `compile` writes: the awards model and the rules macro."""
    return {MODEL_PATH: compile_model(rules), MACRO_PATH: compile_macro(rules)}


def stale_files(rules: Rules) -> list[Path]:
    """Generated files whose content differs from what the rules compile to."""
    return [path for path, content in generated_files(rules).items()
            if not path.exists() or path.read_text(encoding="utf-8") != content]


def write_generated(rules: Rules | None = None) -> list[Path]:
    """Write the generated files; returns those whose content changed."""
    rules = rules or load_rules()
    changed = stale_files(rules)
    for path in changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(generated_files(rules)[path], encoding="utf-8")
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.badges", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["compile", "check"],
                        help="compile: write the dbt model; check: fail when it is not current")
    args = parser.parse_args(argv)
    try:
        rules = load_rules()
    except BadgeRuleError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.command == "check":
        stale = stale_files(rules)
        for path in stale:
            print(f"{path.relative_to(ROOT)} is STALE: run `python -m core.badges compile`")
        return 1 if stale else 0
    changed = write_generated(rules)
    for path in generated_files(rules):
        print(f"{path.relative_to(ROOT)}: {'written' if path in changed else 'unchanged'}")
    print(f"{len(rules.badges)} badges compiled")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
