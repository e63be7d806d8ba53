"""Sign-in: OAuth2 password flow, JWT expiry on the injected clock, 429 after repeated failures, scoping."""

from __future__ import annotations

from collections.abc import Callable

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.scope import in_scope, scope_prefix
from api.settings import Settings
from cases import demo
from cases.clock import FrozenClock
from cases.models import Case, LoginAttempt, Staff

Headers = dict[str, str]


def login(
    client: TestClient, username: str, password: str = demo.DEMO_PASSWORD
) -> tuple[int, dict[str, object]]:
    response = client.post("/api/auth/token", data={"username": username, "password": password})
    return response.status_code, response.json()


def test_password_flow_gives_a_token_that_works(client: TestClient, settings: Settings) -> None:
    status, body = login(client, "cadre1")
    assert status == 200 and body["token_type"] == "bearer"
    assert body["expires_in"] == settings.access_token_minutes * 60
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json() | {"id": 0} == {
        "id": 0,
        "username": "cadre1",
        "name": "赵强",
        "role": "cadre",
        "area_code": demo.MEIHUA,
        "area_name": "梅花村委会",
        "phone": None,
    }


def test_username_is_case_insensitive(client: TestClient) -> None:
    assert login(client, "  Cadre1 ")[0] == 200


@pytest.mark.parametrize(("username", "password"), [("cadre1", "wrong-password"), ("nobody", "shenbao-demo")])
def test_bad_credentials_are_401_with_a_reason(client: TestClient, username: str, password: str) -> None:
    status, body = login(client, username, password)
    assert (status, body["reason"]) == (401, "bad_credentials")


def test_no_or_bad_token_is_401(client: TestClient, settings: Settings) -> None:
    assert client.get("/api/auth/me").json()["reason"] == "not_authenticated"
    forged = jwt.encode(
        {"sub": "1", "exp": 4102444800, "aud": "shenbao-staff"},
        "another-secret-key-0123456789abcdef",
        algorithm="HS256",
    )
    response = client.get("/api/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_token_expires_on_the_injected_clock(
    client: TestClient, clock: FrozenClock, settings: Settings
) -> None:
    _, body = login(client, "county")
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    clock.advance(minutes=settings.access_token_minutes - 1)
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    clock.advance(minutes=2)
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_deactivated_staff_is_refused(
    client: TestClient, seeded: Session, auth: Callable[[str], Headers]
) -> None:
    headers = auth("cadre2")
    staff = seeded.scalars(select(Staff).where(Staff.username == "cadre2")).one()
    staff.active = False
    seeded.commit()
    assert client.get("/api/auth/me", headers=headers).status_code == 401
    assert login(client, "cadre2")[0] == 401


def test_repeated_failures_are_429_even_with_the_right_password(
    client: TestClient, settings: Settings, clock: FrozenClock, seeded: Session
) -> None:
    for _ in range(settings.login_max_failures):
        assert login(client, "meihua", "guess-guess")[0] == 401
    status, body = login(client, "meihua")
    assert (status, body["reason"]) == (429, "too_many_attempts")
    assert login(client, "cadre1")[0] == 200  # another account is not locked out by it
    clock.advance(minutes=settings.login_window_minutes + 1)
    assert login(client, "meihua")[0] == 200
    attempts = seeded.scalar(
        select(func.count()).select_from(LoginAttempt).where(LoginAttempt.username == "meihua")
    )
    assert attempts == settings.login_max_failures + 1  # the throttled attempt is not even checked


def test_throttle_lives_in_the_database_not_the_process(
    settings: Settings, clock: FrozenClock, seeded: Session
) -> None:
    """A second app (another process behind the load balancer) sees the first one's failures."""
    from api.app import create_app

    with TestClient(create_app(settings, clock=clock)) as first:
        for _ in range(settings.login_max_failures):
            login(first, "xidu", "nope-nope")
    with TestClient(create_app(settings, clock=clock)) as second:
        assert login(second, "xidu")[0] == 429


@pytest.mark.parametrize(
    ("area", "prefix"),
    [
        ("430000000000", "43"),
        ("430400000000", "4304"),
        ("430421000000", "430421"),
        ("430421100000", "430421100"),
        ("430421100225", "430421100225"),
        ("430421", "430421"),
    ],
)
def test_scope_prefix_strips_trailing_zero_groups(area: str, prefix: str) -> None:
    assert scope_prefix(area) == prefix


def test_in_scope() -> None:
    township = Staff(area_code="430421100000")
    assert in_scope(township, "430421100225")
    assert not in_scope(township, "430421112201")
    assert not in_scope(township, "430421101000")
    assert not in_scope(township, None)


def test_the_readmes_curl_lines_sign_in_and_read_cases_as_written(
    client: TestClient, make_case: Callable[..., Case]
) -> None:
    import re
    import shlex
    from pathlib import Path

    readme = Path(__file__).resolve().parents[2].joinpath("README.md").read_text(encoding="utf-8")
    lines = [line.split("#")[0].strip() for line in readme.splitlines()
             if "curl -s localhost:8000/api/" in line]
    token_line, list_line, one_line = lines[:3]
    fields = dict(a.split("=", 1) for a in re.findall(r"-d (\S+)", token_line.split("$(", 1)[1]))
    res = client.post("/api/auth/token", data=fields)
    assert res.status_code == 200 and "| jq -r .access_token" in token_line
    bearer = {"Authorization": f"Bearer {res.json()['access_token']}"}
    case = make_case()
    listed = client.get(shlex.split(list_line)[2].removeprefix("localhost:8000"), headers=bearer)
    assert listed.status_code == 200 and case.number in listed.text
    path = shlex.split(one_line)[2].removeprefix("localhost:8000")
    assert re.fullmatch(r"/api/cases/SB[0-9A-Z]{8}", path)
    one = client.get(path.rsplit("/", 1)[0] + "/" + case.number, headers=bearer)
    assert one.status_code == 200 and one.json()["number"] == case.number
