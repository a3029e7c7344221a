"""The platform's own texts: missions, regional knowledge and policy documents, as documents.

One place builds them, so the embedding model is fitted on exactly what the vector collections
hold, and retrieval (recommendation content, mission drafts) reads the same words users see.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter
from sqlalchemy import Connection, text

from core.vocab import INTERESTS_KO, MISSION_TYPE_LABELS_KO, SKILLS_KO, USER_TYPE_LABELS_KO

POLICY_DIR = Path(__file__).resolve().parent / "policy_docs"
CHUNK_CHARS = 700
CHUNK_OVERLAP = 100
PLACE_TEXT_CHARS = 600  # heritage descriptions run long; retrieval needs the gist

Metadata = dict[str, str | int | float | bool]


@dataclass(frozen=True)
class Document:
    """A text with a stable id and flat metadata (what Chroma stores)."""

    id: str
    text: str
    metadata: Metadata = field(default_factory=dict)


@dataclass(frozen=True)
class PolicyDocument:
    slug: str
    title: str
    sources: list[str]
    as_of: str
    body: str

    @property
    def raw_text(self) -> str:
        return self.body


# ---------------------------------------------------------------------------------- policy documents
_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.S)


def _front_matter(raw: str) -> tuple[dict[str, Any], str]:
    """The small YAML subset our policy files use: `key: value` and `key:` with `- item` lines."""
    match = _FRONT.match(raw)
    if not match:
        return {}, raw
    meta: dict[str, Any] = {}
    key = ""
    for line in match.group(1).splitlines():
        if line.startswith("  - ") and key:
            meta.setdefault(key, []).append(line[4:].strip())
        elif ":" in line:
            key, _, value = line.partition(":")
            key = key.strip()
            if value.strip():
                meta[key] = value.strip()
    return meta, raw[match.end():]


def read_policy_documents(folder: Path = POLICY_DIR) -> list[PolicyDocument]:
    """Every `*.md` policy document except the README, in name order."""
    documents = []
    for path in sorted(folder.glob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        meta, body = _front_matter(path.read_text(encoding="utf-8"))
        missing = [k for k in ("title", "sources", "as_of") if not meta.get(k)]
        if missing:
            raise ValueError(f"policy document {path.name} lacks {', '.join(missing)} in its front matter")
        documents.append(PolicyDocument(slug=path.stem, title=str(meta["title"]), sources=list(meta["sources"]),
                                        as_of=str(meta["as_of"]), body=body.strip()))
    return documents


def chunk_policy_document(doc: PolicyDocument) -> list[Document]:
    """Split by Markdown headings, then by size; each chunk keeps its heading path and sources."""
    by_heading = MarkdownHeaderTextSplitter([("#", "h1"), ("##", "h2")], strip_headers=False)
    by_size = RecursiveCharacterTextSplitter(chunk_size=CHUNK_CHARS, chunk_overlap=CHUNK_OVERLAP)
    chunks = by_size.split_documents(by_heading.split_text(doc.body))
    out = []
    for number, chunk in enumerate(chunks, start=1):
        section = " > ".join(v for k, v in sorted(chunk.metadata.items()) if k in ("h1", "h2"))
        out.append(Document(
            id=f"policy:{doc.slug}:{number:03d}", text=chunk.page_content,
            metadata={"kind": "policy", "slug": doc.slug, "title": doc.title, "section": section,
                      "chunk_no": number, "sources": " ".join(doc.sources), "as_of": doc.as_of}))
    return out


def policy_chunks(folder: Path = POLICY_DIR) -> list[Document]:
    return [chunk for doc in read_policy_documents(folder) for chunk in chunk_policy_document(doc)]


# ---------------------------------------------------------------------------------- missions
def mission_text(title: str, mission_type: str, region_name: str, place_name: str | None, summary: str,
                 skills: Sequence[str], tags: Sequence[str]) -> str:
    """The words a mission is known by (also used for drafts and profiles, so they match)."""
    label = MISSION_TYPE_LABELS_KO.get(mission_type, mission_type)  # type: ignore[call-overload]
    parts = [title, f"{label} 미션", region_name]
    if place_name:
        parts.append(place_name)
    if skills:
        parts.append("필요 기술: " + ", ".join(skills))
    if tags:
        parts.append(" ".join(tags))
    if summary:
        parts.append(summary[:PLACE_TEXT_CHARS])
    return ". ".join(parts)


MISSIONS_SQL = """
    select m.id::text, m.title, m.mission_type, m.region_code, coalesce(r.full_name, m.region_code),
           m.place_name, m.summary, m.skills, m.tags
    from app.missions m left join raw.regions r using (region_code)
    where m.status = 'published'
    order by m.id
"""


def _rows(conn: Connection, sql: str) -> list[Any]:
    """Rows as plain tuples of Python values (typed Any: the SQL names the columns)."""
    return [tuple(r) for r in conn.execute(text(sql))]


def mission_documents(conn: Connection) -> list[Document]:
    """Published missions, one document each (id = mission id)."""
    return [Document(id=mid, text=mission_text(title, mtype, rname, place, summary or "", skills, tags),
                     metadata={"kind": "mission", "mission_type": mtype, "region_code": region})
            for mid, title, mtype, region, rname, place, summary, skills, tags in _rows(conn, MISSIONS_SQL)]


# ---------------------------------------------------------------------------------- regional knowledge
REGION_SQL = """
    select region_code, full_name, sgg_name, population_total, population_change_pct,
           people_65_plus_count, women_20_39_count, extinction_risk_index, extinction_risk_label_ko,
           is_decline_area, is_interest_area, empty_houses_count, tourist_spot_count, festival_count,
           heritage_count
    from marts.dim_region order by region_code
"""
PLACES_SQL = """
    select place_id, kind, name, region_code, coalesce(description, ''), category, starts_on, ends_on
    from raw.places where region_code is not null order by place_id
"""
NEEDS_SQL = """
    select n.id::text, n.region_code, n.title, n.description, n.skill, n.tier_wanted, n.place_name,
           n.starts_on, n.ends_on, n.headcount
    from app.regional_needs n where n.status = 'open' order by n.id
"""
PLACE_LABELS = {"tourist_spot": "관광지", "festival": "축제", "heritage": "문화유산"}


def _region_indicator_text(row: Sequence[Any]) -> str:
    (_, full_name, _, population, change, elderly, women, risk, risk_label, decline, interest, empty,
     spots, festivals, heritage) = row
    parts = [f"{full_name} 지역 지표"]
    if population:
        parts.append(f"주민등록 인구 {int(population):,}명")
        if elderly:
            parts.append(f"65세 이상 {100 * elderly / population:.1f}%")
        if women:
            parts.append(f"20~39세 여성 {100 * women / population:.1f}%")
    if change is not None:
        parts.append(f"인구 증감률 {float(change):+.1f}%")
    if risk is not None:
        parts.append(f"소멸위험지수 {float(risk):.2f} ({risk_label})")
    if decline:
        parts.append("인구감소지역")
    elif interest:
        parts.append("인구감소 관심지역")
    if empty:
        parts.append(f"빈집 {int(empty):,}호")
    parts.append(f"관광지 {spots or 0}곳, 축제 {festivals or 0}개, 문화유산 {heritage or 0}곳")
    return ". ".join(parts)


def regional_documents(conn: Connection) -> list[Document]:
    """Each 시군구's indicators as text, its spots, festivals and heritage, and its open needs."""
    names: dict[str, str] = {}
    docs: list[Document] = []
    for row in _rows(conn, REGION_SQL):
        names[row[0]] = row[1]
        docs.append(Document(id=f"region:{row[0]}", text=_region_indicator_text(row),
                             metadata={"kind": "indicators", "region_code": row[0], "title": f"{row[1]} 지역 지표",
                                       "is_decline_area": bool(row[9])}))
    for place_id, kind, name, region, description, category, starts, ends in _rows(conn, PLACES_SQL):
        when = f" ({starts:%Y-%m-%d}~{ends:%Y-%m-%d})" if starts and ends else ""
        body = f"{names.get(region, region)} {PLACE_LABELS.get(kind, kind)}: {name}{when}"
        if category:
            body += f". {category}"
        if description:
            body += f". {description[:PLACE_TEXT_CHARS]}"
        docs.append(Document(id=f"place:{place_id}", text=body,
                             metadata={"kind": kind, "region_code": region, "title": name, "place_id": place_id}))
    for nid, region, title, description, skill, tier, place, starts, ends, headcount in _rows(conn, NEEDS_SQL):
        when = f" 기간 {starts:%Y-%m-%d}~{ends:%Y-%m-%d}." if starts and ends else ""
        body = (f"{names.get(region, region)} 지역 요청: {title}. 필요 기술 {skill} (등급 {tier} 이상), "
                f"{headcount}명. {place or ''}.{when} {description}")
        docs.append(Document(id=f"need:{nid}", text=body,
                             metadata={"kind": "need", "region_code": region, "title": title, "need_id": nid,
                                       "skill": skill}))
    return docs


# ---------------------------------------------------------------------------------- fitting corpus
def vocabulary_texts() -> list[str]:
    """The domain words, so a model fitted on a small corpus still knows every skill and interest."""
    labels = [f"{label} 미션 {key}" for key, label in MISSION_TYPE_LABELS_KO.items()]
    users = [f"{label} {key}" for key, label in USER_TYPE_LABELS_KO.items()]
    return [*labels, *users, *(f"보유 기술 {s}. {s} 재능기부" for s in SKILLS_KO),
            *(f"관심사 {i}. {i} 체험" for i in INTERESTS_KO)]


def bootstrap_corpus() -> list[str]:
    """What a fresh install fits on before the platform has data: policy chunks and vocabulary."""
    return [d.text for d in policy_chunks()] + vocabulary_texts()


def fitting_corpus(groups: Iterable[Sequence[Document]]) -> list[str]:
    """Texts of every collection plus the vocabulary, in a fixed order (so fitting is deterministic)."""
    texts: list[str] = []
    for group in groups:
        texts.extend(d.text for d in sorted(group, key=lambda d: d.id))
    return texts + vocabulary_texts()
