"""The multi-index finds exactly what a linear scan finds, in memory and in PostgreSQL."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from sqlalchemy import Engine, text

from ai.evidence.phash_index import (
    PhashIndex,
    band_variants,
    find_similar,
    linear_scan,
    load_index,
    record_hash,
    to_signed,
    to_unsigned,
)


def _flip(value: int, bits: list[int]) -> int:
    for bit in bits:
        value ^= 1 << bit
    return value


def test_band_variants_enumerate_the_hamming_ball() -> None:
    assert band_variants(0, 0) == [0]
    assert len(band_variants(0x1234, 1)) == 17
    assert len(set(band_variants(0x1234, 2))) == 1 + 16 + 120


def test_signed_round_trip() -> None:
    for value in (0, 1, (1 << 63) - 1, 1 << 63, (1 << 64) - 1):
        assert to_unsigned(to_signed(value)) == value
        assert -(1 << 63) <= to_signed(value) < 1 << 63


@pytest.mark.parametrize("radius", [0, 3, 6, 8])
def test_the_index_agrees_with_a_linear_scan(radius: int) -> None:
    rng = np.random.default_rng(radius)
    hashes = rng.integers(0, 2**63, 50_000, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, 50_000,
                                                                                          dtype=np.uint64)
    queries = []
    for i in range(30):  # near copies of stored hashes at every distance up to radius + 2
        bits = rng.choice(64, size=i % (radius + 3), replace=False).tolist()
        queries.append(_flip(int(hashes[i * 97]), bits))
    queries += [int(v) for v in rng.integers(0, 2**63, 10, dtype=np.uint64)]
    index = PhashIndex(hashes)
    for query in queries:
        assert index.query(query, radius) == linear_scan(hashes, query, radius)


def test_postgres_lookup_finds_near_copies_through_the_band_indexes(engine: Engine) -> None:
    rng = np.random.default_rng(7)
    values = [int(v) for v in rng.integers(0, 2**63, 300, dtype=np.uint64) * np.uint64(2)]
    with engine.begin() as conn:
        user = conn.execute(text("insert into app.users (email, password_hash, display_name) "
                                 "values (:e, 'x', '해시') returning id"), {"e": f"{uuid.uuid4().hex}@t.kr"}).scalar()
        submission = conn.execute(text("insert into app.certification_submissions (user_id, skill) "
                                       "values (:u, '목공') returning id"), {"u": user}).scalar()
        ids = []
        for pos, value in enumerate(values):
            evidence_id = conn.execute(text(
                "insert into app.certification_evidence (submission_id, position, kind, original_name, "
                "sniffed_type, sha256, size_bytes, storage_key, stored_sha256, stored_size_bytes, content_type) "
                "values (:s, :p, 'image', 'a.jpg', 'jpeg', 'x', 1, :k, 'y', 1, 'image/jpeg') returning id"),
                {"s": submission, "p": pos, "k": f"test/{uuid.uuid4()}"}).scalar()
            record_hash(conn, evidence_id, submission, user, "목공", value)
            ids.append(evidence_id)
        target = values[42]
        near = find_similar(conn, _flip(target, [0, 17, 40, 63]), radius=6)
        assert [(h.evidence_id, h.distance) for h in near] == [(ids[42], 4)]
        assert find_similar(conn, _flip(target, [0, 17, 40, 63]), radius=3) == []
        assert find_similar(conn, target, 6, exclude_submission=submission) == []
        conn.execute(text("set local enable_seqscan = off"))  # 300 rows: prove the band indexes can serve it
        plan = "\n".join(conn.execute(text(
            "explain select 1 from app.certification_phashes where band0 = any(array[1,2]) "
            "or band1 = any(array[3])")).scalars())
        index, positions = load_index(conn)
        hit = index.query(_flip(target, [5]), 6)
        assert [positions[p] for p, _ in hit if positions[p] in ids] == [ids[42]]
        conn.rollback()
    assert "Seq Scan" not in plan and "ix_certification_phashes_band0" in plan
