"""The members REST calls the member tests make (tests/api/test_member_*.py)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from cases.models import Case

Headers = dict[str, str]


def add(client: TestClient, headers: Headers, case: Case, name: str, relation: str, **extra: Any) -> Any:
    return client.post(f"/api/cases/{case.number}/members", headers=headers,
                       json={"name": name, "relation_code": relation, **extra})


def edit(client: TestClient, headers: Headers, case: Case, member_id: int, **fields: Any) -> Any:
    return client.post(f"/api/cases/{case.number}/members/{member_id}", headers=headers, json=fields)


def reason_of(res: Any) -> tuple[int, str]:
    return res.status_code, res.json().get("reason")


def member(res: Any, name: str) -> dict[str, Any]:
    return next(m for m in res.json()["members"] if m["name"] == name)
