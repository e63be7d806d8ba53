"""申报 and the other keywords at the question that offers a household its open case (1 add to it, 2 report
for someone else)."""

from __future__ import annotations

from .conftest import Chat, World
from .test_conv_dialogues import state_of_data
from .test_conv_round5 import signed_household, supplements


def at_open_case_question(world: World) -> tuple[Chat, str]:
    """A household whose case is open, asked whether its new difficulty goes with that case."""
    chat, number = signed_household(world)
    out = chat.send("我屋里又遭了水")
    assert "还在办理中" in out and "1 补充到这个案件" in out and "2 替别人申报" in out
    return chat, number


def test_shenbao_at_the_open_case_question_is_not_a_report_for_someone_else(world: World) -> None:
    """申报 was read as the words of choice 2 (替别人申报): the household's own difficulty went to the
    proxy report's questions. Its own report is that open case: it is told so and asked again."""
    chat, number = at_open_case_question(world)
    out = chat.send("申报")
    assert "什么关系" not in out and "对吗" not in out
    assert number in out and "已经申报过" in out and "1 补充到这个案件" in out and "2 替别人申报" in out
    data = state_of_data(world, chat)
    assert data["open_case"] == number and not data.get("proxy") and data["text"] == "我屋里又遭了水"
    assert "已经申报过" in chat.send("我要申报")
    assert f"已补充到案件 {number}" in chat.send("1")
    assert supplements(world, number) == ["我屋里又遭了水"]


def test_a_proxy_word_at_the_open_case_question_is_choice_2(world: World) -> None:
    chat, number = at_open_case_question(world)
    out = chat.send("代报")
    assert "对吗" in out and state_of_data(world, chat)["proxy"] is True
    assert supplements(world, number) == []


def test_help_status_menu_and_cancel_at_the_open_case_question(world: World) -> None:
    """帮助 explains and asks again; 查询, 菜单 and 取消 set the words aside, and 9 asks again whether they go
    with the case. 查询 (and 撤回) in the middle of a flow know the household's case, as at the menu: they
    asked for the case number (and 撤回 said only the household's own chat may withdraw, from that chat)."""
    chat, number = at_open_case_question(world)
    out = chat.send("帮助")
    assert "请回答下面的问题" in out and "1 补充到这个案件" in out
    out = chat.send("查询")
    assert f"案件 {number}" in out and "9 接着办" in out
    assert "1 补充到这个案件" in chat.send("9")
    out = chat.send("菜单")
    assert "1 申报困难" in out and "9 接着办" in out
    assert "1 补充到这个案件" in chat.send("9")
    out = chat.send("撤回")
    assert number in out and "1 确定撤回" in out and "才能撤回" not in out
    assert "案件继续办理" in chat.send("2")
    assert "1 补充到这个案件" in chat.send("9")
    out = chat.send("取消")
    assert "刚才填的都留着" in out and "9 接着办" in out
    assert "1 补充到这个案件" in chat.send("9")
    assert f"已补充到案件 {number}" in chat.send("补充")
    assert supplements(world, number) == ["我屋里又遭了水"]
