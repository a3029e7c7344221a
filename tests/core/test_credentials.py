"""Open Badges 3.0 credentials signed with eddsa-jcs-2022: issue, verify, tamper, expire, revoke."""

from __future__ import annotations

import copy
import json
import stat
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text

from core import credentials as cr
from core.settings import get_settings


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def _claim(user_id: uuid.UUID | None = None, issued_at: datetime | None = None,
           valid_for: timedelta = cr.DEFAULT_VALIDITY) -> cr.CredentialClaim:
    return cr.CredentialClaim(
        credential_id=uuid.uuid4(), user_id=user_id or uuid.uuid4(), skill="목공", tier=2,
        issued_at=issued_at or datetime.now(UTC) - timedelta(minutes=1),
        evidence=[cr.EvidenceRef("ab" * 32, "image", 8, 8), cr.EvidenceRef("cd" * 32, "audio", 5, 5)],
        valid_for=valid_for)


def test_base58_and_did_key_encodings() -> None:
    assert cr.b58encode(b"Hello World!") == "2NEpo7TZRRrLZSi2U"  # the base58 draft's test vector
    assert cr.b58decode("2NEpo7TZRRrLZSi2U") == b"Hello World!"
    assert cr.b58decode(cr.b58encode(b"\0\0\x01\x02")) == b"\0\0\x01\x02"
    public = Ed25519PrivateKey.generate().public_key()
    did = cr.did_key(public)
    assert did.startswith("did:key:z6Mk")  # the prefix every Ed25519 did:key has
    assert cr.public_key_from_did(cr.verification_method(public)).public_bytes_raw() == public.public_bytes_raw()


def test_a_signed_credential_has_the_open_badges_shape_and_no_personal_data(key: Ed25519PrivateKey) -> None:
    claim = _claim()
    doc = cr.sign(cr.build_credential(claim, key.public_key()), key)
    assert doc["@context"] == [cr.VC_CONTEXT, cr.OB_CONTEXT]
    assert doc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert doc["id"] == f"urn:uuid:{claim.credential_id}"
    assert doc["issuer"]["id"] == cr.did_key(key.public_key())
    achievement = doc["credentialSubject"]["achievement"]
    assert achievement["name"] == "목공 숙련" and "tier-2" in achievement["tag"]
    assert [e["id"] for e in doc["evidence"]] == [f"urn:sha256:{'ab' * 32}", f"urn:sha256:{'cd' * 32}"]
    assert doc["proof"]["cryptosuite"] == "eddsa-jcs-2022" and doc["proof"]["proofValue"].startswith("z")
    assert str(claim.user_id) not in json.dumps(doc)  # only a salted hash of it
    identity = doc["credentialSubject"]["identifier"][0]
    assert identity["hashed"] is True and identity["identityHash"].startswith("sha256$")


def test_verification_accepts_the_credential_and_refuses_any_changed_byte(key: Ed25519PrivateKey) -> None:
    doc = cr.sign(cr.build_credential(_claim(), key.public_key()), key)
    trusted = {cr.did_key(key.public_key())}
    assert cr.verify_document(doc, trusted).verified
    raw = json.dumps(doc, ensure_ascii=False)
    changed = raw.replace('"tier-2"', '"tier-3"')
    assert changed != raw
    result = cr.verify_document(json.loads(changed), trusted)
    assert not result.verified and result.checks["signature"] is False
    forged_value = copy.deepcopy(doc)
    signature = bytearray(cr.from_multibase(forged_value["proof"]["proofValue"]))
    signature[10] ^= 0x01
    forged_value["proof"]["proofValue"] = cr.multibase(bytes(signature))
    assert not cr.verify_document(forged_value, trusted).verified


def test_verification_refuses_another_issuer_and_an_expired_credential(key: Ed25519PrivateKey) -> None:
    stranger = Ed25519PrivateKey.generate()
    foreign = cr.sign(cr.build_credential(_claim(), stranger.public_key()), stranger)
    result = cr.verify_document(foreign, {cr.did_key(key.public_key())})
    assert result.checks["signature"] is True and result.checks["issuer"] is False and not result.verified
    old = _claim(issued_at=datetime(2020, 1, 1, tzinfo=UTC), valid_for=timedelta(days=365))
    expired = cr.sign(cr.build_credential(old, key.public_key()), key)
    result = cr.verify_document(expired, {cr.did_key(key.public_key())})
    assert not result.verified and result.checks["expiry"] is False and "expired" in result.errors[0]


def test_the_development_key_is_made_once_with_owner_only_permissions(monkeypatch: pytest.MonkeyPatch,
                                                                      test_var_dir: object) -> None:
    monkeypatch.delenv("CREDENTIAL_SIGNING_KEY", raising=False)
    first = cr.load_signing_key()
    path = get_settings().var_dir / "keys" / "credential_ed25519.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert cr.load_signing_key().public_key().public_bytes_raw() == first.public_key().public_bytes_raw()


def test_a_configured_key_must_be_32_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDENTIAL_SIGNING_KEY", "c2hvcnQ=")
    with pytest.raises(cr.CredentialKeyError, match="32"):
        cr.load_signing_key()


def test_issue_record_verify_and_revoke(engine: Engine, key: Ed25519PrivateKey) -> None:
    with engine.begin() as conn:
        user = conn.execute(text("insert into app.users (email, password_hash, display_name) "
                                 "values (:e, 'x', '목수') returning id"), {"e": f"{uuid.uuid4().hex}@t.kr"}).scalar()
        submission = conn.execute(text("insert into app.certification_submissions (user_id, skill, status) "
                                       "values (:u, '목공', 'approved') returning id"), {"u": user}).scalar()
        claim = _claim(user_id=user)
        doc = cr.issue_credential(conn, claim, submission, key)
    with engine.begin() as conn:
        result = cr.verify_credential(conn, doc, key)
        assert result.verified, result.errors
        assert result.checks == {"issuer": True, "signature": True, "valid_from": True, "expiry": True,
                                 "known": True, "revocation": True}
        unknown = cr.sign(cr.build_credential(_claim(), key.public_key()), key)
        assert cr.verify_credential(conn, unknown, key).checks["known"] is False
        assert cr.revoke_credential(conn, claim.credential_id, user, "evidence found to be copied")
        assert not cr.revoke_credential(conn, claim.credential_id, user, "again")
    with engine.begin() as conn:
        revoked = cr.verify_credential(conn, doc, key)
        assert not revoked.verified and revoked.checks["signature"] is True
        assert revoked.revocation_reason == "evidence found to be copied"
