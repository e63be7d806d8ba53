"""OpenAPI at /docs describes every REST route with its response models; every error is JSON with a reason."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

import api.routes

ERROR_SCHEMAS = {"#/components/schemas/ErrorOut", "#/components/schemas/ValidationErrorOut"}


def rest_routes() -> list[APIRoute]:
    """Every route of every router in api/routes (a new module is picked up without editing this test)."""
    found: list[APIRoute] = []
    for info in pkgutil.iter_modules(api.routes.__path__):
        module = importlib.import_module(f"api.routes.{info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            found += [r for r in router.routes if isinstance(r, APIRoute)]
    return found


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]


def test_every_rest_route_is_documented(app: FastAPI) -> None:
    spec = app.openapi()
    documented = {(path, method.upper()) for path, method, _ in operations(spec)}
    routes = rest_routes()
    assert len(routes) >= 20
    for route in routes:
        assert route.include_in_schema, route.path
        for method in route.methods:
            assert (route.path, method) in documented, (method, route.path)


def _described(schema: dict[str, Any] | None) -> bool:
    """A named model (or a list of one), or a file."""
    if not schema:
        return False
    return bool(schema.get("$ref") or schema.get("items", {}).get("$ref") or schema.get("format") == "binary")


def problems(spec: dict[str, Any]) -> list[str]:
    """Operations without a documented success body, or with an error body that is not ours."""
    found: list[str] = []
    for path, method, op in operations(spec):
        where = f"{method.upper()} {path}"
        if not (op.get("description") or op.get("summary")):
            found.append(f"{where}: no description")
        success = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        media = [m for r in success.values() for m in (r.get("content") or {}).values()]
        if not media:
            found.append(f"{where}: no success body")
        for m in media:
            if path.startswith("/api/") and not _described(m.get("schema")):
                found.append(f"{where}: no response model")
            elif not m.get("schema"):
                found.append(f"{where}: no response schema")
        for code, response in op["responses"].items():
            if code.startswith(("4", "5")):
                refs = {m.get("schema", {}).get("$ref") for m in (response.get("content") or {}).values()}
                if not refs or not refs <= ERROR_SCHEMAS:
                    found.append(f"{where}: {code} is not ErrorOut")
        if path.startswith("/api/") and path != "/api/auth/token" and "401" not in op["responses"]:
            found.append(f"{where}: 401 not documented")
    return found


def test_every_operation_has_a_response_model_and_json_errors(app: FastAPI) -> None:
    spec = app.openapi()
    components = spec["components"]["schemas"]
    assert "HTTPValidationError" not in components  # our 422 body is not FastAPI's default
    assert components["ValidationErrorOut"]["properties"]["errors"]["type"] == "array"
    assert problems(spec) == []


def test_the_check_catches_a_route_without_a_response_model(app: FastAPI) -> None:
    def loose() -> dict[str, Any]:
        return {}

    app.add_api_route("/api/test-only/loose", loose, responses={404: {"description": "plain"}})
    assert problems(app.openapi()) == [
        "GET /api/test-only/loose: no response model",
        "GET /api/test-only/loose: 404 is not ErrorOut",
        "GET /api/test-only/loose: 401 not documented",
    ]


def test_docs_and_openapi_json_are_served(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    served = client.get("/openapi.json").json()
    assert "/api/cases/{number}" in served["paths"]
    assert "ValidationErrorOut" in served["components"]["schemas"]


def test_an_invalid_request_is_described_by_its_schema(client: TestClient, auth: Any) -> None:
    response = client.get("/api/cases", params={"page": "zero"}, headers=auth("county"))
    body = response.json()
    assert response.status_code == 422 and body["reason"] == "invalid_request" and body["message"]
    assert body["errors"] and body["errors"][0]["loc"][-1] == "page"


def test_an_unexpected_error_is_json_with_a_reason(app: FastAPI) -> None:
    def broken() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/test-only/broken", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/test-only/broken")
    assert response.status_code == 500
    assert response.json() == {"reason": "internal_error", "message": "something went wrong on our side"}


def test_wrong_method_is_json_with_a_reason(client: TestClient) -> None:
    response = client.delete("/api/cases")
    assert response.status_code == 405 and response.json()["reason"] == "method_not_allowed"
