"""Round 4 of exploratory testing: SMS, proxies, expiry, voice notes, traditional characters, the cadre chat."""

from __future__ import annotations

from .conftest import ID_ZHANG, Chat, World
from .test_conv_dialogues import DESCRIPTION, state_of_data


def test_cancel_said_twice_keeps_the_report_set_aside(world: World) -> None:
    """取消 at the menu after 取消 in a report dropped the report set aside: 9 was gone, and the name and
    ID typed with it."""
    chat = Chat(world)
    chat.script(DESCRIPTION, "1", "张三", ID_ZHANG, "取消")
    out = chat.send("取消")
    assert "9 接着办刚才没办完的" in out and "回复 9" in out
    assert "几口人" in chat.send("9")
    assert state_of_data(world, chat)["name"] == "张三" and state_of_data(world, chat)["id"] == ID_ZHANG
