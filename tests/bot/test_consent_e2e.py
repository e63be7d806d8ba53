"""撤回授权 end to end: a household in the web simulator withdraws its signature; the contact cadre hears
of it through the real notifier, the outbox and the Telegram Bot API (recording fake)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from cases.models import Authorization, AuthorizationKind, Channel, Contact, Outbox
from tests.bot.test_web import STEPS, web
from tests.bot.world import World, case_number

CADRE_CHAT = "7770002"


def test_a_withdrawal_by_the_household_reaches_the_contact_cadre(world: World) -> None:
    with world.sessions() as db, db.begin():
        db.add(Contact(channel=Channel.TELEGRAM, external_id=CADRE_CHAT, staff_id=world.cadre_id,
                       created_at=world.clock()))
    session = "browser-" + uuid.uuid4().hex[:12]
    with world.client() as client:
        for text in STEPS:
            last = web(client, session, text)
        number = case_number("\n".join(str(r["text"]) for r in last))
        explained = "\n".join(str(r["text"]) for r in web(client, session, "撤回授权"))
        assert "不能再查询您家的存款" in explained
        done = "\n".join(str(r["text"]) for r in web(client, session, "1"))
    assert "授权已撤回" in done

    with world.sessions() as db:
        kinds = list(db.scalars(select(Authorization.kind).order_by(Authorization.id)))
        assert kinds == [AuthorizationKind.SIGN, AuthorizationKind.WITHDRAW]
        to_cadre = list(db.scalars(select(Outbox.body).where(Outbox.to == CADRE_CHAT)))
    assert any("撤回了授权" in body and number in body for body in to_cadre), to_cadre

    world.dispatch()
    sent = [str(p["text"]) for p in world.tg.sent() if str(p["chat_id"]) == CADRE_CHAT]
    assert any("撤回了授权" in text and "梅花村" in text for text in sent), sent
