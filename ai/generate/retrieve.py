"""Retrieval for mission drafts: a region's open needs, spots, festivals, heritage, indicators, and
the policy passages that frame them.

The vector store ranks what is relevant (to the user's skills and interests, or to the region's
needs); the structured fields a mission needs (positions, dates, the skill of a need) are read from
the database by the ids it returned, so a draft never invents a place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from ai.recommend.data import UserRow
from ai.vectorstore import POLICY, REGIONAL, Hit

NEEDS_K = 4
PLACES_K = 6
POLICY_K = 3


@dataclass(frozen=True)
class Source:
    """A retrieved item a draft may cite."""

    id: str  # need:<uuid> | place:<place_id> | region:<code> | policy:<slug>:<n>
    kind: str  # need | tourist_spot | festival | heritage | indicators | policy
    title: str
    text: str
    lat: float | None = None
    lon: float | None = None
    skill: str | None = None
    place_name: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    url: str | None = None


@dataclass
class Context:
    region_code: str
    region_name: str
    is_decline_area: bool
    centroid: tuple[float, float]
    user: UserRow | None
    needs: list[Source] = field(default_factory=list)
    places: list[Source] = field(default_factory=list)
    indicators: Source | None = None
    policy: list[Source] = field(default_factory=list)

    def sources(self) -> dict[str, Source]:
        items = [*self.needs, *self.places, *self.policy, *([self.indicators] if self.indicators else [])]
        return {s.id: s for s in items}


class UnknownRegion(ValueError):
    pass


def _query_text(region_name: str, user: UserRow | None) -> str:
    words = [region_name]
    if user is not None:
        words += [f"{s} 재능기부" for s in user.skills] + list(user.interests)
    return " ".join(words)


def retrieve(conn: Connection, store: Any, region_code: str, user: UserRow | None = None) -> Context:
    """Everything a draft for `region_code` (and `user`) may stand on."""
    region = conn.execute(text("""
        select r.full_name, coalesce(d.category = 'decline', false), r.centroid_lat, r.centroid_lon
        from raw.regions r left join raw.decline_areas d using (region_code) where r.region_code = :c"""),
        {"c": region_code}).first()
    if region is None:
        raise UnknownRegion(f"no 시군구 has the code {region_code!r}")
    context = Context(region_code=region_code, region_name=region[0], is_decline_area=bool(region[1]),
                      centroid=(float(region[2]), float(region[3])), user=user)
    query = _query_text(region[0], user)
    need_hits = store.query(REGIONAL, query, NEEDS_K, where={"$and": [{"region_code": region_code},
                                                                       {"kind": "need"}]})
    place_hits = store.query(REGIONAL, query, PLACES_K, where={"$and": [
        {"region_code": region_code}, {"kind": {"$in": ["tourist_spot", "festival", "heritage"]}}]})
    context.needs = _needs(conn, need_hits)
    context.places = _places(conn, place_hits)
    indicators = store.query(REGIONAL, region[0], 1, where={"$and": [{"region_code": region_code},
                                                                      {"kind": "indicators"}]})
    if indicators:
        hit = indicators[0]
        context.indicators = Source(hit.id, "indicators", str(hit.metadata.get("title", region[0])), hit.text)
    policy_query = f"{region[0]} {'인구감소지역' if context.is_decline_area else ''} 생활인구 " + " ".join(
        s.skill or "" for s in context.needs)
    context.policy = [Source(h.id, "policy", f"{h.metadata.get('title', '')} — {h.metadata.get('section', '')}",
                             h.text, url=str(h.metadata.get("sources", "")).split(" ")[0] or None)
                      for h in store.query(POLICY, policy_query, POLICY_K)]
    return context


def _needs(conn: Connection, hits: list[Hit]) -> list[Source]:
    ids = [str(h.metadata.get("need_id")) for h in hits if h.metadata.get("need_id")]
    if not ids:
        return []
    rows = {r[0]: r for r in conn.execute(text("""
        select id::text, title, description, skill, place_name, lat, lon, starts_on, ends_on
        from app.regional_needs where id = any(cast(:ids as uuid[])) and status = 'open'"""), {"ids": ids})}
    return [Source(f"need:{r[0]}", "need", r[1], r[2] or r[1], r[5], r[6], r[3], r[4], r[7], r[8])
            for r in (rows.get(i) for i in ids) if r is not None]


def _places(conn: Connection, hits: list[Hit]) -> list[Source]:
    ids = [str(h.metadata.get("place_id")) for h in hits if h.metadata.get("place_id")]
    if not ids:
        return []
    rows = {r[0]: r for r in conn.execute(text("""
        select place_id, kind, name, coalesce(description, ''), lat, lon, starts_on, ends_on
        from raw.places where place_id = any(:ids)"""), {"ids": ids})}
    return [Source(f"place:{r[0]}", r[1], r[2], (r[3] or r[2])[:400], r[4], r[5], None, r[2], r[6], r[7])
            for r in (rows.get(i) for i in ids) if r is not None]
