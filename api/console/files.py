"""The case page's attachments: a photo, voice note or file opened by a staff member of the case's area
(each view audited), and a voice note marked listened to."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api import attachments
from api.console import auth as ca
from api.console.auth import FormDep, ViewerDep
from api.console.pages import load_case, not_found, redirect
from api.deps import NowDep, SessionDep

router = APIRouter()


@router.get("/cases/{number}/attachments/{attachment_id}")
def attachment_bytes(
    request: Request, number: str, attachment_id: int, viewer: ViewerDep, db: SessionDep, now: NowDep
) -> Response:
    """The attachment's stored bytes, or the byte range an audio player asks for (one audited view per play);
    404 alike for another area's case, another case's attachment or one whose file stayed at the channel."""
    case = load_case(db, viewer, number) if attachments.may_open(viewer.staff) else None
    found = attachments.load(db=db, case=case, attachment_id=attachment_id) if case else None
    if case is None or found is None or found.data is None:
        return not_found(request, viewer)
    try:
        served = attachments.view(
            db=db, case=case, attachment=found, actor=viewer.staff, via="console", now=now,
            range_header=request.headers.get("range"), if_range=request.headers.get("if-range"),
        )
    except attachments.RangeNotSatisfiable as exc:
        return Response(status_code=416, headers=exc.headers)
    db.commit()
    return served


@router.post("/cases/{number}/attachments/{attachment_id}/listened")
def attachment_listened(
    request: Request,
    number: str,
    attachment_id: int,
    viewer: ViewerDep,
    form: FormDep,
    db: SessionDep,
    now: NowDep,
) -> Response:
    ca.check_csrf(viewer, form)
    case = load_case(db, viewer, number) if attachments.may_open(viewer.staff) else None
    found = attachments.load(db=db, case=case, attachment_id=attachment_id) if case else None
    if case is None or found is None:
        return not_found(request, viewer)
    attachments.mark_listened(db=db, case=case, attachment=found, actor=viewer.staff, via="console", now=now)
    db.commit()
    return redirect(f"/console/cases/{case.number}#attachments")
