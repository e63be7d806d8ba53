"""'Why not us?' (为什么不给我, 为啥不批, 凭什么不给) after a refusal: the reason recorded and how to
ask for a review; a hardship said with the same words is still a report."""

from __future__ import annotations

from sqlalchemy import Engine, event, select

from cases import callbacks
from cases.clock import BEIJING
from cases.models import Case, CaseStatus, Role, Staff, Task, TaskStatus
from cases.workflow import refuse

from .conftest import COUNTY, ID_ZHANG, MEIHUA, Chat, World
from .test_conv_dialogues import report_until_annex, state_of_data
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


def test_why_not_after_the_review_was_asked_for_says_when_and_what_comes_next(world: World) -> None:
    """为什么不给我 after the household had asked for the review (人工, a call-back on the case) still said
    'reply 人工 to ask for a review', as if it had not: it says the review was asked for, on which day, and
    what comes next, and offers no second request; 查询 says the same instead of 'reply 人工'."""
    chat, number = signed_household(world)
    refused(world, number)
    world.clock.advance(days=1)
    chat.send("人工")
    assert "会在工作日给您回电" in chat.send("1")
    asked_on = world.clock().astimezone(BEIJING).date()
    world.clock.advance(days=2)
    for said in ("为什么不给我", "凭什么不给"):
        out = chat.send(said)
        assert f"案件 {number} 没有通过" in out and f"原因：{REASON}" in out, out
        assert f"您已在{asked_on.year}年{asked_on.month}月{asked_on.day}日申请复核" in out, out
        assert "12317 热线的工作人员会在工作日给您回电" in out and "重新审核" in out, out
        assert "回复“人工”" not in out and "不用再申请" in out, out
        assert "李桂英" in out and "1 申报困难" in out, out  # the cadre, and the menu: no dead end
    out = chat.send("查询")
    assert f"案件 {number}" in out and "您已在" in out and "申请复核" in out, out
    assert "可以申请复核：回复“人工”" not in out, out


def test_a_review_call_back_closed_with_the_case_still_refused_may_be_asked_again(world: World) -> None:
    """The hotline called and closed the call-back without reopening the case: the household may ask
    again, as before; a call-back asked while the case was still open is no review request."""
    chat, number = signed_household(world)
    chat.send("人工")
    chat.send("1")  # before the refusal: not a review
    world.clock.advance(hours=1)
    refused(world, number)
    out = chat.send("为什么不给我")
    assert "申请复核：回复“人工”" in out and "您已在" not in out, out
    chat.send("人工")
    chat.send("1")
    assert "您已在" in chat.send("为什么不给我")
    with world.factory() as db, db.begin():
        hotline = Staff(username="hotline-1", name="周接线", role=Role.HOTLINE, area_code=COUNTY,
                        created_at=world.clock())
        db.add(hotline)
        db.flush()
        for task in db.scalars(select(Task).where(Task.kind == "callback", Task.status == TaskStatus.OPEN)):
            callbacks.close(db=db, task=task, actor=hotline, note="已解释原因，暂不复核", now=world.clock())
    out = chat.send("为什么不给我")
    assert "申请复核：回复“人工”" in out and "您已在" not in out, out


def test_why_not_in_traditional_characters_is_answered_as_in_simplified(world: World) -> None:
    """為什麼不給我 (a phone set to traditional characters) after the review was asked for got 'not
    understood' and the menu, where 为什么不给我 is told the reason and the day the review was asked."""
    chat, number = signed_household(world)
    refused(world, number)
    chat.send("人工")
    chat.send("1")
    for said in ("為什麼不給我", "為啥不批"):
        out = chat.send(said)
        assert "没看懂" not in out, out
        assert f"案件 {number} 没有通过" in out and f"原因：{REASON}" in out and "申请复核" in out, out


def test_adding_to_a_refused_case_is_said_closed_before_any_words_are_asked_for(world: World) -> None:
    """补充 after a refusal (the review asked for, the bills at hand): the household's own chat was asked for
    the case number, and the words typed meanwhile were 'kept and will be added', then dropped with 'case
    closed'; a chat that had looked the case up was invited to send words and photos, then told the same
    once it had typed them. Both are told at once that the case is closed, with the menu."""
    chat, number = signed_household(world)
    refused(world, number)
    chat.send("人工")
    chat.send("1")
    out = chat.send("补充")
    assert f"案件 {number} 已经办结，不能再补充" in out and "案件号（SB 开头）" not in out, out
    assert "1 申报困难" in out  # the menu: no dead end
    other = Chat(world, channel="sms", user_key="+8613700001111")
    other.send("查询")
    assert "未通过" in other.send(f"{number} {ID_ZHANG[-4:]}")
    out = other.send("补充")
    assert f"案件 {number} 已经办结，不能再补充" in out and "发文字、照片" not in out, out


def test_why_not_in_hunan_speech_is_answered_too(world: World) -> None:
    """何解不给我 (Changsha for 为什么), 为啥子不给, 咋个不给我批 after a refusal were 'not understood' and
    the menu, where 为什么不给我 is told the reason and what comes of the review asked for."""
    chat, number = signed_household(world)
    refused(world, number)
    chat.send("人工")
    chat.send("1")
    for said in ("何解不给我", "为啥子不给", "咋个不给我批", "凭啥子不批"):
        out = chat.send(said)
        assert "没看懂" not in out, (said, out)
        assert f"案件 {number} 没有通过" in out and "申请复核" in out, (said, out)


def test_why_not_after_the_review_reopened_the_case_says_it_is_the_review(world: World) -> None:
    """The hotline called back and recorded the review: the case reopened at the step that refused it,
    and 为什么不给我 or 查询 showed it as a new application (提交申请, 'next: a home visit'), nothing of
    the review the household asked for. Now they say since when the review is under way; once decided, no
    more."""
    from cases.workflow import request_review

    chat, number = signed_household(world)
    refused(world, number)
    chat.send("人工")
    chat.send("1")
    world.clock.advance(days=1)
    with world.factory() as db, db.begin():
        case = db.scalar(select(Case).where(Case.number == number))
        hotline = Staff(username="hotline-2", name="周接线", role=Role.HOTLINE, area_code=COUNTY,
                        created_at=world.clock())
        db.add(hotline)
        db.flush()
        assert case is not None
        request_review(db=db, case=case, now=world.clock(), note="电话复核", notifier=world.notifier,
                       actor=hotline)
        assert case.status != CaseStatus.REFUSED
        day = world.clock().astimezone(BEIJING)
    for said in ("为什么不给我", "查询"):
        out = chat.send(said)
        assert f"复核已在{day.year}年{day.month}月{day.day}日受理" in out and "没有通过。" not in out, out
    with world.factory() as db, db.begin():  # decided again: refused by the same village committee
        case = db.scalar(select(Case).where(Case.number == number))
        village = db.scalar(select(Staff).where(Staff.username == "village-meihua"))
        assert case is not None and village is not None
        refuse(db=db, case=case, actor=village, now=world.clock(), note=None, notifier=world.notifier,
               reason="复核后仍高于监测标准")
    out = chat.send("查询")
    assert "复核已在" not in out and "复核后仍高于监测标准" in out, out


def test_a_filing_reads_no_review_for_the_case_it_opens(world: World, engine: Engine) -> None:
    """The status a filing answers with is of a case it opened: never reviewed, so the review's day is not
    looked up (the filing is the message path's heaviest step)."""
    chat = Chat(world, user_key="50001")
    seen: list[str] = []

    def statement(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        seen.append(sql)

    report_until_annex(chat)
    chat.send("1")
    event.listen(engine, "before_cursor_execute", statement)
    try:
        assert "案件号" in chat.send("张三")
    finally:
        event.remove(engine, "before_cursor_execute", statement)
    assert any("INSERT INTO cases" in sql for sql in seen)
    assert not [sql for sql in seen if "max(case_events.at)" in sql]
