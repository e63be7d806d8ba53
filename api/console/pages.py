"""Console pages for every role: login, my tasks and cases, the case page with its workflow forms,
the dashboard, and the chat binding code."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api import attachments
from api.auth import LoginRefused, LoginThrottled, authenticate
from api.console import auth as ca
from api.console import member_details
from api.console.auth import FormDep, ViewerDep
from api.console.failures import explain
from api.console.labels import TASK_LABELS, reason
from api.console.render import page, t_
from api.deps import NowDep, SessionDep, SettingsDep
from api.routes.deliveries import FOLLOW_UP_ROLES, collect_failed
from api.scope import in_scope, scope_filter
from cases import annex1, audit, members, reminders, sweeps, workflow
from cases.clock import BEIJING
from cases.codes import (
    CATEGORIES,
    DISASTERS,
    ELIMINATION_MODES,
    GUARANTEES,
    MEASURES,
    MEMBER_RELATIONS,
    RELATION_HEAD,
    RISKS,
    YES_NO,
)
from cases.crypto import Vault, mask_id, mask_name
from cases.errors import CaseError
from cases.intake import sign_authorization, signature_gaps
from cases.models import (
    OPEN_STATUSES,
    Area,
    Assignment,
    Authorization,
    AuthorizationKind,
    Case,
    CaseEvent,
    CaseStatus,
    Channel,
    Evaluation,
    HomeVisit,
    Household,
    Measure,
    Objection,
    Report,
    Role,
    Staff,
    Task,
    TaskStatus,
)
from cases.notify import Notifier, NullNotifier
from conversations import binding

router = APIRouter()
BINDING_MINUTES = 30
VERIFIER_ROLES = (Role.CADRE, Role.VILLAGE, Role.TOWNSHIP)
PAGE_SIZE = 50


def vault_of(request: Request) -> Vault:
    vault = getattr(request.app.state, "vault", None)
    return vault if isinstance(vault, Vault) else Vault(request.app.state.settings.secret_key)


def notifier_of(request: Request) -> Notifier:
    notifier = getattr(request.app.state, "notifier", None)
    return notifier if notifier is not None else NullNotifier()


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --- login -------------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, settings: SettingsDep) -> Response:
    token = ca.login_csrf(request)
    response = page(request, "login.html", None, login_csrf=token, error=None)
    response.set_cookie(
        ca.LOGIN_COOKIE,
        token,
        httponly=True,
        secure=ca.cookie_secure(settings),
        samesite="strict",
        path="/console",
    )
    return response


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, form: FormDep, db: SessionDep, settings: SettingsDep, now: NowDep) -> Response:
    ca.check_login_csrf(request, form)
    t = t_(request)
    client = request.client.host if request.client else None
    try:
        staff = authenticate(
            db=db,
            settings=settings,
            username=str(form.get("username", "")),
            password=str(form.get("password", "")),
            client=client,
            now=now,
        )
    except LoginThrottled:
        return page(
            request,
            "login.html",
            None,
            status_code=429,
            login_csrf=form.get("csrf"),
            error=t.gettext("Too many failed attempts. Try again later."),
        )
    except LoginRefused:
        return page(
            request,
            "login.html",
            None,
            status_code=401,
            login_csrf=form.get("csrf"),
            error=t.gettext("Wrong username or password."),
        )
    response = redirect("/console/")
    ca.start_session(db, response, staff=staff, settings=settings, now=now)
    return response


@router.post("/logout")
def logout(request: Request, viewer: ViewerDep, form: FormDep, db: SessionDep, now: NowDep) -> Response:
    ca.check_csrf(viewer, form)
    response = redirect("/console/login")
    ca.end_session(db, request, response, now)
    return response


@router.get("/")
def home(viewer: ViewerDep) -> Response:
    if viewer.staff.role == Role.HOTLINE:
        return redirect("/console/hotline")
    if viewer.staff.role in (Role.TOWNSHIP, Role.COUNTY, Role.ADMIN):
        return redirect("/console/dashboard")
    return redirect("/console/tasks")


# --- my tasks and cases ------------------------------------------------------------------------


def sync_scope(db: Session, viewer: ca.Viewer, now: datetime) -> None:
    """Bring the tasks of the open cases in the viewer's area up to date before showing them: those
    changed since the reminder tick last synced them (all of them when no tick has today)."""
    in_area = scope_filter(viewer.staff, Case.area_code)
    query = select(Case).where(in_area, Case.status.in_(list(OPEN_STATUSES)))
    behind = sweeps.maybe_behind(db, now)
    if behind is not None:
        query = query.where(behind)
    reminders.sync_cases(db, db.scalars(query.order_by(Case.id)).all(), now)
    db.commit()


@router.get("/tasks", response_class=HTMLResponse)
def tasks(request: Request, viewer: ViewerDep, db: SessionDep, now: NowDep, status: str = "") -> Response:
    sync_scope(db, viewer, now)
    staff = viewer.staff
    mine = reminders.open_tasks_for(db, staff.id)
    area_overdue: list[Task] = []
    if staff.role in (Role.VILLAGE, Role.TOWNSHIP, Role.COUNTY, Role.ADMIN):
        area_overdue = [
            t
            for t in db.scalars(
                select(Task)
                .where(
                    Task.status == TaskStatus.OPEN,
                    Task.due_at <= now,
                    scope_filter(staff, Task.area_code),
                    Task.assignee_staff_id != staff.id,
                )
                .order_by(Task.due_at)
                .limit(PAGE_SIZE)
            )
        ]
    query = select(Case).where(scope_filter(staff, Case.area_code))
    if staff.role == Role.CADRE:
        query = query.join(Assignment, Assignment.case_id == Case.id).where(
            Assignment.staff_id == staff.id, Assignment.ended_at.is_(None)
        )
    if status:
        query = query.where(Case.status == status)
    cases = db.scalars(query.order_by(Case.updated_at.desc()).limit(PAGE_SIZE)).all()
    return page(
        request,
        "tasks.html",
        viewer,
        now=now,
        mine=mine,
        area_overdue=area_overdue,
        cases=[_case_row(db, c) for c in cases],
        case_of=lambda t: _case_number(db, t),
        staff_name=lambda sid: _staff_name(db, sid),
        status=status,
        counts=reminders.summarize(mine, now),
        statuses=[s.value for s in CaseStatus],
    )


def _case_number(db: Session, task: Task) -> str:
    case = db.get(Case, task.case_id) if task.case_id else None
    return case.number if case else ""


def _staff_name(db: Session, staff_id: int | None) -> str:
    staff = db.get(Staff, staff_id) if staff_id else None
    return staff.name if staff else "—"


def _case_row(db: Session, case: Case) -> dict[str, Any]:
    household = db.get(Household, case.household_id)
    village = db.get(Area, case.area_code)
    return {
        "number": case.number,
        "status": case.status,
        "head": mask_name(household.head_name if household else None),
        "village": village.name if village else case.area_code,
        "urgent": case.urgent,
        "risks": "、".join(RISKS.get(r, r) for r in case.risks),
        "updated_at": case.updated_at,
    }


@router.post("/tasks/{task_id}/done")
def task_done(
    request: Request, task_id: int, viewer: ViewerDep, form: FormDep, db: SessionDep, now: NowDep
) -> Response:
    ca.check_csrf(viewer, form)
    try:
        task = reminders.complete_task(
            db, task_id=task_id, staff_id=viewer.staff.id, note=str(form.get("note", ""))[:500], now=now
        )
    except reminders.TaskError as error:
        if str(error) == reminders.STEP_TASK:
            return step_not_recorded(request, db, viewer, task_id, now)
        return redirect("/console/tasks?error=task")
    audit.record(
        db=db,
        actor=audit.staff_actor(viewer.staff.id),
        action="task.complete",
        entity="task",
        entity_id=task.id,
        area_code=task.area_code,
        detail={"via": "console"},
        now=now,
        actor_staff_id=viewer.staff.id,
    )
    db.commit()
    return redirect(str(form.get("next") or "/console/tasks"))


def step_not_recorded(
    request: Request, db: Session, viewer: ca.Viewer, task_id: int, now: datetime
) -> Response:
    """A step's task is not closed by its Done button, as 完成 in the chat does not close it: it closes by
    itself once the step is recorded on the case page (the home visit's form: the group of at least two and
    annex 2). The case page again, with why."""
    db.rollback()
    task = db.get(Task, task_id)
    case = db.get(Case, task.case_id) if task is not None and task.case_id else None
    if task is None or case is None or not in_scope(viewer.staff, case.area_code):
        return redirect("/console/tasks?error=task")
    t = t_(request)
    label = t.gettext(TASK_LABELS[task.kind]) if task.kind in TASK_LABELS else task.kind
    if task.kind in reminders.VISIT_KINDS:
        why = t.gettext("Not done: task #{task} ({label}) closes once the home visit is recorded: fill in "
                        "登记入户核实 below (a verification group of at least two, and what you found).")
    else:
        why = t.gettext("Not done: task #{task} ({label}) closes by itself once this step is recorded below.")
    return page(request, "case.html", viewer, status_code=409, error=why.format(task=task.id, label=label),
                **case_context(request, db, viewer, case, now))


# --- the case page -----------------------------------------------------------------------------


def load_case(db: Session, viewer: ca.Viewer, number: str) -> Case | None:
    """The case if it lies in the viewer's area; None (shown as 404) otherwise, never 403."""
    case = db.scalar(select(Case).where(Case.number == number.strip().upper()))
    if case is None or not in_scope(viewer.staff, case.area_code):
        return None
    return case


def not_found(request: Request, viewer: ca.Viewer) -> Response:
    return page(request, "not_found.html", viewer, status_code=404)


@router.get("/cases/{number}", response_class=HTMLResponse)
def case_page(
    request: Request, number: str, viewer: ViewerDep, db: SessionDep, now: NowDep, error: str = ""
) -> Response:
    case = load_case(db, viewer, number)
    if case is None:
        return not_found(request, viewer)
    reminders.sync_case_tasks(db, case, now)
    audit.record(
        db=db,
        actor=audit.staff_actor(viewer.staff.id),
        action="case.view",
        entity="case",
        entity_id=case.id,
        area_code=case.area_code,
        detail={"via": "console"},
        now=now,
        actor_staff_id=viewer.staff.id,
    )
    db.commit()
    return page(request, "case.html", viewer, **case_context(request, db, viewer, case, now), error=error)


SIGN_AT_VISIT = "sign_at_visit"
MEMBER_ACTIONS = ("add_member", "remove_member", "edit_member")


def console_actions(db: Session, case: Case, staff: Staff, now: datetime, pending: list[str]) -> list[str]:
    """The workflow's allowed steps, plus witnessing annex 1 at the visit while a signature is pending
    (on an applied case, or again on an open case whose signature was withdrawn)."""
    actions = workflow.allowed_actions(case, staff, now=now)
    if pending and staff.role in VERIFIER_ROLES:
        actions.insert(0, SIGN_AT_VISIT)
    if case.status in OPEN_STATUSES and staff.role in members.MEMBER_ROLES:
        actions.extend(MEMBER_ACTIONS)  # forms of their own, in the members' card
    return actions


def member_rows(
    household: Household | None, auths: list[Authorization], vault: Vault
) -> list[dict[str, Any]]:
    """The household's members as the console lists them: head first, name and ID number masked, A9-A17 as
    recorded; one that signed annex 1 stays, with the name and ID number it signed (the signature is
    evidence)."""
    if household is None:
        return []
    signers = {a.member_id for a in auths}
    return [
        {
            "id": m.id,
            "name": mask_name(m.name),
            "relation": m.relation or "",
            "id_masked": mask_id(vault.decrypt(m.id_number_enc)) if m.id_number_enc else "—",
            "head": m.is_head,
            "removable": not m.is_head and m.id not in signers,
            "signed": m.id in signers,  # its name and ID number stay as signed
            "relation_code": next((c for c, words in MEMBER_RELATIONS.items() if words == m.relation), ""),
            "has_id": m.id_number_enc is not None,
            "birth_year": m.birth_date.year if m.birth_date else None,
            "details": member_details.shown(m),
            "form_values": member_details.form_values(m),
        }
        for m in sorted(household.members, key=lambda m: (not m.is_head, m.id))
    ]


def case_context(
    request: Request, db: Session, viewer: ca.Viewer, case: Case, now: datetime,
    typed: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The case page's context; `typed`: a refused members-card form, shown again open as it was sent."""
    household = db.get(Household, case.household_id)
    village = db.get(Area, case.area_code)
    events = db.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)).all()
    reports = db.scalars(select(Report).where(Report.case_id == case.id).order_by(Report.id)).all()
    auths = db.scalars(
        select(Authorization).where(Authorization.case_id == case.id).order_by(Authorization.id)
    ).all()
    visits = db.scalars(select(HomeVisit).where(HomeVisit.case_id == case.id).order_by(HomeVisit.id)).all()
    measures = db.scalars(select(Measure).where(Measure.case_id == case.id).order_by(Measure.id)).all()
    evaluations = db.scalars(
        select(Evaluation).where(Evaluation.case_id == case.id).order_by(Evaluation.id)
    ).all()
    objections = db.scalars(
        select(Objection).where(Objection.case_id == case.id).order_by(Objection.id)
    ).all()
    tasks = db.scalars(select(Task).where(Task.case_id == case.id).order_by(Task.due_at)).all()
    pending = signature_gaps(db=db, vault=vault_of(request), case=case)
    verifiers = db.scalars(
        select(Staff)
        .where(
            Staff.active.is_(True),
            Staff.role.in_(list(VERIFIER_ROLES)),
            Staff.area_code.in_([case.area_code, _parent(db, case.area_code)]),
        )
        .order_by(Staff.id)
    ).all()
    cadres = [s for s in verifiers if s.role == Role.CADRE and s.area_code == case.area_code]
    assignment = db.scalar(
        select(Assignment)
        .where(Assignment.case_id == case.id, Assignment.ended_at.is_(None))
        .order_by(Assignment.id.desc())
        .limit(1)
    )
    return {
        "case": case,
        "now": now,
        "household": household,
        "head": mask_name(household.head_name if household else None),
        "village": village.name if village else case.area_code,
        "events": events,
        "reports": reports,
        "auths": auths,
        "withdrawals": {a.withdraws_id: a for a in auths if a.kind == AuthorizationKind.WITHDRAW},
        "visits": visits,
        "measures": measures,
        "evaluations": evaluations,
        "objections": objections,
        "tasks": tasks,
        "step_tasks": reminders.RULE_BY_KIND,  # closed by recording their step, not by Done
        "visit_tasks": reminders.VISIT_KINDS,
        "attachments": attachments.list_for_case(db=db, case=case),
        "may_open": attachments.may_open(viewer.staff),
        "pending": pending,
        "actions": console_actions(db, case, viewer.staff, now, pending),
        "member_actions": MEMBER_ACTIONS,
        "members": member_rows(household, list(auths), vault_of(request)),
        "relations": {code: words for code, words in MEMBER_RELATIONS.items() if code != RELATION_HEAD},
        "member_form": member_details.FORM,
        "typed": typed or {},
        "a26": members.a26_from_members(household.members) if household else None,
        "yes_no": YES_NO,
        "verifiers": verifiers,
        "cadres": cadres,
        "cadre": _staff_name(db, assignment.staff_id) if assignment else None,
        "risks": RISKS,
        "disasters": DISASTERS,
        "guarantees": GUARANTEES,
        "measure_types": MEASURES,
        "categories": CATEGORIES,
        "modes": ELIMINATION_MODES,
        "today": now.astimezone(BEIJING).date().isoformat(),
        "mask_name": mask_name,
        "staff_name": lambda sid: _staff_name(db, sid),
    }


def _parent(db: Session, code: str) -> str:
    area = db.get(Area, code)
    return area.parent_code if area and area.parent_code else code


def _decimal(form: dict[str, Any], key: str) -> Decimal:
    raw = str(form.get(key) or "0").replace(",", "").strip() or "0"
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise CaseError("bad_number", f"{key} is not a number") from exc
    if value < 0:
        raise CaseError("bad_number", f"{key} is negative")
    return value


def _int(form: dict[str, Any], key: str, default: int | None = None) -> int:
    raw = str(form.get(key) or "").strip()
    if not raw.isdigit():
        if default is not None:
            return default
        raise CaseError("bad_number", f"{key} is missing")
    return int(raw)


def _visit(form: dict[str, Any], now: datetime) -> workflow.VisitInput:
    raw_day = str(form.get("visited_on") or "")
    try:
        visited = date.fromisoformat(raw_day) if raw_day else now.astimezone(BEIJING).date()
    except ValueError as exc:
        raise CaseError("bad_date", "visited_on is not a date") from exc
    labour = str(form.get("has_labour_capacity") or "")
    return workflow.VisitInput(
        visited_on=visited,
        household_size=_int(form, "household_size"),
        a23_housing_unsafe="a23" in form,
        a24_child_out_of_school="a24" in form,
        a25_water_unsafe="a25" in form,
        a26_no_medical_insurance="a26" in form,
        a27_risks=[r for r in form.get("risks[]", []) if r in RISKS],
        a27a_disasters=[d for d in form.get("disasters[]", []) if d in DISASTERS],
        a27_other=str(form.get("a27_other") or "") or None,
        a28_wages=_decimal(form, "a28"),
        a29_business_income=_decimal(form, "a29"),
        a30_property_income=_decimal(form, "a30"),
        a31_transfer_income=_decimal(form, "a31"),
        a32_business_expenses=_decimal(form, "a32"),
        a35_insurance_payouts=_decimal(form, "a35"),
        a36_compliant_spending=_decimal(form, "a36"),
        has_labour_capacity=None if not labour else labour == "yes",
        household_signed="household_signed" in form,
        notes=str(form.get("notes") or "") or None,
    )


def run_action(
    db: Session,
    case: Case,
    viewer: ca.Viewer,
    action: str,
    form: dict[str, Any],
    now: datetime,
    notifier: Notifier,
    vault: Vault,
) -> None:
    """Apply one workflow step from its form (raises CaseError with the reason when refused)."""
    actor, note = viewer.staff, (str(form.get("note") or "").strip() or None)
    common: dict[str, Any] = {
        "db": db,
        "case": case,
        "actor": actor,
        "now": now,
        "note": note,
        "notifier": notifier,
    }
    if action == SIGN_AT_VISIT:
        sign_authorization(
            db=db,
            vault=vault,
            case=case,
            signer_name=str(form.get("signer_name") or "").strip(),
            signer_id_number=str(form.get("signer_id") or "").strip() or None,
            channel=Channel.CONSOLE,
            message_ref=None,
            contact_id=None,
            now=now,
            text_version=annex1.CURRENT_VERSION,
            witnessed_by_staff_id=actor.id,
        )
    elif action == "record_home_visit":
        ids = [int(x) for x in form.get("verifiers[]", []) if str(x).isdigit()]
        workflow.record_home_visit(**common, visit=_visit(form, now), verifier_ids=ids)
    elif action in ("village_review", "conclude_notice", "township_review"):
        getattr(workflow, action)(**common)
    elif action == "county_approve":
        category = _int(form, "category", 0) or None
        workflow.county_approve(**common, category=category)
    elif action == "raise_objection":
        workflow.raise_objection(
            **common, raised_by=str(form.get("raised_by") or ""), content=str(form.get("content") or "")
        )
    elif action == "resolve_objection":
        workflow.resolve_objection(
            **common,
            objection_id=_int(form, "objection_id"),
            upheld=form.get("upheld") == "yes",
            resolution=str(form.get("resolution") or ""),
        )
    elif action == "refuse":
        workflow.refuse(**common, reason=str(form.get("reason") or "").strip())
    elif action in ("withdraw", "request_review"):
        getattr(workflow, action)(**common, channel="console")
    elif action == "propose_elimination":
        workflow.propose_elimination(**common, mode=str(form.get("mode") or ""))
    elif action == "assign":
        workflow.assign(**common, staff_id=_int(form, "staff_id"))
    elif action == "add_measure":
        amount = _decimal(form, "amount") if form.get("amount") else None
        workflow.add_measure(
            db=db,
            case=case,
            actor=actor,
            now=now,
            note=note,
            code=str(form.get("code")),
            sub_code=str(form.get("sub_code") or "") or None,
            description=str(form.get("description") or "") or None,
            amount=amount,
        )
    elif action == "add_member":
        members.record_member(
            db=db,
            vault=vault,
            case=case,
            actor=actor,
            now=now,
            note=note,
            name=str(form.get("member_name") or "").strip(),
            relation_code=str(form.get("relation_code") or ""),
            id_number=str(form.get("member_id_number") or "").strip() or None,
            birth_date=member_details.birth_date(form),
            details=member_details.from_form(form),
        )
    elif action == "edit_member":
        changes = member_details.from_form(form) | member_details.corrections(form)
        born = member_details.birth_date(form)
        if born is not None:  # left empty: the birth date on record stays
            changes["birth_date"] = born
        try:
            members.update_member(db=db, vault=vault, case=case, actor=actor, now=now, note=note,
                                  member_id=_int(form, "member_id"), changes=changes)
        except LookupError as exc:
            raise CaseError("member_not_found", "no such member") from exc
    elif action == "remove_member":
        try:
            members.remove_member(db=db, case=case, actor=actor, now=now, member_id=_int(form, "member_id"),
                                  reason=str(form.get("reason") or "").strip())
        except LookupError as exc:
            raise CaseError("member_not_found", "no such member") from exc
    elif action == "record_evaluation":
        workflow.record_evaluation(
            db=db, case=case, actor=actor, now=now, note=note, result=str(form.get("result") or "")
        )
    else:
        raise CaseError("unknown_action", action)


@router.post("/cases/{number}/act", response_class=HTMLResponse)
def case_action(
    request: Request, number: str, viewer: ViewerDep, form: FormDep, db: SessionDep, now: NowDep
) -> Response:
    ca.check_csrf(viewer, form)
    case = load_case(db, viewer, number)
    if case is None:
        return not_found(request, viewer)
    action = str(form.get("action") or "")
    try:
        vault = vault_of(request)
        pending = signature_gaps(db=db, vault=vault, case=case)
        if action not in console_actions(db, case, viewer.staff, now, pending):
            raise CaseError("action_not_allowed", action)
        run_action(db, case, viewer, action, form, now, notifier_of(request), vault)
        reminders.sync_case_tasks(db, case, now)
        db.commit()
    except CaseError as error:
        db.rollback()
        case = load_case(db, viewer, number)
        assert case is not None
        t = t_(request)
        message = t.gettext("Not done: {reason}").format(reason=reason(t, error.reason, error.message))
        return page(
            request,
            "case.html",
            viewer,
            status_code=409,
            error=message,
            **case_context(request, db, viewer, case, now, member_details.typed(action, form)),
        )
    return redirect(f"/console/cases/{case.number}")


# --- dashboard ---------------------------------------------------------------------------------


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly_reports(db: Session, viewer: ca.Viewer, now: datetime, weeks: int = 12) -> list[tuple[date, int]]:
    """Reports per week (Monday, Beijing) for the last `weeks` weeks in the viewer's area."""
    first = week_start(now.astimezone(BEIJING).date()) - timedelta(weeks=weeks - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=BEIJING)
    rows = db.scalars(
        select(Report.created_at)
        .join(Case, Case.id == Report.case_id)
        .where(Report.created_at >= since, scope_filter(viewer.staff, Case.area_code))
    ).all()
    counts = {first + timedelta(weeks=i): 0 for i in range(weeks)}
    for created in rows:
        counts[week_start(created.astimezone(BEIJING).date())] += 1
    return sorted(counts.items())


def bar_chart(series: list[tuple[date, int]], width: int = 600, height: int = 180) -> dict[str, Any]:
    """Geometry of an inline SVG bar chart (no JavaScript)."""
    top = max((n for _d, n in series), default=0) or 1
    step = width / max(len(series), 1)
    bars = []
    for i, (day, n) in enumerate(series):
        h = round((height - 40) * n / top)  # room above the tallest bar for its count
        bars.append(
            {
                "x": round(i * step + 4),
                "y": height - 20 - h,
                "w": round(step - 8),
                "h": h,
                "n": n,
                "label": day.strftime("%m-%d"),
            }
        )
    return {"width": width, "height": height, "bars": bars}


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, viewer: ViewerDep, db: SessionDep, now: NowDep) -> Response:
    sync_scope(db, viewer, now)
    staff = viewer.staff
    by_step = db.execute(
        select(Case.status, func.count()).where(scope_filter(staff, Case.area_code)).group_by(Case.status)
    ).all()
    by_village = db.execute(
        select(Area.name, Case.status, func.count())
        .join(Area, Area.code == Case.area_code)
        .where(scope_filter(staff, Case.area_code))
        .group_by(Area.name, Case.status)
        .order_by(Area.name)
    ).all()
    villages: dict[str, dict[str, int]] = {}
    for name, status, n in by_village:
        villages.setdefault(name, {})[str(status)] = int(n)
    overdue = db.execute(
        select(Task.assignee_staff_id, func.count())
        .where(Task.status == TaskStatus.OPEN, Task.due_at <= now, scope_filter(staff, Task.area_code))
        .group_by(Task.assignee_staff_id)
    ).all()
    overdue_rows = sorted(((_staff_name(db, sid), int(n)) for sid, n in overdue), key=lambda r: -r[1])
    chart = bar_chart(weekly_reports(db, viewer, now))
    return page(
        request,
        "dashboard.html",
        viewer,
        by_step={str(s): int(n) for s, n in by_step},
        villages=villages,
        overdue=overdue_rows,
        chart=chart,
        statuses=[s.value for s in CaseStatus],
    )


# --- messages that did not get through ----------------------------------------------------------


@router.get("/deliveries", response_class=HTMLResponse)
def deliveries_page(request: Request, viewer: ViewerDep, db: SessionDep) -> Response:
    """Undelivered and unhandled messages of the viewer's area, to follow up by phone (G3, T4)."""
    ca.require(viewer, *FOLLOW_UP_ROLES)
    t = t_(request)
    rows = [
        (
            m,
            explain(
                t,
                direction=m.direction,
                status=m.status,
                attempts=m.attempts,
                error_code=m.error_code,
                error=m.error,
            ),
        )
        for m in collect_failed(db, viewer.staff)
    ]
    return page(request, "deliveries.html", viewer, rows=rows)


# --- chat binding ------------------------------------------------------------------------------


@router.get("/binding", response_class=HTMLResponse)
def binding_page(request: Request, viewer: ViewerDep) -> Response:
    return page(request, "binding.html", viewer, code=None, expires=None)


@router.post("/binding", response_class=HTMLResponse)
def binding_code(request: Request, viewer: ViewerDep, form: FormDep, db: SessionDep, now: NowDep) -> Response:
    """A fresh one-time code (shown once; stored as a keyed hash) to type in the chat: 绑定 123456."""
    ca.check_csrf(viewer, form)
    ttl = timedelta(minutes=BINDING_MINUTES)
    # the chat redeems codes through conversations.binding: issue them there too (earlier unused codes
    # of this account expire, codes are unique, the issue is audited)
    code = binding.issue_code(db=db, vault=vault_of(request), staff_id=viewer.staff.id, now=now, ttl=ttl)
    expires = now + ttl
    db.commit()
    return page(request, "binding.html", viewer, code=code, expires=expires)
