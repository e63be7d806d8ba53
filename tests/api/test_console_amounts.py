"""Amounts in the console as the household gave them: a range or a rough figure reads 约…, as the chat's
read-back does (the parser's `amounts_approximate`), an exact one without."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import demo
from cases.models import Case, HotlineCall
from tests.api.test_console import log_call, login


@pytest.fixture
def web(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def mentioned(page: str) -> str:
    found = re.search(r"提到的金额[:：](.*?)</p>", page, re.S)
    assert found, "no amounts line"
    return found.group(1)


def test_the_call_form_and_the_case_page_say_about_for_a_rough_amount(
    web: TestClient, seeded: Session
) -> None:
    csrf = login(web, "hotline")
    page = log_call(web, csrf, "梅花村李四来电，老伴住院花了好几万，还欠了3000元")
    line = mentioned(page)
    assert re.search(r"约\D{0,2}20,000", line) and re.search(r"(?<!约)\D{0,2}3,000", line)
    assert not re.search(r"约\D{0,2}3,000", line)
    call = seeded.scalars(select(HotlineCall)).one()
    res = web.post(f"/console/hotline/calls/{call.id}/report", data={
        "csrf": csrf, "head_name": "李四", "household_size": "3", "village_code": demo.MEIHUA,
        "risks[]": ["01"]})
    assert res.status_code == 303, res.text
    seeded.expire_all()
    case = seeded.scalars(select(Case)).one()
    shown = web.get(f"/console/cases/{case.number}").text
    assert re.search(r"约\D{0,2}20,000", shown) and not re.search(r"约\D{0,2}3,000", shown)
