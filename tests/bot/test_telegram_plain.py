"""bot.telegram.plain_text, the webhook's reading of a new text message without PTB's Message, gives what
PTB's path gives (Update.de_json, then to_inbound) for every update, valid or not, or leaves it to PTB."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import Bot, Update

from bot.context import BotContext
from bot.telegram import MALFORMED, plain_text, to_inbound

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CTX = cast(BotContext, SimpleNamespace(now=lambda: NOW))
BOT = Bot("123456:test-token")
MISSING = object()

ints = st.integers(min_value=-(2**40), max_value=2**40)
odd = st.one_of(st.none(), st.booleans(), st.text(max_size=3), st.floats(allow_nan=False),
                st.lists(ints, max_size=1))
text = st.one_of(st.just(""), st.text(max_size=12),
                 st.sampled_from(["我老伴生病住院了", "1", "同意", " 李四 "]))


def maybe(value: st.SearchStrategy[Any], *, p_odd: bool = True) -> st.SearchStrategy[Any]:
    """Mostly a good value; sometimes missing or of another type."""
    return st.one_of(value, value, value, st.just(MISSING), *([odd] if p_odd else []))


def obj(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(fields).map(lambda d: {k: v for k, v in d.items() if v is not MISSING})


users = obj(id=maybe(ints), is_bot=maybe(st.booleans()), first_name=maybe(text),
            last_name=st.one_of(st.just(MISSING), text),
            language_code=st.one_of(st.just(MISSING), st.just("zh-hans")))
chats = obj(id=maybe(ints), type=maybe(st.sampled_from(["private", "group"])),
            first_name=st.one_of(st.just(MISSING), text))
extra_message = st.one_of(
    st.just({}),
    st.just({"caption": "住院发票"}),
    st.just({"entities": [{"type": "bot_command", "offset": 0, "length": 6}]}),
    st.just({"location": {"latitude": 26.9, "longitude": 112.6}}),
    st.just({"contact": {"phone_number": "+8613800000000", "first_name": "李"}}),
    st.just({"photo": [{"file_id": "P", "file_unique_id": "U", "width": 90, "height": 90}]}),
)
messages = st.tuples(
    obj(message_id=maybe(ints), date=maybe(st.integers(min_value=0, max_value=2**31)),
        chat=maybe(chats, p_odd=False), text=maybe(text), **{"from": maybe(users, p_odd=False)}),
    extra_message,
).map(lambda pair: {**pair[0], **pair[1]})
good_users = obj(id=ints, is_bot=st.booleans(), first_name=text, last_name=st.one_of(st.just(MISSING), text))
good_messages = obj(message_id=ints, date=st.integers(min_value=0, max_value=2**31), text=text,
                    chat=obj(id=ints, type=st.sampled_from(["private", "group"])), **{"from": good_users})
updates = st.one_of(
    obj(update_id=ints, message=good_messages),
    obj(update_id=ints, message=messages),
    obj(update_id=ints, edited_message=messages),
    obj(update_id=ints, message=messages, edited_message=messages),
    obj(update_id=ints, callback_query=st.just({"id": "q1", "chat_instance": "c", "data": "1",
                                                "from": {"id": 5, "is_bot": False, "first_name": "张"}})),
)


def through_ptb(data: dict[str, Any]) -> object:
    try:
        return to_inbound(Update.de_json(dict(data), BOT), CTX)
    except MALFORMED:
        return "400"


def as_the_webhook_reads(data: dict[str, Any]) -> object:
    try:
        msg = plain_text(data, BOT, CTX)
    except MALFORMED:
        return "400"
    return through_ptb(data) if msg is None else msg


@settings(max_examples=600, deadline=None)
@given(updates)
def test_the_webhook_reads_every_update_as_ptb_does(data: dict[str, Any]) -> None:
    assert as_the_webhook_reads(data) == through_ptb(data)


def test_a_usual_text_message_is_read_without_ptbs_message() -> None:
    data = {"update_id": 900000101, "message": {
        "message_id": 7, "date": 1772400000, "text": "我老伴生病住院了",
        "chat": {"id": 70001, "type": "private", "first_name": "四"},
        "from": {"id": 70001, "is_bot": False, "first_name": "四", "last_name": "李",
                 "language_code": "zh-hans"}}}
    msg = plain_text(data, BOT, CTX)
    assert msg is not None and msg == through_ptb(data)
    assert (msg.user_key, msg.external_id, msg.text, msg.display_name) == (
        "70001", "900000101:7", "我老伴生病住院了", "四 李")


def test_other_updates_are_left_to_ptb() -> None:
    base = {"message_id": 7, "date": 1772400000, "text": "x", "chat": {"id": 1, "type": "private"},
            "from": {"id": 1, "is_bot": False, "first_name": "四"}}
    assert plain_text({"update_id": 1, "edited_message": base}, BOT, CTX) is None
    assert plain_text({"update_id": 1, "message": {**base, "photo": []}}, BOT, CTX) is None
    assert plain_text({"update_id": 1, "message": {**base, "chat": {"id": 1}}}, BOT, CTX) is None
    assert plain_text({"update_id": 1, "message": {**base, "message_id": "7"}}, BOT, CTX) is None
