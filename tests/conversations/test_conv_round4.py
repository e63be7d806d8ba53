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


def test_a_name_in_traditional_characters_is_taken_and_kept_as_the_id_card_writes_it(world: World) -> None:
    """張三 was refused with 'please write the name in characters' (it is in characters); typed again it was
    kept as 張三, which the ID card and the name on record write 张三."""
    chat = Chat(world)
    chat.script(DESCRIPTION, "1")
    out = chat.send("張三")
    assert "身份证号码" in out and "张三" in out
    assert state_of_data(world, chat)["name"] == "张三"
    proxy = Chat(world, user_key="10002")
    proxy.script("我帮隔壁王奶奶报，她摔断了腿，一个人住", "1")
    assert "手机号" in proxy.send("陳桂蘭")
    assert state_of_data(world, proxy)["proxy_name"] == "陈桂兰"
