"""What a household adds by chat, as staff see it on the case page: words that brought a new difficulty say
so on the timeline (新增：因意外事故), and a person asked for after a refusal shows as the case's call-back,
a review request (复核), which the hotline then records."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import count

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.models import Case, CaseStatus, Task

from .test_console import VALID_ID, act, login

CASE_NUMBER = re.compile(r"SB[0-9A-Z]{8}")


@pytest.fixture
def web(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


class Household:
    """The web simulator's chat (POST /webhooks/web), as a household types."""

    def __init__(self, web: TestClient) -> None:
        self.web, self.ids = web, count(1)

    def send(self, text: str) -> str:
        message = {"session": "household-0001", "id": f"msg-{next(self.ids):04d}", "text": text}
        res = self.web.post("/webhooks/web", json=message)
        assert res.status_code == 200, res.text
        return "\n".join(r["text"] + "\n" + "\n".join(r["choices"]) for r in res.json()["replies"])

    def report(self) -> str:
        """An illness (因病, not urgent) reported and signed; the case number."""
        for text in ("我老伴生病了，看病花了好多钱", "1", "张建国", VALID_ID, "4口人", "西渡镇梅花村", "1",
                     "3", "13912345678", "1", "1"):
            self.send(text)
        found = CASE_NUMBER.search(self.send("张建国"))
        assert found is not None
        return found.group(0)


def timeline(page: str) -> str:
    found = re.search(r'id="timeline">(.*?)</ol>', page, re.S)
    assert found is not None
    return found.group(1)


def test_the_timeline_says_what_a_supplement_added(web: TestClient, seeded: Session) -> None:
    household = Household(web)
    number = household.report()
    household.send("补充")
    household.send("我儿子也出车祸了，腿断了")
    household.send("谢谢，没有别的了")  # nothing new in these words
    login(web, "cadre1")
    lines = timeline(web.get(f"/console/cases/{number}").text).split("</li>")
    (added,) = [x for x in lines if "我儿子也出车祸了" in x]
    assert "收到补充材料 · <strong>新增：因意外事故</strong> · " in added
    (plain,) = [x for x in lines if "没有别的了" in x]
    assert "<strong>" not in plain
    case = seeded.scalar(select(Case).where(Case.number == number))
    assert case is not None and case.risks == ["01", "05"]


def test_a_review_asked_for_by_chat_shows_on_the_case_as_its_call_back(
    web: TestClient, seeded: Session
) -> None:
    household = Household(web)
    number = household.report()
    case = seeded.scalar(select(Case).where(Case.number == number))
    assert case is not None
    csrf = login(web, "meihua")
    act(web, csrf, case, "refuse", reason="家庭人均纯收入高于监测标准")
    assert "申请复核" in household.send("为什么不给我")
    household.send("人工")
    assert "回电" in household.send("13712345678")
    web.cookies.clear()
    csrf = login(web, "hotline")
    page = web.get(f"/console/cases/{number}").text
    callback = seeded.scalar(select(Task).where(Task.kind == "callback"))
    assert callback is not None and callback.case_id == case.id
    assert f"#{callback.id} 回电" in page
    assert f"申请复核：案件 {number} 未通过，农户要求人工回电。" in page and "原话：人工" not in page
    act(web, csrf, case, "request_review")  # the hotline records the review the household asked for
    seeded.expire_all()
    assert seeded.get(Case, case.id).status == CaseStatus.APPLIED  # type: ignore[union-attr]
