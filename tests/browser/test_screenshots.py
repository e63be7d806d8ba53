"""The screenshot script still produces every page (into a temporary folder: docs/ is written only by
`make screenshots`), and the README shows exactly the committed screenshots."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.browser import live, screenshots

README = live.repo_root() / "README.md"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (fails on anything that is not a PNG)."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", f"{path} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


@pytest.mark.browser
def test_the_screenshot_script_writes_every_page(browser: Browser, tmp_path: Path) -> None:
    written = screenshots.take(tmp_path, browser)
    assert [p.name for p in written] == [shot.name for shot in screenshots.SHOTS]
    for shot, path in zip(screenshots.SHOTS, written, strict=True):
        width, height = png_size(path)
        viewport = live.PHONE if shot.phone else live.DESKTOP
        scale = 2 if shot.phone else 1
        assert width == viewport["width"] * scale, shot.name  # nothing wider than the screen
        assert height >= viewport["height"] * scale, shot.name


def test_the_readme_shows_the_committed_screenshots() -> None:
    shown = re.findall(r"\(docs/screenshots/([\w.-]+\.png)\)", README.read_text(encoding="utf-8"))
    assert shown, "the README's Staff console section shows no screenshot"
    assert set(shown) <= {shot.name for shot in screenshots.SHOTS}, "the README shows a page no script makes"
    for name in shown:
        png_size(screenshots.DOCS / name)
