"""A case's photos, voice notes and files over REST: their list, one's bytes (each view audited), and a
voice note marked listened to. Scoped as the case itself (CaseDep): another area's case is 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api import attachments, schemas
from api.attachments import AttachmentRow
from api.deps import CaseDep, CurrentStaff, NowDep, SessionDep, require_roles
from api.errors import ApiError, not_found, responses
from api.scope import FIELD_STAFF
from cases.models import Attachment, Case, Channel, Staff

router = APIRouter(prefix="/api/cases", tags=["cases"])


Opener = Annotated[Staff, Depends(require_roles(*FIELD_STAFF))]  # as for an unmasked ID number
_BYTES_TYPES = ("image/jpeg", "audio/amr", "application/octet-stream")  # examples of the types served


def attachment_out(case: Case, row: AttachmentRow) -> schemas.AttachmentOut:
    return schemas.AttachmentOut(
        id=row.id,
        kind=row.kind,
        content_type=row.content_type,
        size=row.size,
        sha256=row.sha256 or None,
        created_at=row.created_at,
        report_id=row.report_id,
        channel=Channel(row.channel) if row.channel else None,
        sent_by=row.sent_by,
        sent_by_staff_id=row.sent_by_staff_id,
        stored=row.stored,
        needs_listening=row.needs_listening,
        url=f"/api/cases/{case.number}/attachments/{row.id}" if row.stored else None,
    )


def _load(db: Session, case: Case, attachment_id: int) -> Attachment:
    found = attachments.load(db=db, case=case, attachment_id=attachment_id)
    if found is None:
        raise not_found("attachment")
    return found


@router.get(
    "/{number}/attachments", response_model=list[schemas.AttachmentOut], responses=responses(401, 404)
)
def list_attachments(case: CaseDep, staff: CurrentStaff, db: SessionDep) -> list[schemas.AttachmentOut]:
    """The photos, voice notes and files sent to the case or its reports, oldest first (no bytes)."""
    return [attachment_out(case, row) for row in attachments.list_for_case(db=db, case=case)]


@router.get(
    "/{number}/attachments/{attachment_id}",
    response_class=Response,
    responses=responses(401, 403, 404, 416)
    | {
        200: {
            "description": "the stored bytes, with their content type, inline, never cached",
            "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in _BYTES_TYPES},
        },
        206: {
            "description": "the byte range asked for (Range: bytes=first-last), with Content-Range",
            "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in _BYTES_TYPES},
        },
    },
)
def attachment_bytes(
    attachment_id: int,
    case: CaseDep,
    staff: Opener,
    db: SessionDep,
    now: NowDep,
    range_: Annotated[str | None, Header(alias="Range", description="one byte range: bytes=500-999")] = None,
    if_range: Annotated[str | None, Header(alias="If-Range", description="the ETag the range is of")] = None,
) -> Response:
    """One attachment's bytes, or one byte range of them (206; 416 `range_not_satisfiable` past the end), as
    an audio player asks; every view is in the audit log (a photo can be an ID card), a player's later
    ranges of it (seeking) are not views of their own. 404 `attachment_not_found` for an attachment not of
    this case, `attachment_not_stored` for one whose file stayed at the channel."""
    found = _load(db, case, attachment_id)
    if found.data is None:
        raise ApiError(404, "attachment_not_stored", "the file stayed at the channel; it is not kept here")
    try:
        served = attachments.view(
            db=db, case=case, attachment=found, actor=staff, via="api", now=now, range_header=range_,
            if_range=if_range,
        )
    except attachments.RangeNotSatisfiable as exc:
        raise ApiError(416, "range_not_satisfiable", "the range starts past the end of the file",
                       headers=exc.headers) from None
    db.commit()
    return served


@router.post(
    "/{number}/attachments/{attachment_id}/listened",
    response_model=schemas.AttachmentOut,
    responses=responses(401, 403, 404, 409),
)
def attachment_listened(
    attachment_id: int, case: CaseDep, staff: Opener, db: SessionDep, now: NowDep
) -> schemas.AttachmentOut:
    """Mark a voice note listened to (a timeline event; audited); 409 for one that is not a voice note
    waiting to be listened to."""
    found = _load(db, case, attachment_id)
    if not attachments.mark_listened(db=db, case=case, attachment=found, actor=staff, via="api", now=now):
        raise ApiError(409, "nothing_to_listen_to", "not a voice note waiting to be listened to")
    db.commit()
    row = next(r for r in attachments.list_for_case(db=db, case=case) if r.id == found.id)
    return attachment_out(case, row)
