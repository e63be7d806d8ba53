"""Annex 1 in the dialogue: the household reads its own application filled in, on every channel, and the
signature records the hash of exactly that text (rebuilt later from the database)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from cases import annex1, annex1_text
from cases.clock import BEIJING
from cases.models import Authorization, Case, Contact, Outbox

from .conftest import ID_ZHANG, Chat, World
from .test_conv_dialogues import ADDRESS, annex_body, case_number, filling, flat, report_until_annex

CHANNELS = [("telegram", "10001"), ("wechat", "oAbCdEf-openid-1"), ("sms", "+8613912345678"),
            ("web", "web-visitor-1")]


@pytest.mark.parametrize(("channel", "user_key"), CHANNELS)
def test_the_filled_application_on_every_channel(world: World, channel: str, user_key: str) -> None:
    chat = Chat(world, channel=channel, user_key=user_key)
    out = report_until_annex(chat)
    body = annex_body(chat)
    filled_in = ("姓名：张三", "430421********1234", ADDRESS + "3组", "家庭4口人", "②住房安全保障风险、⑥因病")
    for words in filled_in:
        assert words in flat(body) and words in flat(out).replace(" ", ""), (channel, words)
    replies = [r.text for r in chat.results[-1].replies]
    if channel == "sms":  # numbered parts short enough for 4 segments each
        parts = [t for t in replies if t.startswith("(")]
        assert len(parts) >= 2 and all(len(p) <= 270 for p in parts)
    else:  # the whole application in one message
        assert body in replies
    chat.send("同意")
    number = case_number(chat.send("张三"))
    with world.factory() as db:
        contact = db.scalar(select(Contact).where(Contact.channel == channel,
                                                  Contact.external_id == user_key))
        assert contact is not None
        bodies = db.scalars(select(Outbox.body).where(Outbox.contact_id == contact.id)).all()
        assert bodies and not [b for b in bodies if ID_ZHANG in b.replace("\n", "")]  # never the full ID
        case = db.scalar(select(Case).where(Case.number == number))
        assert case is not None
        auth = db.scalar(select(Authorization).where(Authorization.case_id == case.id))
        assert auth is not None and auth.channel == channel
        assert auth.shown_sha256 == annex1.digest(annex1.filled(filling(world)))
        assert annex1_text.verify(db, world.vault, auth) is True
    assert ID_ZHANG not in flat("\n".join(r.text for res in chat.results for r in res.replies))


def test_the_date_turned_before_signing_shows_it_again(world: World) -> None:
    chat = Chat(world)
    report_until_annex(chat)
    first = annex_body(chat)
    chat.send("同意")
    now = world.clock().astimezone(BEIJING)
    midnight = datetime.combine(now.date() + timedelta(days=1), time(0, 1), tzinfo=BEIJING)
    world.clock.advance(seconds=(midnight - now).total_seconds())
    out = chat.send("张三")
    assert "申请书有变化" in out and "同意" in out
    again = annex_body(chat)
    assert again != first and again == annex1.filled(filling(world))
    with world.factory() as db:
        assert db.scalar(select(func.count()).select_from(Case)) == 0  # nothing half-saved
    chat.send("1")
    number = case_number(chat.send("张三"))
    with world.factory() as db:
        case = db.scalar(select(Case).where(Case.number == number))
        assert case is not None
        auth = db.scalar(select(Authorization).where(Authorization.case_id == case.id))
        assert auth is not None and auth.shown_sha256 == annex1.digest(again)
        assert annex1_text.verify(db, world.vault, auth) is True
