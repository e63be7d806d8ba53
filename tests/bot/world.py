"""A small county behind the real app (create_app) with every channel configured and HTTP fakes plugged in."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.auth import issue_token
from api.channels import dispatcher_for
from api.settings import Settings
from bot.context import BotContext
from cases.clock import FrozenClock
from cases.crypto import Vault
from cases.models import Case, Role, Staff
from tests.bot.conftest import RecordingTelegram, RecordingTwilio, RecordingWeChat
from tests.conversations.conftest import build_county

SECRET = "test-secret-key-0123456789abcdef"
CASE_NUMBER = re.compile(r"SB[0-9A-Z]{8}")
DESCRIPTION = "我老伴生病住院了，花了好多钱，房子也漏雨"


@dataclass
class World:
    app: FastAPI
    ctx: BotContext
    clock: FrozenClock
    sessions: sessionmaker[Session]
    tg: RecordingTelegram
    wx: RecordingWeChat
    tw: RecordingTwilio
    cadre_id: int
    vault: Vault
    apps: list[FastAPI] = field(default_factory=list)  # every app started, disposed at teardown

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="http://testserver")

    def dispatch(self, rounds: int = 3) -> int:
        """Run the outbox dispatcher as `shenbao worker` would, a second apart (rate limits allow it)."""
        total = 0
        for _ in range(rounds):
            total += asyncio.run(dispatcher_for(self.ctx).run_once())
            self.clock.advance(seconds=1.1)
        return total

    def case(self, number: str) -> Case:
        with self.sessions() as db:
            case = db.scalar(select(Case).where(Case.number == number))
            assert case is not None
            return case

    def staff_headers(self, username: str, role: Role, area_code: str) -> dict[str, str]:
        """A staff member (created if new) and a bearer header for the REST API."""
        with self.sessions() as db, db.begin():
            staff = db.scalar(select(Staff).where(Staff.username == username))
            if staff is None:
                staff = Staff(
                    username=username, name=username, role=role, area_code=area_code, created_at=self.clock()
                )
                db.add(staff)
                db.flush()
            token, _ = issue_token(staff=staff, settings=self.ctx.settings, now=self.clock())  # type: ignore[arg-type]
        return {"Authorization": f"Bearer {token}"}

    def restart(self) -> World:
        """A new process on the same database: a fresh app, nothing kept in memory."""
        app = make_app(self.ctx.settings, self.clock, self.tg, self.wx, self.tw)  # type: ignore[arg-type]
        self.apps.append(app)
        return World(
            app=app,
            ctx=app.state.channels,
            clock=self.clock,
            sessions=app.state.sessions,
            tg=self.tg,
            wx=self.wx,
            tw=self.tw,
            cadre_id=self.cadre_id,
            vault=self.vault,
            apps=self.apps,
        )


def make_app(
    settings: Settings, clock: FrozenClock, tg: RecordingTelegram, wx: RecordingWeChat, tw: RecordingTwilio
) -> FastAPI:
    extras: dict[str, Any] = {
        "telegram_request": tg,
        "wechat_transport": httpx.MockTransport(wx),
        "twilio_http_client": tw,
    }
    return create_app(settings, clock=clock, channel_extras=extras)


@pytest.fixture
def world(
    bot_settings: Settings,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    tg: RecordingTelegram,
    wx: RecordingWeChat,
    tw: RecordingTwilio,
) -> Iterator[World]:
    vault = Vault(SECRET)
    with session_factory() as db, db.begin():
        cadre_id = build_county(db, clock(), vault)
    app = make_app(bot_settings, clock, tg, wx, tw)
    w = World(
        app=app,
        ctx=app.state.channels,
        clock=clock,
        sessions=app.state.sessions,
        tg=tg,
        wx=wx,
        tw=tw,
        cadre_id=cadre_id,
        vault=vault,
        apps=[app],
    )
    yield w
    for started in w.apps:  # no pooled connections left behind on the shared PostgreSQL
        started.state.engine.dispose()


def case_number(text: str) -> str:
    m = CASE_NUMBER.search(text)
    assert m, text
    return m.group(0)
