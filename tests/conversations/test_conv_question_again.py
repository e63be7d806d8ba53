"""The question under way, asked again after a pause the household did not see (an SMS number back after
opting out): built on the contact's facts as a message is."""

from __future__ import annotations

from conversations.service import question_under_way

from .conftest import Chat, World
from .test_conv_dialogues import DESCRIPTION


def again(world: World, chat: Chat) -> list[str]:
    with world.factory() as db:
        replies = question_under_way(db, channel=chat.channel, user_key=chat.user_key, ctx=world.ctx,
                                     now=world.clock())
    return [r.text for r in replies]


def test_the_question_asked_again_is_the_one_the_dialogue_asked(world: World) -> None:
    chat = Chat(world, channel="sms", user_key="+8613500002222")
    assert again(world, chat) == []  # no dialogue under way
    chat.send("1")
    assert again(world, chat) == [r.text for r in chat.results[-1].replies]
    chat = Chat(world, channel="sms", user_key="+8613500003333")
    chat.send(DESCRIPTION)
    asked = chat.send("1")  # the difficulties confirmed: the name is asked
    assert "姓名" in asked and again(world, chat) == [r.text for r in chat.results[-1].replies]
