"""12317 hotline calls: log, list, turn into a report, or add to an existing case."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from api import callbacks as chat_callbacks
from api import schemas, services, views
from api.deps import NotifierDep, NowDep, SessionDep, VaultDep, load_case, require_roles
from api.errors import ApiError, not_found, responses
from api.scope import in_scope, scope_filter
from cases import callbacks
from cases.intake import ReportDraft
from cases.models import Area, Case, Channel, HotlineCall, ReporterKind, Role, Staff, Task

router = APIRouter(prefix="/api/hotline", tags=["hotline"])
HOTLINE_ROLES = (Role.HOTLINE, Role.TOWNSHIP, Role.COUNTY, Role.ADMIN)
HotlineStaff = Annotated[Staff, Depends(require_roles(*HOTLINE_ROLES))]


def load_call(call_id: int, staff: HotlineStaff, db: SessionDep) -> HotlineCall:
    """A call the staff member took, or one about their area; anything else is 404."""
    call = db.get(HotlineCall, call_id)
    if call is None or not (call.operator_staff_id == staff.id or in_scope(staff, call.area_code)):
        raise not_found("call")
    return call


CallDep = Annotated[HotlineCall, Depends(load_call)]


@router.post(
    "/calls", response_model=schemas.HotlineCallOut, status_code=201, responses=responses(401, 403, 422)
)
def log_call(
    body: schemas.HotlineCallIn, staff: HotlineStaff, db: SessionDep, vault: VaultDep, now: NowDep
) -> schemas.HotlineCallOut:
    """Log a call; the caller's number is stored encrypted and shown masked."""
    if body.village_code is not None and (
        db.get(Area, body.village_code) is None or not in_scope(staff, body.village_code)
    ):
        raise ApiError(422, "unknown_village", "the village is not a known area of yours")
    call = services.log_call(
        db=db,
        vault=vault,
        operator=staff,
        caller_phone=body.caller_phone,
        summary=body.summary,
        started_at=body.started_at or now,
        duration_seconds=body.duration_seconds,
        area_code=body.village_code,
        callback_at=body.callback_at,
        now=now,
    )
    db.commit()
    return views.hotline_call_out(db, call, vault)


@router.get("/calls", response_model=schemas.HotlineCallPage, responses=responses(401, 403))
def list_calls(
    staff: HotlineStaff,
    db: SessionDep,
    vault: VaultDep,
    open_only: Annotated[bool, Query(description="only calls not yet turned into a report")] = False,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> schemas.HotlineCallPage:
    """Calls you took or calls about your area, newest first."""
    query = select(HotlineCall).where(
        or_(HotlineCall.operator_staff_id == staff.id, scope_filter(staff, HotlineCall.area_code))
    )
    if open_only:
        query = query.where(HotlineCall.report_id.is_(None))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(
        query.order_by(HotlineCall.started_at.desc(), HotlineCall.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return schemas.HotlineCallPage(
        items=[views.hotline_call_out(db, c, vault) for c in rows],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get("/calls/{call_id}", response_model=schemas.HotlineCallOut, responses=responses(401, 403, 404))
def get_call(call: CallDep, db: SessionDep, vault: VaultDep) -> schemas.HotlineCallOut:
    return views.hotline_call_out(db, call, vault)


@router.post(
    "/calls/{call_id}/report",
    response_model=schemas.IntakeOut,
    status_code=201,
    responses=responses(401, 403, 404, 409, 422),
)
def call_to_report(
    body: schemas.HotlineReportIn,
    call: CallDep,
    staff: HotlineStaff,
    db: SessionDep,
    vault: VaultDep,
    notifier: NotifierDep,
    now: NowDep,
) -> schemas.IntakeOut:
    """Turn the call into a report (reporter: hotline); a household with an open case joins that case."""
    if db.get(Area, body.village_code) is None or not in_scope(staff, body.village_code):
        raise ApiError(422, "unknown_village", "the village is not a known area of yours")
    caller = vault.decrypt(call.caller_phone_enc) if call.caller_phone_enc else None
    draft = ReportDraft(
        channel=Channel.HOTLINE,
        reporter_kind=ReporterKind.HOTLINE,
        raw_text=body.raw_text or call.summary,
        risks=body.risks,
        disasters=body.disasters,
        guarantees=body.guarantees,
        other_risk_text=body.other_risk_text,
        urgent=body.urgent,
        parsed=dict(call.parsed),
        head_name=body.head_name,
        id_number=body.id_number,
        phone=body.phone or (None if body.proxy_relation else caller),
        household_size=body.household_size,
        village_code=body.village_code,
        group_name=body.group_name,
        proxy_relation=body.proxy_relation,
        proxy_name=body.proxy_name,
        proxy_phone=caller if body.proxy_relation else None,
    )
    differs = services.head_name_differs(db=db, vault=vault, id_number=body.id_number,
                                         head_name=body.head_name, confirmed=body.name_confirmed)
    result = services.call_to_report(
        db=db, vault=vault, notifier=notifier, call=call, operator=staff, draft=draft, now=now,
        name_differs=differs,
    )
    db.commit()
    return schemas.IntakeOut(
        case_number=result.case.number, joined_existing=result.joined_existing, report_id=result.report.id
    )


@router.post(
    "/calls/{call_id}/attach", response_model=schemas.IntakeOut, responses=responses(401, 403, 404, 409, 422)
)
def attach_call(
    body: schemas.AttachCallIn,
    call: CallDep,
    staff: HotlineStaff,
    db: SessionDep,
    vault: VaultDep,
    notifier: NotifierDep,
    now: NowDep,
) -> schemas.IntakeOut:
    """Add the call to an existing case in your area (as a hotline report on it)."""
    case = load_case(body.case_number, staff, db)
    report = services.attach_call(
        db=db, vault=vault, notifier=notifier, call=call, case=case, operator=staff, now=now
    )
    db.commit()
    return schemas.IntakeOut(case_number=case.number, joined_existing=True, report_id=report.id)


@router.post(
    "/calls/{call_id}/callback-done",
    response_model=schemas.HotlineCallOut,
    responses=responses(401, 403, 404),
)
def callback_done(call: CallDep, db: SessionDep, vault: VaultDep, now: NowDep) -> schemas.HotlineCallOut:
    """Mark the promised call-back as made."""
    call.callback_done_at = now
    db.commit()
    return views.hotline_call_out(db, call, vault)


# --- call-backs households asked for in a chat (人工) ---------------------------------------------------


def _callback_out(db: Session, task: Task) -> schemas.ChatCallbackOut:
    detail = task.detail or {}
    case = db.get(Case, task.case_id) if task.case_id is not None else None
    return schemas.ChatCallbackOut(
        id=task.id, asked_at=task.created_at, due_at=task.due_at, channel=detail.get("channel"),
        phone_masked=detail.get("phone_masked"), note=detail.get("note"),
        case_number=case.number if case is not None else None, status=str(task.status), done_at=task.done_at,
        done_note=task.done_note,
    )


def _chat_callback(task_id: int, staff: HotlineStaff, db: SessionDep) -> Task:
    task = chat_callbacks.load(db, staff, task_id)
    if task is None:
        raise not_found("callback")
    return task


ChatCallbackDep = Annotated[Task, Depends(_chat_callback)]


@router.get("/callbacks", response_model=list[schemas.ChatCallbackOut], responses=responses(401, 403))
def list_chat_callbacks(staff: HotlineStaff, db: SessionDep) -> list[schemas.ChatCallbackOut]:
    """The call-backs households asked for in a chat and still wait for, the most overdue first."""
    return [_callback_out(db, task) for task in chat_callbacks.waiting(db, staff)]


@router.post("/callbacks/{task_id}/reveal", response_model=schemas.RevealOut,
             responses=responses(401, 403, 404, 409))
def reveal_callback_phone(
    task: ChatCallbackDep, staff: HotlineStaff, db: SessionDep, vault: VaultDep, now: NowDep
) -> schemas.RevealOut:
    """The number to dial, unmasked; the view is written to the audit log."""
    phone, entry = callbacks.phone_to_call(db=db, vault=vault, task=task, actor=staff, reason="to call back",
                                           now=now)
    db.commit()
    return schemas.RevealOut(field="phone", value=phone, audit_id=entry.id)


@router.post("/callbacks/{task_id}/done", response_model=schemas.ChatCallbackOut,
             responses=responses(401, 403, 404, 409, 422))
def close_chat_callback(
    body: schemas.CallbackDoneIn, task: ChatCallbackDep, staff: HotlineStaff, db: SessionDep, now: NowDep
) -> schemas.ChatCallbackOut:
    """The household was called back: what the call settled, on the case's timeline when it has one."""
    callbacks.close(db=db, task=task, actor=staff, note=body.note, now=now)
    db.commit()
    return _callback_out(db, task)
