"""The members card's details (annex 2 A9-A17) on the case page: shown in Chinese, recorded by the add form
and each member's edit form (selects of the official code tables), refused with a reason in Chinese, A26
generated from the members' A17."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import demo
from cases.models import AuditEntry, Case, CaseStatus, Member
from tests.api.conftest import make_id
from tests.api.test_console import login
from tests.api.test_console_members import card

SPOUSE_ID = make_id("43042119650315002")
EMPTY = {"a9_ethnicity": "", "a10_political_status": "", "a11_education": "", "a12_schooling": "",
         "a13_health": "", "a14_labour_skill": "", "a15_work_area": "", "a15_work_place": "",
         "a16_work_months": "", "a17_medical_insurance": ""}  # the form posts every field, empty when unknown


@pytest.fixture
def web(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def details_row(html: str, member_id: int) -> str:
    found = re.search(rf'<tr class="member-details" id="member-{member_id}-details">(.*?)</tr>', html, re.S)
    assert found, f"no details row for member {member_id}"
    return found.group(1)


def head_of(db: Session, case: Case) -> Member:
    db.expire_all()
    return db.scalars(select(Member).where(Member.household_id == case.household_id, Member.is_head)).one()


def test_a_cadre_records_details_by_the_add_and_edit_forms_and_sees_them_and_a26(
    web: TestClient, seeded: Session, make_case: Callable[..., Case]
) -> None:
    case = make_case(demo.MEIHUA, head_name="张三")
    csrf = login(web, "cadre1")
    head = head_of(seeded, case)
    page = web.get(f"/console/cases/{case.number}").text
    row = details_row(page, head.id)
    assert "成员信息（A9–A17）尚未填写" in row and "编辑成员信息" in row
    assert '<select name="a9_ethnicity"><option value="">不详</option><option value="01">汉族</option>' in row
    assert '<option value="32">仫佬族</option>' in row and '<option value="outside">省外</option>' in row
    assert 'name="a16_work_months" type="number" min="0" max="12"' in row and "A16 务工时间（月）" in row
    assert 'name="birth_date"' not in row  # the head's birth date is the ID number's
    assert "尚不确定" in card(page).split('id="members-a26"')[1]

    def act(**data: str) -> Any:
        return web.post(f"/console/cases/{case.number}/act", data={"csrf": csrf, **data})

    added = act(action="add_member", member_name="张小明", relation_code="03", member_id_number="",
                birth_date="2015-06-01", **EMPTY | {"a12_schooling": "03", "a17_medical_insurance": "02"})
    assert added.status_code == 303, added.text
    edited = act(action="edit_member", member_id=str(head.id), note="入户核实时填写",
                 **EMPTY | {"a9_ethnicity": "15", "a13_health": "02", "a15_work_area": "province",
                            "a15_work_place": "湖南省长沙市", "a16_work_months": "3.5",
                            "a17_medical_insurance": "01"})
    assert edited.status_code == 303, edited.text
    page = web.get(f"/console/cases/{case.number}").text
    row = details_row(page, head.id)
    for shown in ("民族：土家族", "健康状况：长期慢性病", "务工区域：省内县外",
                  "务工所在地（省、市、县、乡）：湖南省长沙市", "务工时间（月）：3.5",
                  "参加城乡居民（职工）基本医疗保险：是"):
        assert shown in row, shown
    assert '<option value="15" selected>土家族</option>' in row and 'value="3.5"' in row
    assert '<option value="province" selected>省内县外</option>' in row
    child = seeded.scalars(select(Member).where(Member.name == "张小明")).one()
    child_row = details_row(page, child.id)
    assert "出生年份 2015" in child_row and "在校生情况：小学" in child_row
    assert 'name="birth_date"' in child_row  # no ID number: the birth date may be corrected
    assert "是" in card(page).split('id="members-a26"')[1].split("</p>")[0]  # the child is not insured
    assert "更新了家庭成员信息" in page.split('id="timeline"')[1]
    stored = head_of(seeded, case)
    assert (stored.a9_ethnicity, stored.a16_work_months, stored.a11_education) == ("15", Decimal("3.5"), None)
    entry = seeded.scalars(select(AuditEntry).where(AuditEntry.action == "case.member_updated")).one()
    assert entry.detail["fields"] == ["a9_ethnicity", "a13_health", "a15_work_area", "a15_work_place",
                                      "a16_work_months", "a17_medical_insurance"]
    assert "湖南省长沙市" not in str(entry.detail)
    again = act(action="edit_member", member_id=str(child.id), birth_date="2014-09-01",
                **EMPTY | {"a12_schooling": "03", "a17_medical_insurance": "01"})
    assert again.status_code == 303
    page = web.get(f"/console/cases/{case.number}").text
    assert "出生年份 2014" in details_row(page, child.id)
    assert "否" in card(page).split('id="members-a26"')[1].split("</p>")[0]  # every member insured now
    cleared = act(action="edit_member", member_id=str(child.id), **EMPTY)  # birth date left empty: kept
    assert cleared.status_code == 303
    stored_child = seeded.get(Member, child.id)
    seeded.refresh(stored_child)  # type: ignore[arg-type]
    assert stored_child is not None and stored_child.birth_date is not None
    assert stored_child.birth_date.isoformat() == "2014-09-01" and stored_child.a12_schooling is None


def test_the_visit_form_ticks_a26_when_a_member_is_not_insured(
    web: TestClient, seeded: Session, make_case: Callable[..., Case]
) -> None:
    case = make_case(demo.MEIHUA, head_name="张三")
    csrf = login(web, "cadre1")
    web.post(f"/console/cases/{case.number}/act", data={"csrf": csrf, "action": "sign_at_visit",
                                                         "signer_name": "张三"})

    def a26_box() -> str:
        page = web.get(f"/console/cases/{case.number}").text
        found = re.search(r'<input type="checkbox" name="a26"[^>]*>', page)
        assert found, "no home visit form"
        return found.group(0)

    assert "checked" not in a26_box()
    head = head_of(seeded, case)
    res = web.post(f"/console/cases/{case.number}/act", data={
        "csrf": csrf, "action": "edit_member", "member_id": str(head.id),
        **EMPTY | {"a17_medical_insurance": "02"}})
    assert res.status_code == 303
    assert "checked" in a26_box()


def test_refusals_say_why_in_chinese_and_the_forms_are_for_field_staff_of_open_cases(
    web: TestClient, seeded: Session, make_case: Callable[..., Case]
) -> None:
    case = make_case(demo.MEIHUA)
    closed = make_case(demo.MEIHUA, status=CaseStatus.REFUSED)
    head = head_of(seeded, case)
    csrf = login(web, "cadre1")

    def edit(**fields: str) -> Any:
        return web.post(f"/console/cases/{case.number}/act", data={
            "csrf": csrf, "action": "edit_member", "member_id": str(head.id), **EMPTY | fields})

    for fields, words in (({"a9_ethnicity": "57"}, "请从列表中选择民族（A9）"),
                          ({"a17_medical_insurance": "是"}, "请选择是否参加基本医疗保险（A17）"),
                          ({"a16_work_months": "13"}, "务工时间填月数，0 到 12，如 3.5（A16）")):
        res = edit(**fields)
        assert res.status_code == 409 and words in res.text, fields
    no_id = web.post(f"/console/cases/{case.number}/act", data={
        "csrf": csrf, "action": "add_member", "member_name": "李梅", "relation_code": "02",
        "member_id_number": "", **EMPTY})
    assert no_id.status_code == 409 and "没有身份证号的，填写出生日期" in no_id.text
    gone = web.post(f"/console/cases/{case.number}/act", data={
        "csrf": csrf, "action": "edit_member", "member_id": "999999", **EMPTY})
    assert gone.status_code == 409 and "本户没有这位成员" in gone.text
    assert head_of(seeded, case).a9_ethnicity is None
    assert "编辑成员信息" not in card(web.get(f"/console/cases/{closed.number}").text)
    closed_head = head_of(seeded, closed)
    shut = web.post(f"/console/cases/{closed.number}/act", data={
        "csrf": csrf, "action": "edit_member", "member_id": str(closed_head.id), **EMPTY})
    assert shut.status_code == 409
    web.cookies.clear()
    csrf = login(web, "hotline")
    assert "编辑成员信息" not in card(web.get(f"/console/cases/{case.number}").text)
    refused = web.post(f"/console/cases/{case.number}/act", data={
        "csrf": csrf, "action": "edit_member", "member_id": str(head.id), **EMPTY | {"a9_ethnicity": "01"}})
    assert refused.status_code == 409
    web.cookies.clear()
    csrf = login(web, "cadre3")  # 中湖村: another village
    far = web.post(f"/console/cases/{case.number}/act", data={
        "csrf": csrf, "action": "edit_member", "member_id": str(head.id), **EMPTY | {"a9_ethnicity": "01"}})
    assert far.status_code == 404
    assert head_of(seeded, case).a9_ethnicity is None
