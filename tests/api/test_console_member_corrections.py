"""The members card's edit form corrects a member's name, A8 relation and ID number (typos at the door): empty
fields keep what is on record, the timeline names the items changed, refusals say why in Chinese, and a member
who signed annex 1 is offered no name or ID number to change."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.settings import Settings
from cases import demo
from cases.crypto import Vault
from cases.models import Case, Household, Member
from tests.api.conftest import make_id
from tests.api.test_console import login
from tests.api.test_console_member_details import EMPTY, card, details_row, head_of

SPOUSE_ID = make_id("43042119650315002")
SPOUSE_FIXED = make_id("43042119660315002")
# the form posts every field: the corrections empty (kept) unless typed
FORM = EMPTY | {"member_name": "", "member_id_number": "", "note": ""}


@pytest.fixture
def web(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def member_named(db: Session, case: Case, name: str) -> Member:
    db.expire_all()
    return db.scalars(select(Member).where(Member.household_id == case.household_id,
                                           Member.name == name)).one()


def timeline(html: str) -> str:
    return html.split('id="timeline"')[1]


def test_the_edit_form_corrects_name_relation_and_id_number_and_the_timeline_names_the_items(
    web: TestClient, seeded: Session, make_case: Callable[..., Case], settings: Settings
) -> None:
    case = make_case(demo.MEIHUA, head_name="张山")
    csrf = login(web, "cadre1")

    def act(**data: str) -> Any:
        return web.post(f"/console/cases/{case.number}/act", data={"csrf": csrf, **data})

    added = act(action="add_member", member_name="李海", relation_code="04", member_id_number=SPOUSE_ID,
                birth_date="", **EMPTY)
    assert added.status_code == 303, added.text
    spouse = member_named(seeded, case, "李海")
    head = head_of(seeded, case)
    page = web.get(f"/console/cases/{case.number}").text
    row = details_row(page, spouse.id)
    assert 'name="member_name"' in row and 'name="member_id_number"' in row and "不改就留空" in row
    assert '<option value="04" selected>之女</option>' in row  # the relation on record
    head_row = details_row(page, head.id)
    assert 'name="member_name"' in head_row and 'name="relation_code"' not in head_row  # the head stays head

    fixed = act(action="edit_member", member_id=str(spouse.id),
                **FORM | {"member_name": "李梅", "relation_code": "02", "member_id_number": SPOUSE_FIXED})
    assert fixed.status_code == 303, fixed.text
    renamed = act(action="edit_member", member_id=str(head.id), **FORM | {"member_name": "张三"})
    assert renamed.status_code == 303, renamed.text
    kept = act(action="edit_member", member_id=str(spouse.id), relation_code="02", **FORM)  # nothing typed
    assert kept.status_code == 303
    stored = member_named(seeded, case, "李梅")
    vault = Vault(settings.secret_key)
    assert stored.relation == "配偶" and stored.id_number_enc is not None
    assert vault.decrypt(stored.id_number_enc) == SPOUSE_FIXED and str(stored.birth_date) == "1966-03-15"
    household = seeded.get(Household, case.household_id)
    assert household is not None and household.head_name == "张三"
    page = web.get(f"/console/cases/{case.number}").text
    assert "李*" in card(page) and "配偶" in card(page)
    events = timeline(page)
    assert "改了：姓名、与户主关系、身份证号、出生日期" in events and "改了：姓名" in events
    for value in ("李梅", "李海", SPOUSE_FIXED, "1966"):
        assert value not in events
    assert len(re.findall("更新了家庭成员信息", events)) == 2  # the form sent again as it was: no change


def test_refusals_say_why_in_chinese_and_a_signer_is_offered_no_name_or_number(
    web: TestClient, seeded: Session, make_case: Callable[..., Case]
) -> None:
    elsewhere = make_case(demo.MEIHUA)
    case = make_case(demo.MEIHUA, head_name="张三")
    csrf = login(web, "cadre1")

    def act(**data: str) -> Any:
        return web.post(f"/console/cases/{case.number}/act", data={"csrf": csrf, **data})

    assert act(action="add_member", member_name="李梅", relation_code="02", member_id_number=SPOUSE_ID,
               birth_date="", **EMPTY).status_code == 303
    spouse = member_named(seeded, case, "李梅")
    head = head_of(seeded, case)
    other_head = head_of(seeded, elsewhere)
    assert other_head.id_hash is not None
    refusals = (
        (spouse, {"member_id_number": make_id("43042119600101001")}, "这个身份证号已登记在另一户"),
        (spouse, {"member_id_number": "430421196503150021"}, "身份证号无效"),
        (spouse, {"relation_code": "01"}, "户主已登记"),
        (head, {"relation_code": "02"}, "户主还是户主，与户主关系不能改"),
    )
    for who, fields, words in refusals:
        res = act(action="edit_member", member_id=str(who.id), **FORM | fields)
        assert res.status_code == 409 and words in res.text, (fields, re.findall(r"未办理：[^<]*", res.text))
    signed = act(action="sign_at_visit", signer_name="李梅", signer_id_number="")
    assert signed.status_code == 303, signed.text
    row = details_row(web.get(f"/console/cases/{case.number}").text, spouse.id)
    assert "已签附件1：姓名和身份证号按签字时的保留，不能改。" in row
    assert 'name="member_name"' not in row and 'name="member_id_number"' not in row
    assert 'name="relation_code"' in row  # the relation may still be corrected
    res = act(action="edit_member", member_id=str(spouse.id), **FORM | {"member_name": "李美"})
    assert res.status_code == 409
    assert "未办理：附件1（申请及承诺授权书）签的是这个姓名和身份证号，不能再改" in res.text
    assert member_named(seeded, case, "李梅").id == spouse.id


def test_a_member_recorded_by_a_birth_date_takes_the_id_numbers_when_signing_with_it(
    web: TestClient, seeded: Session, make_case: Callable[..., Case]
) -> None:
    """The birth date typed at the door (a day off) gives way to the ID number's once the member signs annex 1
    with it, as a number given by the edit form does: the card's year, adulthood for `all_adults` and the
    export's rows read the birth date, and a member with an ID number has that number's."""
    case = make_case(demo.MEIHUA, head_name="张三")
    csrf = login(web, "cadre1")

    def act(**data: str) -> Any:
        return web.post(f"/console/cases/{case.number}/act", data={"csrf": csrf, **data})

    assert act(action="add_member", member_name="李梅", relation_code="02", member_id_number="",
               birth_date="1966-03-15", **EMPTY).status_code == 303  # SPOUSE_ID says 1965-03-15
    signed = act(action="sign_at_visit", signer_name="李梅", signer_id=SPOUSE_ID)
    assert signed.status_code == 303, signed.text
    spouse = member_named(seeded, case, "李梅")
    assert spouse.id_hash is not None and str(spouse.birth_date) == "1965-03-15"
    assert "出生年份 1965" in details_row(web.get(f"/console/cases/{case.number}").text, spouse.id)


def test_a_member_signing_with_a_number_on_record_elsewhere_is_refused_and_nothing_is_kept(
    web: TestClient, seeded: Session, make_case: Callable[..., Case], settings: Settings
) -> None:
    """One person is in one household: a member recorded by a birth date who signs annex 1 with an ID number
    another household has (its head's or a member's), or another member of this one has, is refused as adding
    or correcting the member with it is; neither the signature nor the number is kept."""
    elsewhere = make_case(demo.MEIHUA, head_name="王五")
    case = make_case(demo.MEIHUA, head_name="张三")
    csrf = login(web, "cadre1")
    vault = Vault(settings.secret_key)

    def act(**data: str) -> Any:
        return web.post(f"/console/cases/{case.number}/act", data={"csrf": csrf, **data})

    assert act(action="add_member", member_name="李梅", relation_code="02", member_id_number=SPOUSE_ID,
               birth_date="", **EMPTY).status_code == 303
    assert act(action="add_member", member_name="张小明", relation_code="03", member_id_number="",
               birth_date="1990-01-01", **EMPTY).status_code == 303
    elsewhere_son = make_id("43042119900101005")
    assert web.post(f"/console/cases/{elsewhere.number}/act", data={
        "csrf": csrf, "action": "add_member", "member_name": "王小五", "relation_code": "03",
        "member_id_number": elsewhere_son, "birth_date": "", **EMPTY}).status_code == 303
    other_head = head_of(seeded, elsewhere)
    assert other_head.id_number_enc is not None
    for number, words in ((vault.decrypt(other_head.id_number_enc), "未办理：这个身份证号已登记在另一户"),
                          (elsewhere_son, "未办理：这个身份证号已登记在另一户"),
                          (SPOUSE_ID, "未办理：身份证号与该家庭成员不符")):
        res = act(action="sign_at_visit", signer_name="张小明", signer_id=number)
        assert res.status_code == 409 and words in res.text, re.findall(r"未办理：[^<]*", res.text)
    child = member_named(seeded, case, "张小明")
    assert child.id_hash is None and str(child.birth_date) == "1990-01-01"
    seeded.expire_all()
    assert seeded.scalars(select(Member).where(Member.id_hash == other_head.id_hash)).all() == [other_head]
    assert "已签" not in details_row(web.get(f"/console/cases/{case.number}").text, child.id)
