"""Round 5 of exploratory testing: a new difficulty of a household whose case is open, menu words in the
middle of a flow, stickers, a stranger's 签字 on a signed case."""

from __future__ import annotations

from sqlalchemy import select

from cases import annex1
from cases.models import Case, CaseEvent

from .conftest import ID_ZHANG, Chat, World
from .test_conv_dialogues import DESCRIPTION, case_number, report_until_annex, state_of_data


def signed_household(world: World, user_key: str = "10001") -> tuple[Chat, str]:
    """A household that reported and signed from this chat (linked to it), and its open case's number."""
    chat = Chat(world, user_key=user_key)
    report_until_annex(chat)
    chat.send("1")
    return chat, case_number(chat.send("张三"))


def supplements(world: World, number: str) -> list[str]:
    with world.factory() as db:
        case = db.scalar(select(Case).where(Case.number == number))
        assert case is not None
        return [e.note or "" for e in db.scalars(select(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.action == "supplement").order_by(CaseEvent.id))]


def test_a_new_difficulty_of_a_household_whose_case_is_open_is_offered_to_that_case(world: World) -> None:
    """我屋里又遭了水 from the household's own chat, its case still open, started a new report from scratch
    (name and ID asked again) with no word of the open case, which intake would have joined anyway."""
    chat, number = signed_household(world)
    out = chat.send("我屋里又遭了水")
    assert number in out and "还在办理中" in out
    assert "1 补充到这个案件" in out and "2 替别人申报" in out and "0 返回" in out
    assert "对吗" not in out and "姓名" not in out
    out = chat.send("1")
    assert f"已补充到案件 {number}" in out and "干部会看到" in out and "好了" in out
    assert supplements(world, number) == ["我屋里又遭了水"]  # as 补充 adds words: the cadre's case events
    assert "补充 1 条" in chat.send("好了")

    out = chat.send("老伴又住院了")  # 0: set aside with the words, 9 asks again
    assert number in out and "还在办理中" in out
    assert "9 接着办" in chat.send("0")
    assert number in chat.send("9")
    assert f"已补充到案件 {number}" in chat.send("补充")  # the words of choice 1
    assert supplements(world, number) == ["我屋里又遭了水", "老伴又住院了"]


def test_a_new_difficulty_may_be_another_households_report_with_the_words_kept(world: World) -> None:
    chat, number = signed_household(world)
    chat.send("房子塌了")
    out = chat.send("还有一家人没有饭吃")  # more words before choosing: kept, the choice asked again
    assert "记下了" in out and "1 补充到这个案件" in out
    assert "记下了" in chat.send("屋顶漏雨")  # a few words of a difficulty: kept too
    out = chat.send("2")
    assert "对吗" in out and "住房安全" in out
    data = state_of_data(world, chat)
    assert data["proxy"] is True and "open_case" not in data
    assert data["text"] == "房子塌了\n还有一家人没有饭吃\n屋顶漏雨"
    assert "什么关系" in chat.send("1")  # a proxy report's own questions
    assert supplements(world, number) == []


def test_a_closed_case_or_a_chat_not_linked_still_starts_a_new_report(world: World) -> None:
    chat, number = signed_household(world)
    chat.send("撤回")
    assert "已撤回" in chat.send("1")
    out = chat.send("我屋里又遭了水")
    assert "对吗" in out and "还在办理中" not in out
    out = Chat(world, user_key="20002").send("我屋里又遭了水")
    assert "对吗" in out and "还在办理中" not in out


def test_supplement_and_withdraw_typed_alone_in_a_flow_start_them_and_keep_the_report(world: World) -> None:
    """补充 at 'what happened' became the risk 其他; 撤回申报 at the ID question got 'that does not look like
    an ID number'; 撤回 at the case number question was ignored."""
    chat = Chat(world)
    chat.send("1")
    out = chat.send("补充")
    assert "其他" not in out and "请输入案件号" in out
    out = chat.send("0")
    assert "1 申报困难" in out and "9 接着办" not in out  # nothing was answered before 补充: nothing kept

    chat = Chat(world, user_key="10002")
    chat.script(DESCRIPTION, "1", "张三")
    out = chat.send("撤回申报")
    assert "不像身份证" not in out and "才能撤回申报" in out and "9 接着办" in out
    assert "请输入张三的身份证号码" in chat.send("9")
    assert "请输入案件号" in chat.send("查询")
    out = chat.send("撤回")
    assert "案件号是 SB" not in out and "才能撤回申报" in out and "9 接着办" in out
    assert state_of_data(world, chat, paused=True)["name"] == "张三"


def test_the_words_inside_an_answer_are_not_a_command(world: World) -> None:
    chat = Chat(world)
    chat.send("1")
    out = chat.send("我想补充一下，老伴住院了，房子也漏雨")
    assert "因病" in out and "对吗" in out and "案件号" not in out
    out = chat.send("撤回申报的话要怎么办")
    assert "对吗" in out and "才能撤回" not in out


def test_the_household_confirms_its_own_withdrawal_with_the_words_it_asked_with(world: World) -> None:
    chat, number = signed_household(world)
    assert "确定撤回" in chat.send("撤回申报")
    assert f"案件 {number} 已撤回" in chat.send("撤回申报")  # its answer here, not a new start


def test_a_sticker_is_told_what_we_can_read_and_no_voice_is_promised(world: World) -> None:
    """A sticker (no text, nothing attached) was told 'I can read words, photos and voice messages', which
    is not true of voice."""
    chat = Chat(world)
    chat.script(DESCRIPTION, "1")
    out = chat.send(None)
    assert "语音" not in out and "看不懂表情" in out and "打几个字" in out and "人工" in out
    assert "姓名" in out  # the question again
    idle = Chat(world, user_key="10002").send(None)
    assert "语音" not in idle and "看不懂表情" in idle and "1 申报困难" in idle


def test_a_strangers_sign_on_a_case_already_signed_does_not_show_the_application(world: World) -> None:
    """签字 from a chat that looked the case up with its number and ID digits, the case signed in full: the
    whole annex 1 was shown again, then 'only the household can sign'."""
    _chat, number = signed_household(world)
    stranger = Chat(world, user_key="30003")
    stranger.script("查询", number)
    assert "授权书：已签字" in stranger.send(ID_ZHANG[-4:])
    out = stranger.send("签字")
    assert annex1.TITLE not in out and "只有这户人家本人能签字" not in out
    assert number in out and "已经签好字" in out and "1 申报困难" in out
