"""Cadre commands by message: 待办 (my tasks), 案件 <number>, 完成 <task> <note>, 改期 <task> <days> <reason>.

A staff-linked contact's message comes here (through conversations/flows/cadre.py). Replies are short,
in Chinese through the conversations catalog, never with an unmasked ID or phone number; every change
is audited. The caller holds the transaction; this module never commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cases import audit, reminders, sweeps
from cases.codes import RISKS
from cases.crypto import mask_name
from cases.models import (
    OPEN_STATUSES,
    Area,
    Assignment,
    Case,
    CaseStatus,
    Household,
    Role,
    Staff,
    Task,
    TaskStatus,
)
from conversations.flows.common import small_number
from conversations.i18n import N_, Translator, translator
from conversations.messages import Reply

TODO = re.compile(r"^\s*(?:(?:我的|看下|看看|查下)?(?:待办|待辦|代办|任务)(?:事项|事項|清单|列表)?"
                  r"|todo|/todo)\s*$", re.IGNORECASE)
CASE = re.compile(r"^\s*(?:案件|查案|case|/case)\s*[:：#]?\s*([A-Za-z0-9-]{4,24})\s*$", re.IGNORECASE)
DONE = re.compile(r"^\s*(?:完成|办结|done|/done)\s*[:：#]?\s*(\d{1,9})(?:\s+(.*))?$",
                  re.IGNORECASE | re.DOTALL)
POSTPONE = re.compile(r"^\s*(?:改期|延期|postpone|/postpone)\s*[:：#]?\s*(\d{1,9})"
                      r"(?:\s+(\d{1,3}|[一二两三四五六七八九十]{1,3})\s*(?:个工作日|个?天|日)?)?"
                      r"(?:\s+(.*))?$", re.IGNORECASE | re.DOTALL)
MAX_LIST = 10
MAX_NOTE = 500

TASK_LABELS: dict[str, str] = {
    "acknowledge": N_("Acknowledge the new case"),
    "verify": N_("Home verification"),
    "village_review": N_("Village review"),
    "notice_end": N_("Conclude the public notice"),
    "township": N_("Township review"),
    "county": N_("County approval"),
    "evaluate": N_("Quarterly assistance evaluation"),
    "elim_verify": N_("Elimination: home verification"),
    "elim_review": N_("Elimination: village review"),
    "elim_notice_end": N_("Elimination: conclude the notice"),
    "elim_township": N_("Elimination: township review"),
    "elim_county": N_("Elimination: county approval"),
    "callback": N_("Call the household back"),
}
STATUS_LABELS: dict[str, str] = {
    CaseStatus.APPLIED: N_("Applied, awaiting home verification"),
    CaseStatus.VERIFIED: N_("Verified, awaiting village review"),
    CaseStatus.PUBLIC_NOTICE: N_("Public notice"),
    CaseStatus.TOWNSHIP_REVIEW: N_("Township review"),
    CaseStatus.COUNTY_REVIEW: N_("County approval"),
    CaseStatus.MONITORED: N_("Monitored"),
    CaseStatus.REFUSED: N_("Refused"),
    CaseStatus.WITHDRAWN: N_("Withdrawn"),
    CaseStatus.ELIM_PROPOSED: N_("Elimination proposed"),
    CaseStatus.ELIM_VERIFIED: N_("Elimination verified"),
    CaseStatus.ELIM_NOTICE: N_("Elimination notice"),
    CaseStatus.ELIM_TOWNSHIP: N_("Elimination: township review"),
    CaseStatus.ELIM_COUNTY: N_("Elimination: county approval"),
    CaseStatus.ELIMINATED: N_("Risk eliminated"),
}
MARKS = {reminders.OVERDUE: "🔴", reminders.SOON: "🟠", reminders.OK: "🟢"}


@dataclass(frozen=True)
class CadreTurn:
    db: Session
    staff: Staff
    text: str
    now: datetime
    t: Translator


def respond(db: Session, *, staff_id: int, text: str, now: datetime, locale: str = "zh_CN") -> list[Reply]:
    """Answer one cadre message: a command's result, or the command list (never silence)."""
    t = translator("conversations", locale)
    staff = db.get(Staff, staff_id)
    if staff is None or not staff.active:
        return [Reply(t.gettext("This staff account is not active. Please contact your township."))]
    turn = CadreTurn(db, staff, (text or "").strip(), now, t)
    if any(p.match(turn.text) for p in (TODO, CASE, DONE, POSTPONE)):
        sync_my_tasks(turn)
    if TODO.match(turn.text):
        return [todo(turn)]
    if m := CASE.match(turn.text):
        return [case_details(turn, m.group(1))]
    if m := DONE.match(turn.text):
        return [complete(turn, int(m.group(1)), (m.group(2) or "").strip())]
    if m := POSTPONE.match(turn.text):
        return [postpone(turn, int(m.group(1)), m.group(2), (m.group(3) or "").strip())]
    return [help_reply(t)]


def sync_my_tasks(turn: CadreTurn) -> None:
    """Bring the tasks this staff member may be shown up to date first, as the console's task page does: a
    new case's acknowledgement exists at once (the reminder tick makes it minutes later), and a step taken
    since (a home visit recorded) no longer shows its task as open."""
    db, staff = turn.db, turn.staff
    mine = select(Task.case_id).where(Task.assignee_staff_id == staff.id, Task.status == TaskStatus.OPEN,
                                      Task.case_id.is_not(None))
    if staff.role == Role.CADRE:  # a cadre's tasks come from the cases assigned to them
        ours = Case.id.in_(select(Assignment.case_id).where(Assignment.staff_id == staff.id,
                                                           Assignment.ended_at.is_(None)))
    else:
        ours = Case.area_code.like(scope_prefix(staff.area_code) + "%")
    query = select(Case).where(or_(ours & Case.status.in_(list(OPEN_STATUSES)), Case.id.in_(mine)))
    behind = sweeps.maybe_behind(db, turn.now)
    if behind is not None:
        query = query.where(behind)
    reminders.sync_cases(db, db.scalars(query.order_by(Case.id)).all(), turn.now)


def help_reply(t: Translator) -> Reply:
    return Reply(t.gettext(
        "Cadre commands:\n"
        "待办 — my open tasks\n"
        "案件 <case number> — case details\n"
        "完成 <task number> <note> — mark a task done\n"
        "改期 <task number> <days> <reason> — move a deadline"), choices=("待办",))


def task_label(t: Translator, kind: str) -> str:
    return t.gettext(TASK_LABELS[kind]) if kind in TASK_LABELS else kind


def _task_line(turn: CadreTurn, task: Task) -> str:
    t = turn.t
    case = turn.db.get(Case, task.case_id) if task.case_id else None
    level = reminders.urgency(task, turn.now)
    state = {reminders.OVERDUE: t.gettext("overdue"), reminders.SOON: t.gettext("due soon"),
             reminders.OK: ""}[level]
    return t.gettext("{mark} #{task} {label} · case {case} · due {due} {state}").format(
        mark=MARKS[level], task=task.id, label=task_label(t, task.kind), case=case.number if case else "-",
        due=t.format_datetime(task.due_at, "MM-dd HH:mm"), state=state).rstrip()


def todo(turn: CadreTurn) -> Reply:
    """待办: the cadre's open tasks, most pressing first (red overdue, orange due soon)."""
    t = turn.t
    tasks = reminders.open_tasks_for(turn.db, turn.staff.id)
    if not tasks:
        return Reply(t.gettext("You have no open tasks. Well done."))
    counts = reminders.summarize(tasks, turn.now)
    head = t.gettext("Your open tasks: {n} (overdue {overdue}, due soon {soon})").format(
        n=len(tasks), overdue=counts[reminders.OVERDUE], soon=counts[reminders.SOON])
    lines = [head] + [_task_line(turn, task) for task in tasks[:MAX_LIST]]
    if len(tasks) > MAX_LIST:
        lines.append(t.gettext("… and {n} more in the console.").format(n=len(tasks) - MAX_LIST))
    lines.append(t.gettext("Reply 完成 <task number> <note> when done."))
    return Reply("\n".join(lines))


def scope_prefix(area_code: str) -> str:
    """The code without its trailing all-zero groups (province 2, city 2, county 2, township 3, village 3)."""
    code, keep, end = area_code.ljust(12, "0"), 0, 0
    for size in (2, 2, 2, 3, 3):
        start, end = end, end + size
        if code[start:end].strip("0"):
            keep = end
    return code[:keep]


def case_in_scope(staff: Staff, case: Case) -> bool:
    return case.area_code.startswith(scope_prefix(staff.area_code))


def case_details(turn: CadreTurn, number: str) -> Reply:
    """案件 <number>: masked details of a case in the cadre's area (else 'not found', never 'forbidden')."""
    t, db = turn.t, turn.db
    case = db.scalar(select(Case).where(Case.number == number.strip().upper()))
    if case is None or not case_in_scope(turn.staff, case):
        return Reply(t.gettext("No case {number} in your area. Check the number.").format(number=number))
    household = db.get(Household, case.household_id)
    village = db.get(Area, case.area_code)
    risks = "、".join(RISKS.get(code, code) for code in case.risks) or "-"
    lines = [
        t.gettext("Case {number}: {status}").format(
            number=case.number, status=t.gettext(STATUS_LABELS.get(case.status, str(case.status)))),
        t.gettext("Household: {name}, {size} people, {village}").format(
            name=mask_name(household.head_name if household else None),
            size=household.size if household and household.size else "?",
            village=village.name if village else case.area_code),
        t.gettext("Risks: {risks}").format(risks=risks),
        t.gettext("Opened: {date}").format(date=t.format_date(case.opened_at, "medium")),
    ]
    if case.urgent:
        lines.append(t.gettext("Marked urgent."))
    if case.notice_end and case.status in (CaseStatus.PUBLIC_NOTICE, CaseStatus.ELIM_NOTICE):
        ends = t.format_date(case.notice_end, "medium")
        lines.append(t.gettext("Public notice ends {date}.").format(date=ends))
    tasks = [x for x in reminders.open_tasks_for(db, turn.staff.id) if x.case_id == case.id]
    lines += [_task_line(turn, task) for task in tasks]
    audit.record(db=db, actor=audit.staff_actor(turn.staff.id), action="case.view_chat", entity="case",
                 entity_id=case.id, area_code=case.area_code, detail={"masked": True}, now=turn.now,
                 actor_staff_id=turn.staff.id)
    return Reply("\n".join(lines))


def _task_error(t: Translator, task_id: int, error: reminders.TaskError) -> Reply:
    reason = str(error)
    if reason == "closed":
        return Reply(t.gettext("Task #{task} is already closed.").format(task=task_id))
    if reason == "note_required":
        return Reply(t.gettext("Please add a short note on the evaluation: 完成 {task} <note>.").format(
            task=task_id))
    if reason == "bad_days":
        return Reply(t.gettext("Give the number of working days, 1 to {max}: 改期 {task} 3 <reason>.").format(
            task=task_id, max=reminders.MAX_POSTPONE_DAYS))
    if reason == "reason_required":
        return Reply(t.gettext("Please give a reason: 改期 {task} <days> <reason>.").format(task=task_id))
    return Reply(t.gettext("You have no task #{task}. Send 待办 to see your tasks.").format(task=task_id))


def complete(turn: CadreTurn, task_id: int, note: str) -> Reply:
    """完成 <task> <note>: close one of my tasks (an evaluation records the quarterly evaluation)."""
    t = turn.t
    try:
        task = reminders.complete_task(turn.db, task_id=task_id, staff_id=turn.staff.id, note=note[:MAX_NOTE],
                                       now=turn.now)
    except reminders.TaskError as error:
        return _task_error(t, task_id, error)
    audit.record(db=turn.db, actor=audit.staff_actor(turn.staff.id), action="task.complete", entity="task",
                 entity_id=task.id, area_code=task.area_code, detail={"kind": task.kind, "via": "chat"},
                 now=turn.now, actor_staff_id=turn.staff.id)
    left = len(reminders.open_tasks_for(turn.db, turn.staff.id))
    return Reply(t.gettext("Done: task #{task} ({label}) is closed. Open tasks left: {left}.").format(
        task=task.id, label=task_label(t, task.kind), left=left))


def postpone(turn: CadreTurn, task_id: int, days: str | None, reason: str) -> Reply:
    """改期 <task> <days> <reason>: move a deadline by working days, with the reason kept."""
    t = turn.t
    try:
        task = reminders.postpone_task(turn.db, task_id=task_id, staff_id=turn.staff.id,
                                       days=_days(days), reason=reason[:MAX_NOTE], now=turn.now)
    except reminders.TaskError as error:
        return _task_error(t, task_id, error)
    audit.record(db=turn.db, actor=audit.staff_actor(turn.staff.id), action="task.postpone", entity="task",
                 entity_id=task.id, area_code=task.area_code, detail={"days": _days(days), "via": "chat"},
                 now=turn.now, actor_staff_id=turn.staff.id)
    return Reply(t.gettext("Task #{task} is now due {due}.").format(
        task=task.id, due=t.format_datetime(task.due_at, "MM-dd HH:mm")))


def _days(said: str | None) -> int:
    """The working days of 改期: '3', or in characters as people type them ('三', 改期 2 三天 下雨)."""
    return (small_number(said) or 0) if said else 0
