"""A withdrawn authorization as staff see it: the API's evidence and the console case page."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.settings import Settings
from cases import annex1, intake
from cases.clock import FrozenClock
from cases.crypto import Vault
from cases.models import Authorization, Case, CaseStatus, Channel, Contact, Household
from cases.notify import RecordingNotifier

from .test_console import login


@pytest.fixture
def web(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def _withdrawn_case(
    make_case: Callable[..., Case], seeded: Session, settings: Settings, clock: FrozenClock
) -> tuple[Case, Authorization, Authorization]:
    """A case signed from the household's phone, past the home visit, then withdrawn from that phone."""
    case = make_case(status=CaseStatus.PUBLIC_NOTICE)
    contact = Contact(channel=Channel.SMS, external_id="+8613907340001", household_id=case.household_id,
                      created_at=clock())
    seeded.add(contact)
    seeded.flush()
    vault = Vault(settings.secret_key)
    household = seeded.get(Household, case.household_id)
    assert household is not None and household.id_number_enc is not None
    signature = intake.sign_authorization(
        db=seeded, vault=vault, case=case, signer_name=household.head_name,
        signer_id_number=vault.decrypt(household.id_number_enc),
        channel=Channel.SMS, message_ref="SM-sign", contact_id=contact.id, now=clock(),
        text_version=annex1.CURRENT_VERSION)
    clock.advance(hours=2)
    notifier = RecordingNotifier()
    (withdrawal,) = intake.withdraw_household_consent(
        db=seeded, case=case, contact_id=contact.id, channel=Channel.SMS, message_ref="SM-withdraw",
        now=clock(), notifier=notifier)
    seeded.commit()
    assert [e[2] for e in notifier.events()] == ["authorization_withdrawn"]
    return case, signature, withdrawal


def _head(db: Session, case: Case) -> str:
    household = db.get(Household, case.household_id)
    assert household is not None
    return household.head_name


def test_the_api_evidence_shows_the_signature_withdrawn_and_pending_again(
    make_case: Callable[..., Case], seeded: Session, settings: Settings, clock: FrozenClock,
    client: TestClient, auth: Callable[[str], dict[str, str]],
) -> None:
    case, signature, withdrawal = _withdrawn_case(make_case, seeded, settings, clock)
    body = client.get(f"/api/cases/{case.number}", headers=auth("cadre1")).json()
    signed, withdrawn = body["authorizations"]
    assert signed["id"] == signature.id and signed["kind"] == "sign"
    assert signed["withdrawn_by_id"] == withdrawal.id and signed["withdrawn_at"] is not None
    assert withdrawn["kind"] == "withdraw" and withdrawn["withdraws_id"] == signature.id
    assert withdrawn["message_ref"] == "SM-withdraw" and withdrawn["channel"] == "sms"
    assert withdrawn["text_version"] == annex1.CURRENT_VERSION and withdrawn["withdrawn_by_id"] is None
    assert body["pending_signatures"] == [_head(seeded, case)]
    assert body["status"] == "public_notice"


def test_the_console_case_page_shows_the_withdrawal_and_offers_a_new_signature(
    make_case: Callable[..., Case], seeded: Session, settings: Settings, clock: FrozenClock, web: TestClient,
) -> None:
    case, signature, _ = _withdrawn_case(make_case, seeded, settings, clock)
    login(web, "cadre1")
    page = web.get(f"/console/cases/{case.number}").text
    assert f'id="auth-{signature.id}"' in page and "withdrawn" in page
    assert "农户撤回于" in page and "需农户重新签字" in page
    assert 'id="signature-pending"' in page  # pending again though the case is past the application
    assert 'value="sign_at_visit"' in page
