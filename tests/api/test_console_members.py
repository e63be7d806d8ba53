"""The case page's household members card: the list (names and ID numbers masked), adding one by the form,
the reasons a refusal gives in Chinese, and taking one off with a reason."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import demo
from cases.models import Case, CaseStatus, Member
from tests.api.conftest import make_id
from tests.api.test_console import login

SPOUSE_ID = make_id("43042119650315002")


@pytest.fixture
def web(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def card(html: str) -> str:
    found = re.search(r'<section class="card" id="members">(.*?)</section>', html, re.S)
    assert found, "no members card"
    return found.group(1)


def test_a_cadre_adds_and_takes_off_a_member_on_the_case_page(
    web: TestClient, seeded: Session, make_case: Callable[..., Case]
) -> None:
    case = make_case(demo.MEIHUA, head_name="张三")
    csrf = login(web, "cadre1")
    page = web.get(f"/console/cases/{case.number}").text
    assert "家庭成员" in card(page) and "户主" in card(page) and "添加家庭成员" in card(page)
    assert 'id="action-add_member"' not in page.split('id="actions"')[-1]  # not among the next steps

    def act(**data: str) -> object:
        return web.post(f"/console/cases/{case.number}/act", data={"csrf": csrf, **data})

    added = act(action="add_member", member_name="李梅", relation_code="02", member_id_number=SPOUSE_ID)
    assert added.status_code == 303  # type: ignore[attr-defined]
    shown = card(web.get(f"/console/cases/{case.number}").text)
    rows = re.findall(r'<tr class="member".*?</tr>', shown, re.S)
    assert len(rows) == 2 and "李*" in rows[1] and "配偶" in rows[1] and SPOUSE_ID[-4:] in rows[1]
    assert SPOUSE_ID not in shown
    again = act(action="add_member", member_name="李梅", relation_code="02", member_id_number=SPOUSE_ID)
    assert again.status_code == 409  # type: ignore[attr-defined]
    assert "此人已是本户成员" in again.text  # type: ignore[attr-defined]
    other = make_case(demo.MEIHUA)
    taken = web.post(f"/console/cases/{other.number}/act", data={
        "csrf": csrf, "action": "add_member", "member_name": "李梅", "relation_code": "21",
        "member_id_number": SPOUSE_ID})
    assert taken.status_code == 409 and "另一户" in taken.text
    seeded.expire_all()
    member = seeded.scalars(select(Member).where(Member.name == "李梅")).one()
    gone = act(action="remove_member", member_id=str(member.id), reason="录入错误")
    assert gone.status_code == 303  # type: ignore[attr-defined]
    assert len(re.findall(r'<tr class="member"', card(web.get(f"/console/cases/{case.number}").text))) == 1
    timeline = web.get(f"/console/cases/{case.number}").text
    assert "添加了家庭成员" in timeline and "移出了家庭成员" in timeline


def test_the_hotline_sees_the_members_but_no_forms_and_a_closed_case_takes_none(
    web: TestClient, seeded: Session, make_case: Callable[..., Case]
) -> None:
    case = make_case(demo.MEIHUA)
    closed = make_case(demo.MEIHUA, status=CaseStatus.REFUSED)
    csrf = login(web, "hotline")
    shown = card(web.get(f"/console/cases/{case.number}").text)
    assert "户主" in shown and "添加家庭成员" not in shown
    refused = web.post(f"/console/cases/{case.number}/act", data={
        "csrf": csrf, "action": "add_member", "member_name": "李梅", "relation_code": "02",
        "member_id_number": SPOUSE_ID})
    assert refused.status_code == 409
    web.cookies.clear()
    login(web, "cadre1")
    assert "添加家庭成员" not in card(web.get(f"/console/cases/{closed.number}").text)


def test_a_name_too_long_for_the_record_is_refused_with_a_reason(
    web: TestClient, seeded: Session, make_case: Callable[..., Case]
) -> None:
    case = make_case(demo.MEIHUA)
    csrf = login(web, "cadre1")
    res = web.post(f"/console/cases/{case.number}/act", data={
        "csrf": csrf, "action": "add_member", "member_name": "李" * 65, "relation_code": "02",
        "member_id_number": SPOUSE_ID})
    assert res.status_code == 409 and "名字太长" in res.text
    seeded.expire_all()
    assert seeded.scalars(select(Member).where(Member.household_id == case.household_id)).all() == [] or all(
        m.is_head for m in seeded.scalars(select(Member).where(Member.household_id == case.household_id)))
