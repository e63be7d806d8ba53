"""The Bot API's HTTP client (bot/telegram_http.AiohttpRequest) under PTB's Bot, against a Bot API stub on
loopback (aiohttp's test server): what goes out, what comes back, and how failures reach the dispatcher."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from telegram import Bot, InputFile
from telegram.error import Forbidden, NetworkError, RetryAfter, TimedOut

from bot.dispatcher import PermanentFailure, TransientFailure
from bot.dispatcher import RetryAfter as SendRetryAfter
from bot.outbox import Claimed
from bot.telegram import TelegramSender, keyboard
from bot.telegram_http import AiohttpRequest

TOKEN = "123456:test-token"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Stub:
    """The Bot API on loopback: every request recorded (method, path, form fields, files); answers from
    `answer`, which tests replace."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.answer: Handler = self.ok

    async def ok(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"ok": True, "result": {
            "message_id": len(self.seen), "date": 0, "chat": {"id": 42, "type": "private"}, "text": "x"}})

    async def handle(self, request: web.Request) -> web.StreamResponse:
        fields: dict[str, str] = {}
        files: dict[str, tuple[str | None, bytes]] = {}
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                assert part.name is not None
                body = bytes(await part.read())  # type: ignore[union-attr]
                if part.filename:  # type: ignore[union-attr]
                    files[part.name] = (part.filename, body)  # type: ignore[union-attr]
                else:
                    fields[part.name] = body.decode()
        elif request.method == "POST":
            fields = {k: str(v) for k, v in (await request.post()).items()}
        self.seen.append({"method": request.method, "path": request.path, "fields": fields, "files": files,
                          "agent": request.headers.get("User-Agent", ""), "type": request.content_type})
        return await self.answer(request)


@asynccontextmanager
async def serving() -> AsyncIterator[tuple[Stub, str]]:
    """A Stub on loopback in the running loop: (stub, its base URL)."""
    s = Stub()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", s.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield s, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@pytest.fixture
async def stub() -> AsyncIterator[tuple[Stub, str]]:
    async with serving() as running:
        yield running


_OPEN: list[AiohttpRequest] = []


@pytest.fixture(autouse=True)
async def _closed_after() -> AsyncIterator[None]:
    """Every request object a test made is shut down after it (its session closed in its own loop)."""
    yield
    while _OPEN:
        await _OPEN.pop().shutdown()


def bot_on(base: str, request: AiohttpRequest | None = None) -> Bot:
    request = request or AiohttpRequest()
    _OPEN.append(request)
    return Bot(TOKEN, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot", request=request)


def row(to: str = "42", body: str = "您好", choices: list[str] | None = None) -> Claimed:
    return Claimed(id=1, channel="telegram", to=to, body=body, kind="reply", contact_id=None, attempts=0,
                   extra={"choices": choices or []})


async def test_send_message_posts_form_fields_and_reads_the_message(stub: tuple[Stub, str]) -> None:
    s, base = stub
    bot = bot_on(base)
    message = await bot.send_message(chat_id=42, text="请回复数字：\n1 是\n2 不是",
                                     reply_markup=keyboard(["1 是", "2 不是"]))
    assert message.message_id == 1 and message.chat_id == 42
    [sent] = s.seen
    assert sent["method"] == "POST" and sent["path"] == f"/bot{TOKEN}/sendMessage"
    assert sent["type"] == "application/x-www-form-urlencoded"  # encoded by us, as the form aiohttp built
    assert sent["fields"]["chat_id"] == "42"
    assert sent["fields"]["text"] == "请回复数字：\n1 是\n2 不是"
    markup = json.loads(sent["fields"]["reply_markup"])
    assert [[b["text"] for b in r] for r in markup["keyboard"]] == [["1 是"], ["2 不是"]]
    assert sent["agent"].startswith("python-telegram-bot")
    await bot.shutdown()


async def test_the_sender_returns_the_provider_id(stub: tuple[Stub, str]) -> None:
    s, base = stub
    sender = TelegramSender(bot_on(base))
    assert await sender.send(row(), "您好", 0) == "42:1"
    assert await sender.send(row(), "第二条", 0) == "42:2"
    assert [x["fields"]["text"] for x in s.seen] == ["您好", "第二条"]


async def test_a_file_goes_as_multipart(stub: tuple[Stub, str]) -> None:
    s, base = stub
    bot = bot_on(base)
    await bot.send_document(chat_id=42, document=InputFile(b"%PDF-1.4 annex", filename="annex1.pdf"),
                            caption="授权书")
    [sent] = s.seen
    assert sent["path"] == f"/bot{TOKEN}/sendDocument"
    assert sent["fields"]["chat_id"] == "42" and sent["fields"]["caption"] == "授权书"
    assert list(sent["files"].values()) == [("annex1.pdf", b"%PDF-1.4 annex")]


async def test_a_file_is_downloaded_whole(stub: tuple[Stub, str]) -> None:
    s, base = stub
    photo = bytes(range(256)) * 40

    async def answer(request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/file/"):
            return web.Response(body=photo, content_type="image/jpeg")
        return web.json_response({"ok": True, "result": {
            "file_id": "F1", "file_unique_id": "U1", "file_size": len(photo), "file_path": "photos/p1.jpg"}})

    s.answer = answer
    bot = bot_on(base)
    file = await bot.get_file("F1")
    assert bytes(await file.download_as_bytearray()) == photo
    assert [x["path"] for x in s.seen] == [f"/bot{TOKEN}/getFile", f"/file/bot{TOKEN}/photos/p1.jpg"]
    assert s.seen[1]["method"] == "GET"


async def test_blocked_is_forbidden_and_a_permanent_failure(stub: tuple[Stub, str]) -> None:
    s, base = stub

    async def blocked(request: web.Request) -> web.StreamResponse:
        return web.json_response({"ok": False, "error_code": 403,
                                  "description": "Forbidden: bot was blocked by the user"}, status=403)

    s.answer = blocked
    with pytest.raises(Forbidden):
        await bot_on(base).send_message(chat_id=42, text="x")
    with pytest.raises(PermanentFailure) as caught:
        await TelegramSender(bot_on(base)).send(row(), "x", 0)
    assert caught.value.code == "telegram:blocked"


async def test_429_is_retry_after_with_telegrams_seconds(stub: tuple[Stub, str]) -> None:
    s, base = stub

    async def flood(request: web.Request) -> web.StreamResponse:
        return web.json_response({"ok": False, "error_code": 429, "description": "Too Many Requests",
                                  "parameters": {"retry_after": 7}}, status=429)

    s.answer = flood
    with pytest.raises(RetryAfter):
        await bot_on(base).send_message(chat_id=42, text="x")
    with pytest.raises(SendRetryAfter) as caught:
        await TelegramSender(bot_on(base)).send(row(), "x", 0)
    assert caught.value.seconds == 7


async def test_a_silent_server_times_out_as_an_uncertain_failure(stub: tuple[Stub, str]) -> None:
    s, base = stub
    release = asyncio.Event()

    async def silent(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return await s.ok(request)

    s.answer = silent
    request = AiohttpRequest(read_timeout=0.2)
    try:
        with pytest.raises(TimedOut):
            await bot_on(base, request).send_message(chat_id=42, text="x")
        with pytest.raises(TransientFailure) as caught:
            await TelegramSender(bot_on(base, AiohttpRequest(read_timeout=0.2))).send(row(), "x", 0)
    finally:
        release.set()
    assert caught.value.uncertain and caught.value.code == "telegram:timeout"


async def test_a_refused_connection_is_a_network_error() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(NetworkError) as caught:
        await bot_on(f"http://127.0.0.1:{port}").send_message(chat_id=42, text="x")
    assert not isinstance(caught.value, TimedOut)
    assert "ClientConnectorError" in caught.value.message


def test_one_request_object_serves_one_loop_after_another() -> None:
    """`shenbao worker --once` and tests run a Bot in one asyncio.run after another: each loop gets its
    own session, the first loop's being gone."""
    seen: list[str] = []

    async def once(last: bool) -> None:
        async with serving() as (_stub, base):
            try:
                bot = Bot(TOKEN, base_url=f"{base}/bot", request=shared)
                message = await bot.send_message(chat_id=42, text="x")
                seen.append(f"{message.chat_id}:{message.message_id}")
            finally:
                if last:
                    await shared.shutdown()

    shared = AiohttpRequest()
    asyncio.run(once(last=False))
    asyncio.run(once(last=True))
    assert seen == ["42:1", "42:1"]
