"""Round 5 of exploratory testing: a new difficulty of a household whose case is open, menu words in the
middle of a flow, stickers, a stranger's 签字 on a signed case."""

from __future__ import annotations

from cases import annex1

from .conftest import ID_ZHANG, Chat, World
from .test_conv_dialogues import DESCRIPTION, case_number, report_until_annex, state_of_data


def signed_household(world: World, user_key: str = "10001") -> tuple[Chat, str]:
    """A household that reported and signed from this chat (linked to it), and its open case's number."""
    chat = Chat(world, user_key=user_key)
    report_until_annex(chat)
    chat.send("1")
    return chat, case_number(chat.send("张三"))


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
