"""Checklist G7 (repeated staff logins -> 429) and G8 (no asset check without a signed authorization)
over the REST API and the console, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.auth import CLIENT_FAILURE_FACTOR
from api.settings import Settings
from cases import demo
from cases.clock import FrozenClock
from cases.intake import active_signatures, withdraw_authorization
from cases.models import Case, CaseStatus, Channel, HomeVisit, LoginAttempt, Staff
from tests.api.test_workflow_api import VISIT, act, sign

Headers = dict[str, str]
Auth = Callable[[str], Headers]


def token(client: TestClient, username: str, password: str = demo.DEMO_PASSWORD) -> tuple[int, Any]:
    response = client.post("/api/auth/token", data={"username": username, "password": password})
    return response.status_code, response.json()


def verifiers(db: Session) -> list[int]:
    return list(
        db.scalars(select(Staff.id).where(Staff.username.in_(["cadre1", "cadre2"])).order_by(Staff.id))
    )


def visits_of(db: Session, case: Case) -> int:
    db.expire_all()
    return int(
        db.scalar(select(func.count()).select_from(HomeVisit).where(HomeVisit.case_id == case.id)) or 0
    )


def status_of(db: Session, case: Case) -> str:
    db.expire_all()
    return str(db.scalars(select(Case.status).where(Case.id == case.id)).one())


# --- G7 ------------------------------------------------------------------------------------------------


def test_G7_repeated_staff_logins_to_the_api_are_429_per_account_and_per_client(
    client: TestClient, settings: Settings, clock: FrozenClock, seeded: Session
) -> None:
    for _ in range(settings.login_max_failures):
        assert token(client, "cadre2", "wrong-password")[0] == 401
    status, body = token(client, "cadre2")  # the right password now: still refused
    assert (status, body["reason"]) == (429, "too_many_attempts")
    assert "access_token" not in body
    # one client spraying passwords over many accounts is throttled as a client too
    usernames = [s for s in seeded.scalars(select(Staff.username)) if s != "cadre2"]
    statuses = []
    for i in range(settings.login_max_failures * 4):
        statuses.append(token(client, usernames[i % len(usernames)], f"guess-{i}")[0])
    budget = settings.login_max_failures * CLIENT_FAILURE_FACTOR  # cadre2's failures count for the client
    sprayed = budget - settings.login_max_failures
    assert statuses == [401] * sprayed + [429] * (len(statuses) - sprayed)
    assert token(client, "county")[0] == 429  # this address is throttled for every account now
    clock.advance(minutes=settings.login_window_minutes + 1)
    assert token(client, "county")[0] == 200 and token(client, "cadre2")[0] == 200
    failures = seeded.scalar(
        select(func.count()).select_from(LoginAttempt).where(LoginAttempt.succeeded.is_(False))
    )
    assert failures == budget  # throttled attempts are not even checked


def test_G7_repeated_console_logins_are_429(app: FastAPI, settings: Settings, seeded: Session) -> None:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as web:

        def attempt(password: str) -> int:
            form = web.get("/console/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert csrf is not None
            data = {"username": "meihua", "password": password, "csrf": csrf.group(1)}
            return int(web.post("/console/login", data=data).status_code)

        assert [attempt("nope-nope") for _ in range(settings.login_max_failures)] == [401] * 5
        assert attempt(demo.DEMO_PASSWORD) == 429
        assert "sb_console" not in web.cookies


# --- G8 ------------------------------------------------------------------------------------------------


def test_G8_a_home_visit_without_the_signed_authorization_is_409_and_records_nothing(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session
) -> None:
    case = make_case(demo.MEIHUA, head_name="张三")
    cadre = auth("cadre1")
    detail = client.get(f"/api/cases/{case.number}", headers=cadre).json()
    assert detail["pending_signatures"] == ["张三"] and "record_home_visit" not in detail["allowed_actions"]
    refused = client.post(
        f"/api/cases/{case.number}/visits", headers=cadre, json=VISIT | {"verifier_ids": verifiers(seeded)}
    )
    assert (refused.status_code, refused.json()["reason"]) == (409, "signature_pending")
    assert refused.json()["message"]  # the reason is explained, not just coded
    assert visits_of(seeded, case) == 0 and status_of(seeded, case) == "applied"

    # signed, then withdrawn before the visit: no authorization on record again
    assert sign(client, cadre, case, "张三").status_code == 201
    (signature,) = active_signatures(db=seeded, case=seeded.get(Case, case.id))  # type: ignore[arg-type]
    withdraw_authorization(
        db=seeded,
        authorization=signature,
        channel=Channel.CONSOLE,
        message_ref="撤回书",
        contact_id=None,
        now=signature.signed_at,
    )
    seeded.commit()
    again = client.post(
        f"/api/cases/{case.number}/visits", headers=cadre, json=VISIT | {"verifier_ids": verifiers(seeded)}
    )
    assert (again.status_code, again.json()["reason"]) == (409, "signature_pending")
    assert visits_of(seeded, case) == 0

    assert sign(client, cadre, case, "张三").status_code == 201  # signed anew: the visit goes ahead
    done = client.post(
        f"/api/cases/{case.number}/visits", headers=cadre, json=VISIT | {"verifier_ids": verifiers(seeded)}
    )
    assert done.status_code == 201 and visits_of(seeded, case) == 1


def test_G8_the_elimination_visit_and_the_county_cross_check_need_the_authorization_too(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session
) -> None:
    """Both look at the family's income and assets; a case with no signature on record is refused."""
    county_case = make_case(demo.MEIHUA, head_name="李四", status=CaseStatus.COUNTY_REVIEW)
    county = auth("county")
    detail = client.get(f"/api/cases/{county_case.number}", headers=county).json()
    assert "county_approve" not in detail["allowed_actions"]
    refused = act(client, county, county_case, "county_approve", category=2)
    assert (refused.status_code, refused.json()["reason"]) == (409, "signature_pending")
    assert status_of(seeded, county_case) == "county_review"
    assert sign(client, auth("cadre1"), county_case, "李四").status_code == 201
    assert act(client, county, county_case, "county_approve", category=2).json()["status"] == "monitored"

    monitored = make_case(demo.MEIHUA, head_name="王五", status=CaseStatus.MONITORED)
    proposed = act(client, auth("meihua"), monitored, "propose_elimination", mode="assistance")
    assert proposed.status_code == 200 and proposed.json()["status"] == "elim_proposed"
    elim_visit = VISIT | {"verifier_ids": verifiers(seeded), "a28_wages": "40000", "household_signed": True}
    refused = client.post(f"/api/cases/{monitored.number}/visits", headers=auth("cadre1"), json=elim_visit)
    assert (refused.status_code, refused.json()["reason"]) == (409, "signature_pending")
    assert visits_of(seeded, monitored) == 0 and status_of(seeded, monitored) == "elim_proposed"
    assert sign(client, auth("cadre1"), monitored, "王五").status_code == 201
    done = client.post(f"/api/cases/{monitored.number}/visits", headers=auth("cadre1"), json=elim_visit)
    assert done.status_code == 201, done.text
    assert status_of(seeded, monitored) == "elim_verified"


# --- G3: what could not be delivered is visible to staff ------------------------------------------------


def test_G3_undelivered_messages_are_listed_for_hotline_staff_in_the_console_and_the_api(
    app: FastAPI, make_case: Callable[..., Case], seeded: Session, clock: FrozenClock, auth: Auth
) -> None:
    from cases.models import Contact, ContactStatus, Household, Outbox, OutboxStatus
    from tests.api.test_console import login

    case = make_case(demo.MEIHUA, head_name="张三")
    household = seeded.get(Household, case.household_id)
    assert household is not None
    contact = Contact(
        channel=Channel.TELEGRAM,
        external_id="5550001234",
        household_id=household.id,
        status=ContactStatus.ACTIVE,
        created_at=clock(),
    )
    seeded.add(contact)
    seeded.flush()
    dead = Outbox(
        channel=Channel.TELEGRAM,
        to="5550001234",
        contact_id=contact.id,
        kind="notification",
        body="您的案件有新进展",
        extra={"event": "case_status_changed"},
        status=OutboxStatus.DEAD,
        attempts=8,
        next_attempt_at=clock(),
        created_at=clock(),
        last_error="telegram 502",
    )
    seeded.add(dead)
    seeded.commit()
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as web:
        login(web, "hotline")
        listed = web.get("/console/deliveries")
        assert listed.status_code == 200 and "未送达" in listed.text
        assert "案件进展" in listed.text and "telegram 502" in listed.text  # the event in Chinese
        assert "case_status_changed" not in listed.text
        assert "5550001234" not in listed.text  # the address is masked
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as web:
        login(web, "cadre1")
        assert web.get("/console/deliveries").status_code == 403  # for the follow-up desks only
    with TestClient(app) as client:
        api = client.get("/api/deliveries/failed", headers=auth("hotline")).json()
        assert [(m["id"], m["recipient"], m["area_code"]) for m in api] == [
            (dead.id, "household", demo.MEIHUA)
        ]
        assert client.get("/api/deliveries/failed", headers=auth("cadre1")).status_code == 403
