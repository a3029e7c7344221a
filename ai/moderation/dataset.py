"""Training examples of the moderation classifier: the committed seed set plus the platform's decisions.

A moderator's decision is a label: content hidden (or its author warned, suspended or banned) for spam is
spam, for abuse, harassment, hate, sexual content, violence or doxxing is abuse; content a moderator let
through (dismissed) or whose hiding was overturned on appeal is ok. Only the latest decision on each post
or comment counts, and categories that say nothing about spam or abuse (misinformation, other) are left out.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, text

from ai.moderation.classifier import LABELS, Example

SEED_FILE = Path(__file__).resolve().parent / "data" / "seed.tsv"
ABUSE_CATEGORIES = ("abuse", "harassment", "hate", "sexual", "violence", "privacy")


def seed_examples(path: Path = SEED_FILE) -> list[Example]:
    """`label<TAB>text` lines; '#' starts a comment line."""
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        label, _, body = line.partition("\t")
        if label not in LABELS or not body.strip():
            raise ValueError(f"{path.name}:{number}: expected '<{'|'.join(LABELS)}><TAB><text>'")
        examples.append(Example(body.strip(), label, "seed"))
    return examples


def label_of(action: str, category: str | None, reverted: bool) -> str | None:
    if action == "dismiss" or reverted:
        return "ok"
    if category == "spam":
        return "spam"
    if category in ABUSE_CATEGORIES:
        return "abuse"
    return None


def decision_examples(conn: Connection) -> list[Example]:
    """The latest moderation decision on each post or comment, as a labelled example."""
    rows = conn.execute(text(
        "select distinct on (target_type, target_id) action, report_category, reverted_at is not null as reverted, "
        "content_text from app.moderation_actions "
        "where target_type in ('post', 'comment') and content_text is not null "
        "order by target_type, target_id, created_at desc, id desc")).all()
    examples = []
    for row in rows:
        label = label_of(row.action, row.report_category, row.reverted)
        if label is not None and row.content_text.strip():
            examples.append(Example(row.content_text, label, "decision"))
    return examples
