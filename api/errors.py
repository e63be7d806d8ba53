"""Every error answers JSON with a `reason` (and, for invalid requests, the fields at fault)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.schemas import ErrorOut
from cases.errors import CaseError, IntakeError


class ApiError(StarletteHTTPException):
    """An HTTP error with a stable machine-readable reason and a human message."""

    def __init__(
        self, status_code: int, reason: str, message: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status_code, detail=message or reason.replace("_", " "), headers=headers)
        self.reason = reason


def not_found(what: str = "case") -> ApiError:
    return ApiError(404, f"{what}_not_found", f"no such {what} in your area")


def _body(reason: str, message: str, **extra: Any) -> dict[str, Any]:
    return ErrorOut(reason=reason, message=message).model_dump() | extra


def install(app: FastAPI) -> None:
    """Register the JSON error handlers (HTTP errors, validation errors, domain errors)."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        reason = getattr(exc, "reason", None) or _default_reason(exc.status_code)
        return JSONResponse(
            _body(reason, str(exc.detail)), status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(CaseError)
    async def domain_error(_request: Request, exc: CaseError) -> JSONResponse:
        return JSONResponse(_body(exc.reason, exc.message), status_code=_domain_status(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        return JSONResponse(
            jsonable_encoder(_body("invalid_request", "the request is not valid", errors=errors)),
            status_code=422,
        )


def _domain_status(exc: CaseError) -> int:
    """A refused workflow step is a conflict (409); input the domain cannot accept is 422."""
    return 422 if isinstance(exc, IntakeError) else 409


def _default_reason(status: int) -> str:
    return {
        400: "bad_request",
        401: "not_authenticated",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        429: "too_many_requests",
    }.get(status, "error")


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error codes a route may answer (all with ErrorOut)."""
    return {code: {"model": ErrorOut} for code in codes}
