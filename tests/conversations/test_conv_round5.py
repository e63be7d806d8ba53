"""Round 5 of exploratory testing: a new difficulty of a household whose case is open, menu words in the
middle of a flow, stickers, a stranger's 签字 on a signed case."""

from __future__ import annotations

from cases import annex1

from .conftest import ID_ZHANG, Chat, World
from .test_conv_dialogues import case_number, report_until_annex


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
