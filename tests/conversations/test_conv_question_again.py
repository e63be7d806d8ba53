"""The question under way, asked again after a pause the household did not see (an SMS number back after
opting out): built on the contact's facts as a message is."""

from __future__ import annotations

from conversations.service import question_under_way

from .conftest import Chat, World
from .test_conv_dialogues import DESCRIPTION, report_until_annex


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


def test_at_the_signing_step_annex_1_is_asked_again_as_the_dialogue_asks_it(world: World) -> None:
    """Annex 1's question is the answer to a command (FillAnnex): asked again, it gave nothing, so an SMS
    START there got 'welcome back, reply MENU' and the household did not know a signature waited."""
    chat = Chat(world, channel="sms", user_key="+8613500004444")
    report_until_annex(chat)
    asked = [r.text for r in chat.results[-1].replies]
    assert again(world, chat) == asked  # the application in its parts, then 'do you agree?'
    assert "同意" in asked[-1]
    world.clock.advance(days=1)  # the date on the application turned meanwhile: the one shown is signed
    shown = again(world, chat)
    assert shown != asked and "同意" in shown[-1]
    chat.send("1")
    signed = chat.send("张三")
    assert "已签字" in signed and "重新" not in signed


def test_the_annex_of_a_case_signed_later_is_asked_again(world: World) -> None:
    """签字 for an existing case (from the household's own phone): the same question, asked again."""
    chat = Chat(world, channel="sms", user_key="+8613912345678")
    report_until_annex(chat)
    chat.send("2")  # not signed now
    asked = chat.send("签字")
    assert "同意" in asked
    assert again(world, chat) == [r.text for r in chat.results[-1].replies]
