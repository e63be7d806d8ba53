"""Fixtures of the channel tests: configured settings, the bot context, and fakes at the HTTP boundary only
(recording fakes that answer like the real APIs, refusing fakes that fail the test on any use)."""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker
from telegram.request import BaseRequest, RequestData
from twilio.http import HttpClient
from twilio.http.response import Response as TwilioResponse

from api.settings import Settings
from bot.context import BotContext
from cases.clock import FrozenClock

TG_TOKEN = "123456:TEST-token"
TG_SECRET = "tg-secret-0123456789"
WX_TOKEN = "wxtoken123"
WX_APPID = "wx1234567890abcdef"
TW_SID = "AC" + "0" * 32
TW_TOKEN = "twilio-auth-token-0123456789abcd"
TW_FROM = "+15005550006"
PUBLIC = "https://shenbao.example.org"


def random_aes_key() -> str:
    """A random 43-character EncodingAESKey, as the WeChat admin page generates."""
    return base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")


class RefusedNetwork(AssertionError):
    """Raised by a refusing fake: this test must not reach the network."""


# --- Telegram: a PTB request object ---------------------------------------------------------


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40 + b"\xff\xd9"
TgHandler = Callable[[str, dict[str, Any]], tuple[int, dict[str, Any]]]


class RecordingTelegram(BaseRequest):
    """Records every Bot API call; answers like the Bot API (scripted by `script`, default: success)."""

    def __init__(self, script: TgHandler | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.script = script
        self.next_id = 100
        self.file_bytes = JPEG

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float:
        return 5.0

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [params for m, params in self.calls if m == method]

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        self.calls.append((api_method, params))
        if "/file/bot" in url:  # a file download: the bytes themselves
            self.calls[-1] = ("download", {"url": url})
            return 200, self.file_bytes
        if self.script is not None:
            status, body = self.script(api_method, params)
            return status, json.dumps(body).encode()
        return 200, json.dumps(self.success(api_method, params)).encode()

    def success(self, api_method: str, params: dict[str, Any]) -> dict[str, Any]:
        if api_method == "sendMessage":
            self.next_id += 1
            return {
                "ok": True,
                "result": {
                    "message_id": self.next_id,
                    "date": 1_700_000_000,
                    "chat": {"id": int(params["chat_id"]), "type": "private"},
                    "text": params.get("text", ""),
                },
            }
        if api_method == "getFile":
            return {
                "ok": True,
                "result": {
                    "file_id": params["file_id"],
                    "file_unique_id": "u1",
                    "file_size": 1234,
                    "file_path": "photos/file_1.jpg",
                },
            }
        return {"ok": True, "result": True}


class RefusingTelegram(RecordingTelegram):
    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        raise RefusedNetwork(f"Telegram call to {url.rsplit('/', 1)[-1]} in a test that must not send")


# --- WeChat: an httpx transport -------------------------------------------------------------


class RecordingWeChat:
    """An httpx.MockTransport handler answering /cgi-bin/token and /cgi-bin/message/custom/send."""

    def __init__(self, send_codes: list[int] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.send_codes = list(send_codes or [])
        self.tokens = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("/cgi-bin/token"):
            self.tokens += 1
            return httpx.Response(200, json={"access_token": f"TOKEN{self.tokens}", "expires_in": 7200})
        if request.url.path.endswith("/message/custom/send"):
            code = self.send_codes.pop(0) if self.send_codes else 0
            return httpx.Response(200, json={"errcode": code, "errmsg": "ok" if code == 0 else "error"})
        return httpx.Response(404)

    def sends(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests if r.url.path.endswith("/message/custom/send")]

    def tokens_used(self) -> list[str]:
        return [r.url.params["access_token"] for r in self.requests if r.url.path.endswith("/custom/send")]


# --- Twilio: an HttpClient ------------------------------------------------------------------


class RecordingTwilio(HttpClient):
    """Twilio's REST API as a recording fake: Messages create and list (scripted failures first)."""

    def __init__(self, failures: list[int | Exception] | None = None) -> None:
        super().__init__(logger=__import__("logging").getLogger("fake-twilio"), is_async=False)
        self.requests: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []
        self.failures = list(failures or [])
        self.created: list[dict[str, Any]] = []
        self.count = 0

    def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        self.requests.append((method, uri, dict(params or {}), dict(data or {})))
        path = urlparse(uri).path
        if method == "POST" and path.endswith("/Messages.json"):
            failure = self.failures.pop(0) if self.failures else None
            body = {k: str(v) for k, v in (data or {}).items()}
            if isinstance(failure, Exception):
                if getattr(failure, "created", False):
                    self._store(body)
                raise failure
            if isinstance(failure, int) and 500 <= failure < 600:
                self._store(body)  # the 5xx came after Twilio had accepted it: the case S9 guards
                return TwilioResponse(
                    failure, json.dumps({"code": 20500, "message": "Internal error", "status": failure})
                )
            if isinstance(failure, int):
                code = failure
                return TwilioResponse(400, json.dumps({"code": code, "message": "refused", "status": 400}))
            return TwilioResponse(201, json.dumps(self._store(body)))
        if method == "GET" and path.endswith("/Messages.json"):
            q = {k: str(v) for k, v in (params or {}).items()}
            found = [m for m in self.created if m["to"] == q.get("To", m["to"])]
            return TwilioResponse(
                200,
                json.dumps(
                    {"messages": found, "next_page_uri": None, "page": 0, "page_size": 50, "uri": path}
                ),
            )
        raise RefusedNetwork(f"unexpected Twilio call {method} {uri}")

    def _store(self, body: dict[str, str]) -> dict[str, Any]:
        self.count += 1
        message = {
            "sid": f"SM{self.count:032d}",
            "to": body.get("To"),
            "from": body.get("From"),
            "body": body.get("Body"),
            "status": "queued",
            "date_created": None,
            "account_sid": TW_SID,
            "num_segments": "1",
        }
        self.created.append(message)
        return message

    def creates(self) -> list[dict[str, Any]]:
        return [d for m, u, _p, d in self.requests if m == "POST" and u.endswith("/Messages.json")]


class TimeoutAfterCreate(OSError):
    """A read timeout after Twilio had already created the message."""

    created = True


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def aes_key() -> str:
    return random_aes_key()


@pytest.fixture
def bot_settings(db_url: str, aes_key: str) -> Settings:
    return Settings(
        environment="test",
        database_url=db_url,
        secret_key="test-secret-key-0123456789abcdef",
        public_url=PUBLIC,
        run_dispatcher=False,
        telegram_bot_token=TG_TOKEN,
        telegram_secret_token=TG_SECRET,
        telegram_api_url="http://telegram.test",
        wechat_token=WX_TOKEN,
        wechat_app_id=WX_APPID,
        wechat_app_secret="wx-secret",
        wechat_aes_key=aes_key,
        wechat_api_url="http://wechat.test",
        twilio_account_sid=TW_SID,
        twilio_auth_token=TW_TOKEN,
        twilio_from=TW_FROM,
    )


@pytest.fixture
def tg() -> RecordingTelegram:
    return RecordingTelegram()


@pytest.fixture
def wx() -> RecordingWeChat:
    return RecordingWeChat()


@pytest.fixture
def tw() -> RecordingTwilio:
    return RecordingTwilio()


@pytest.fixture
def ctx(
    bot_settings: Settings,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    tg: RecordingTelegram,
    wx: RecordingWeChat,
    tw: RecordingTwilio,
) -> BotContext:
    return BotContext(
        settings=bot_settings,
        sessions=session_factory,
        clock=clock,
        extras={
            "telegram_request": tg,
            "wechat_transport": httpx.MockTransport(wx),
            "twilio_http_client": tw,
        },
    )


@pytest.fixture
def postgres_only(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("a race between two connections needs PostgreSQL")


def form_of(content: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(content.decode(), keep_blank_values=True).items()}


def utc(dt: datetime) -> datetime:
    return dt


@pytest.fixture(autouse=True)
def _no_env_leak() -> Iterator[None]:
    before = {k for k in os.environ if k.startswith("SHENBAO_") and k != "SHENBAO_TEST_POSTGRES_URL"}
    yield
    assert before == {k for k in os.environ if k.startswith("SHENBAO_") and k != "SHENBAO_TEST_POSTGRES_URL"}


from tests.bot.world import world  # noqa: E402, F401 - the county-behind-the-app fixture
