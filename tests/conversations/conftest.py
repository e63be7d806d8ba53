"""A small county, a service context and a Chat helper that talks to conversations.service like an adapter."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import count
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import nlu
from cases.clock import FrozenClock
from cases.crypto import Vault
from cases.models import Area, AreaLevel, Role, Staff
from cases.notify import RecordingNotifier
from cases.regions import seed_hunan_2021
from conversations.messages import Attachment, InboundMessage
from conversations.service import HandleResult, ServiceContext, handle_inbound

SECRET = "test-secret-key-0123456789abcdef"
PROVINCE, CITY, COUNTY = "430000000000", "430400000000", "430421000000"
XIDU, MEIHUA, SHISHI = "430421100000", "430421100201", "430421100202"
TAIYUAN, MEIHUA2, HEPING = "430421101000", "430421101201", "430421101202"
AREAS = [
    (PROVINCE, "湖南省", "province", None),
    (CITY, "衡阳市", "city", PROVINCE),
    (COUNTY, "衡阳县", "county", CITY),
    (XIDU, "西渡镇", "township", COUNTY),
    (MEIHUA, "梅花村", "village", XIDU),
    (SHISHI, "石狮村", "village", XIDU),
    (TAIYUAN, "台源镇", "township", COUNTY),
    (MEIHUA2, "梅花村", "village", TAIYUAN),  # the same name in another township: ambiguous
    (HEPING, "和平村", "village", TAIYUAN),
]
ID_ZHANG = "430421195003021234"
ID_LI = "43042119620715456X"
ID_WANG = "430421198801010015"
CADRE_PHONE = "13907340001"


@dataclass
class World:
    factory: sessionmaker[Session]
    ctx: ServiceContext
    clock: FrozenClock
    notifier: RecordingNotifier
    vault: Vault
    cadre_id: int
    db_url: str


def build_county(db: Session, now: datetime, vault: Vault) -> int:
    """The areas above, Hunan's 2021 setting, and a contact cadre in 西渡镇梅花村 (and one in 和平村)."""
    seed_hunan_2021(db, PROVINCE)
    for code, name, level, parent in AREAS:
        if db.get(Area, code) is None:
            db.add(Area(code=code, name=name, level=AreaLevel(level), parent_code=parent))
            db.flush()
    cadre = Staff(username="cadre-meihua", name="李桂英", role=Role.CADRE, area_code=MEIHUA, created_at=now,
                  phone_enc=vault.encrypt(CADRE_PHONE), phone_hash=vault.lookup_hash(CADRE_PHONE))
    cadre2 = Staff(username="cadre-heping", name="赵建国", role=Role.CADRE, area_code=HEPING, created_at=now)
    db.add_all([cadre, cadre2])
    db.flush()
    return cadre.id


@pytest.fixture(scope="session")
def gazetteer() -> Any:
    return nlu.Gazetteer.from_areas(AREAS)


@pytest.fixture
def world(engine: Engine, session_factory: sessionmaker[Session], clock: FrozenClock, gazetteer: Any,
          db_url: str) -> World:
    vault = Vault(SECRET)
    with session_factory() as db, db.begin():
        cadre_id = build_county(db, clock(), vault)
    notifier = RecordingNotifier()
    ctx = ServiceContext(vault=vault, gazetteer=gazetteer, notifier=notifier)
    return World(factory=session_factory, ctx=ctx, clock=clock, notifier=notifier, vault=vault,
                 cadre_id=cadre_id, db_url=db_url)


@dataclass
class Chat:
    """One person on one channel, sending messages through the service as an adapter would."""

    world: World
    channel: str = "telegram"
    user_key: str = "10001"
    ids: Iterator[int] = field(default_factory=lambda: count(1))
    ctx: ServiceContext | None = None
    results: list[HandleResult] = field(default_factory=list)

    def message(self, text: str | None, attachments: tuple[Attachment, ...] = (),
                external_id: str | None = None) -> InboundMessage:
        return InboundMessage(channel=self.channel, user_key=self.user_key,
                              external_id=external_id or f"m{next(self.ids)}", text=text,
                              received_at=self.world.clock(), attachments=attachments)

    def send_message(self, msg: InboundMessage) -> HandleResult:
        with self.world.factory() as db:
            result = handle_inbound(db, msg, ctx=self.ctx or self.world.ctx, now=self.world.clock())
        self.results.append(result)
        return result

    def send(self, text: str | None, attachments: tuple[Attachment, ...] = ()) -> str:
        """Send one message; the replies (texts and choices) as one string."""
        return render(self.send_message(self.message(text, attachments)))

    def script(self, *texts: str) -> str:
        out = ""
        for t in texts:
            out = self.send(t)
        return out


def render(result: HandleResult) -> str:
    parts = []
    for reply in result.replies:
        parts.append(reply.text)
        parts.extend(reply.choices)
    return "\n".join(parts)
