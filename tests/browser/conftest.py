"""Browser fixtures: Debian's Chromium (skipped only when there is no such binary), the live app on the
test database of each backend with the demo county seeded, and one browser context per person."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from api.settings import Settings
from cases.clock import FrozenClock
from tests.browser import live

OpenAs = Callable[..., Page]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test module."""
    if live.chromium_path() is None:
        pytest.skip(
            f"no Chromium binary at {live.DEFAULT_CHROMIUM} (or $SHENBAO_TEST_CHROMIUM): "
            "apt-get install chromium fonts-wqy-microhei (.ci/run does)"
        )
    with sync_playwright() as playwright:
        chromium = live.launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def server(settings: Settings, clock: FrozenClock) -> Iterator[live.Live]:
    """The real app on the test database (SQLite, and PostgreSQL when configured), the demo county seeded."""
    live.seed_demo(settings, clock())
    with live.serve(settings, clock) as running:
        yield running


@pytest.fixture
def open_as(browser: Browser, server: live.Live) -> Iterator[OpenAs]:
    """open_as(username, viewport=...) -> a signed-in page in a context of its own (a person's own phone).

    Every context refuses requests to anything but the live server; the test fails if one was made.
    """
    guards: list[live.Offline] = []
    contexts = []

    def make(username: str | None, viewport: dict[str, int] = live.DESKTOP) -> Page:
        context, guard = live.new_context(browser, server, viewport)
        contexts.append(context)
        guards.append(guard)
        page = context.new_page()
        if username is not None:
            live.login(page, server, username)
        return page

    yield make
    for context in contexts:
        context.close()
    assert [url for g in guards for url in g.refused] == [], "the console asked for something off the server"
