"""Cadre commands by message: 待办 (my tasks), 收到 (acknowledge a new case), 案件 <number> (or the number
alone), 完成 <task> <note>, 改期 <task> <days> <reason>; a question a reply asks is answered by the next
message.

A staff-linked contact's message comes here (through conversations/flows/cadre.py). Replies are short,
in Chinese through the conversations catalog, never with an unmasked ID or phone number; every change
is audited. The caller holds the transaction; this module never commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cases import audit, reminders, sweeps
from cases.codes import GUARANTEES, RISKS
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
from conversations.flows.common import goes_back, small_number
from conversations.i18n import N_, Translator, translator
from conversations.messages import Reply

_SEP = r"[\s,，、:：;；#＃]*"  # what a busy cadre puts between a command and its number
TODO = re.compile(r"^\s*(?:(?:我的|看下|看看|查下|查看|查|看|今天的?)?(?:待办|待辦|代办|任务|任務)"
                  r"(?:事项|事項|清单|列表|有哪些|呢)?|(?:有什么|有啥|有哪些|还有什么|还有啥)(?:待办|任务)"
                  r"|todo|/todo)\s*$", re.IGNORECASE)
CASE = re.compile(r"^\s*(?:案件|查案|case|/case)" + _SEP + r"((?:SB\s?)?[A-Za-z0-9-]{4,24})\s*$",
                  re.IGNORECASE)
ANY_CASE = re.compile(r"(?<![A-Za-z0-9])(SB\s?[0-9A-Za-z]{4,12})(?![A-Za-z0-9])", re.IGNORECASE)
DONE = re.compile(r"^\s*(?:(?:已经?)?(?:完成|办结|办完|做完|搞完|搞定|弄完)了?(?:任务)?|done|/done)" + _SEP
                  + r"(\d{1,9})(?:[\s,，、:：;；。]*(.*))?$", re.IGNORECASE | re.DOTALL)
DAYS = r"(\d{1,3}|[一二两三四五六七八九十]{1,3})\s*(?:个工作日|个?天|日)?"
POSTPONE = re.compile(r"^\s*(?:改期|延期|推迟|延后|往后推|postpone|/postpone)(?:任务)?" + _SEP + r"(\d{1,9})"
                      r"(?:[\s,，、]+" + DAYS + r")?(?:[\s,，、:：;；。]*(.*))?$", re.IGNORECASE | re.DOTALL)
DAYS_FIRST = re.compile(r"^\s*(?:延期|改期|推迟|延后)?" + DAYS + r"(?:[\s,，、:：;；。]*(.*))?$", re.DOTALL)
ACK = re.compile(r"^\s*(?:已经?)?(?:收到|确认接收|确认|接收|知道了|晓得了|晓得哒|晓得)(?:了|啦|哒)?" + _SEP
                 + r"([A-Za-z0-9 ]{1,14})?\s*$", re.IGNORECASE)
CANCEL = re.compile(r"^\s*(?:取消|算了|不用了|不改了|cancel)\s*$", re.IGNORECASE)
FOLLOW_UP_FOR = timedelta(minutes=30)  # how long a question asked (完成's note, 改期's days or reason) waits
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
    return answer(db, staff_id=staff_id, text=text, now=now, locale=locale, state={})[0]


def answer(db: Session, *, staff_id: int, text: str, now: datetime, state: dict[str, Any],
           locale: str = "zh_CN") -> tuple[list[Reply], dict[str, Any]]:
    """One cadre message with the chat's state: a question asked by the last answer (the note of 完成, the
    days or reason of 改期) takes this message as its answer, so the cadre need not type the command again."""
    t = translator("conversations", locale)
    said = state.get("asked")
    asked = _still_asked(said, now) if isinstance(said, dict) else None
    state = {k: v for k, v in state.items() if k != "asked"}  # a question is answered once, or dropped
    staff = db.get(Staff, staff_id)
    if staff is None or not staff.active:
        return [Reply(t.gettext("This staff account is not active. Please contact your township."))], state
    turn = CadreTurn(db, staff, _tidy(text), now, t)
    reply, asking = _command(turn, asked)
    if asking is not None:
        state["asked"] = {**asking, "at": now.isoformat()}
    return [reply], state


def _tidy(text: str | None) -> str:
    """The message without the trailing punctuation people add (待办？ 待办。)."""
    return (text or "").strip().rstrip("?？。.!！~～ 　")


def _still_asked(asked: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    try:
        at = datetime.fromisoformat(str(asked.get("at")))
    except ValueError:
        return None
    return asked if now - at <= FOLLOW_UP_FOR else None


Asked = dict[str, Any] | None


def _command(turn: CadreTurn, asked: Asked) -> tuple[Reply, Asked]:
    text = turn.text
    if TODO.match(text) or CASE.match(text) or DONE.match(text) or POSTPONE.match(text) or ACK.match(text):
        sync_my_tasks(turn)
    if TODO.match(text):
        return todo(turn), None
    if m := CASE.match(text):
        return case_details(turn, m.group(1)), None
    if m := DONE.match(text):
        return complete(turn, int(m.group(1)), (m.group(2) or "").strip())
    if m := POSTPONE.match(text):
        return postpone(turn, int(m.group(1)), m.group(2), (m.group(3) or "").strip())
    if m := ACK.match(text):
        return acknowledge(turn, (m.group(1) or "").strip()), None
    if CANCEL.match(text) or (asked is not None and goes_back(text)):  # 0, 返回, the keyboard's '0 返回'
        return Reply(turn.t.gettext("All right, nothing was changed.") if asked else help_text(turn.t),
                     choices=("待办",)), None
    if asked is not None and text:
        return _answer_asked(turn, asked)
    if len(text) <= 40 and (m := ANY_CASE.search(text)):  # a case number pasted from a reminder
        sync_my_tasks(turn)
        return case_details(turn, m.group(1)), None
    return help_reply(turn.t), None


def _answer_asked(turn: CadreTurn, asked: dict[str, Any]) -> tuple[Reply, Asked]:
    """This message answers the question the last reply asked."""
    task_id = int(asked.get("task") or 0)
    sync_my_tasks(turn)
    if asked.get("do") == "done":
        return complete(turn, task_id, turn.text)
    days = asked.get("days")
    reason = turn.text
    if not days:
        m = DAYS_FIRST.match(turn.text)
        if m is None:
            return _task_error(turn.t, task_id, reminders.TaskError("bad_days")), asked
        days, reason = m.group(1), (m.group(2) or "").strip()
    return postpone(turn, task_id, str(days), reason)


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


def help_text(t: Translator) -> str:
    return t.gettext(
        "Cadre commands:\n"
        "待办 — my open tasks\n"
        "收到 — acknowledge a new case\n"
        "案件 <case number> — case details (or just the case number)\n"
        "完成 <task number> <note> — mark a task done\n"
        "改期 <task number> <days> <reason> — move a deadline\n"
        "排查 — report a household found by screening\n"
        "解绑 — unlink this chat from my staff account")


def help_reply(t: Translator) -> Reply:
    return Reply(help_text(t), choices=("待办",))


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
    shown = tasks[:MAX_LIST]
    lines = [head] + [_todo_line(turn, task) for task in shown]
    if len(tasks) > MAX_LIST:
        lines.append(t.gettext("… and {n} more in the console.").format(n=len(tasks) - MAX_LIST))
    by_word = [x for x in shown if x.kind not in reminders.RULE_BY_KIND]  # the tasks 完成 closes
    if by_word and len(by_word) < len(shown):
        lines.append(t.gettext("The others: reply 完成 <task number> <note> when done."))
    elif by_word:
        lines.append(t.gettext("Reply 完成 <task number> <note> when done."))
    return Reply("\n".join(lines))


def _todo_line(turn: CadreTurn, task: Task) -> str:
    """A task of 待办, with where its step is recorded when it is a step's task (完成 does not close it)."""
    t, line = turn.t, _task_line(turn, task)
    if task.kind in VISITS:
        where = t.gettext("closes once the visit is recorded: console, 登记入户核实")
    elif task.kind in reminders.RULE_BY_KIND:
        where = t.gettext("closes once this step is recorded in the console")
    else:
        return line
    return t.gettext("{line} · {where}").format(line=line, where=where)


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
    number = re.sub(r"\s+", "", number).upper()
    case = db.scalar(select(Case).where(Case.number == number))
    if case is None and not number.startswith("SB"):  # 案件 YPB4AQES: the number without its SB
        case = db.scalar(select(Case).where(Case.number == "SB" + number))
    if case is None or not case_in_scope(turn.staff, case):
        return Reply(t.gettext("No case {number} in your area. Check the number.").format(number=number))
    household = db.get(Household, case.household_id)
    village = db.get(Area, case.area_code)
    # ②-⑤ (housing, school, water, insurance) as well as the A27 risks: annex 1 lists both as risks
    named = [GUARANTEES.get(code, code) for code in case.guarantees or []]
    risks = "、".join(named + [RISKS.get(code, code) for code in case.risks]) or "-"
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
    if reason == "note_required":  # the next message is taken as the note (answer: asked)
        return Reply(t.gettext("Please add a short note on the evaluation of task #{task}: just type it now.")
                     .format(task=task_id))
    if reason == "bad_days":
        return Reply(t.gettext("How many working days (1 to {max}) should task #{task} move? Reply a number, "
                               "e.g. 3.").format(task=task_id, max=reminders.MAX_POSTPONE_DAYS))
    if reason == "reason_required":
        return Reply(t.gettext("Why does task #{task} move? Just type the reason now.").format(task=task_id))
    return Reply(t.gettext("You have no task #{task}. Send 待办 to see your tasks.").format(task=task_id))


_ASKS = {"note_required": "done", "bad_days": "postpone", "reason_required": "postpone"}


def _failed(t: Translator, task_id: int, error: reminders.TaskError, days: str | None = None,
            ) -> tuple[Reply, Asked]:
    """The task error's reply, and the question it asks, if any (answered by the next message)."""
    asking = _ASKS.get(str(error))
    asked = {"do": asking, "task": task_id, "days": days if str(error) == "reason_required" else None}
    return _task_error(t, task_id, error), asked if asking else None


VISITS = reminders.VISIT_KINDS  # step tasks whose step is a home visit (入户核实)


def complete(turn: CadreTurn, task_id: int, note: str) -> tuple[Reply, Asked]:
    """完成 <task> <note>: close one of my tasks (an evaluation records the quarterly evaluation). A step's
    task (入户核实 above all) is not closed by a word: it closes when its step is recorded."""
    t = turn.t
    try:
        task = reminders.complete_task(turn.db, task_id=task_id, staff_id=turn.staff.id, note=note[:MAX_NOTE],
                                       now=turn.now)
    except reminders.TaskError as error:
        step = turn.db.get(Task, task_id) if str(error) == reminders.STEP_TASK else None
        if step is not None:
            return step_not_recorded(turn, step), None
        return _failed(t, task_id, error)
    audit.record(db=turn.db, actor=audit.staff_actor(turn.staff.id), action="task.complete", entity="task",
                 entity_id=task.id, area_code=task.area_code, detail={"kind": task.kind, "via": "chat"},
                 now=turn.now, actor_staff_id=turn.staff.id)
    left = len(reminders.open_tasks_for(turn.db, turn.staff.id))
    return Reply(t.gettext("Done: task #{task} ({label}) is closed. Open tasks left: {left}.").format(
        task=task.id, label=task_label(t, task.kind), left=left)), None


def step_not_recorded(turn: CadreTurn, task: Task) -> Reply:
    """Why 完成 leaves a step's task open: it closes once the step is recorded (the home visit's record: the
    verification group and annex 2, on the case page), which 完成 in a chat is not; closed by a word, the
    task stopped its reminders while the case waited for a visit no one recorded."""
    t = turn.t
    params = {"task": task.id, "label": task_label(t, task.kind), "case": _case_number(turn, task)}
    if task.kind in VISITS:
        visit = t.gettext("Task #{task} ({label}) closes once the home visit is recorded: in the console, "
                          "open case {case} and fill in 登记入户核实 (the verification group of at least "
                          "two, and what you found). Until then it stays open.")
        return Reply(visit.format(**params))
    step = t.gettext("Task #{task} ({label}) closes by itself once this step of case {case} is recorded in "
                     "the console; 完成 cannot close it.")
    return Reply(step.format(**params))


def postpone(turn: CadreTurn, task_id: int, days: str | None, reason: str) -> tuple[Reply, Asked]:
    """改期 <task> <days> <reason>: move a deadline by working days, with the reason kept."""
    t = turn.t
    try:
        task = reminders.postpone_task(turn.db, task_id=task_id, staff_id=turn.staff.id,
                                       days=_days(days), reason=reason[:MAX_NOTE], now=turn.now)
    except reminders.TaskError as error:
        return _failed(t, task_id, error, days)
    audit.record(db=turn.db, actor=audit.staff_actor(turn.staff.id), action="task.postpone", entity="task",
                 entity_id=task.id, area_code=task.area_code, detail={"days": _days(days), "via": "chat"},
                 now=turn.now, actor_staff_id=turn.staff.id)
    return Reply(t.gettext("Task #{task} is now due {due}.").format(
        task=task.id, due=t.format_datetime(task.due_at, "MM-dd HH:mm"))), None


def acknowledge(turn: CadreTurn, said: str) -> Reply:
    """收到 (确认, 知道了) after a new case's notice: acknowledge it; 收到 <case or task number> picks one of
    several; with several and none named, they are listed."""
    t, db = turn.t, turn.db
    tasks = [x for x in reminders.open_tasks_for(db, turn.staff.id) if x.kind == reminders.ACKNOWLEDGE]
    said = re.sub(r"\s+", "", said).upper()
    if said:
        tasks = [x for x in tasks if str(x.id) == said or _case_number(turn, x) in (said, "SB" + said)]
        if not tasks:
            return Reply(t.gettext("No new case {number} is waiting for you to acknowledge. Send 待办 to see "
                                   "your tasks.").format(number=said))
    if not tasks:
        return Reply(t.gettext("No new case is waiting for you to acknowledge. Send 待办 to see your tasks."),
                     choices=("待办",))
    if len(tasks) > 1:
        head = t.gettext("{n} new cases wait for you to acknowledge. Reply 收到 and the case number:")
        lines = [head.format(n=len(tasks))] + [_task_line(turn, x) for x in tasks[:MAX_LIST]]
        return Reply("\n".join(lines))
    task = tasks[0]
    reminders.complete_task(db, task_id=task.id, staff_id=turn.staff.id, note="", now=turn.now)
    audit.record(db=db, actor=audit.staff_actor(turn.staff.id), action="task.complete", entity="task",
                 entity_id=task.id, area_code=task.area_code, detail={"kind": task.kind, "via": "chat"},
                 now=turn.now, actor_staff_id=turn.staff.id)
    left = len(reminders.open_tasks_for(db, turn.staff.id))
    return Reply(t.gettext("Acknowledged: new case {case} (task #{task}). Open tasks left: {left}.").format(
        case=_case_number(turn, task), task=task.id, left=left))


def _case_number(turn: CadreTurn, task: Task) -> str:
    case = turn.db.get(Case, task.case_id) if task.case_id else None
    return case.number if case else "-"


def _days(said: str | None) -> int:
    """The working days of 改期: '3', or in characters as people type them ('三', 改期 2 三天 下雨)."""
    return (small_number(said) or 0) if said else 0
