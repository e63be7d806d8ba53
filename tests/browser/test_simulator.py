"""The web simulator in Chromium: words and a photo picked from the phone both reach the dialogue."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import live
from tests.browser.conftest import OpenAs

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8


@pytest.mark.browser
def test_the_simulator_sends_words_and_a_photo(open_as: OpenAs, server: live.Live) -> None:
    page = open_as(None, viewport=live.PHONE)
    page.goto(server.url + "/")
    log = page.locator("#log")
    expect(log).to_contain_text("1 申报困难")  # the greeting is answered with the menu
    page.fill("#t", "菜单")
    page.click("#f button[type=submit]")
    expect(log.locator(".me", has_text="菜单")).to_have_count(1)
    page.set_input_files("#p", files=[{"name": "bill.jpg", "mimeType": "image/jpeg", "buffer": JPEG}])
    expect(log.locator(".me", has_text="[照片] bill.jpg")).to_have_count(1)
    expect(log).to_contain_text("要补充到申报里，请先回复 4")  # the photo reached the dialogue
    assert live.horizontal_overflow(page) == 0
