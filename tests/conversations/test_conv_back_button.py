"""A reply keyboard's button sends its label as the message: '0 返回' must go back as 0 and 返回 do, also
at a question that takes free words (it was filed as the description of a hardship, '其他')."""

from __future__ import annotations

import pytest

from .conftest import Chat, World


@pytest.mark.parametrize("button", ["0 返回", "0返回", "０ 返回"])
def test_the_back_button_at_the_description_question_goes_back_not_into_the_report(
    world: World, button: str
) -> None:
    chat = Chat(world)
    chat.send("你好")
    asked = chat.send("1")  # 申报: what is the difficulty? (free words, with the keyboard's 0 返回)
    assert "0 返回" in asked
    out = chat.send(button)
    assert "您说的是" not in out and "其他" not in out
    assert "1 " in out  # the menu again
    assert "您说的是：因病" in chat.send("我老伴生病住院了")  # and a report starts afresh when asked


def test_the_back_button_mid_report_goes_back_one_step(world: World) -> None:
    chat = Chat(world)
    assert "对吗" in chat.send("我老伴生病住院了，花了好多钱")
    assert "姓名" in chat.send("1")
    assert "对吗" in chat.send("0 返回")  # back to the read-back, as 0 does
