"""A case's photos, voice notes and files for staff: listed on the case page, served to the case's area only
(every view audited), voice notes marked listened to; the same over REST."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api import attachments
from cases import demo
from cases.clock import FrozenClock
from cases.models import Attachment, AuditEntry, Case, CaseEvent, Report, Staff
from tests.api.test_console import login

Headers = dict[str, str]
Auth = Callable[[str], Headers]
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8 + b"\xff\xd9"
AMR = b"#!AMR\n" + b"\x3c" * 700


@pytest.fixture
def web(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


@dataclass
class Sent:
    case: Case
    photo: Attachment  # with the SMS report that opened the case
    voice: Attachment  # added to the case later, waiting to be listened to
    large: Attachment  # a file too large to fetch: only the channel's file id is kept


def attach(db: Session, clock: FrozenClock, **fields: object) -> Attachment:
    data = fields.get("data")
    values: dict[str, object] = {
        "content_type": "image/jpeg",
        "size": len(data) if isinstance(data, bytes) else 0,
        "sha256": "",
        "needs_listening": fields.get("kind") == "voice",
        "created_at": clock(),
    }
    row = Attachment(**(values | fields))
    db.add(row)
    db.commit()
    return row


@pytest.fixture
def sent(seeded: Session, clock: FrozenClock, make_case: Callable[..., Case]) -> Sent:
    case = make_case(demo.MEIHUA)
    report = seeded.scalars(select(Report).where(Report.case_id == case.id)).one()
    photo = attach(seeded, clock, case_id=case.id, report_id=report.id, kind="photo", data=JPEG)
    voice = attach(seeded, clock, case_id=case.id, kind="voice", content_type="audio/amr", data=AMR)
    large = attach(
        seeded,
        clock,
        case_id=case.id,
        kind="document",
        content_type="application/pdf",
        data=None,
        size=31_000_000,
        channel_file_id="BQACAgUAAxkBAAIBQ2",
    )
    return Sent(case, photo, voice, large)


def audits(db: Session, action: str, attachment: Attachment) -> list[AuditEntry]:
    db.expire_all()
    return list(
        db.scalars(
            select(AuditEntry).where(AuditEntry.action == action, AuditEntry.entity_id == str(attachment.id))
        )
    )


def url(sent: Sent, attachment: Attachment | int, prefix: str = "/console") -> str:
    number = attachment if isinstance(attachment, int) else attachment.id
    return f"{prefix}/cases/{sent.case.number}/attachments/{number}"


def photo_name(sent: Sent) -> str:
    return f"{sent.case.number}-{sent.photo.id}-photo.jpg"


def item(html: str, attachment: Attachment) -> str:
    found = re.search(rf'<li class="attachment" id="attachment-{attachment.id}">(.*?)</li>', html, re.S)
    assert found, f"attachment {attachment.id} is not listed"
    return found.group(1)


# --- the console -------------------------------------------------------------------------------


def test_the_case_page_lists_the_case_and_its_reports_attachments(web: TestClient, sent: Sent) -> None:
    login(web, "cadre1")
    html = web.get(f"/console/cases/{sent.case.number}").text
    photo, voice, large = item(html, sent.photo), item(html, sent.voice), item(html, sent.large)
    assert "照片" in photo and "短信" in photo and "2 KB" in photo and "待听" not in photo
    assert f'href="{url(sent, sent.photo)}"' in photo and "查看" in photo
    assert "语音" in voice and "聊天补充" in voice and "待听" in voice
    assert f'<audio controls preload="none" src="{url(sent, sent.voice)}">' in voice and "下载" in voice
    assert "文件" in large and "29.6 MB" in large
    assert "文件留在渠道" in large and "href" not in large and "<audio" not in large
    assert html.index(f'id="attachment-{sent.photo.id}"') < html.index(f'id="attachment-{sent.voice.id}"')


def test_an_attachment_recorded_on_a_report_alone_is_the_cases_too(
    web: TestClient, sent: Sent, seeded: Session, clock: FrozenClock
) -> None:
    report = seeded.scalars(select(Report).where(Report.case_id == sent.case.id)).one()
    row = attach(seeded, clock, case_id=None, report_id=report.id, kind="photo", data=b"\xff\xd8bill")
    login(web, "cadre1")
    assert "照片" in item(web.get(f"/console/cases/{sent.case.number}").text, row)
    assert web.get(url(sent, row)).content == b"\xff\xd8bill"


def test_a_case_without_attachments_says_so(
    web: TestClient, seeded: Session, make_case: Callable[..., Case]
) -> None:
    case = make_case(demo.MEIHUA)
    login(web, "cadre1")
    html = web.get(f"/console/cases/{case.number}").text
    assert 'id="attachments"' in html and 'class="attachment"' not in html


def test_viewing_a_photo_serves_its_exact_bytes_inline_uncached(
    web: TestClient, sent: Sent, seeded: Session
) -> None:
    login(web, "cadre1")
    response = web.get(url(sent, sent.photo))
    assert response.status_code == 200 and response.content == JPEG
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["content-disposition"] == f'inline; filename="{photo_name(sent)}"'
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    voice = web.get(url(sent, sent.voice))
    assert voice.content == AMR and voice.headers["content-type"] == "audio/amr"
    assert voice.headers["content-disposition"].startswith("inline; ")


def test_every_view_is_in_the_audit_log(web: TestClient, sent: Sent, seeded: Session) -> None:
    login(web, "cadre1")
    cadre1 = seeded.scalars(select(Staff).where(Staff.username == "cadre1")).one()
    assert audits(seeded, "attachment.view", sent.photo) == []
    for _ in range(2):
        assert web.get(url(sent, sent.photo)).status_code == 200
    entries = audits(seeded, "attachment.view", sent.photo)
    assert len(entries) == 2
    for entry in entries:
        assert (entry.entity, entry.area_code) == ("attachment", sent.case.area_code)
        assert (entry.actor, entry.actor_staff_id) == (f"staff:{cadre1.id}", cadre1.id)
        assert entry.detail == {"case": sent.case.number, "kind": "photo", "via": "console"}


@pytest.mark.parametrize("username", ["cadre3", "zhonghu", "sanhu"])
def test_another_areas_staff_get_404_and_nothing_is_audited(
    web: TestClient, sent: Sent, seeded: Session, username: str
) -> None:
    login(web, username)
    response = web.get(url(sent, sent.photo))
    assert response.status_code == 404 and JPEG not in response.content
    assert audits(seeded, "attachment.view", sent.photo) == []


def test_an_attachment_not_of_this_case_is_404_like_an_unknown_one(
    web: TestClient, sent: Sent, seeded: Session, clock: FrozenClock, make_case: Callable[..., Case]
) -> None:
    other = make_case(demo.MEIHUA)  # the same village: the viewer may see both cases
    theirs = attach(seeded, clock, case_id=other.id, kind="photo", data=b"\xff\xd8other")
    login(web, "cadre1")
    assert web.get(f"/console/cases/{other.number}/attachments/{theirs.id}").status_code == 200
    unknown = web.get(url(sent, 999_999))
    crossed = web.get(url(sent, theirs))
    assert unknown.status_code == crossed.status_code == 404
    assert unknown.text == crossed.text and b"other" not in crossed.content
    assert len(audits(seeded, "attachment.view", theirs)) == 1


def test_an_attachment_kept_at_the_channel_has_no_bytes_to_serve(
    web: TestClient, sent: Sent, seeded: Session
) -> None:
    login(web, "cadre1")
    assert web.get(url(sent, sent.large)).status_code == 404
    assert audits(seeded, "attachment.view", sent.large) == []


def test_a_stored_type_outside_the_safe_list_is_a_download_of_opaque_bytes(
    web: TestClient, sent: Sent, seeded: Session, clock: FrozenClock
) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    row = attach(seeded, clock, case_id=sent.case.id, kind="photo", content_type="image/svg+xml", data=svg)
    login(web, "cadre1")
    response = web.get(url(sent, row))
    assert response.content == svg and response.headers["content-type"] == "application/octet-stream"
    disposition = f'attachment; filename="{sent.case.number}-{row.id}-photo.bin"'
    assert response.headers["content-disposition"] == disposition


def test_marking_a_voice_note_listened_needs_the_forms_csrf_token(
    web: TestClient, sent: Sent, seeded: Session
) -> None:
    csrf = login(web, "cadre1")
    listened = url(sent, sent.voice) + "/listened"
    assert web.post(listened, data={"csrf": "forged"}).status_code == 403
    assert web.post(listened).status_code == 403
    seeded.expire_all()
    assert sent.voice.needs_listening is True and audits(seeded, "attachment.listened", sent.voice) == []
    done = web.post(listened, data={"csrf": csrf})
    assert done.status_code == 303
    assert done.headers["location"] == f"/console/cases/{sent.case.number}#attachments"
    seeded.expire_all()
    assert sent.voice.needs_listening is False


def test_marking_listened_is_audited_on_the_timeline_and_takes_away_to_listen(
    web: TestClient, sent: Sent, seeded: Session
) -> None:
    csrf = login(web, "cadre1")
    assert "待听" in item(web.get(f"/console/cases/{sent.case.number}").text, sent.voice)
    web.post(url(sent, sent.voice) + "/listened", data={"csrf": csrf})
    [entry] = audits(seeded, "attachment.listened", sent.voice)
    assert entry.detail == {"case": sent.case.number, "via": "console"} and entry.actor_staff_id is not None
    event = seeded.scalars(select(CaseEvent).where(CaseEvent.action == "voice_listened")).one()
    assert event.case_id == sent.case.id and event.data == {"attachment_id": sent.voice.id}
    assert event.actor_staff_id == entry.actor_staff_id
    html = web.get(f"/console/cases/{sent.case.number}").text
    assert "待听" not in html and "标为已听" not in html
    timeline = re.search(r'<ol class="timeline" id="timeline">(.*?)</ol>', html, re.S)
    assert timeline is not None and "语音已听" in timeline.group(1)
    web.post(url(sent, sent.voice) + "/listened", data={"csrf": csrf})  # again: nothing more to record
    assert len(audits(seeded, "attachment.listened", sent.voice)) == 1


def test_another_area_cannot_mark_a_voice_note_listened(web: TestClient, sent: Sent, seeded: Session) -> None:
    csrf = login(web, "cadre3")
    assert web.post(url(sent, sent.voice) + "/listened", data={"csrf": csrf}).status_code == 404
    seeded.expire_all()
    assert sent.voice.needs_listening is True


# --- REST --------------------------------------------------------------------------------------


def test_rest_lists_the_attachments_metadata(client: TestClient, auth: Auth, sent: Sent) -> None:
    response = client.get(f"/api/cases/{sent.case.number}/attachments", headers=auth("meihua"))
    assert response.status_code == 200, response.text
    listed = {a["id"]: a for a in response.json()}
    assert list(listed) == [sent.photo.id, sent.voice.id, sent.large.id]
    photo, voice, large = listed[sent.photo.id], listed[sent.voice.id], listed[sent.large.id]
    assert photo["kind"] == "photo" and photo["channel"] == "sms" and photo["size"] == len(JPEG)
    assert photo["url"] == url(sent, sent.photo, "/api") and photo["stored"] is True
    assert voice["channel"] is None and voice["needs_listening"] is True and voice["report_id"] is None
    assert large["stored"] is False and large["url"] is None and large["size"] == 31_000_000
    assert "data" not in photo and "channel_file_id" not in large


def test_rest_serves_the_bytes_with_an_audit_entry_per_view(
    client: TestClient, auth: Auth, sent: Sent, seeded: Session
) -> None:
    for _ in range(3):
        response = client.get(url(sent, sent.photo, "/api"), headers=auth("xidu"))
        assert response.status_code == 200 and response.content == JPEG
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["content-disposition"] == f'inline; filename="{photo_name(sent)}"'
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    entries = audits(seeded, "attachment.view", sent.photo)
    assert len(entries) == 3 and {e.detail["via"] for e in entries} == {"api"}


def test_rest_answers_404_out_of_area_unknown_or_not_stored(
    client: TestClient, auth: Auth, sent: Sent, seeded: Session
) -> None:
    outside = auth("cadre3")
    for path in (f"/api/cases/{sent.case.number}/attachments", url(sent, sent.photo, "/api")):
        response = client.get(path, headers=outside)
        assert response.status_code == 404 and response.json()["reason"] == "case_not_found"
    unknown = client.get(url(sent, 999_999, "/api"), headers=auth("cadre1"))
    assert unknown.status_code == 404 and unknown.json()["reason"] == "attachment_not_found"
    kept = client.get(url(sent, sent.large, "/api"), headers=auth("cadre1"))
    assert kept.status_code == 404 and kept.json()["reason"] == "attachment_not_stored"
    assert client.get(url(sent, sent.photo, "/api")).status_code == 401
    assert audits(seeded, "attachment.view", sent.photo) == []


def test_rest_marks_a_voice_note_listened(
    client: TestClient, auth: Auth, sent: Sent, seeded: Session
) -> None:
    path = url(sent, sent.voice, "/api") + "/listened"
    assert client.post(path, headers=auth("cadre3")).status_code == 404
    response = client.post(path, headers=auth("cadre1"))
    assert response.status_code == 200 and response.json()["needs_listening"] is False
    assert client.post(path, headers=auth("cadre1")).status_code == 409
    photo = client.post(url(sent, sent.photo, "/api") + "/listened", headers=auth("cadre1"))
    assert photo.status_code == 409 and photo.json()["reason"] == "nothing_to_listen_to"
    assert len(audits(seeded, "attachment.listened", sent.voice)) == 1
    events = select(func.count()).select_from(CaseEvent).where(CaseEvent.action == "voice_listened")
    assert seeded.scalar(events) == 1


def test_the_attachment_routes_are_in_the_openapi_schema(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    assert "get" in paths["/api/cases/{number}/attachments"]
    assert "get" in paths["/api/cases/{number}/attachments/{attachment_id}"]
    assert "post" in paths["/api/cases/{number}/attachments/{attachment_id}/listened"]


def test_the_hotline_sees_the_list_but_opens_no_attachment(
    web: TestClient, client: TestClient, auth: Auth, sent: Sent, seeded: Session
) -> None:
    """A photo can be an ID card: opened by field staff, as the unmasked ID number is (not the hotline)."""
    login(web, "hotline")
    page = web.get(f"/console/cases/{sent.case.number}")
    assert page.status_code == 200 and 'id="attachments"' in page.text
    assert url(sent, sent.photo) not in page.text and "/listened" not in page.text
    assert web.get(url(sent, sent.photo)).status_code == 404
    response = client.get(url(sent, sent.photo, "/api"), headers=auth("hotline"))
    assert response.status_code == 403 and JPEG not in response.content
    listed = client.get(f"/api/cases/{sent.case.number}/attachments", headers=auth("hotline"))
    assert listed.status_code == 200 and len(listed.json()) >= 1
    assert audits(seeded, "attachment.view", sent.photo) == []


# --- who sent a file, and by which channel -----------------------------------------------------------


def test_a_file_added_to_the_case_later_shows_its_channel_and_a_cadres_shows_who_sent_it(
    web: TestClient, client: TestClient, auth: Auth, sent: Sent, seeded: Session, clock: FrozenClock
) -> None:
    """Files added after the report (the household's with its case open, a cadre's from the bound chat) kept
    no channel: the console said 聊天补充 for both and the REST channel was null."""
    cadre1 = seeded.scalars(select(Staff).where(Staff.username == "cadre1")).one()
    household = attach(seeded, clock, case_id=sent.case.id, kind="photo", data=JPEG, channel="wechat")
    cadres = attach(seeded, clock, case_id=sent.case.id, kind="photo", data=JPEG, channel="telegram",
                    sent_by_staff_id=cadre1.id)
    login(web, "cadre1")
    html = web.get(f"/console/cases/{sent.case.number}").text
    theirs, ours = item(html, household), item(html, cadres)
    assert "微信" in theirs and "聊天补充" not in theirs and "sent-by" not in theirs
    assert "Telegram" in ours and f'<span class="sent-by">{cadre1.name}（帮扶联系人）</span>' in ours
    assert "聊天补充" not in ours
    assert "聊天补充" in item(html, sent.voice)  # added before the channel was kept: as before
    listed = {a["id"]: a for a in client.get(f"/api/cases/{sent.case.number}/attachments",
                                             headers=auth("cadre1")).json()}
    assert (listed[household.id]["channel"], listed[household.id]["sent_by"]) == ("wechat", "household")
    assert listed[household.id]["sent_by_staff_id"] is None
    assert (listed[cadres.id]["channel"], listed[cadres.id]["sent_by"]) == ("telegram", "staff")
    assert listed[cadres.id]["sent_by_staff_id"] == cadre1.id
    assert (listed[sent.photo.id]["channel"], listed[sent.photo.id]["sent_by"]) == ("sms", "household")
    assert (listed[sent.voice.id]["channel"], listed[sent.voice.id]["sent_by"]) == (None, None)


# --- byte ranges (a browser's audio player) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-", (0, 999)),
        ("bytes=0-0", (0, 0)),
        ("bytes=100-199", (100, 199)),
        ("bytes=900-5000", (900, 999)),  # past the end: up to the last byte
        ("bytes=999-", (999, 999)),
        ("bytes=-50", (950, 999)),  # the last 50 bytes
        ("bytes=-5000", (0, 999)),
        ("Bytes = 10 - 19", (10, 19)),
        ("bytes=0-99999999999999999999999", (0, 999)),
        ("bytes=0-1,5-9", None),  # several ranges: the whole is sent (RFC 9110 lets a server ignore Range)
        ("bytes=5-1", None),  # not a valid range: ignored
        ("bytes=-", None),
        ("bytes=abc", None),
        ("items=0-5", None),
        ("", None),
    ],
)
def test_byte_range_reads_one_range_or_none(header: str | None, expected: tuple[int, int] | None) -> None:
    assert attachments.byte_range(header, 1000) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=1000-", 1000), ("bytes=99999999999999999999-", 1000),
                                              ("bytes=-0", 1000), ("bytes=0-", 0), ("bytes=-5", 0)])
def test_byte_range_past_the_end_is_not_satisfiable(header: str, size: int) -> None:
    with pytest.raises(attachments.RangeNotSatisfiable) as raised:
        attachments.byte_range(header, size)
    assert raised.value.headers["Content-Range"] == f"bytes */{size}"


@pytest.mark.parametrize("prefix", ["/console", "/api"])
def test_a_range_is_answered_206_with_content_range_and_no_range_200(
    web: TestClient, client: TestClient, auth: Auth, sent: Sent, prefix: str
) -> None:
    """The bytes route ignored Range: an audio player got the whole file every time and could not seek."""
    headers = auth("cadre1") if prefix == "/api" else {}
    http = client if prefix == "/api" else web
    if prefix == "/console":
        login(web, "cadre1")
    path = url(sent, sent.voice, prefix)
    whole = http.get(path, headers=headers)
    assert whole.status_code == 200 and whole.content == AMR and whole.headers["accept-ranges"] == "bytes"
    assert "content-range" not in whole.headers
    start = http.get(path, headers=headers | {"Range": "bytes=0-"})
    assert start.status_code == 206 and start.content == AMR
    assert start.headers["content-range"] == f"bytes 0-{len(AMR) - 1}/{len(AMR)}"
    assert start.headers["content-type"] == "audio/amr" and start.headers["accept-ranges"] == "bytes"
    assert start.headers["cache-control"] == "no-store"
    assert start.headers["x-content-type-options"] == "nosniff"
    middle = http.get(path, headers=headers | {"Range": "bytes=100-199"})
    assert middle.status_code == 206 and middle.content == AMR[100:200]
    assert middle.headers["content-range"] == f"bytes 100-199/{len(AMR)}"
    assert middle.headers["content-length"] == "100"
    tail = http.get(path, headers=headers | {"Range": "bytes=-6"})
    assert tail.status_code == 206 and tail.content == AMR[-6:]
    several = http.get(path, headers=headers | {"Range": "bytes=0-1,5-9"})
    assert several.status_code == 200 and several.content == AMR


def test_a_range_past_the_end_is_416_with_the_size_and_no_audit_entry(
    web: TestClient, client: TestClient, auth: Auth, sent: Sent, seeded: Session
) -> None:
    login(web, "cadre1")
    console = web.get(url(sent, sent.voice), headers={"Range": f"bytes={len(AMR)}-"})
    assert console.status_code == 416 and console.content == b""
    assert console.headers["content-range"] == f"bytes */{len(AMR)}"
    rest = client.get(url(sent, sent.voice, "/api"), headers=auth("cadre1") | {"Range": "bytes=5000-"})
    assert rest.status_code == 416 and rest.json()["reason"] == "range_not_satisfiable"
    assert rest.headers["content-range"] == f"bytes */{len(AMR)}"
    assert audits(seeded, "attachment.view", sent.voice) == []


def test_if_range_serves_the_range_only_for_the_current_bytes(
    web: TestClient, sent: Sent, seeded: Session, clock: FrozenClock
) -> None:
    digest = hashlib.sha256(AMR).hexdigest()
    row = attach(seeded, clock, case_id=sent.case.id, kind="voice", content_type="audio/amr", data=AMR,
                 sha256=digest)
    login(web, "cadre1")
    whole = web.get(url(sent, row))
    assert whole.headers["etag"] == f'"{digest}"'
    same = web.get(url(sent, row), headers={"Range": "bytes=10-", "If-Range": f'"{digest}"'})
    assert same.status_code == 206 and same.content == AMR[10:]
    other = web.get(url(sent, row), headers={"Range": "bytes=10-", "If-Range": '"0123abcd"'})
    assert other.status_code == 200 and other.content == AMR
    dated = web.get(url(sent, row), headers={"Range": "bytes=10-", "If-Range": "Mon, 02 Mar 2026 02:00 GMT"})
    assert dated.status_code == 200 and dated.content == AMR


@pytest.mark.parametrize("prefix", ["/console", "/api"])
def test_one_play_with_its_seeks_is_one_audited_view(
    web: TestClient, client: TestClient, auth: Auth, sent: Sent, seeded: Session, prefix: str
) -> None:
    """A player asks for bytes=0- and then for later ranges as it seeks: each request was audited."""
    headers = auth("cadre1") if prefix == "/api" else {}
    http = client if prefix == "/api" else web
    if prefix == "/console":
        login(web, "cadre1")
    path = url(sent, sent.voice, prefix)
    for asked in ("bytes=0-", "bytes=400-", "bytes=100-", "bytes=650-705"):
        assert http.get(path, headers=headers | {"Range": asked}).status_code == 206
    assert len(audits(seeded, "attachment.view", sent.voice)) == 1
    assert http.get(path, headers=headers | {"Range": "bytes=0-"}).status_code == 206  # played again
    assert http.get(path, headers=headers | {"Range": "bytes=300-"}).status_code == 206
    assert len(audits(seeded, "attachment.view", sent.voice)) == 2
    assert http.get(path, headers=headers).status_code == 200  # the whole, as a download: a view
    assert len(audits(seeded, "attachment.view", sent.voice)) == 3


def test_a_later_range_asked_for_alone_is_still_an_audited_view(
    client: TestClient, auth: Auth, sent: Sent, seeded: Session, clock: FrozenClock
) -> None:
    """Not auditing every range past byte 0 would let anyone read a file unaudited, a range at a time."""
    path = url(sent, sent.photo, "/api")
    alone = client.get(path, headers=auth("cadre1") | {"Range": "bytes=1-"})
    assert alone.status_code == 206 and alone.content == JPEG[1:]
    entries = audits(seeded, "attachment.view", sent.photo)
    assert len(entries) == 1 and entries[0].detail["via"] == "api"
    client.get(path, headers=auth("cadre1") | {"Range": "bytes=2-"})  # the same person, soon after: one view
    assert len(audits(seeded, "attachment.view", sent.photo)) == 1
    client.get(path, headers=auth("xidu") | {"Range": "bytes=2-"})  # another person: a view of their own
    assert len(audits(seeded, "attachment.view", sent.photo)) == 2
    clock.advance(seconds=attachments.VIEW_LASTS.total_seconds() + 1)
    client.get(path, headers=auth("cadre1") | {"Range": "bytes=2-"})  # long after: a new view
    assert len(audits(seeded, "attachment.view", sent.photo)) == 3
