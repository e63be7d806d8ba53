"""Every error answers JSON with a `reason` (and, for invalid requests, the fields at fault)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.schemas import ErrorOut, ValidationErrorOut
from cases.errors import CaseError, IntakeError

log = logging.getLogger(__name__)


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

    @app.exception_handler(IntegrityError)
    async def integrity(_request: Request, exc: IntegrityError) -> JSONResponse:
        if not unique_violation(exc):  # a foreign key or a NOT NULL: ours, not the caller's
            log.error("unhandled IntegrityError")
            return JSONResponse(_body("internal_error", "something went wrong on our side"), status_code=500)
        log.warning("conflict: a unique value was taken by another request meanwhile")  # never the values
        return JSONResponse(_body("conflict", "another request changed the same record at the same moment: "
                                  "nothing was saved; reload and try again"), status_code=409)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled %s", type(exc).__name__)  # the traceback is logged by the server
        return JSONResponse(_body("internal_error", "something went wrong on our side"), status_code=500)

    _document_validation_errors(app)


def unique_violation(exc: IntegrityError) -> bool:
    """Whether the database refused a value a unique index holds already (PostgreSQL's SQLSTATE 23505,
    psycopg's or asyncpg's; SQLite's UNIQUE constraint): what two requests at once may cause, past our
    checks."""
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code == "23505" or "UNIQUE constraint failed" in str(exc.orig)


def _document_validation_errors(app: FastAPI) -> None:
    """Make OpenAPI describe the 422 body we send (ValidationErrorOut), not FastAPI's default."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()  # cached by FastAPI; the changes below are idempotent
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        ours = ValidationErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(ours.pop("$defs", {}))
        components[ValidationErrorOut.__name__] = ours
        ref = {"$ref": f"#/components/schemas/{ValidationErrorOut.__name__}"}
        for operation in (op for item in schema.get("paths", {}).values() for op in item.values()):
            invalid = operation.get("responses", {}).get("422")
            if invalid is not None:
                invalid["content"] = {"application/json": {"schema": ref}}
        for default in ("HTTPValidationError", "ValidationError"):
            components.pop(default, None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


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
    return {code: {"model": ValidationErrorOut if code == 422 else ErrorOut} for code in codes}
