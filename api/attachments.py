"""A case's photos, voice notes and files for staff: listed, served (an audited unmasked view: a photo can be
an ID card) and voice notes marked listened to. The console and the REST API both go through here, after
their own case loader has applied the one area rule (api.scope.in_scope)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from fastapi.responses import Response
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, defer

from api.scope import FIELD_STAFF
from cases import audit
from cases.events import add_event, staff_label
from cases.models import Attachment, Case, Report, Staff


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


def response(case: Case, attachment: Attachment) -> Response:
    """The stored bytes, shown in the browser, never cached, never sniffed into another type."""
    assert attachment.data is not None
    name = filename(case, attachment)
    inline = attachment.content_type in INLINE_TYPES
    return Response(
        content=attachment.data,
        media_type=attachment.content_type if inline else "application/octet-stream",
        headers={
            "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Cross-Origin-Resource-Policy": "same-origin",
        },
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
