"""What the demo population does inside the app beyond its activity files: the community (posts,
comments, mentoring, moderation), skill certifications with their evidence, reviews, credentials
and need engagements, and recommendation lists made inside the demo's history (so the weeks after
them show what they led to). All are made by the platform's own code (core.community_demo,
core.certify_demo, ai.recommend.demo) and dated inside the demo's history, so they run after its
events are loaded.

A second call with the demo unchanged does nothing unless forced; `remove_previous_demo` takes them
out when a new demo replaces the old one.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Engine, text

from core.settings import Settings, get_settings


@dataclass(frozen=True)
class ExtrasResult:
    skipped: bool
    community: dict[str, Any]
    certifications: dict[str, Any]
    seconds: float
    recommendations: dict[str, Any] = field(default_factory=dict)


def extras_exist(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(text(
            "select exists (select from app.posts p join app.users u on u.id = p.author_id where u.is_demo) "
            "and exists (select from app.certification_submissions s join app.users u on u.id = s.user_id "
            "where u.is_demo) "
            "and exists (select from serving.recommendation_log l join app.users u on u.id = l.user_id "
            "where u.is_demo and l.first_recommended_at < (select max(occurred_at) from raw.activity_events))"
        )).scalar())


def seed_extras(engine: Engine, seed: int, settings: Settings | None = None, force: bool = False) -> ExtrasResult:
    """The demo community, certifications and recommendations for the demo users (one transaction each)."""
    from ai.moderation import get_screen
    from ai.recommend.demo import seed_recommendations
    from core.certify_demo import seed_certifications
    from core.community_demo import seed_community

    started = time.monotonic()
    if not force and extras_exist(engine):
        return ExtrasResult(True, {}, {}, 0.0)
    with engine.connect() as conn:
        end = conn.execute(text("select max(occurred_at) from raw.activity_events")).scalar()
    with engine.begin() as conn:
        community = seed_community(conn, seed=seed, screen=get_screen(), now=end)
    certifications = seed_certifications(engine, seed=seed, settings=settings or get_settings())
    recommendations = seed_recommendations(engine)
    return ExtrasResult(False, asdict(community), asdict(certifications), round(time.monotonic() - started, 1),
                        asdict(recommendations) if recommendations else {})
