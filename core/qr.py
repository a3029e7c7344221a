"""Rotating, signed, time-limited QR tokens for mission steps (HMAC-SHA256 with a server key).

A token names what it proves (a mission step, or an event), when it was issued and when it expires,
and a random nonce; its id is the hash of its payload, so "accepted once per user" is a unique key on
(token_id, user_id) in the database. Nothing about a token is stored when it is issued.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

VERSION = 1
DEFAULT_TTL_SECONDS = 120  # hosts' screens rotate the code every 30 s; a scan has two minutes
CLOCK_SKEW_SECONDS = 10


class QrTokenError(ValueError):
    """The token is refused; `reason` is a short machine key, the message says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class QrClaims:
    mission_id: str
    step_no: int
    issued_at: int
    expires_at: int
    issuer_id: str
    nonce: str
    token_id: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(secret_key: str) -> bytes:
    # a key of its own, derived from the server secret, so a QR key can never sign a JWT
    return hmac.new(secret_key.encode(), b"hometown-qr-v1", hashlib.sha256).digest()


def issue(secret_key: str, mission_id: str, step_no: int, issuer_id: str,
          ttl_seconds: int = DEFAULT_TTL_SECONDS, now: float | None = None) -> tuple[str, QrClaims]:
    issued = int(now if now is not None else time.time())
    body = {"v": VERSION, "m": mission_id, "s": step_no, "iat": issued, "exp": issued + ttl_seconds,
            "iss": issuer_id, "n": secrets.token_urlsafe(9)}
    payload = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    signature = hmac.new(_key(secret_key), payload, hashlib.sha256).digest()
    token = f"HT1.{_b64(payload)}.{_b64(signature)}"
    return token, _claims(body, payload)


def _claims(body: dict, payload: bytes) -> QrClaims:
    return QrClaims(mission_id=str(body["m"]), step_no=int(body["s"]), issued_at=int(body["iat"]),
                    expires_at=int(body["exp"]), issuer_id=str(body["iss"]), nonce=str(body["n"]),
                    token_id=hashlib.sha256(payload).hexdigest()[:32])


def verify(secret_key: str, token: str, now: float | None = None) -> QrClaims:
    """Check signature and validity window; raises QrTokenError with the reason."""
    now = time.time() if now is None else now
    parts = token.strip().split(".")
    if len(parts) != 3 or parts[0] != "HT1":
        raise QrTokenError("malformed", "not a Hometown ON QR token (expected HT1.<payload>.<signature>)")
    try:
        payload, signature = _unb64(parts[1]), _unb64(parts[2])
    except (ValueError, TypeError) as exc:
        raise QrTokenError("malformed", "the QR token is not valid base64url") from exc
    expected = hmac.new(_key(secret_key), payload, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        raise QrTokenError("forged", "the QR token's signature does not match: it was not issued by this server")
    try:
        body = json.loads(payload)
        claims = _claims(body, payload)
    except (ValueError, KeyError, TypeError) as exc:
        raise QrTokenError("malformed", "the QR token's payload is not readable") from exc
    if body.get("v") != VERSION:
        raise QrTokenError("malformed", f"unsupported QR token version {body.get('v')!r}")
    if claims.issued_at > now + CLOCK_SKEW_SECONDS:
        raise QrTokenError("not_yet_valid", "the QR token was issued in the future; check the host's clock")
    if claims.expires_at < now - CLOCK_SKEW_SECONDS:
        raise QrTokenError("expired", f"the QR token expired {int(now - claims.expires_at)} s ago; "
                                      "ask the host to show the current code")
    return claims
