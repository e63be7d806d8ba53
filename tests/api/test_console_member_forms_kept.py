"""A refused members-card form comes back as it was sent: open, with what the cadre typed and chose, and the
reason in Chinese (a cadre at a door on a phone does not type a member's ten items twice)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cases import demo
from cases.models import Case
from tests.api.conftest import make_id
from tests.api.test_console import login
from tests.api.test_console_member_corrections import FORM
from tests.api.test_console_member_details import EMPTY, head_of

SPOUSE_ID = make_id("43042119650315002")


@pytest.fixture
def web(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def form_of(html: str, details_id: str) -> str:
    found = re.search(rf'<details class="[a-z]+" id="{details_id}"(.*?)</details>', html, re.S)
    assert found, f"no form {details_id}"
    return found.group(1)


def test_a_refused_add_form_comes_back_open_with_what_was_typed(
    web: TestClient, seeded: Session, make_case: Callable[..., Case]
) -> None:
    case = make_case(demo.MEIHUA, head_name="张三")
    csrf = login(web, "cadre1")
    typed = EMPTY | {"a9_ethnicity": "15", "a13_health": "02", "a15_work_place": "广东省东莞市",
                     "a16_work_months": "3.5", "a17_medical_insurance": "02"}
    res = web.post(f"/console/cases/{case.number}/act", data={
        "csrf": csrf, "action": "add_member", "member_name": "李梅", "relation_code": "02",
        "member_id_number": SPOUSE_ID[:-1] + ("0" if SPOUSE_ID[-1] != "0" else "1"),  # a digit wrong
        "birth_date": "", "note": "入户时登记", **typed})
    assert res.status_code == 409 and "未办理：身份证号无效" in res.text
    add = form_of(res.text, "action-add_member")
    assert add.startswith(" open"), add[:40]
    assert 'name="member_name" required maxlength="64" value="李梅"' in add
    assert '<option value="02" selected>配偶</option>' in add
    assert f'value="{SPOUSE_ID[:-1]}' in add  # the number as typed, to correct the one digit
    for chosen in ('<option value="15" selected>土家族</option>',
                   '<option value="02" selected>长期慢性病</option>', 'value="广东省东莞市"',
                   'value="3.5"', 'value="入户时登记"'):
        assert chosen in add, chosen
    assert '<option value="02" selected>否</option>' in add.split('name="a17_medical_insurance"')[1]
    fresh = form_of(web.get(f"/console/cases/{case.number}").text, "action-add_member")
    assert not fresh.startswith(" open") and "李梅" not in fresh  # a page opened anew starts empty


def test_a_refused_edit_form_comes_back_open_with_what_was_typed_not_what_is_on_record(
    web: TestClient, seeded: Session, make_case: Callable[..., Case]
) -> None:
    case = make_case(demo.MEIHUA, head_name="张三")
    csrf = login(web, "cadre1")

    def act(**data: Any) -> Any:
        return web.post(f"/console/cases/{case.number}/act", data={"csrf": csrf, **data})

    assert act(action="add_member", member_name="李梅", relation_code="02", member_id_number=SPOUSE_ID,
               birth_date="", **EMPTY).status_code == 303
    head = head_of(seeded, case)
    spouse = next(m for m in head.household.members if not m.is_head)
    res = act(action="edit_member", member_id=str(spouse.id),
              **FORM | {"member_name": "李美", "relation_code": "04", "a9_ethnicity": "15",
                        "a16_work_months": "13", "note": "按户口本改"})
    assert res.status_code == 409 and "务工时间填月数" in res.text
    edit = form_of(res.text, f"edit-member-{spouse.id}")
    assert edit.startswith(" open"), edit[:40]
    for chosen in ('name="member_name" maxlength="64" value="李美"',
                   '<option value="04" selected>之女</option>', '<option value="15" selected>土家族</option>',
                   'inputmode="decimal" value="13"',
                   'value="按户口本改"'):
        assert chosen in edit, chosen
    assert '<option value="02" selected>配偶</option>' not in edit  # what was chosen, not what is on record
    others = form_of(res.text, f"edit-member-{head.id}")
    months = 'inputmode="decimal" value="13"'
    assert not others.startswith(" open") and "李美" not in others and months not in others
    assert not form_of(res.text, "action-add_member").startswith(" open")



def test_the_add_form_asks_for_the_relation_rather_than_starting_at_spouse(
    web: TestClient, seeded: Session, make_case: Callable[..., Case]
) -> None:
    """A8 chosen by nobody is not 配偶: the select started at its first entry, so a child added without
    touching it was recorded as the head's spouse. It starts empty (the browser asks); empty is refused."""
    case = make_case(demo.MEIHUA, head_name="张三")
    csrf = login(web, "cadre1")
    select_ = form_of(web.get(f"/console/cases/{case.number}").text, "action-add_member").split(
        'name="relation_code"')[1].split("</select>")[0]
    first = ' required><option value="" selected>—</option><option value="02">配偶</option>'
    assert select_.startswith(first), select_[:80]
    res = web.post(f"/console/cases/{case.number}/act", data={
        "csrf": csrf, "action": "add_member", "member_name": "张小明", "relation_code": "",
        "member_id_number": "", "birth_date": "2015-06-01", **EMPTY})
    assert res.status_code == 409 and "未办理：请选择与户主的关系" in res.text
    assert 'value="张小明"' in form_of(res.text, "action-add_member")
