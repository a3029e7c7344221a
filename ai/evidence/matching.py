"""Ranking certified people for regional needs, with reasons and an exposure-aware fairness pass.

For each open need, every person certified in the need's skill is scored on:
- tier fit: at or above the tier wanted (one level below is kept, at half weight);
- proximity: the nearest of their hometown, their home and the regions they were active in recently,
  to the need's place (exp(-km / 60): 0 km → 1, 60 km → 0.37);
- availability: no accepted engagement overlapping the need's dates;
- history similarity: character-bigram profile of their certified work against the need's text.
Then a fairness pass walks the needs oldest first and divides each person's score by
(1 + λ · exposure), where exposure counts how often they were already ranked near the top (in this
run, and invitations in the last weeks), so the same few people are not first everywhere.

Vectorised per skill with numpy (distances on an equirectangular projection, exact enough inside
Korea for ranking), so 10,000 needs × 100,000 people take seconds, not hours.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Connection, text

TIER_LABELS_KO = {1: "기초", 2: "숙련", 3: "전문"}
PROXIMITY_KM = 60.0
WEIGHTS = {"tier": 0.30, "proximity": 0.35, "availability": 0.15, "similarity": 0.20}
FAIRNESS_LAMBDA = 0.15
TOP_K = 20
EXPOSED_RANKS = 3  # appearing in the first three counts as exposure
SIM_DIM = 64
_KM_PER_DEG_LAT = 110.57
_KM_PER_DEG_LON = 111.32 * math.cos(math.radians(36.5))  # Korea's middle latitude
SEOUL = ZoneInfo("Asia/Seoul")

# A need takes people (matching, invitations, applications) while it is open and its last day has not
# passed in Korea. SQL reading the need as `n`, with today (`seoul_today`) as `:today`.
OPEN_NEED_SQL = "n.status = 'open' and (n.ends_on is null or n.ends_on >= :today)"


def seoul_today(now: datetime | None = None) -> date:
    """Today's date in Korea (needs' dates are Korean calendar days)."""
    return (now or datetime.now(UTC)).astimezone(SEOUL).date()


@dataclass(frozen=True)
class Need:
    id: str
    skill: str
    tier_wanted: int
    lat: float
    lon: float
    region_name: str
    text: str
    starts_on: date | None = None
    ends_on: date | None = None


@dataclass(frozen=True)
class Place:
    lat: float
    lon: float
    label: str  # e.g. "고향 의성군", "최근 활동 안동시"


@dataclass(frozen=True)
class Candidate:
    user_id: str
    skill: str
    tier: int
    places: Sequence[Place]
    history_text: str = ""
    busy: Sequence[tuple[date, date]] = field(default_factory=tuple)  # accepted engagements' dates
    prior_exposure: float = 0.0


@dataclass(frozen=True)
class Match:
    need_id: str
    user_id: str
    rank: int
    score: float
    base_score: float
    distance_km: float | None
    tier: int
    reasons: list[str]
    components: dict[str, float]


_WORD = re.compile(r"\w+")


@lru_cache(maxsize=200_000)
def _word_buckets(word: str, dim: int) -> tuple[int, ...]:
    return tuple(zlib.crc32(word[i:i + 2].encode()) % dim for i in range(max(1, len(word) - 1)))


def text_vector(text: str, dim: int = SIM_DIM) -> np.ndarray:
    """Hashed character bigrams (Korean words share stems this way), L2-normalised."""
    buckets = [b for word in _WORD.findall(text.lower()) for b in _word_buckets(word, dim)]
    vec = np.bincount(buckets, minlength=dim).astype(np.float32) if buckets else np.zeros(dim, np.float32)
    norm = float(np.sqrt(vec @ vec))
    return vec / norm if norm else vec


def _xy(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return lon * _KM_PER_DEG_LON, lat * _KM_PER_DEG_LAT


@dataclass
class _SkillPool:
    """The candidates of one skill as arrays: places padded to the same count per person."""

    candidates: list[Candidate]
    tiers: np.ndarray
    xs: np.ndarray  # (people, places), +inf where a person has fewer places
    ys: np.ndarray
    vectors: np.ndarray  # (people, SIM_DIM)
    busy_person: np.ndarray  # one entry per busy interval: whose, from, to (date ordinals)
    busy_from: np.ndarray
    busy_to: np.ndarray

    @classmethod
    def build(cls, candidates: list[Candidate]) -> _SkillPool:
        width = max((len(c.places) for c in candidates), default=1) or 1
        lat = np.full((len(candidates), width), np.nan)
        lon = np.full((len(candidates), width), np.nan)
        for i, cand in enumerate(candidates):
            for j, place in enumerate(cand.places):
                lat[i, j], lon[i, j] = place.lat, place.lon
        xs, ys = _xy(lat, lon)
        vectors = np.stack([text_vector(c.history_text) for c in candidates]) if candidates else \
            np.zeros((0, SIM_DIM), dtype=np.float32)
        busy = [(i, start.toordinal(), end.toordinal()) for i, c in enumerate(candidates) for start, end in c.busy]
        person, start, end = (np.array(col, dtype=np.int64) for col in zip(*busy, strict=True)) if busy else (
            np.zeros(0, dtype=np.int64),) * 3
        return cls(candidates, np.array([c.tier for c in candidates]),
                   np.nan_to_num(xs, nan=1e6).astype(np.float32), np.nan_to_num(ys, nan=1e6).astype(np.float32),
                   vectors, person, start, end)

    def available(self, start: date | None, end: date | None) -> np.ndarray:
        """1 for people with no accepted engagement overlapping [start, end], else 0."""
        out = np.ones(len(self.candidates))
        if (start is None and end is None) or self.busy_person.size == 0:
            return out
        lo, hi = (start or end).toordinal(), (end or start).toordinal()  # type: ignore[union-attr]
        out[self.busy_person[(self.busy_from <= hi) & (lo <= self.busy_to)]] = 0.0
        return out


def _score_chunk(chunk: Sequence[Need], pool: _SkillPool) -> dict[str, np.ndarray]:
    """Score a batch of needs against every person of the pool at once: arrays of (needs, people).

    float32 and squared distances keep the inner loop to a few passes over memory; which place was
    the nearest is worked out later, for the top-ranked people only.
    """
    nx, ny = _xy(np.array([n.lat for n in chunk], dtype=np.float32), np.array([n.lon for n in chunk],
                                                                              dtype=np.float32))
    d2 = None
    for j in range(pool.xs.shape[1]):
        dx = pool.xs[:, j][None, :] - nx[:, None]
        dy = pool.ys[:, j][None, :] - ny[:, None]
        current = dx * dx + dy * dy
        d2 = current if d2 is None else np.minimum(d2, current, out=d2)
    assert d2 is not None
    km = np.sqrt(d2)
    gap = np.array([n.tier_wanted for n in chunk])[:, None] - pool.tiers[None, :]
    tier_fit = (gap <= 0).astype(np.float32) + 0.5 * (gap == 1)
    available = np.stack([pool.available(n.starts_on, n.ends_on) for n in chunk]).astype(np.float32)
    similarity = np.clip(np.stack([text_vector(n.text) for n in chunk]) @ pool.vectors.T, 0.0, 1.0)
    proximity = np.exp(km * np.float32(-1.0 / PROXIMITY_KM))
    base = (WEIGHTS["tier"] * tier_fit + WEIGHTS["proximity"] * proximity + WEIGHTS["availability"] * available
            + WEIGHTS["similarity"] * similarity)
    base[tier_fit == 0] = -1.0  # two levels short: not a candidate
    return {"base": base, "km": km, "tier_fit": tier_fit, "proximity": proximity, "available": available,
            "similarity": similarity}


def _nearest_place(need: Need, cand: Candidate) -> int:
    """Index of the candidate's place nearest to the need (a handful of places: plain Python is fastest)."""
    def d2(place: Place) -> float:
        return ((place.lon - need.lon) * _KM_PER_DEG_LON) ** 2 + ((place.lat - need.lat) * _KM_PER_DEG_LAT) ** 2

    return min(range(len(cand.places)), key=lambda j: d2(cand.places[j]))


def _reasons(need: Need, cand: Candidate, parts: dict[str, np.ndarray], i: int, exposure: float) -> list[str]:
    tier_text = f"{need.skill} {TIER_LABELS_KO[cand.tier]}({cand.tier}단계) 인증"
    if cand.tier >= need.tier_wanted:
        reasons = [f"{tier_text}: 요청 등급 {need.tier_wanted} 충족"]
    else:
        reasons = [f"{tier_text}: 요청 등급 {need.tier_wanted}보다 한 단계 낮음"]
    if cand.places:
        place = cand.places[_nearest_place(need, cand)]
        reasons.append(f"{place.label}에서 약 {parts['km'][i]:.0f} km")
    reasons.append("요청 기간에 다른 확정 일정 없음" if parts["available"][i] else "요청 기간에 다른 확정 일정이 있음")
    if parts["similarity"][i] >= 0.3:
        reasons.append(f"요청 내용과 비슷한 인증 작업 이력 (유사도 {parts['similarity'][i]:.2f})")
    if exposure > 0:
        reasons.append(f"최근 상위 추천 {exposure:.0f}회: 다른 사람에게도 기회가 가도록 점수 조정")
    return reasons


def rank_needs(needs: Sequence[Need], candidates: Sequence[Candidate], top_k: int = TOP_K,
               fairness: float = FAIRNESS_LAMBDA, chunk_size: int = 64) -> list[Match]:
    """Top-k candidates per need with reasons; within a skill, needs are taken in the given order
    (oldest first), so earlier needs see less exposure discount than later ones."""
    by_skill: dict[str, list[Candidate]] = {}
    for cand in candidates:
        by_skill.setdefault(cand.skill, []).append(cand)
    needs_by_skill: dict[str, list[Need]] = {}
    for need in needs:
        if by_skill.get(need.skill):
            needs_by_skill.setdefault(need.skill, []).append(need)
    matches: list[Match] = []
    for skill, skill_needs in needs_by_skill.items():
        pool = _SkillPool.build(by_skill[skill])
        seen = np.array([c.prior_exposure for c in pool.candidates], dtype=np.float64)
        for start in range(0, len(skill_needs), chunk_size):
            chunk = skill_needs[start:start + chunk_size]
            parts = _score_chunk(chunk, pool)
            for row, need in enumerate(chunk):
                matches += _rank_one(need, pool, {k: v[row] for k, v in parts.items()}, seen, top_k, fairness)
    return matches


def _rank_one(need: Need, pool: _SkillPool, parts: dict[str, np.ndarray], seen: np.ndarray, top_k: int,
              fairness: float) -> list[Match]:
    base = parts["base"]
    final = np.where(base > 0, base / (1.0 + fairness * seen), -1.0)
    k = min(top_k, int((final > 0).sum()))
    if k == 0:
        return []
    top = np.argpartition(-final, k - 1)[:k] if k < len(final) else np.arange(len(final))
    top = top[np.argsort(-final[top], kind="stable")][:k]
    out = []
    for rank, i in enumerate(top.tolist(), start=1):
        cand = pool.candidates[i]
        components = {"tier_fit": float(parts["tier_fit"][i]), "proximity": round(float(parts["proximity"][i]), 4),
                      "available": float(parts["available"][i]), "similarity": round(float(parts["similarity"][i]), 4),
                      "exposure": float(seen[i])}
        out.append(Match(need.id, cand.user_id, rank, round(float(final[i]), 5), round(float(base[i]), 5),
                         round(float(parts["km"][i]), 2) if cand.places else None, cand.tier,
                         _reasons(need, cand, parts, i, float(seen[i])), components))
    seen[top[:EXPOSED_RANKS]] += 1.0
    return out


# ---------------------------------------------------------------------------------- the database
PRESENCE_DAYS = 90
EXPOSURE_DAYS = 30


def load_needs(conn: Connection, today: date, need_id: str | None = None) -> list[Need]:
    """Needs still open on `today` (ended ones are not matched), oldest first, placed at their point or
    their 시군구's centre; just one of them with `need_id`."""
    rows = conn.execute(text(
        "select n.id, n.skill, n.tier_wanted, coalesce(n.lat, r.centroid_lat) as lat, "
        "       coalesce(n.lon, r.centroid_lon) as lon, coalesce(r.sgg_name, n.region_code) as region_name, "
        "       n.title || ' ' || n.description as body, n.starts_on, n.ends_on "
        "from app.regional_needs n left join raw.regions r on r.region_code = n.region_code "
        f"where {OPEN_NEED_SQL} and coalesce(n.lat, r.centroid_lat) is not null "
        "  and (cast(:need as uuid) is null or n.id = cast(:need as uuid)) order by n.created_at"),
        {"today": today, "need": need_id}).all()
    return [Need(str(r.id), r.skill, r.tier_wanted, r.lat, r.lon, r.region_name, r.body, r.starts_on, r.ends_on)
            for r in rows]


def load_candidates(conn: Connection, now: datetime, skill: str | None = None) -> list[Candidate]:
    """Everyone with a current tier (in `skill`, if given): places (hometown, home, recent activity), history,
    busy dates, exposure."""
    since = now - timedelta(days=PRESENCE_DAYS)
    tiered = "select t.user_id from app.user_skill_tiers t where cast(:skill as text) is null or t.skill = :skill"
    places: dict[str, list[Place]] = {}
    for r in conn.execute(text(
            "select u.id, 'hometown' as kind, r.sgg_name, r.centroid_lat, r.centroid_lon from app.users u "
            "join raw.regions r on r.region_code = u.hometown_region_code "
            f"where u.is_active and u.id in ({tiered}) "
            "union all "
            "select u.id, 'home', r.sgg_name, r.centroid_lat, r.centroid_lon from app.users u "
            "join raw.regions r on r.region_code = u.home_region_code "
            f"where u.is_active and u.id in ({tiered}) "
            "union all "
            "select p.user_id, 'recent', r.sgg_name, r.centroid_lat, r.centroid_lon from ("
            "  select e.user_id, e.region_code, row_number() over (partition by e.user_id "
            "         order by max(e.occurred_at) desc) as n "
            "  from raw.activity_events e where e.occurred_at >= :since and e.region_code is not null "
            f"    and e.user_id in ({tiered}) group by e.user_id, e.region_code) p "
            "join raw.regions r on r.region_code = p.region_code where p.n <= 3"), {"since": since, "skill": skill}):
        label = {"hometown": "고향", "home": "거주지", "recent": "최근 활동 지역"}[r.kind]
        places.setdefault(str(r.id), []).append(Place(r.centroid_lat, r.centroid_lon, f"{label} {r.sgg_name}"))
    busy: dict[str, list[tuple[date, date]]] = {}
    for r in conn.execute(text(
            "select e.user_id, n.starts_on, coalesce(n.ends_on, n.starts_on) as ends_on "
            "from app.need_engagements e join app.regional_needs n on n.id = e.need_id "
            "where e.status = 'accepted' and n.starts_on is not null")):
        busy.setdefault(str(r.user_id), []).append((r.starts_on, r.ends_on))
    exposure = {str(r.user_id): float(r.n) for r in conn.execute(text(
        "select user_id, count(*) as n from app.need_engagements where kind = 'invite' and created_at >= :since "
        "group by user_id"), {"since": now - timedelta(days=EXPOSURE_DAYS)})}
    rows = conn.execute(text(
        "select t.user_id, t.skill, t.tier, coalesce(string_agg(s.description, ' '), '') as history "
        "from app.user_skill_tiers t join app.users u on u.id = t.user_id and u.is_active "
        "left join app.certification_submissions s on s.user_id = t.user_id and s.skill = t.skill "
        "     and s.status = 'approved' "
        "where cast(:skill as text) is null or t.skill = :skill "
        "group by t.user_id, t.skill, t.tier order by t.user_id, t.skill"), {"skill": skill}).all()
    return [Candidate(str(r.user_id), r.skill, r.tier, places.get(str(r.user_id), []), r.history,
                      tuple(busy.get(str(r.user_id), [])), exposure.get(str(r.user_id), 0.0)) for r in rows]


def write_matches(conn: Connection, matches: Sequence[Match], now: datetime) -> int:
    """Replace serving.need_matches with this run's ranking (in the caller's transaction)."""
    conn.execute(text("delete from serving.need_matches"))
    if matches:
        region_of = {str(r.id): r.region_code for r in conn.execute(text(
            "select id, region_code from app.regional_needs where status = 'open'"))}
        conn.execute(text(
            "insert into serving.need_matches (need_id, user_id, rank, score, base_score, distance_km, tier, "
            "reasons, components, region_code, computed_at) values (:need_id, :user_id, :rank, :score, "
            ":base_score, :distance_km, :tier, :reasons, cast(:components as jsonb), :region_code, :computed_at)"),
            [{"need_id": m.need_id, "user_id": m.user_id, "rank": m.rank, "score": m.score,
              "base_score": m.base_score, "distance_km": m.distance_km, "tier": m.tier, "reasons": m.reasons,
              "components": json.dumps(m.components), "region_code": region_of[m.need_id], "computed_at": now}
             for m in matches])
    return len(matches)


def run_matching(conn: Connection, now: datetime | None = None, top_k: int = TOP_K) -> list[Match]:
    """Load, rank and write; what the matching asset does."""
    now = now or datetime.now(UTC)
    matches = rank_needs(load_needs(conn, seoul_today(now)), load_candidates(conn, now), top_k=top_k)
    write_matches(conn, matches, now)
    return matches


def match_one_need(conn: Connection, need_id: str, now: datetime | None = None, top_k: int = TOP_K) -> list[Match]:
    """Rank the people for one need now, without writing: for a need posted after the last run. Only the
    need's skill is loaded (one need × that skill's people); exposure counts past invitations only, as
    there is no run to share it with. Empty when the need is not open (see OPEN_NEED_SQL)."""
    now = now or datetime.now(UTC)
    needs = load_needs(conn, seoul_today(now), need_id)
    if not needs:
        return []
    return rank_needs(needs, load_candidates(conn, now, needs[0].skill), top_k=top_k)
