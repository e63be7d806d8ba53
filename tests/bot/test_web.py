"""The browser simulator and the terminal chat, over the same service as every channel."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console import chat
from cases.models import Outbox, OutboxStatus
from tests.bot import channels as ch
from tests.bot.world import DESCRIPTION, World, case_number
from tests.conversations.conftest import ID_ZHANG

STEPS = [
    DESCRIPTION,
    "1",
    "张三",
    ID_ZHANG,
    "4口人",
    "西渡镇梅花村",
    "1",
    "3",
    "13912345678",
    "1",
    "同意",
    "张三",
]


def web(client: object, session: str, text: str, msg_id: str | None = None) -> list[dict[str, object]]:
    res = client.post(
        "/webhooks/web",
        json={
            "session": session,
            "id": msg_id or uuid.uuid4().hex,  # type: ignore[attr-defined]
            "text": text,
        },
    )
    assert res.status_code == 200, res.text
    replies: list[dict[str, object]] = res.json()["replies"]
    return replies


def test_the_simulator_page_is_a_phone_sized_chat_in_chinese(world: World) -> None:
    with world.client() as client:
        page = client.get("/")
    assert page.status_code == 200 and "max-width: 420px" in page.text
    assert "无需注册" in page.text and "发送" in page.text and "@@" not in page.text
    assert "/webhooks/web" in page.text


def test_web_whole_self_report_dialogue_with_numbered_choices(world: World, db: Session) -> None:
    session = "browser-" + uuid.uuid4().hex[:12]
    with world.client() as client:
        answers = [web(client, session, t) for t in STEPS]
    assert answers[0][0]["choices"] and str(answers[0][0]["choices"][0]).startswith("1")  # type: ignore[index]
    texts = ["\n".join(str(r["text"]) for r in a) for a in answers]
    assert case_number("\n".join(texts[-1:]))
    db.expire_all()
    web_rows = list(db.scalars(select(Outbox).where(Outbox.channel == "web")))
    assert web_rows and all(r.status == OutboxStatus.SENT for r in web_rows)


def test_web_retry_with_the_same_message_id_gets_the_same_answer_once(world: World, db: Session) -> None:
    with world.client() as client:
        first = web(client, "browser-retry-1", DESCRIPTION, "msg-0000000001")
        again = web(client, "browser-retry-1", DESCRIPTION, "msg-0000000001")
    assert [r["text"] for r in first] == [r["text"] for r in again] and ch.stored(db) == 1


def test_web_malformed_requests_are_400_and_store_nothing(world: World, db: Session) -> None:
    with world.client() as client:
        bad = [
            client.post("/webhooks/web", content=b"{", headers={"Content-Type": "application/json"}),
            client.post("/webhooks/web", json={"session": "x", "id": "y", "text": "hi"}),
            client.post("/webhooks/web", json={"session": "browser-okay-1", "id": "msg-00000001"}),
            client.post("/webhooks/web", json=["a"]),
            client.get("/webhooks/web/poll", params={"session": "../etc"}),
        ]
    assert [r.status_code for r in bad] == [400] * 5 and ch.stored(db) == 0
    assert [r.json()["reason"] for r in bad] == ["bad_request"] * 5  # said, as the API's errors are
    assert [r.json()["message"].split(":")[0] for r in bad[1:3]] == ["session", "text"]


def test_console_chat_runs_a_dialogue_in_a_terminal(world: World) -> None:
    lines = iter(STEPS[:3] + ["quit"])
    out: list[str] = []
    assert chat(world.ctx, read=lambda _p: next(lines), write=out.append, user_key="console-test") == 0
    text = "\n".join(out)
    assert "对吗" in text and "身份证" in text


def test_the_readmes_curl_example_is_answered_as_the_readme_says(world: World) -> None:
    readme = Path(__file__).resolve().parents[2].joinpath("README.md").read_text(encoding="utf-8")
    found = re.search(r"curl -s localhost:8000/webhooks/web .*? -d '(\{.*?\})'", readme, flags=re.DOTALL)
    assert found is not None
    body = json.loads(found.group(1).replace("\n", " "))
    with world.client() as client:
        res = client.post("/webhooks/web", json=body)
        again = client.post("/webhooks/web", json=body)
    assert res.status_code == 200 and again.json() == res.json()
    replies = res.json()["replies"]
    assert replies and isinstance(replies[0]["text"], str) and isinstance(replies[0]["choices"], list)
