"""A case's photos, voice notes and files for staff: listed, served (an audited unmasked view: a photo can be
an ID card) and voice notes marked listened to. The console and the REST API both go through here, after
their own case loader has applied the one area rule (api.scope.in_scope).

The bytes honour one HTTP byte range (RFC 9110 section 14), as a browser's audio player asks for them to
play and seek. Starlette implements Range for FileResponse only, and these bytes are in the database, not
in a file: the small parser is here (byte_range)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from fastapi.responses import Response
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, defer

from api.scope import FIELD_STAFF
from cases import audit
from cases.events import add_event, staff_label
from cases.models import Attachment, AuditEntry, Case, Report, Staff


def may_open(staff: Staff) -> bool:
    """Whether `staff` may open a case's attachments: field staff, as for the unmasked ID or phone number (a
    photo can be an ID card; the hotline sees the list)."""
    return staff.role in FIELD_STAFF


# served inline with their stored type; anything else (none is accepted by the chat today) is served as a
# download of opaque bytes, so a stored type can never make the browser run a page from our origin
INLINE_TYPES = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/heic": "heic",
    "image/heif": "heif",
    "audio/ogg": "ogg",
    "audio/amr": "amr",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/aac": "aac",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/silk": "silk",
    "audio/speex": "spx",
    "application/pdf": "pdf",
}


@dataclass(frozen=True)
class AttachmentRow:
    """What staff see of an attachment without its bytes."""

    id: int
    kind: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime
    report_id: int | None
    channel: str | None  # the channel it came by (a report's: the report's); None: added before it was kept
    sent_by: Literal["household", "staff"] | None  # household: its chat (or its proxy's); None: not recorded
    staff: str | None  # the staff member who sent it from their chat, as the timeline names them
    sent_by_staff_id: int | None
    stored: bool  # the bytes are kept here; False: only the channel's file id is (too large to fetch)
    needs_listening: bool


def of_case(case: Case) -> ColumnElement[bool]:
    """Attachments of the case: added to it, or to one of its reports."""
    return or_(
        Attachment.case_id == case.id,
        Attachment.report_id.in_(select(Report.id).where(Report.case_id == case.id)),
    )


def list_for_case(*, db: Session, case: Case) -> list[AttachmentRow]:
    """The case's attachments, oldest first, without reading their bytes."""
    rows = db.execute(
        select(
            Attachment, Attachment.data.is_not(None), func.coalesce(Attachment.channel, Report.channel), Staff
        )
        .options(defer(Attachment.data))
        .outerjoin(Report, Report.id == Attachment.report_id)
        .outerjoin(Staff, Staff.id == Attachment.sent_by_staff_id)
        .where(of_case(case))
        .order_by(Attachment.created_at, Attachment.id)
    ).all()
    return [
        AttachmentRow(
            id=a.id,
            kind=a.kind,
            content_type=a.content_type,
            size=a.size,
            sha256=a.sha256,
            created_at=a.created_at,
            report_id=a.report_id,
            channel=str(channel) if channel is not None else None,
            sent_by=_sender(a, channel),
            staff=staff_label(sender) if sender is not None else None,
            sent_by_staff_id=a.sent_by_staff_id,
            stored=bool(stored),
            needs_listening=a.needs_listening,
        )
        for a, stored, channel, sender in rows
    ]


def _sender(attachment: Attachment, channel: str | None) -> Literal["household", "staff"] | None:
    if attachment.sent_by_staff_id is not None:
        return "staff"
    return "household" if channel is not None else None  # no staff member: the household's chat or SMS


def load(*, db: Session, case: Case, attachment_id: int) -> Attachment | None:
    """One attachment of this case; None for any other (unknown, or another case's: alike)."""
    return db.scalar(select(Attachment).where(Attachment.id == attachment_id, of_case(case)))


def filename(case: Case, attachment: Attachment) -> str:
    """A safe ASCII file name made of our own identifiers only: SB7K2M9QXA-12-photo.jpg."""
    ext = INLINE_TYPES.get(attachment.content_type, "bin")
    kind = attachment.kind if attachment.kind.isalpha() and attachment.kind.isascii() else "file"
    number = "".join(c for c in case.number if c.isascii() and c.isalnum())
    return f"{number}-{attachment.id}-{kind}.{ext}"


def record_view(
    *, db: Session, case: Case, attachment: Attachment, actor: Staff, via: str, now: datetime
) -> None:
    """The audit entry of one view of an attachment's bytes (an unmasked view)."""
    audit.record(
        db=db,
        actor=audit.staff_actor(actor.id),
        actor_staff_id=actor.id,
        action="attachment.view",
        entity="attachment",
        entity_id=attachment.id,
        area_code=case.area_code,
        detail={"case": case.number, "kind": attachment.kind, "via": via},
        now=now,
    )


# on every answer of the bytes route: never cached, never sniffed into another type, never embedded elsewhere
_SAFE = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class RangeNotSatisfiable(Exception):
    """A Range no byte of the attachment satisfies: answered 416 with `headers` (Content-Range: bytes */N)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"bytes */{size}")
        self.headers = {"Content-Range": f"bytes */{size}", **_SAFE}


_RANGE = re.compile(r"bytes=(\d*)-(\d*)", re.ASCII | re.IGNORECASE)
_PAST_ANY_FILE = 2**62  # a position with more digits than any size: past every stored file


def _position(digits: str) -> int:
    return int(digits) if len(digits) < 18 else _PAST_ANY_FILE  # int() of 4,300 digits raises


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte (inclusive) one `Range: bytes=...` header asks for; None to send the whole
    (no header, one not understood, or several ranges: RFC 9110 lets a server ignore Range). Raises
    RangeNotSatisfiable when the range starts past the end (or asks for the last 0 bytes)."""
    found = _RANGE.fullmatch(header.replace(" ", "")) if header else None
    if found is None or found.groups() == ("", ""):
        return None
    first, last = found.groups()
    if not first:  # a suffix: the last N bytes
        wanted = _position(last)
        if wanted == 0 or size == 0:
            raise RangeNotSatisfiable(size)
        return max(size - wanted, 0), size - 1
    start = _position(first)
    if last and _position(last) < start:
        return None  # not a valid range: ignored
    if start >= size:
        raise RangeNotSatisfiable(size)
    return start, (min(_position(last), size - 1) if last else size - 1)


def etag(attachment: Attachment) -> str | None:
    """A strong validator: the stored bytes' SHA-256 (None for a row that kept none)."""
    return f'"{attachment.sha256}"' if attachment.sha256 else None


def wanted_range(
    attachment: Attachment, range_header: str | None, if_range: str | None
) -> tuple[int, int] | None:
    """The byte range to send of the stored bytes (None: all of them); If-Range must name our ETag, else
    the whole is sent (the client's copy is of other bytes). Raises RangeNotSatisfiable."""
    assert attachment.data is not None
    if if_range is not None and if_range.strip() != etag(attachment):
        return None
    return byte_range(range_header, len(attachment.data))


VIEW_LASTS = timedelta(minutes=30)  # a later range (a seek) this soon after a person's view is the same view


def is_new_view(*, db: Session, attachment: Attachment, actor: Staff, part: tuple[int, int] | None,
                now: datetime) -> bool:
    """Whether sending `part` is a view of its own for the audit log: the whole, or a range from byte 0 (a
    player starting), is; a later range (a player seeking) is not when this person's view of it is in the
    log within VIEW_LASTS, so one play is one entry and a range asked for alone is still recorded."""
    if part is None or part[0] == 0:
        return True
    seen = db.scalar(
        select(AuditEntry.id)
        .where(
            AuditEntry.at > now - VIEW_LASTS,
            AuditEntry.action == "attachment.view",
            AuditEntry.entity == "attachment",
            AuditEntry.entity_id == str(attachment.id),
            AuditEntry.actor_staff_id == actor.id,
        )
        .limit(1)
    )
    return seen is None


def view(
    *,
    db: Session,
    case: Case,
    attachment: Attachment,
    actor: Staff,
    via: str,
    now: datetime,
    range_header: str | None,
    if_range: str | None,
) -> Response:
    """The stored bytes, or the range asked for, with the view audited when it is a new one (is_new_view);
    the caller commits. Raises RangeNotSatisfiable, audited as nothing (no byte is sent)."""
    part = wanted_range(attachment, range_header, if_range)
    if is_new_view(db=db, attachment=attachment, actor=actor, part=part, now=now):
        record_view(db=db, case=case, attachment=attachment, actor=actor, via=via, now=now)
    return response(case, attachment, part)


def response(case: Case, attachment: Attachment, part: tuple[int, int] | None = None) -> Response:
    """The stored bytes (200) or one range of them (206), shown in the browser, never cached, never sniffed
    into another type."""
    assert attachment.data is not None
    name = filename(case, attachment)
    inline = attachment.content_type in INLINE_TYPES
    headers = {
        "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{name}"',
        "Accept-Ranges": "bytes",
        **_SAFE,
    }
    if tag := etag(attachment):
        headers["ETag"] = tag
    content = attachment.data
    if part is not None:
        first, last = part
        headers["Content-Range"] = f"bytes {first}-{last}/{len(content)}"
        content = content[first : last + 1]
    return Response(
        content=content,
        status_code=200 if part is None else 206,
        media_type=attachment.content_type if inline else "application/octet-stream",
        headers=headers,
    )


def mark_listened(
    *, db: Session, case: Case, attachment: Attachment, actor: Staff, via: str, now: datetime
) -> bool:
    """Record that a person listened to a voice note: a timeline event and an audit entry. False when there
    was nothing to mark (not a voice note, or marked already)."""
    if attachment.kind != "voice" or not attachment.needs_listening:
        return False
    attachment.needs_listening = False
    detail = {"attachment_id": attachment.id}
    add_event(
        db,
        case,
        action="voice_listened",
        now=now,
        actor_label=staff_label(actor),
        actor_staff_id=actor.id,
        data=detail,
    )
    audit.record(
        db=db,
        actor=audit.staff_actor(actor.id),
        actor_staff_id=actor.id,
        action="attachment.listened",
        entity="attachment",
        entity_id=attachment.id,
        area_code=case.area_code,
        detail={"case": case.number, "via": via},
        now=now,
    )
    return True
