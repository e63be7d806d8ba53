"""The 12317 hotline desk: log a call, let the parser pre-fill the report, find the household or case
(masked), turn the call into a report on the caller's behalf or add it to an existing case, schedule a
callback, and list the calls."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api import callbacks as chat_callbacks
from api.console import auth as ca
from api.console.auth import FormDep, ViewerDep
from api.console.labels import reason
from api.console.pages import load_case, notifier_of, redirect, vault_of
from api.console.render import page, t_
from api.deps import NowDep, SessionDep
from api.scope import in_scope, scope_filter
from cases import audit, callbacks, reminders
from cases.clock import BEIJING
from cases.codes import RISKS
from cases.crypto import Vault, mask_id, mask_name, mask_phone
from cases.errors import CaseError
from cases.ids import check_id, normalize_phone
from cases.intake import ReportDraft, pending_signatures, submit_report
from cases.models import (
    OPEN_STATUSES,
    Area,
    AreaLevel,
    Case,
    CaseEvent,
    Channel,
    HotlineCall,
    Household,
    Report,
    ReporterKind,
    Role,
    Task,
    TaskStatus,
)
from cases.staff_reports import name_on_record

router = APIRouter(prefix="/hotline")
HOTLINE_ROLES = (Role.HOTLINE, Role.COUNTY, Role.TOWNSHIP)
MAX_RESULTS = 20
CALLS_PER_PAGE = 50
_DIALLED = re.compile(r"[\d\s+\-]{5,20}")


def _villages(db: Session, viewer: ca.Viewer) -> list[Area]:
    return list(
        db.scalars(
            select(Area)
            .where(Area.level == AreaLevel.VILLAGE, scope_filter(viewer.staff, Area.code))
            .order_by(Area.code)
        )
    )


def _gazetteer(db: Session, viewer: ca.Viewer) -> Any:
    import nlu

    rows = db.execute(select(Area.code, Area.name, Area.level, Area.parent_code)).all()
    return nlu.Gazetteer.from_areas((c, n, str(lv), p) for c, n, lv, p in rows)


def mask_text(text: str, ids: list[str], phones: list[str]) -> str:
    """The summary as stored: ID and phone numbers the parser found are masked."""
    for value in ids:
        text = text.replace(value, mask_id(value)).replace(value.lower(), mask_id(value))
    for value in phones:
        text = text.replace(value, mask_phone(value))
    return text


def prefill(parsed: dict[str, Any]) -> dict[str, Any]:
    """Report form defaults from a parse: caller's name, risks, amounts, size, ID, phone, village code."""
    place = parsed.get("place")
    village = place.get("village_code") if isinstance(place, dict) else None
    return {
        "head_name": parsed.get("person_name") or "",
        "risks": list(parsed.get("risks") or []),
        "amounts": list(parsed.get("amounts") or []),
        "amounts_approximate": list(parsed.get("amounts_approximate") or []),
        "household_size": parsed.get("household_size") or "",
        "id_number": (parsed.get("id_numbers") or [""])[0],
        "phone": (parsed.get("phones") or [""])[0],
        "village_code": str(village).ljust(12, "0") if village else "",
        "urgent": bool(parsed.get("urgent")),
    }


def _parse_started(raw: str, now: datetime) -> datetime:
    if not raw:
        return now
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=BEIJING)
    except ValueError as exc:
        raise CaseError("bad_date", "the call time is not a date and time") from exc


def _duration(raw: str) -> int | None:
    """'5:30' or '330' -> seconds."""
    raw = raw.strip()
    if m := re.fullmatch(r"(\d{1,3}):(\d{2})", raw):
        return int(m.group(1)) * 60 + int(m.group(2))
    return int(raw) if raw.isdigit() else None


@dataclass(frozen=True)
class CallFilter:
    """What the calls list is filtered by, and which page of it is shown."""

    q: str = ""
    open_only: bool = False
    day: str = ""
    page: int = 1


@router.get("", response_class=HTMLResponse)
def desk(
    request: Request,
    viewer: ViewerDep,
    db: SessionDep,
    now: NowDep,
    open_only: str = "",
    day: str = "",
    page_no: Annotated[str, Query(alias="page")] = "1",
) -> Response:
    """The desk and its call list; words and numbers are filtered only by the POST below (G6)."""
    ca.require(viewer, *HOTLINE_ROLES)
    wanted = CallFilter(open_only=bool(open_only), day=day, page=_page(page_no))
    return _desk(request, db, viewer, now, wanted)


@router.post("", response_class=HTMLResponse)
def filter_calls(request: Request, viewer: ViewerDep, form: FormDep, db: SessionDep, now: NowDep) -> Response:
    """Filter the calls by words of the summary or the caller's number: a CSRF-checked POST, so the
    words and numbers stay out of URLs and access logs (G6); the pages of the result are POSTs too."""
    ca.require(viewer, *HOTLINE_ROLES)
    ca.check_csrf(viewer, form)
    wanted = CallFilter(
        q=str(form.get("q") or "").strip()[:100],
        open_only=bool(form.get("open_only")),
        day=str(form.get("day") or ""),
        page=_page(str(form.get("page") or "")),
    )
    return _desk(request, db, viewer, now, wanted)


def _page(raw: str) -> int:
    return max(1, min(int(raw), 10_000)) if raw.strip().isdigit() else 1


def _desk(
    request: Request,
    db: Session,
    viewer: ca.Viewer,
    now: datetime,
    wanted: CallFilter,
    revealed: dict[int, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    query = select(HotlineCall).where(
        or_(
            scope_filter(viewer.staff, HotlineCall.area_code),
            HotlineCall.operator_staff_id == viewer.staff.id,
        )
    )
    if wanted.q:
        words = HotlineCall.summary.contains(wanted.q, autoescape=True)
        phone = normalize_phone(wanted.q) if _DIALLED.fullmatch(wanted.q) else None
        if phone:  # summaries keep numbers masked: a caller's number is matched on its keyed hash
            words = or_(words, HotlineCall.caller_phone_hash == vault_of(request).lookup_hash(phone))
        query = query.where(words)
    if wanted.open_only:
        query = query.where(HotlineCall.callback_at.is_not(None), HotlineCall.callback_done_at.is_(None))
    if wanted.day:
        try:
            start = datetime.combine(date.fromisoformat(wanted.day), datetime.min.time(), tzinfo=BEIJING)
            query = query.where(
                HotlineCall.started_at >= start, HotlineCall.started_at < start + timedelta(days=1)
            )
        except ValueError:
            pass
    rows = db.scalars(
        query.order_by(HotlineCall.started_at.desc(), HotlineCall.id.desc())
        .offset((wanted.page - 1) * CALLS_PER_PAGE)
        .limit(CALLS_PER_PAGE + 1)
    ).all()
    return page(
        request,
        "hotline.html",
        viewer,
        calls=rows[:CALLS_PER_PAGE],
        q=wanted.q,
        open_only=wanted.open_only,
        day=wanted.day,
        page_no=wanted.page,
        has_next=len(rows) > CALLS_PER_PAGE,
        case_number=lambda cid: _number(db, cid),
        now_local=now.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M"),
        callbacks=chat_callbacks.waiting(db, viewer.staff),
        revealed=revealed or {},
        error=error,
        status_code=status_code,
        now=now,
    )


@router.post("/callbacks/{task_id}/reveal", response_class=HTMLResponse)
def reveal_callback_phone(
    request: Request, task_id: int, viewer: ViewerDep, form: FormDep, db: SessionDep, now: NowDep
) -> Response:
    """The number to dial for a chat's call-back, shown on the desk (an audited unmasked view)."""

    def reveal(task: Task) -> Response:
        phone, _entry = callbacks.phone_to_call(db=db, vault=vault_of(request), task=task, actor=viewer.staff,
                                                reason=t_(request).gettext("to call back"), now=now)
        db.commit()
        return _desk(request, db, viewer, now, CallFilter(), revealed={task.id: phone})

    return _on_callback(request, task_id, viewer, form, db, now, reveal)


@router.post("/callbacks/{task_id}/done", response_class=HTMLResponse)
def close_callback(
    request: Request, task_id: int, viewer: ViewerDep, form: FormDep, db: SessionDep, now: NowDep
) -> Response:
    """The household was called back: what the call settled, on the case's timeline when it has one."""

    def close(task: Task) -> Response:
        callbacks.close(db=db, task=task, actor=viewer.staff, note=str(form.get("note") or ""), now=now)
        db.commit()
        return redirect("/console/hotline")

    return _on_callback(request, task_id, viewer, form, db, now, close)


def _on_callback(
    request: Request,
    task_id: int,
    viewer: ca.Viewer,
    form: dict[str, Any],
    db: Session,
    now: datetime,
    act: Callable[[Task], Response],
) -> Response:
    """`act` on one of the desk's chat call-backs (role, CSRF and area checked first); a refused step shows
    the desk again with why, nothing written."""
    ca.require(viewer, *HOTLINE_ROLES)
    ca.check_csrf(viewer, form)
    task = chat_callbacks.load(db, viewer.staff, task_id)
    if task is None:
        return page(request, "not_found.html", viewer, status_code=404)
    try:
        return act(task)
    except CaseError as error:
        db.rollback()
        t = t_(request)
        message = t.gettext("Not done: {reason}").format(reason=reason(t, error.reason, error.message))
        return _desk(request, db, viewer, now, CallFilter(), error=message, status_code=409)


@router.post("/calls", response_class=HTMLResponse)
def log_call(request: Request, viewer: ViewerDep, form: FormDep, db: SessionDep, now: NowDep) -> Response:
    ca.require(viewer, *HOTLINE_ROLES)
    ca.check_csrf(viewer, form)
    import nlu

    vault = vault_of(request)
    summary = str(form.get("summary") or "").strip()
    if not summary:
        return redirect("/console/hotline?error=summary")
    parse = nlu.parse(summary, _gazetteer(db, viewer))
    parsed = asdict(parse)
    phone = normalize_phone(str(form.get("caller_phone") or ""))
    call = HotlineCall(
        operator_staff_id=viewer.staff.id,
        caller_phone_enc=vault.encrypt(phone) if phone else None,
        caller_phone_hash=vault.lookup_hash(phone) if phone else None,
        started_at=_parse_started(str(form.get("started_at") or ""), now),
        duration_seconds=_duration(str(form.get("duration") or "")),
        summary=mask_text(summary, parse.id_numbers, parse.phones),
        parsed=_stored_parse(parsed, vault),
        area_code=viewer.staff.area_code,
    )
    fill = prefill(parsed)
    if not fill["phone"] and phone:
        fill["phone"] = phone
    db.add(call)
    db.flush()
    audit.record(
        db=db,
        actor=audit.staff_actor(viewer.staff.id),
        action="hotline.log",
        entity="hotline_call",
        entity_id=call.id,
        area_code=call.area_code,
        detail={},
        now=now,
        actor_staff_id=viewer.staff.id,
    )
    db.commit()
    return call_view(
        request, db, viewer, call, now, fill=fill, results=_search(db, vault, viewer, phone or "")
    )


def _number(db: Session, case_id: int | None) -> str:
    case = db.get(Case, case_id) if case_id else None
    return case.number if case else ""


def _stored_parse(parsed: dict[str, Any], vault: Vault) -> dict[str, Any]:
    """The parse as stored with the call: ID and phone numbers encrypted, never in plain JSON."""
    out = dict(parsed)
    out["id_numbers"] = [vault.encrypt(x) for x in parsed.get("id_numbers") or []]
    out["phones"] = [vault.encrypt(x) for x in parsed.get("phones") or []]
    out["invalid_id_numbers"] = []
    out["encrypted"] = True
    return out


def _restored(parsed: dict[str, Any], vault: Vault) -> dict[str, Any]:
    out = dict(parsed)
    if parsed.get("encrypted"):
        out["id_numbers"] = [vault.decrypt(x) for x in parsed.get("id_numbers") or []]
        out["phones"] = [vault.decrypt(x) for x in parsed.get("phones") or []]
    return out


def _load_call(db: Session, viewer: ca.Viewer, call_id: int) -> HotlineCall | None:
    call = db.get(HotlineCall, call_id)
    if call is None:
        return None
    if call.operator_staff_id != viewer.staff.id and not in_scope(viewer.staff, call.area_code):
        return None
    return call


def call_view(
    request: Request,
    db: Session,
    viewer: ca.Viewer,
    call: HotlineCall,
    now: datetime,
    *,
    fill: dict[str, Any] | None = None,
    results: list[dict[str, Any]] | None = None,
    error: str | None = None,
    status_code: int = 200,
    confirm_name: bool = False,
) -> Response:
    vault = vault_of(request)
    case = db.get(Case, call.case_id) if call.case_id else None
    pending = pending_signatures(db=db, vault=vault, case=case) if case is not None else []
    fill = fill or prefill(_restored(call.parsed, vault))
    caller = mask_phone(vault.decrypt(call.caller_phone_enc)) if call.caller_phone_enc else ""
    return page(
        request,
        "call.html",
        viewer,
        status_code=status_code,
        call=call,
        case=case,
        pending=pending,
        fill=fill,
        results=results,
        error=error,
        villages=_villages(db, viewer),
        risks=RISKS,
        caller=caller,
        masked_id=mask_id(fill["id_number"]) if fill.get("id_number") else "",
        parsed=call.parsed,
        now=now,
        confirm_name=confirm_name,
    )


@router.get("/calls/{call_id}", response_class=HTMLResponse)
def show_call(request: Request, call_id: int, viewer: ViewerDep, db: SessionDep, now: NowDep) -> Response:
    ca.require(viewer, *HOTLINE_ROLES)
    call = _load_call(db, viewer, call_id)
    if call is None:
        return page(request, "not_found.html", viewer, status_code=404)
    return call_view(request, db, viewer, call, now)


@router.post("/calls/{call_id}/search", response_class=HTMLResponse)
def search_for_call(
    request: Request, call_id: int, viewer: ViewerDep, form: FormDep, db: SessionDep, now: NowDep
) -> Response:
    """Find the caller's household: a POST, so phone and ID numbers stay out of URLs and access logs (G6)."""
    ca.require(viewer, *HOTLINE_ROLES)
    ca.check_csrf(viewer, form)
    call = _load_call(db, viewer, call_id)
    if call is None:
        return page(request, "not_found.html", viewer, status_code=404)
    q = str(form.get("q") or "")
    results = _search(db, vault_of(request), viewer, q) if q.strip() else None
    return call_view(request, db, viewer, call, now, results=results)


def _search(db: Session, vault: Vault, viewer: ca.Viewer, q: str) -> list[dict[str, Any]]:
    """Households in the viewer's area by phone, ID number or name; every result masked."""
    q = q.strip()
    if not q:
        return []
    conditions = [Household.head_name.contains(q, autoescape=True)]
    check = check_id(q)
    if check.valid and check.normalized:
        conditions.append(Household.id_hash == vault.lookup_hash(check.normalized))
    phone = normalize_phone(q)
    if phone:
        conditions.append(Household.phone_hash == vault.lookup_hash(phone))
    rows = db.scalars(
        select(Household)
        .where(or_(*conditions), scope_filter(viewer.staff, Household.village_code))
        .limit(MAX_RESULTS)
    ).all()
    out = []
    for h in rows:
        case = db.scalar(
            select(Case)
            .where(Case.household_id == h.id, Case.status.in_(list(OPEN_STATUSES)))
            .order_by(Case.id.desc())
            .limit(1)
        )
        village = db.get(Area, h.village_code) if h.village_code else None
        out.append(
            {
                "name": mask_name(h.head_name),
                "phone": mask_phone(vault.decrypt(h.phone_enc)) if h.phone_enc else "",
                "id": mask_id(vault.decrypt(h.id_number_enc)) if h.id_number_enc else "",
                "village": village.name if village else "",
                "case": case,
            }
        )
    return out


@router.post("/calls/{call_id}/report", response_class=HTMLResponse)
def call_to_report(
    request: Request, call_id: int, viewer: ViewerDep, form: FormDep, db: SessionDep, now: NowDep
) -> Response:
    """Turn the call into a report on the caller's behalf (reporter: hotline); signatures stay pending."""
    ca.require(viewer, *HOTLINE_ROLES)
    ca.check_csrf(viewer, form)
    call = _load_call(db, viewer, call_id)
    if call is None:
        return page(request, "not_found.html", viewer, status_code=404)
    village = str(form.get("village_code") or "") or None
    size = str(form.get("household_size") or "")
    fill: dict[str, Any] = {
        "head_name": str(form.get("head_name") or "").strip(),
        "risks": list(form.get("risks[]", [])),
        "amounts": [],
        "household_size": size,
        "id_number": str(form.get("id_number") or ""),
        "phone": str(form.get("phone") or ""),
        "village_code": village or "",
        "urgent": "urgent" in form,
    }
    if village is None or not in_scope(viewer.staff, village):
        return call_view(
            request,
            db,
            viewer,
            call,
            now,
            fill=fill,
            status_code=422,
            error=t_(request).gettext("Choose the household's village."),
        )
    draft = ReportDraft(
        channel=Channel.HOTLINE,
        reporter_kind=ReporterKind.HOTLINE,
        raw_text=call.summary,
        risks=[r for r in fill["risks"] if r in RISKS],
        urgent=bool(fill["urgent"]),
        parsed={k: v for k, v in call.parsed.items() if k not in ("id_numbers", "phones")},
        head_name=fill["head_name"] or None,
        id_number=fill["id_number"] or None,
        phone=fill["phone"] or None,
        household_size=int(size) if size.isdigit() else None,
        village_code=village,
        address=str(form.get("address") or "") or None,
    )
    t = t_(request)
    differs = (name_on_record(db=db, vault=vault_of(request), id_number=draft.id_number,
                              head_name=draft.head_name) if draft.id_number and draft.head_name else None)
    if differs is not None and "name_confirmed" not in form:  # asked first; the record is never changed
        said = t.gettext("The ID number {id} is on record for a household whose head is {head}, not {name}.")
        if not differs.heads_number:
            said = t.gettext("The ID number {id} is on record for a member of {head}'s household, not its "
                             "head.")
        error = said.format(id=mask_id(draft.id_number), head=mask_name(differs.head_name),
                            name=draft.head_name) + " " + t.gettext(
            "Check the name with the caller; if it is right, tick 'The name is right' and create the report.")
        return call_view(request, db, viewer, call, now, fill=fill, error=error, status_code=409,
                         confirm_name=True)
    try:
        result = submit_report(
            db=db, vault=vault_of(request), draft=draft, now=now, notifier=notifier_of(request)
        )
    except CaseError as error:
        db.rollback()
        call = _load_call(db, viewer, call_id)
        assert call is not None
        t = t_(request)
        message = t.gettext("Not saved: {reason}").format(reason=reason(t, error.reason, error.message))
        return call_view(request, db, viewer, call, now, fill=fill, error=message, status_code=422)
    call.case_id, call.report_id, call.household_id = result.case.id, result.report.id, result.household.id
    call.area_code = result.case.area_code
    reminders.sync_case_tasks(db, result.case, now)
    audit.record(
        db=db,
        actor=audit.staff_actor(viewer.staff.id),
        action="hotline.report",
        entity="hotline_call",
        entity_id=call.id,
        area_code=call.area_code,
        detail={"case_id": result.case.id, "joined": result.joined_existing,
                **({"name_differs": True} if differs is not None else {})},
        now=now,
        actor_staff_id=viewer.staff.id,
    )
    db.commit()
    return redirect(f"/console/hotline/calls/{call.id}")


@router.post("/calls/{call_id}/attach", response_class=HTMLResponse)
def attach_to_case(
    request: Request, call_id: int, viewer: ViewerDep, form: FormDep, db: SessionDep, now: NowDep
) -> Response:
    """Add the call to an existing case as a further report (the case's timeline shows it)."""
    ca.require(viewer, *HOTLINE_ROLES)
    ca.check_csrf(viewer, form)
    call = _load_call(db, viewer, call_id)
    if call is None:
        return page(request, "not_found.html", viewer, status_code=404)
    case = load_case(db, viewer, str(form.get("case_number") or ""))
    if case is None:
        return call_view(
            request,
            db,
            viewer,
            call,
            now,
            status_code=404,
            error=t_(request).gettext("No such case in your area."),
        )
    report = Report(
        case_id=case.id,
        household_id=case.household_id,
        channel=Channel.HOTLINE,
        reporter_kind=ReporterKind.HOTLINE,
        raw_text=call.summary,
        parsed={k: v for k, v in call.parsed.items() if k not in ("id_numbers", "phones")},
        risks=[r for r in call.parsed.get("risks") or [] if r in RISKS],
        created_at=now,
    )
    db.add(report)
    db.flush()
    db.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            action="report_added",
            actor_staff_id=viewer.staff.id,
            actor_label=f"{viewer.staff.name} (hotline)",
            note=None,
            data={"report_id": report.id},
        )
    )
    call.case_id, call.report_id, call.household_id = case.id, report.id, case.household_id
    audit.record(
        db=db,
        actor=audit.staff_actor(viewer.staff.id),
        action="hotline.attach",
        entity="hotline_call",
        entity_id=call.id,
        area_code=case.area_code,
        detail={"case_id": case.id},
        now=now,
        actor_staff_id=viewer.staff.id,
    )
    db.commit()
    return redirect(f"/console/hotline/calls/{call.id}")


@router.post("/calls/{call_id}/callback", response_class=HTMLResponse)
def schedule_callback(
    request: Request, call_id: int, viewer: ViewerDep, form: FormDep, db: SessionDep, now: NowDep
) -> Response:
    """Schedule a callback: a task for the operator, due at the chosen time."""
    ca.require(viewer, *HOTLINE_ROLES)
    ca.check_csrf(viewer, form)
    call = _load_call(db, viewer, call_id)
    if call is None:
        return page(request, "not_found.html", viewer, status_code=404)
    try:
        when = _parse_started(str(form.get("callback_at") or ""), now)
    except CaseError:
        return call_view(
            request,
            db,
            viewer,
            call,
            now,
            status_code=422,
            error=t_(request).gettext("Give the callback date and time."),
        )
    call.callback_at = when
    task = db.scalar(
        select(Task).where(
            Task.hotline_call_id == call.id, Task.kind == "callback", Task.status == TaskStatus.OPEN
        )
    )
    if task is None:
        db.add(
            Task(
                case_id=call.case_id,
                hotline_call_id=call.id,
                kind="callback",
                cycle=f"call{call.id}",
                assignee_staff_id=viewer.staff.id,
                area_code=call.area_code,
                due_at=when,
                status=TaskStatus.OPEN,
                created_at=now,
            )
        )
    else:
        task.due_at = when
    db.commit()
    return redirect(f"/console/hotline/calls/{call.id}")


@router.post("/calls/{call_id}/callback/done", response_class=HTMLResponse)
def callback_done(
    request: Request, call_id: int, viewer: ViewerDep, form: FormDep, db: SessionDep, now: NowDep
) -> Response:
    ca.require(viewer, *HOTLINE_ROLES)
    ca.check_csrf(viewer, form)
    call = _load_call(db, viewer, call_id)
    if call is None:
        return page(request, "not_found.html", viewer, status_code=404)
    call.callback_done_at = now
    for task in db.scalars(
        select(Task).where(Task.hotline_call_id == call.id, Task.status == TaskStatus.OPEN)
    ):
        task.status, task.done_at = TaskStatus.DONE, now
    db.commit()
    return redirect(f"/console/hotline/calls/{call.id}")
