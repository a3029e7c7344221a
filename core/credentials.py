"""Verifiable skill credentials: Open Badges 3.0 `OpenBadgeCredential`s (W3C VC data model 2.0) with a
`DataIntegrityProof` of the cryptosuite `eddsa-jcs-2022` (RFC 8785 JSON canonicalization + Ed25519).

The platform's Ed25519 key comes from CREDENTIAL_SIGNING_KEY (base64 of a 32-byte seed); in
development and test one is generated once into <var_dir>/keys/credential_ed25519.key (mode 0600).
The issuer is the key's `did:key`, so anyone can verify a credential offline from the credential
alone; `GET /credentials/issuer` publishes the same key. Revocation is kept in app.credentials and
checked by the platform's verification endpoint.

A credential names no person: the subject is a salted hash of the user's id, and the evidence is
cited by the SHA-256 of each file.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Connection, insert, select, update

from core.settings import Settings, get_settings
from core.tables_certify import credentials

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CRYPTOSUITE = "eddsa-jcs-2022"
ISSUER_NAME = "고향으로 ON (Hometown ON)"
ISSUER_URL = "https://hometown-on.kr"
TIER_NAMES = {1: ("기초", "Foundation"), 2: ("숙련", "Skilled"), 3: ("전문", "Expert")}
DEFAULT_VALIDITY = timedelta(days=365 * 3)  # skills are re-certified every three years
_ED25519_MULTICODEC = b"\xed\x01"
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


class CredentialKeyError(RuntimeError):
    """The signing key is missing or malformed; the message says how to set it."""


# ---------------------------------------------------------------------------------- encodings
def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = _B58[rest] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        index = _B58.find(char)
        if index < 0:
            raise ValueError(f"{char!r} is not a base58 character")
        number = number * 58 + index
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def multibase(data: bytes) -> str:
    return "z" + b58encode(data)


def from_multibase(text: str) -> bytes:
    if not text.startswith("z"):
        raise ValueError("only base58btc multibase ('z…') is used here")
    return b58decode(text[1:])


def public_key_multibase(public: Ed25519PublicKey) -> str:
    return multibase(_ED25519_MULTICODEC + public.public_bytes(Encoding.Raw, PublicFormat.Raw))


def did_key(public: Ed25519PublicKey) -> str:
    return "did:key:" + public_key_multibase(public)


def verification_method(public: Ed25519PublicKey) -> str:
    fingerprint = public_key_multibase(public)
    return f"did:key:{fingerprint}#{fingerprint}"


def public_key_from_did(did_url: str) -> Ed25519PublicKey:
    """The Ed25519 key a `did:key:z6Mk…` (or its `#fragment` verification method) stands for."""
    if not did_url.startswith("did:key:z"):
        raise ValueError(f"{did_url!r} is not a did:key")
    raw = from_multibase(did_url.removeprefix("did:key:").split("#", 1)[0])
    if raw[:2] != _ED25519_MULTICODEC or len(raw) != 34:
        raise ValueError("the did:key is not an Ed25519 key")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


# ---------------------------------------------------------------------------------- the key
def _key_file(settings: Settings) -> Path:
    return settings.var_dir / "keys" / "credential_ed25519.key"


def load_signing_key(settings: Settings | None = None) -> Ed25519PrivateKey:
    """CREDENTIAL_SIGNING_KEY, or (development/test only) a key generated once under var/keys."""
    settings = settings or get_settings()
    configured = os.environ.get("CREDENTIAL_SIGNING_KEY", "").strip()
    if configured:
        try:
            seed = base64.b64decode(configured, validate=True)
        except ValueError as exc:
            raise CredentialKeyError("CREDENTIAL_SIGNING_KEY must be base64 of a 32-byte Ed25519 seed") from exc
        if len(seed) != 32:
            raise CredentialKeyError(f"CREDENTIAL_SIGNING_KEY decodes to {len(seed)} bytes; it must be 32 "
                                     "(python -c 'import os,base64; print(base64.b64encode(os.urandom(32)).decode())')")
        return Ed25519PrivateKey.from_private_bytes(seed)
    if settings.env == "production":
        raise CredentialKeyError("CREDENTIAL_SIGNING_KEY must be set in production: base64 of a 32-byte seed, "
                                 "kept secret and stable (credentials signed with it stay verifiable)")
    path = _key_file(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.b64encode(secrets.token_bytes(32)).decode())
    seed = base64.b64decode(path.read_text().strip())
    return Ed25519PrivateKey.from_private_bytes(seed)


def issuer_profile(public: Ed25519PublicKey) -> dict[str, Any]:
    return {"id": did_key(public), "type": ["Profile"], "name": ISSUER_NAME, "url": ISSUER_URL}


def issuer_document(public: Ed25519PublicKey) -> dict[str, Any]:
    """What GET /credentials/issuer publishes: the issuer profile and its verification method."""
    did = did_key(public)
    return {**issuer_profile(public), "verificationMethod": [{
        "id": verification_method(public), "type": "Multikey", "controller": did,
        "publicKeyMultibase": public_key_multibase(public)}],
        "assertionMethod": [verification_method(public)], "cryptosuite": CRYPTOSUITE}


# ---------------------------------------------------------------------------------- building and signing
def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def subject_identifier(user_id: uuid.UUID, salt: str) -> dict[str, Any]:
    """An OB 3.0 IdentityObject: the user's id hashed with a per-credential salt, never a name or e-mail."""
    digest = hashlib.sha256(f"{user_id}{salt}".encode()).hexdigest()
    return {"type": "IdentityObject", "identityHash": f"sha256${digest}", "identityType": "systemId",
            "hashed": True, "salt": salt}


@dataclass(frozen=True)
class EvidenceRef:
    sha256: str
    kind: str  # image | audio
    checks_passed: int = 0
    checks_total: int = 0


@dataclass(frozen=True)
class CredentialClaim:
    credential_id: uuid.UUID
    user_id: uuid.UUID
    skill: str
    tier: int
    issued_at: datetime
    evidence: list[EvidenceRef] = field(default_factory=list)
    valid_for: timedelta = DEFAULT_VALIDITY


def build_credential(claim: CredentialClaim, public: Ed25519PublicKey) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential for a skill at a tier."""
    tier_ko, tier_en = TIER_NAMES[claim.tier]
    achievement_id = f"urn:hometown-on:achievement:skill:{claim.skill}:tier-{claim.tier}"
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": f"urn:uuid:{claim.credential_id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer_profile(public),
        "validFrom": _iso(claim.issued_at),
        "validUntil": _iso(claim.issued_at + claim.valid_for),
        "name": f"{claim.skill} · {tier_ko} ({claim.tier}단계)",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [subject_identifier(claim.user_id, secrets.token_hex(8))],
            "achievement": {
                "id": achievement_id,
                "type": ["Achievement"],
                "achievementType": "Competency",
                "name": f"{claim.skill} {tier_ko}",
                "description": f"{claim.skill} skill certified by Hometown ON at tier {claim.tier} "
                               f"({tier_ko} / {tier_en}) from photo and voice evidence reviewed by staff.",
                "criteria": {"narrative": f"Photo and voice evidence of {claim.skill} work passed the automatic "
                                          f"checks and an administrator's review at tier {claim.tier}."},
                "tag": [claim.skill, f"tier-{claim.tier}"],
            },
        },
        "evidence": [{
            "id": f"urn:sha256:{ref.sha256}", "type": ["Evidence"], "genre": ref.kind,
            "narrative": f"{ref.kind} evidence; automatic checks passed {ref.checks_passed}/{ref.checks_total}",
        } for ref in claim.evidence],
    }


def _hash_data(document: dict[str, Any], proof_config: dict[str, Any]) -> bytes:
    """eddsa-jcs-2022: SHA-256(JCS(proof config)) ‖ SHA-256(JCS(document without proof))."""
    return hashlib.sha256(rfc8785.dumps(proof_config)).digest() + hashlib.sha256(rfc8785.dumps(document)).digest()


def sign(document: dict[str, Any], key: Ed25519PrivateKey, created: datetime | None = None) -> dict[str, Any]:
    """The document with a DataIntegrityProof (eddsa-jcs-2022, proofPurpose assertionMethod)."""
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    proof_config = {
        "type": "DataIntegrityProof", "cryptosuite": CRYPTOSUITE,
        "created": _iso(created or datetime.now(UTC)),
        "verificationMethod": verification_method(key.public_key()),
        "proofPurpose": "assertionMethod",
        "@context": unsecured["@context"],
    }
    signature = key.sign(_hash_data(unsecured, proof_config))
    proof = {k: v for k, v in proof_config.items() if k != "@context"}
    proof["proofValue"] = multibase(signature)
    return {**unsecured, "proof": proof}


# ---------------------------------------------------------------------------------- verification
@dataclass
class Verification:
    verified: bool
    checks: dict[str, bool] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    credential_id: str | None = None
    revoked_at: datetime | None = None
    revocation_reason: str | None = None

    def fail(self, check: str, message: str) -> Verification:
        self.checks[check] = False
        self.errors.append(message)
        self.verified = False
        return self


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def verify_document(document: object, trusted_issuers: set[str],
                    now: datetime | None = None) -> Verification:
    """Signature, issuer and validity period of a presented credential (revocation is checked by
    `verify_credential`, which knows the platform's records)."""
    result = Verification(verified=True)
    if not isinstance(document, dict):
        return result.fail("format", "the credential must be a JSON object")
    result.credential_id = document.get("id") if isinstance(document.get("id"), str) else None
    types = document.get("type")
    if not isinstance(types, list) or "VerifiableCredential" not in types or "OpenBadgeCredential" not in types:
        result.fail("format", "type must include VerifiableCredential and OpenBadgeCredential")
    proof = document.get("proof")
    if not isinstance(proof, dict):
        return result.fail("proof", "the credential has no proof")
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != CRYPTOSUITE:
        return result.fail("proof", f"the proof must be a DataIntegrityProof of {CRYPTOSUITE}")
    if proof.get("proofPurpose") != "assertionMethod":
        return result.fail("proof", "the proof's purpose must be assertionMethod")
    method = proof.get("verificationMethod")
    issuer = document.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(method, str) or not isinstance(issuer_id, str) or method.split("#", 1)[0] != issuer_id:
        return result.fail("issuer", "the proof's verification method does not belong to the issuer")
    result.checks["issuer"] = issuer_id in trusted_issuers
    if not result.checks["issuer"]:
        result.fail("issuer", f"the issuer {issuer_id} is not Hometown ON's credential key")
    try:
        public = public_key_from_did(method)
        signature = from_multibase(str(proof.get("proofValue", "")))
        unsecured = {k: v for k, v in document.items() if k != "proof"}
        proof_config = {k: v for k, v in proof.items() if k != "proofValue"}
        proof_config["@context"] = unsecured.get("@context")
        public.verify(signature, _hash_data(unsecured, proof_config))
        result.checks["signature"] = True
    except (InvalidSignature, ValueError, TypeError) as exc:
        result.fail("signature", f"the signature does not match the credential's content ({type(exc).__name__}): "
                                 "it was altered after signing or not signed by this issuer")
    now = now or datetime.now(UTC)
    valid_from, valid_until = _parse_time(document.get("validFrom")), _parse_time(document.get("validUntil"))
    if valid_from is None:
        result.fail("valid_from", "validFrom is missing or not an ISO date-time")
    elif valid_from > now + timedelta(minutes=5):
        result.fail("valid_from", f"the credential is not valid before {document['validFrom']}")
    else:
        result.checks["valid_from"] = True
    if valid_until is not None and valid_until < now:
        result.fail("expiry", f"the credential expired on {document['validUntil']}")
    else:
        result.checks["expiry"] = True
    return result


# ---------------------------------------------------------------------------------- the platform's records
def issue_credential(conn: Connection, claim: CredentialClaim, submission_id: uuid.UUID,
                     key: Ed25519PrivateKey | None = None) -> dict[str, Any]:
    """Build, sign and record a credential, in the caller's transaction."""
    key = key or load_signing_key()
    document = sign(build_credential(claim, key.public_key()), key, created=claim.issued_at)
    conn.execute(insert(credentials).values(
        id=claim.credential_id, user_id=claim.user_id, submission_id=submission_id, skill=claim.skill,
        tier=claim.tier, document=document, issuer_did=did_key(key.public_key()), issued_at=claim.issued_at,
        valid_until=claim.issued_at + claim.valid_for))
    return document


def revoke_credential(conn: Connection, credential_id: uuid.UUID, revoked_by: uuid.UUID, reason: str) -> bool:
    """Mark a credential revoked (once); returns False when it was unknown or already revoked."""
    done = conn.execute(update(credentials)
                        .where(credentials.c.id == credential_id, credentials.c.revoked_at.is_(None))
                        .values(revoked_at=datetime.now(UTC), revoked_by=revoked_by, revocation_reason=reason))
    return done.rowcount == 1


def _credential_uuid(credential_id: str | None) -> uuid.UUID | None:
    if not credential_id or not credential_id.startswith("urn:uuid:"):
        return None
    try:
        return uuid.UUID(credential_id.removeprefix("urn:uuid:"))
    except ValueError:
        return None


def trusted_issuers(conn: Connection, key: Ed25519PrivateKey | None = None) -> set[str]:
    """The current key's did:key plus every did:key the platform has issued with (keys may rotate)."""
    key = key or load_signing_key()
    issued = conn.execute(select(credentials.c.issuer_did).distinct()).scalars().all()
    return {did_key(key.public_key()), *issued}


def verify_credential(conn: Connection, document: object, key: Ed25519PrivateKey | None = None,
                      now: datetime | None = None) -> Verification:
    """The full verification: signature, issuer, validity period, and that the platform issued it and
    has not revoked it."""
    result = verify_document(document, trusted_issuers(conn, key), now)
    cred_id = _credential_uuid(result.credential_id)
    if cred_id is None:
        return result.fail("known", "the credential id is not a urn:uuid issued by Hometown ON")
    row = conn.execute(select(credentials.c.revoked_at, credentials.c.revocation_reason)
                       .where(credentials.c.id == cred_id)).first()
    if row is None:
        return result.fail("known", "Hometown ON has no record of issuing this credential")
    result.checks["known"] = True
    if row.revoked_at is not None:
        result.revoked_at, result.revocation_reason = row.revoked_at, row.revocation_reason
        return result.fail("revocation", f"the credential was revoked on {_iso(row.revoked_at)}: "
                                         f"{row.revocation_reason}")
    result.checks["revocation"] = True
    return result
