"""A case's photos, voice notes and files for staff: listed on the case page, served to the case's area only
(every view audited), voice notes marked listened to; the same over REST."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

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
