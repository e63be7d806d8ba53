"""'Why not us?' (为什么不给我, 为啥不批, 凭什么不给) after a refusal: the reason recorded and how to
ask for a review; a hardship said with the same words is still a report."""

from __future__ import annotations

from sqlalchemy import select

from cases.models import Case, CaseStatus, Role, Staff
from cases.workflow import refuse

from .conftest import MEIHUA, Chat, World
from .test_conv_dialogues import state_of_data
from .test_conv_round5 import signed_household

REASON = "家庭人均纯收入高于监测标准"


def refused(world: World, number: str, reason: str = REASON) -> None:
    with world.factory() as db, db.begin():
        case = db.scalar(select(Case).where(Case.number == number))
        assert case is not None
        village = Staff(username="village-meihua", name="王主任", role=Role.VILLAGE, area_code=MEIHUA,
                        created_at=world.clock())  # the village committee refuses at the first step
        db.add(village)
        db.flush()
        refuse(db=db, case=case, actor=village, now=world.clock(), note=None, notifier=world.notifier,
               reason=reason)
        assert case.status == CaseStatus.REFUSED


def test_why_not_after_a_refusal_is_told_the_reason_and_how_to_ask_for_a_review(world: World) -> None:
    """为什么不给我 after the case was refused got 'not understood'."""
    chat, number = signed_household(world)
    out = chat.send("为什么不给我")  # not decided yet: where the case is
    assert f"案件 {number}" in out and "下一步" in out and "没有通过" not in out
    refused(world, number)
    for said in ("为什么不给我", "为啥不批", "凭什么不给", "为什么没通过？", "我家为什么没评上"):
        out = chat.send(said)
        assert "没看懂" not in out, said
        assert f"案件 {number} 没有通过" in out and f"原因：{REASON}" in out, said
        assert "申请复核：回复“人工”" in out and "12317" in out and "李桂英" in out, said
        assert "1 申报困难" in out, said  # and the menu: no dead end
    assert "打您登记的号码" in chat.send("人工")  # the way to ask for the review: a person calls back
    assert "会在工作日给您回电" in chat.send("1")


def test_why_with_a_hardship_in_it_is_still_a_report(world: World) -> None:
    """The backed-out fix made this a status request: it is a new difficulty, reported."""
    chat, number = signed_household(world)
    refused(world, number)
    out = chat.send("我老伴住院了，为什么不给我报销")
    assert "对吗" in out and "因病" in out and "原因：" not in out
    assert state_of_data(world, chat)["text"] == "我老伴住院了，为什么不给我报销"


def test_why_not_from_a_chat_with_no_case_asks_for_the_case_number(world: World) -> None:
    out = Chat(world, user_key="30003").send("为什么不给我")
    assert "没看懂" not in out and "案件号" in out
