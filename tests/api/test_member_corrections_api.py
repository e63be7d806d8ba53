"""Correcting a member's A5 name, A8 relation and A7 ID number over REST (typos at the door): the ID number
checked, kept encrypted and hashed, one person in one household; the head's name and ID number are the
household's; a signature is to a name and an ID number, so a signer's are not changed; each change on the
timeline and in the audit log by the items' names, never their values."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, event, select, update
from sqlalchemy.orm import Session

from api.settings import Settings
from cases import annex1, annex1_text, demo
from cases.clock import BEIJING
from cases.crypto import Vault
from cases.intake import find_household_by_id_number, sign_authorization
from cases.models import (
    AuditEntry,
    Case,
    CaseEvent,
    CaseStatus,
    Channel,
    Household,
    Member,
    RegionSetting,
    Report,
)
from tests.api.conftest import make_id
from tests.api.member_calls import add, edit, member, reason_of

Headers = dict[str, str]
Auth = Callable[[str], Headers]
SPOUSE_ID = make_id("43042119650315002")
SPOUSE_FIXED = make_id("43042119660315002")  # a digit typed wrong at the door: born 1966, not 1965
CHILD_ID = make_id("43042120150601003")
HEAD_FIXED = make_id("43042119600101998")


def updates(db: Session, case: Case) -> list[dict[str, Any]]:
    db.expire_all()
    return [e.data for e in db.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.action == "member_updated").order_by(CaseEvent.id))]


def test_a_cadre_corrects_a_members_name_relation_and_id_number_named_on_the_record_never_their_values(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session, settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    case = make_case(demo.MEIHUA, head_name="张三")
    cadre = auth("cadre1")
    spouse = member(add(client, cadre, case, "李海", "04", id_number=SPOUSE_ID, a9_ethnicity="01"), "李海")
    with caplog.at_level(logging.DEBUG):
        res = edit(client, cadre, case, spouse["id"], name="李 梅", relation_code="02",
                   id_number=SPOUSE_FIXED.lower(), note="入户时对了身份证")
    assert res.status_code == 200, res.text
    fixed = member(res, "李梅")  # kept as written on the card: spaces dropped
    assert (fixed["id"], fixed["relation"], fixed["birth_year"]) == (spouse["id"], "配偶", 1966)
    assert fixed["id_number_masked"] == SPOUSE_FIXED[:6] + "********" + SPOUSE_FIXED[-4:]
    assert fixed["a9_ethnicity"] == "01" and SPOUSE_FIXED not in res.text
    vault = Vault(settings.secret_key)
    seeded.expire_all()
    stored = seeded.get(Member, spouse["id"])
    assert stored is not None and stored.id_number_enc is not None
    assert SPOUSE_FIXED not in stored.id_number_enc and vault.decrypt(stored.id_number_enc) == SPOUSE_FIXED
    assert stored.id_hash == vault.lookup_hash(SPOUSE_FIXED) and str(stored.birth_date) == "1966-03-15"
    assert updates(seeded, case) == [
        {"member_id": spouse["id"], "fields": ["name", "relation", "id_number", "birth_date"]}]
    entry = seeded.scalars(select(AuditEntry).where(AuditEntry.action == "case.member_updated")).one()
    assert entry.detail["fields"] == ["name", "relation", "id_number", "birth_date"]
    event = seeded.scalars(select(CaseEvent).where(CaseEvent.action == "member_updated")).one()
    assert event.note == "入户时对了身份证"
    for value in ("李梅", "李海", "配偶", SPOUSE_FIXED, SPOUSE_ID, "1966"):
        assert value not in str(entry.detail) and value not in str(event.data) and value not in caplog.text
    timeline = client.get(f"/api/cases/{case.number}", headers=cadre).json()["timeline"]
    assert timeline[-1]["action"] == "member_updated" and timeline[-1]["data"]["fields"][0] == "name"
    # the number on record typed again, or the name as recorded: nothing changes, nothing is recorded
    assert edit(client, cadre, case, spouse["id"], id_number=SPOUSE_FIXED, name="李梅").status_code == 200
    assert len(updates(seeded, case)) == 1
    # the old number is free again: another household's member may have it
    other = make_case(demo.MEIHUA)
    assert add(client, cadre, other, "李海", "02", id_number=SPOUSE_ID).status_code == 201


def test_the_heads_name_and_id_number_are_the_households(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session, settings: Settings
) -> None:
    case = make_case(demo.MEIHUA, head_name="张山")
    cadre = auth("cadre1")
    detail = client.get(f"/api/cases/{case.number}", headers=cadre).json()
    head = next(m for m in detail["household"]["members"] if m["is_head"])
    res = edit(client, cadre, case, head["id"], name="张三", id_number=HEAD_FIXED, relation_code="01")
    assert res.status_code == 200, res.text
    assert res.json()["head_name"] == "张三" and member(res, "张三")["is_head"]
    assert res.json()["id_number_masked"] == HEAD_FIXED[:6] + "********" + HEAD_FIXED[-4:]
    vault = Vault(settings.secret_key)
    seeded.expire_all()
    household = seeded.get(Household, case.household_id)
    assert household is not None and household.head_name == "张三"
    assert household.id_hash == vault.lookup_hash(HEAD_FIXED)
    assert household.id_number_enc is not None and vault.decrypt(household.id_number_enc) == HEAD_FIXED
    found = find_household_by_id_number(db=seeded, vault=vault, id_number=HEAD_FIXED)
    assert found is not None and found.id == household.id  # a later report with the right number joins it
    assert detail["household"]["id_number_masked"] != res.json()["id_number_masked"]
    # born the same day as the number typed wrong said: the birth date is no change
    assert updates(seeded, case) == [{"member_id": head["id"], "fields": ["name", "id_number"]}]
    relation = edit(client, cadre, case, head["id"], relation_code="02")
    assert reason_of(relation) == (409, "head_relation_fixed")


def test_refusals_change_nothing(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session
) -> None:
    elsewhere = make_case(demo.MEIHUA, head_name="王五")
    other_head = make_id("43042119600101001")  # make_case's first household's head
    cadre = auth("cadre1")
    assert add(client, cadre, elsewhere, "王小五", "03", id_number=CHILD_ID).status_code == 201
    case = make_case(demo.MEIHUA, head_name="张三")
    spouse = member(add(client, cadre, case, "李梅", "02", id_number=SPOUSE_ID), "李梅")["id"]
    child = member(add(client, cadre, case, "张小明", "03", birth_date="2015-06-01"), "张小明")["id"]
    refusals: list[tuple[int, dict[str, Any], tuple[int, str]]] = [
        (spouse, {"id_number": "430421196503150021"}, (422, "invalid_id_number")),
        (spouse, {"id_number": CHILD_ID}, (409, "member_in_other_household")),  # a member elsewhere
        (spouse, {"id_number": other_head}, (409, "member_in_other_household")),  # a head elsewhere
        (spouse, {"id_number": make_id("43042119600101002")}, (409, "member_exists")),  # this one's head
        (child, {"id_number": SPOUSE_ID}, (409, "member_exists")),
        (spouse, {"id_number": None}, (422, "id_number_required")),
        (spouse, {"name": "  "}, (422, "name_required")),
        (spouse, {"name": None}, (422, "name_required")),
        (spouse, {"relation_code": "01"}, (409, "head_exists")),
        (spouse, {"relation_code": "22"}, (422, "unknown_relation")),
        (spouse, {"relation_code": None}, (422, "unknown_relation")),
        (child, {"id_number": make_id("43042120150601004"), "birth_date": "2014-06-01"},
         (422, "birth_date_mismatch")),
    ]
    for member_id, body, expected in refusals:
        assert reason_of(edit(client, cadre, case, member_id, a13_health="01", **body)) == expected, body
    assert edit(client, cadre, case, spouse, name="张" * 65).status_code == 422
    hotline = edit(client, auth("hotline"), case, spouse, name="李美")
    assert reason_of(hotline) == (409, "role_not_allowed")
    assert reason_of(edit(client, auth("sanhu"), case, spouse, name="李美")) == (404, "case_not_found")
    seeded.expire_all()
    stored = seeded.get(Member, spouse)
    assert stored is not None and (stored.name, stored.relation, stored.a13_health) == ("李梅", "配偶", None)
    assert updates(seeded, case) == []
    twin = add(client, cadre, case, "张小红", "04", birth_date="2015-06-01")
    assert twin.status_code == 201
    red = member(twin, "张小红")["id"]
    assert reason_of(edit(client, cadre, case, red, name="张小明")) == (409, "member_exists")
    assert reason_of(edit(client, cadre, case, child, name="张小红")) == (409, "member_exists")
    renamed = edit(client, cadre, case, red, name="张小明", birth_date="2016-01-01")
    assert [m["birth_year"] for m in renamed.json()["members"] if m["id"] == red] == [2016]  # another day
    closed = make_case(demo.MEIHUA, status=CaseStatus.REFUSED)
    closed_head = next(m.id for m in closed.household.members if m.is_head)
    assert reason_of(edit(client, cadre, closed, closed_head, name="张三")) == (409, "illegal_step")


def test_a_member_without_an_id_number_gets_one_and_the_birth_date_follows_it(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session
) -> None:
    case = make_case(demo.MEIHUA)
    cadre = auth("cadre1")
    child = member(add(client, cadre, case, "张小明", "03", birth_date="2015-01-01"), "张小明")["id"]
    res = edit(client, cadre, case, child, id_number=CHILD_ID, birth_date="2015-06-01")
    assert res.status_code == 200, res.text
    assert member(res, "张小明")["id_number_masked"].startswith("430421")
    seeded.expire_all()
    stored = seeded.get(Member, child)
    assert stored is not None and str(stored.birth_date) == "2015-06-01"
    assert updates(seeded, case) == [{"member_id": child, "fields": ["id_number", "birth_date"]}]
    assert reason_of(edit(client, cadre, case, child, birth_date="2015-01-01")) == (422, "birth_date_from_id")


def test_a_signature_is_to_a_name_and_an_id_number(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session
) -> None:
    """A member who signed annex 1 keeps the name and ID number signed (the relation and details may be
    corrected); a member who has not signed may be corrected beside them."""
    seeded.execute(update(RegionSetting).values(signers="all_adults"))
    seeded.commit()
    case = make_case(demo.MEIHUA, head_name="张三")
    cadre = auth("cadre1")
    spouse = member(add(client, cadre, case, "李梅", "04", id_number=SPOUSE_ID), "李梅")["id"]
    son = member(add(client, cadre, case, "张大", "03", id_number=make_id("43042119900101005")), "张大")["id"]
    signed = client.post(f"/api/cases/{case.number}/signatures", headers=cadre,
                         json={"signer_name": "李梅", "message_ref": "纸质附件1"})
    assert signed.status_code == 201, signed.text
    for body in ({"name": "李美"}, {"id_number": SPOUSE_FIXED}, {"name": "李美", "relation_code": "02"}):
        assert reason_of(edit(client, cadre, case, spouse, **body)) == (409, "member_signed_annex1"), body
    res = edit(client, cadre, case, spouse, relation_code="02", a13_health="01")
    assert res.status_code == 200 and member(res, "李梅")["relation"] == "配偶"
    assert edit(client, cadre, case, spouse, name="李梅").status_code == 200  # the name signed: no change
    assert member(edit(client, cadre, case, son, name="张大明"), "张大明")["id"] == son  # not signed
    assert [d["fields"] for d in updates(seeded, case)] == [["relation", "a13_health"], ["name"]]


def test_the_head_keeps_the_name_and_number_an_annex_1_written_from_the_household_record_shows(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session, settings: Settings
) -> None:
    """Annex 1 is filled with the head's name and ID number; a text signed as written from the household
    record (no report carried them) is verified by writing it again from that record, so another member's
    signature on it keeps the head's name and number too."""
    seeded.execute(update(RegionSetting).values(signers="all_adults"))
    case = make_case(demo.MEIHUA, head_name="张三")
    seeded.execute(update(Report).where(Report.case_id == case.id).values(head_name=None))  # an imported case
    seeded.commit()
    cadre = auth("cadre1")
    spouse = member(add(client, cadre, case, "李梅", "02", id_number=SPOUSE_ID), "李梅")["id"]
    head = next(m["id"] for m in client.get(f"/api/cases/{case.number}", headers=cadre).json()["household"][
        "members"] if m["is_head"])
    vault = Vault(settings.secret_key)
    seeded.expire_all()
    fresh = seeded.get(Case, case.id)
    assert fresh is not None
    signed_on = fresh.opened_at.astimezone(BEIJING).date()
    text, report_id = annex1_text.case_text(seeded, vault, fresh, signed_on=signed_on)
    assert report_id is None and "张三" in text
    auth_row = sign_authorization(
        db=seeded, vault=vault, case=fresh, signer_name="李梅", signer_id_number=SPOUSE_ID,
        channel=Channel.SMS, message_ref="m1", contact_id=None, now=fresh.opened_at,
        text_version=annex1.CURRENT_VERSION, shown_sha256=annex1.digest(text))
    seeded.commit()
    assert annex1_text.verify(seeded, vault, auth_row) is True
    assert reason_of(edit(client, cadre, case, head, name="张山")) == (409, "member_signed_annex1")
    assert reason_of(edit(client, cadre, case, head, id_number=HEAD_FIXED)) == (409, "member_signed_annex1")
    seeded.expire_all()
    assert annex1_text.verify(seeded, vault, auth_row) is True
    assert edit(client, cadre, case, spouse, relation_code="99").status_code == 200


def test_annex_1_names_the_head_as_corrected_until_someone_signs_it(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session, settings: Settings
) -> None:
    """Annex 1 is filled from the case's report: a head's name and ID number corrected on the record went
    on showing as typed at the door (张山) in the application the household is asked to sign, while the
    signer was matched against the record (张三). The report's copy is corrected with the record; once a
    member has signed a text naming the head, the head's name and number stay (the text is verified)."""
    seeded.execute(update(RegionSetting).values(signers="all_adults"))
    seeded.commit()
    case = make_case(demo.MEIHUA, head_name="张山")
    cadre = auth("cadre1")
    head = next(m["id"] for m in client.get(f"/api/cases/{case.number}", headers=cadre).json()["household"][
        "members"] if m["is_head"])
    spouse = member(add(client, cadre, case, "李梅", "02", id_number=SPOUSE_ID), "李梅")["id"]
    assert edit(client, cadre, case, head, name="张三", id_number=HEAD_FIXED).status_code == 200
    vault = Vault(settings.secret_key)
    seeded.expire_all()
    fresh = seeded.get(Case, case.id)
    assert fresh is not None
    signed_on = fresh.opened_at.astimezone(BEIJING).date()
    text, report_id = annex1_text.case_text(seeded, vault, fresh, signed_on=signed_on)
    assert report_id is not None and "张三" in text and "张山" not in text
    assert HEAD_FIXED[-4:] in text
    auth_row = sign_authorization(
        db=seeded, vault=vault, case=fresh, signer_name="李梅", signer_id_number=SPOUSE_ID,
        channel=Channel.SMS, message_ref="m1", contact_id=None, now=fresh.opened_at,
        text_version=annex1.CURRENT_VERSION, shown_sha256=annex1.digest(text), report_id=report_id)
    seeded.commit()
    assert reason_of(edit(client, cadre, case, head, name="张三丰")) == (409, "member_signed_annex1")
    seeded.expire_all()
    assert annex1_text.verify(seeded, vault, auth_row) is True
    assert edit(client, cadre, case, spouse, a13_health="01").status_code == 200


def test_a_head_s_number_taken_by_another_household_at_the_same_moment_is_a_conflict(
    client: TestClient, auth: Auth, make_case: Callable[..., Case], seeded: Session, settings: Settings,
    app: FastAPI,
) -> None:
    """The number is checked free, then another request gives it to another household before this one
    writes it (simulated: that household takes it in the same transaction, just before the write): the
    unique index refuses it. That was a 500; it is 409 conflict, and nothing of the correction is saved."""
    vault = Vault(settings.secret_key)
    case = make_case(demo.MEIHUA, head_name="张山")
    other = make_case(demo.MEIHUA, head_name="王五")
    cadre = auth("cadre1")
    head = next(m["id"] for m in client.get(f"/api/cases/{case.number}", headers=cadre).json()["household"][
        "members"] if m["is_head"])
    taken = vault.lookup_hash(HEAD_FIXED)
    engine: Engine = app.state.engine  # the app's requests' engine

    done: list[bool] = []

    def meanwhile(conn: Connection, _cursor: object, sql: str, *_args: object) -> None:
        if not done and sql.lstrip().upper().startswith("UPDATE HOUSEHOLDS"):
            done.append(True)
            conn.execute(update(Household).where(Household.id == other.household_id).values(id_hash=taken))

    event.listen(engine, "before_cursor_execute", meanwhile)
    try:
        res = edit(client, cadre, case, head, name="张三", id_number=HEAD_FIXED)
    finally:
        event.remove(engine, "before_cursor_execute", meanwhile)
    assert done
    assert reason_of(res) == (409, "conflict"), res.text
    seeded.expire_all()
    household = seeded.get(Household, case.household_id)
    assert household is not None and household.head_name == "张山" and household.id_hash != taken
    assert updates(seeded, case) == []
