"""A case's photo and voice message in Chromium: the contact cadre opens the case page, the photo opens and
shows, the audio player plays the voice message through byte-range requests (206), and one play is one
audited view."""

from __future__ import annotations

import io
import math
import struct
import wave
import zlib

import pytest
from playwright.sync_api import Page, Response, expect
from sqlalchemy import func, select

from cases import demo
from cases.models import Attachment, AuditEntry, Case, Channel
from tests.browser import live
from tests.browser.conftest import OpenAs

pytestmark = pytest.mark.browser
LONG = 600  # seconds of voice (9.6 MB): more than the player reads ahead, so a seek asks for a later range


def png(width: int = 48, height: int = 32) -> bytes:
    """A small valid PNG (solid orange), built without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x88\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def wav(seconds: int, rate: int = 8000) -> bytes:
    """A 400 Hz tone as 16-bit mono WAV (a type Chromium plays; AMR it does not)."""
    period = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * i / 20))) for i in range(20))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(period * (seconds * rate // 20))
    return out.getvalue()


def add_files(server: live.Live) -> tuple[str, int, int, bytes]:
    """A photo and a voice message the household sent by WeChat to an open demo case of 梅花村 (cadre1's)."""
    now = server.clock()
    photo, voice = png(), wav(LONG)
    with server.app.state.sessions() as db, db.begin():
        case = db.scalars(select(Case).where(Case.area_code == demo.MEIHUA).order_by(Case.id)).first()
        assert case is not None, "the demo county has no case in 梅花村"
        rows = [
            Attachment(case_id=case.id, kind="photo", content_type="image/png", size=len(photo), sha256="",
                       data=photo, needs_listening=False, created_at=now, channel=Channel.WECHAT),
            Attachment(case_id=case.id, kind="voice", content_type="audio/wav", size=len(voice), sha256="",
                       data=voice, needs_listening=True, created_at=now, channel=Channel.WECHAT),
        ]
        db.add_all(rows)
        db.flush()
        return case.number, rows[0].id, rows[1].id, voice


def views(server: live.Live, attachment_id: int) -> int:
    with server.app.state.sessions() as db:
        return db.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "attachment.view", AuditEntry.entity_id == str(attachment_id))) or 0


def test_the_cadre_sees_the_photo_and_plays_the_voice_message(open_as: OpenAs, server: live.Live) -> None:
    number, photo_id, voice_id, voice = add_files(server)
    page = open_as("cadre1")
    audio_answers: list[Response] = []
    page.on("response", lambda r: audio_answers.append(r) if f"/attachments/{voice_id}" in r.url else None)
    page.goto(f"{server.url}/console/cases/{number}#attachments")
    photo_item, voice_item = page.locator(f"#attachment-{photo_id}"), page.locator(f"#attachment-{voice_id}")
    expect(photo_item).to_contain_text("照片")
    expect(photo_item).to_contain_text("微信")  # the channel it came by, not 聊天补充
    expect(voice_item).to_contain_text("待听")

    # the photo opens in a tab of its own and shows
    with page.expect_popup() as opened:
        photo_item.get_by_role("link", name="查看").click()
    tab: Page = opened.value
    tab.wait_for_load_state()
    image = tab.locator("img")
    expect(image).to_have_count(1)
    assert tab.evaluate("() => { const i = document.querySelector('img'); return [i.complete, i.naturalWidth,"
                        " i.naturalHeight] }") == [True, 48, 32]
    assert views(server, photo_id) == 1

    # the voice message plays in the page's audio player
    player = voice_item.locator("audio")
    expect(player).to_have_attribute("preload", "none")
    assert audio_answers == []  # nothing fetched before the person presses play
    box = player.bounding_box()
    assert box is not None
    player.click(position={"x": 16, "y": box["height"] / 2})  # the player's play button
    playing = "([sel, t]) => document.querySelector(sel).currentTime >= t"  # a function: the CSP bars eval
    page.wait_for_function(playing, arg=[f"#attachment-{voice_id} audio", 0.3])
    ready, error, duration = player.evaluate("a => [a.readyState, a.error, Math.round(a.duration)]")
    assert ready >= 3 and error is None and duration == LONG  # HAVE_FUTURE_DATA: playing, the length known
    assert audio_answers, "the player asked for nothing"
    first = audio_answers[0]
    assert first.request.headers.get("range") == "bytes=0-"
    assert first.status == 206 and first.headers["content-range"] == f"bytes 0-{len(voice) - 1}/{len(voice)}"
    # seeking past what the player read ahead asks for a later range of the same file
    player.evaluate(f"a => {{ a.currentTime = {LONG - 20} }}")
    page.wait_for_function(playing, arg=[f"#attachment-{voice_id} audio", LONG - 19.5])
    later = [a for a in audio_answers[1:] if a.request.headers.get("range", "bytes=0-") != "bytes=0-"]
    asked = [a.request.headers.get("range") for a in audio_answers]
    assert later and all(a.status == 206 for a in later), asked
    assert views(server, voice_id) == 1  # one play with its seek: one audited view
