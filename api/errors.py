"""One error shape for every error the API answers: `{"error": {"code", "message", "details"}}`.

Clients (the React and Flutter apps) handle one shape, and every 4xx says what was wrong and how to fix
it. FastAPI's own 422 (request validation) and Starlette's 404/405 are mapped into the same shape.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class FieldError(BaseModel):
    """One problem with one input field; `field` is a dotted path such as `query.limit` or `body.email`."""

    field: str
    message: str
    type: str


class ErrorBody(BaseModel):
    code: str = Field(description="stable machine-readable key, e.g. `not_found`, `validation_error`")
    message: str = Field(description="what was wrong and how to fix it, for a developer or a user")
    details: Any = Field(None, description="for `validation_error`: a list of FieldError")


class ErrorResponse(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    """Raised anywhere in a request to answer with the one error shape."""

    def __init__(self, status_code: int, code: str, message: str, details: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers

    @classmethod
    def validation(cls, field: str, message: str) -> ApiError:
        """A 422 about one field, shaped like FastAPI's own validation errors after mapping."""
        detail = FieldError(field=field, message=message, type="value_error").model_dump()
        return cls(422, "validation_error", f"{field}: {message}", [detail])

    @classmethod
    def not_found(cls, message: str) -> ApiError:
        return cls(404, "not_found", message)


# Error responses documented on every router, so /docs shows the real shape instead of FastAPI's 422 one.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorResponse, "description": "The request is invalid; `details` lists each field"},
}
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "No token, or an invalid or expired one"},
    403: {"model": ErrorResponse, "description": "The account lacks the role or user type, or is disabled"},
}

_STATUS_CODES = {400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
                 415: "unsupported_media_type", 429: "too_many_requests"}


def error_json(status_code: int, code: str, message: str, details: Any = None,
               headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorResponse(error=ErrorBody(code=code, message=message, details=details))
    return JSONResponse(body.model_dump(mode="json"), status_code=status_code, headers=headers)


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc) or "request"


def validation_details(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """FastAPI/pydantic errors → FieldError dicts. The input value is never echoed (it may be a password)."""
    out = []
    for err in errors:
        message = str(err.get("msg", "invalid value"))
        if err.get("type") == "json_invalid":
            message = "the body is not valid JSON: " + str((err.get("ctx") or {}).get("error", message))
        out.append(FieldError(field=_field_path(err.get("loc", ())), message=message,
                              type=str(err.get("type", "value_error"))).model_dump())
    return out


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_json(exc.status_code, exc.code, exc.message, exc.details, exc.headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = validation_details(list(exc.errors()))
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
    more = f" (and {len(details) - 5} more)" if len(details) > 5 else ""
    return error_json(422, "validation_error",
                      f"The request is invalid: {summary}{more}. Fix the listed fields and send it again.",
                      details)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "http_error")
    if exc.status_code == 404 and exc.detail in (None, "Not Found"):
        message = f"There is no route {request.method} {request.url.path}; the routes are listed at /docs."
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}; see /docs for the methods it takes."
    else:
        message = str(exc.detail)
    return error_json(exc.status_code, code, message, None, getattr(exc, "headers", None))


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_json(500, "internal_error", "Something went wrong on our side; it has been logged. "
                      "Try again later.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
