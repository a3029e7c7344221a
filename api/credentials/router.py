"""`/credentials`: the issuer's public key, credentials by id, public verification, revocation.

Public by design: `GET /credentials/issuer`, `GET /credentials/{id}` (a holder shares the link; the
document names no person) and `POST /credentials/verify` (anyone presented with a credential checks it).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Body
from sqlalchemy import RowMapping

from api.credentials import service
from api.credentials.schemas import CredentialPublic, RevocationCreate, VerificationPublic
from api.deps import AdminUser, ConnDep, CurrentUser
from api.errors import AUTH_RESPONSES, ERROR_RESPONSES, ApiError, ErrorResponse
from core import credentials as cr

router = APIRouter(prefix="/credentials", tags=["credentials"], responses={**ERROR_RESPONSES})


def _public(row: RowMapping) -> CredentialPublic:
    return CredentialPublic(id=row["id"], skill=row["skill"], tier=row["tier"], issued_at=row["issued_at"],
                            valid_until=row["valid_until"], revoked=row["revoked_at"] is not None,
                            revoked_at=row["revoked_at"], revocation_reason=row["revocation_reason"],
                            document=row["document"])


@router.get("/issuer", summary="The issuer profile and its Ed25519 public key (did:key, publicKeyMultibase)")
def issuer() -> dict[str, Any]:
    return cr.issuer_document(cr.load_signing_key().public_key())


@router.get("", response_model=list[CredentialPublic], responses=AUTH_RESPONSES,
            summary="Your credentials, newest first")
def mine(conn: ConnDep, user: CurrentUser) -> list[CredentialPublic]:
    return [_public(r) for r in service.list_credentials(conn, user.id)]


@router.post("/verify", response_model=VerificationPublic,
             summary="Verify a presented credential: signature, issuer, validity period, revocation")
def verify(conn: ConnDep, document: Any = Body(..., description="the OpenBadgeCredential JSON as presented")
           ) -> VerificationPublic:
    result = service.verify(conn, document)
    return VerificationPublic(verified=result.verified, checks=result.checks, errors=result.errors,
                              credential_id=result.credential_id, revoked_at=result.revoked_at,
                              revocation_reason=result.revocation_reason)


@router.get("/{credential_id}", response_model=CredentialPublic,
            responses={404: {"model": ErrorResponse, "description": "No such credential"}},
            summary="A credential as issued, with its revocation status")
def read(credential_id: uuid.UUID, conn: ConnDep) -> CredentialPublic:
    row = service.get_credential(conn, credential_id)
    if row is None:
        raise ApiError.not_found(f"No credential has the id {credential_id}.")
    return _public(row)


@router.post("/{credential_id}/revoke", response_model=CredentialPublic, responses=AUTH_RESPONSES,
             summary="Revoke a credential with a reason (administrators; audited, the holder is notified)")
def revoke(credential_id: uuid.UUID, body: RevocationCreate, conn: ConnDep, admin: AdminUser) -> CredentialPublic:
    return _public(service.revoke(conn, admin, credential_id, body.reason))
