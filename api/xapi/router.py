"""`POST /xapi/statements` for learning platforms (HTTP Basic with their client credentials), and the
admin endpoints that create clients and map activity IRIs to learning missions.

Statements: a single statement or a list, `X-Experience-API-Version: 1.0.x` required; the answer is the
list of statement ids (xAPI 1.0.3 §2.1.2). Invalid statements → 400 with each problem's place; the same
id with different content → 409; the same statement again → 200 with the same ids, nothing changes.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Header, Request, Response, status

from api.attempts.writer import run_write
from api.deps import AdminUser, ConnDep
from api.errors import AUTH_RESPONSES, ERROR_RESPONSES, ApiError, ErrorResponse
from api.xapi import service
from api.xapi.schemas import XapiActivityMap, XapiClientCreate, XapiClientCreated
from core.xapi import VERSION, validate_all

BODY_MAX = 1024 * 1024
BASIC = {"WWW-Authenticate": 'Basic realm="Hometown ON xAPI"', "X-Experience-API-Version": VERSION}
router = APIRouter(prefix="/xapi", tags=["xapi"])


async def raw_body(request: Request) -> bytes:
    """The body, at most BODY_MAX bytes (413 beyond)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > BODY_MAX:
        raise ApiError(413, "payload_too_large", f"The body is {declared} bytes; send at most {BODY_MAX} bytes "
                       "per request (split the statements).")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > BODY_MAX:
            raise ApiError(413, "payload_too_large", f"The body is over {BODY_MAX} bytes; split the statements.")
        chunks.append(chunk)
    return b"".join(chunks)


def xapi_client(conn: ConnDep, authorization: Annotated[str | None, Header()] = None) -> service.Client:
    if not authorization or not authorization.lower().startswith("basic "):
        raise ApiError(401, "not_authenticated", "Send the platform's client credentials with HTTP Basic "
                       "(Authorization: Basic base64(client_id:secret)).", headers=BASIC)
    try:
        client_id, _, secret = base64.b64decode(authorization[6:].strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError(401, "not_authenticated", "The Basic credentials are not valid base64 of client_id:secret.",
                       headers=BASIC) from None
    client = service.authenticate(conn, client_id, secret)
    if client is None:
        raise ApiError(401, "invalid_credentials", "Unknown xAPI client or wrong secret (or the client is "
                       "disabled); ask an administrator for credentials.", headers=BASIC)
    return client


@router.post("/statements", response_model=list[str], summary="Store xAPI 1.0.3 statements (single or list)",
             responses={400: {"model": ErrorResponse, "description": "Invalid statements (`details` says where)"},
                        401: {"model": ErrorResponse, "description": "Missing or wrong client credentials"},
                        409: {"model": ErrorResponse, "description": "An id is stored with other content"},
                        413: {"model": ErrorResponse, "description": "Body over 1 MB"}})
def post_statements(conn: ConnDep, response: Response,
                    client: Annotated[service.Client, Depends(xapi_client)],
                    body: Annotated[bytes, Depends(raw_body)],
                    version: Annotated[str | None, Header(alias="X-Experience-API-Version")] = None) -> list[str]:
    response.headers["X-Experience-API-Version"] = VERSION
    if version is None or not version.startswith("1.0"):
        raise ApiError(400, "xapi_version", f"Send the header X-Experience-API-Version: {VERSION} (1.0.x); got "
                       f"{version!r}.", headers={"X-Experience-API-Version": VERSION})
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "xapi_invalid", f"The body is not valid JSON ({exc}).") from None
    statements, problems = validate_all(payload)
    if not problems:
        mapped, problems = service.resolve(conn, statements)
    if problems:
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:3])
        raise ApiError(400, "xapi_invalid", f"{len(problems)} statement problem(s), nothing was stored: {summary}.",
                       details=problems, headers={"X-Experience-API-Version": VERSION})
    return run_write(conn, lambda tx: service.store(tx, client, mapped), source=f"xapi:{client.client_id}")


@router.post("/clients", response_model=XapiClientCreated, status_code=status.HTTP_201_CREATED,
             summary="Create a learning platform's client credentials (admin)",
             responses={**ERROR_RESPONSES, **AUTH_RESPONSES})
def create_client(body: XapiClientCreate, conn: ConnDep, admin: AdminUser) -> XapiClientCreated:
    secret = service.create_client(conn, body.client_id, body.name, admin.id)
    return XapiClientCreated(client_id=body.client_id, name=body.name, secret=secret)


@router.post("/activities", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
             summary="Map a platform's activity IRI to a learning mission (admin)",
             responses={**ERROR_RESPONSES, **AUTH_RESPONSES})
def map_activity(body: XapiActivityMap, conn: ConnDep, admin: AdminUser) -> Response:
    service.map_activity(conn, body.activity_id, body.mission_id, body.step_no)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
