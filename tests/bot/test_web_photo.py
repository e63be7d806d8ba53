"""A photo from the web simulator: the page has a picker, the JSON carries the file, the case keeps it."""

from __future__ import annotations

import base64
import hashlib
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.models import Attachment
from tests.bot import channels as ch
from tests.bot.test_web import STEPS, web
from tests.bot.world import World, case_number

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40


def post_file(client: object, session: str, content_type: str, data: bytes | str, text: str = "") -> object:
    encoded = data if isinstance(data, str) else base64.b64encode(data).decode()
    return client.post(  # type: ignore[attr-defined]
        "/webhooks/web",
        json={"session": session, "id": uuid.uuid4().hex, "text": text,
              "file": {"content_type": content_type, "data": encoded}},
    )


def test_the_simulator_page_offers_a_photo_picker_in_chinese(world: World) -> None:
    with world.client() as client:
        page = client.get("/").text
    assert 'type="file"' in page and 'accept="image/*,application/pdf"' in page
    assert "发照片" in page and "[照片]" in page and "@@" not in page


def test_a_photo_sent_in_the_simulator_is_added_to_the_case_at_full_resolution(
    world: World, db: Session
) -> None:
    session = "browser-" + uuid.uuid4().hex[:12]
    with world.client() as client:
        for text in STEPS:
            last = web(client, session, text)
        number = case_number("\n".join(str(r["text"]) for r in last))
        assert "照片" in "\n".join(str(r["text"]) for r in web(client, session, "4"))
        kept = post_file(client, session, "image/jpeg", JPEG, text="住院发票")
        assert kept.status_code == 200  # type: ignore[attr-defined]
        replies = "\n".join(r["text"] for r in kept.json()["replies"])  # type: ignore[attr-defined]
        assert "收到了" in replies
        refused = post_file(client, session, "application/zip", b"PK\x03\x04 not a photo")
        assert "收不了这种文件" in refused.json()["replies"][0]["text"]  # type: ignore[attr-defined]
        done = "\n".join(str(r["text"]) for r in web(client, session, "好了"))
    assert "补充 2 条" in done  # the photo and its words
    db.expire_all()
    (photo,) = db.scalars(select(Attachment)).all()
    assert world.case(number).id == photo.case_id
    assert photo.kind == "photo" and photo.content_type == "image/jpeg" and photo.data == JPEG
    assert photo.sha256 == hashlib.sha256(JPEG).hexdigest() and photo.size == len(JPEG)


def test_a_malformed_or_oversized_file_is_400_and_stores_nothing(world: World, db: Session) -> None:
    from bot.web import MAX_FILE_BYTES

    session = "browser-" + uuid.uuid4().hex[:12]
    with world.client() as client:
        bad = [
            post_file(client, session, "image/jpeg", "not base64 at all!"),
            post_file(client, session, "image/jpeg", b""),
            post_file(client, session, "IMAGE JPEG", JPEG),
            post_file(client, session, "image/jpeg", b"\xff" * (MAX_FILE_BYTES + 1)),
            client.post("/webhooks/web", json={"session": session, "id": uuid.uuid4().hex, "text": "",
                                               "file": "data:image/jpeg;base64,AAAA"}),
        ]
    assert [r.status_code for r in bad] == [400] * 5  # type: ignore[attr-defined]
    assert ch.stored(db) == 0
