"""A live Shenbao for the browser tests and the screenshot script: the real app (create_app) served by
uvicorn in a background thread on a free loopback port, the demo county seeded, a pinned clock; and
Debian's Chromium driven through Playwright (never `playwright install`: that downloads a browser).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route

from api.app import create_app
from api.settings import Settings
from cases import demo
from cases.clock import BEIJING, FrozenClock
from cases.crypto import Vault
from cases.db import make_engine, make_session_factory

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
UI_LOCALE = "zh-CN"
PINNED = datetime(2026, 3, 2, 10, 0, tzinfo=BEIJING)  # Monday: a plain working day, as in tests/conftest.py
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SECRET = "test-secret-key-0123456789abcdef"
START_TIMEOUT_S = 30.0


def chromium_wanted() -> str:
    """The Chromium to drive: $SHENBAO_TEST_CHROMIUM (set by .ci/run) or Debian's."""
    return os.environ.get("SHENBAO_TEST_CHROMIUM") or DEFAULT_CHROMIUM


def chromium_path() -> str | None:
    """The wanted Chromium when it is an executable file; None when absent."""
    path = chromium_wanted()
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def launch(playwright: Playwright) -> Browser:
    path = chromium_path()
    if path is None:
        raise RuntimeError(f"no Chromium at {chromium_wanted()}")
    return playwright.chromium.launch(
        executable_path=path, headless=True, args=[*CHROMIUM_ARGS, f"--lang={UI_LOCALE}"], env=chromium_env()
    )


def chromium_env() -> dict[str, str]:
    """The browser's own language is Chinese, so date and time inputs read 年/月/日 as a user's would: on
    Linux Chromium takes it from $LANGUAGE (with Debian's chromium-l10n installed), elsewhere from --lang."""
    return {**os.environ, "LANGUAGE": UI_LOCALE.replace("-", "_") + ":zh"}


def live_settings(database_url: str) -> Settings:
    """The Settings the tests use (tests/conftest.py), for a database of one's own."""
    return Settings(
        environment="test",
        database_url=database_url,
        secret_key=SECRET,
        public_url="https://shenbao.example.org",
        run_dispatcher=False,
    )


def seed_demo(settings: Settings, now: datetime) -> None:
    """The demo county as `shenbao demo` seeds it: areas, the region setting, staff and a few cases."""
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as db:
            demo.seed(db=db, now=now, vault=Vault(settings.secret_key))
            db.commit()
    finally:
        engine.dispose()


@dataclass
class Live:
    """The running app: its base URL, the pinned clock it reads, and the app (for its session factory)."""

    url: str
    clock: FrozenClock
    app: FastAPI


def _free_socket() -> socket.socket:
    """A listening-ready socket on a free loopback port (handed to uvicorn: no race for the port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serve(settings: Settings, clock: FrozenClock) -> Iterator[Live]:
    """Serve create_app(settings) on 127.0.0.1 in a background thread until the block ends."""
    app = create_app(settings, clock=clock)
    sock = _free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="live-shenbao", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    try:
        yield Live(url=f"http://127.0.0.1:{port}", clock=clock, app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT_S)
        sock.close()
        app.state.engine.dispose()


@dataclass
class Offline:
    """Refuses every request that is not for the live server (tests never touch the network)."""

    base: str
    refused: list[str] = field(default_factory=list)

    def __call__(self, route: Route) -> None:
        if route.request.url.startswith(self.base + "/"):
            route.continue_()
        else:
            self.refused.append(route.request.url)
            route.abort()


def new_context(
    browser: Browser,
    live: Live,
    viewport: dict[str, int] = DESKTOP,
    scale: float = 1,
    storage_state: Any = None,
) -> tuple[BrowserContext, Offline]:
    """A fresh browser profile (one person's device) that refuses requests off the live server."""
    context = browser.new_context(
        viewport={"width": viewport["width"], "height": viewport["height"]},
        device_scale_factor=scale,
        locale=UI_LOCALE,
        timezone_id="Asia/Shanghai",
        storage_state=storage_state,
    )
    guard = Offline(live.url)
    context.route("**/*", guard)
    return context, guard


def login(page: Page, live: Live, username: str, password: str = demo.DEMO_PASSWORD) -> None:
    """Sign in through the login form (lands on the role's home page)."""
    page.goto(f"{live.url}/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form[action='/console/login'] button[type=submit]")
    page.wait_for_url(lambda url: "/console/login" not in url)


def logout(page: Page) -> None:
    page.click("form[action='/console/logout'] button")
    page.wait_for_url("**/console/login")


def open_action(page: Page, action: str) -> None:
    """Unfold a workflow step's form on the case page (only the first one starts open)."""
    details = page.locator(f"#action-{action}")
    if details.get_attribute("open") is None:
        details.locator("summary").click()


def submit_action(page: Page, action: str) -> None:
    page.locator(f"#action-{action} button[type=submit]").click()
    page.wait_for_load_state()


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the viewport (0: no horizontal scroll)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]
