"""排查 in a cadre's bound chat, around the pure dialogue of flows/screening.py: who may file (an active
account of a role that screens), the villages of their area for the village question, and the filing: the
SubmitReport the dialogue asks for is filed as reporter `cadre` through cases.staff_reports, as
`POST /api/cases` files it (the same checks, the same audit entry), and the result handed back.

Called by flows/cadre.py inside the service's transaction (never commits). While the dialogue waits, a
message is its answer, except 待办 and 案件 <number> (answered, then the question asked again) and files
(kept by flows/cadre_files.py for the report they were sent during: its filing gives them their case; a
report given up leaves them waiting for a case number, and says so).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from cases import journal
from cases.crypto import mask_name
from cases.errors import CaseError
from cases.intake import ReportDraft, current_assignment, signature_gaps
from cases.models import Area, AreaLevel, Case, Channel, ReporterKind, Staff
from cases.staff_reports import file_staff_report, may_file, name_on_record
from conversations.commands import Result, SubmitReport
from conversations.flows import screening
from conversations.flows.cadre import CadreRequest, CadreResponse
from conversations.flows.cadre_commands import CASE, TODO, answer, case_in_scope, scope_prefix
from conversations.flows.cadre_files import link_waiting, release
from conversations.i18n import translator
from conversations.messages import Reply

_TOWNSHIP = aliased(Area)
_VILLAGES = (select(Area.code, Area.name, _TOWNSHIP.name, Area.parent_code)
             .join(_TOWNSHIP, _TOWNSHIP.code == Area.parent_code, isouter=True)
             .where(Area.level == AreaLevel.VILLAGE)
             .order_by(Area.code))


def take(request: CadreRequest, state: dict[str, Any]) -> CadreResponse | None:
    """The answer when the message starts a screening report (排查) or answers the one under way; None when
    it is neither (a cadre command, files)."""
    text = request.message.text or ""
    under_way = state.get("flow") == screening.FLOW
    if not (under_way or screening.STARTS.match(text)) or (under_way and request.message.attachments):
        return None
    t = translator("conversations", request.locale)
    db = request.db
    staff = db.get(Staff, request.staff_id)
    if staff is None or not staff.active:
        return CadreResponse([Reply(t.gettext("This staff account is not active. Please contact your "
                                              "township."))], state)
    if not may_file(staff, ReporterKind.CADRE):  # the hotline logs calls; admin files department alerts
        left = {k: v for k, v in state.items() if k not in ("flow", "step", "data", "history", "fails")}
        return CadreResponse([Reply(t.gettext("This account cannot file screening reports: they are filed by "
                                              "village, township and county staff."))], left)
    facts = _facts(request, staff)
    if not under_way:  # a command's question (完成's note, 改期's days) is dropped, as by any other command
        state = {k: v for k, v in state.items() if k != "asked"}
    tidy = text.strip().rstrip("?？。.!！~～ 　")
    if under_way and (TODO.match(tidy) or CASE.match(tidy)):  # 待办 meanwhile: answered, the report waits
        replies, state = answer(db, staff_id=staff.id, text=text, now=request.now, state=state,
                                locale=request.locale)
        return CadreResponse([*replies, *screening.ask_again(state, facts)], state)
    named = screening.reports(state)
    step = screening.advance(state, request.message, request.parse, facts)
    state, replies = step.state, list(step.replies)
    for command in step.commands:
        if isinstance(command, SubmitReport):
            ref = screening.report_ref(state)
            result = _file(request, staff, command)
            resumed = screening.resume(state, command, result, facts)
            state, replies = resumed.state, [*replies, *resumed.replies]
            linked = (link_waiting(db, staff_id=staff.id, number=str(result.data.get("case")), report=ref,
                                   state=state, now=request.now, locale=request.locale)
                      if result.ok else None)
            if linked is not None:  # photos sent during the report go with the case it filed
                replies, state = [*replies, *linked[0]], linked[1]
    # the files of a report given up (2 at 排查, 取消 before an answer) wait for a case number: said
    released = release(reports=screening.reports(state), named=named, state=state, now=request.now,
                       reporting=state.get("flow") == screening.FLOW, locale=request.locale)
    if released is not None:
        replies, state = [*released[0], *replies], released[1]
    return CadreResponse(replies, state)


def ask_again(request: CadreRequest, state: dict[str, Any]) -> list[Reply]:
    """The question of the report under way, asked again (after another question, 解绑's, was answered)."""
    staff = request.db.get(Staff, request.staff_id)
    if staff is None or state.get("flow") != screening.FLOW:
        return []
    return screening.ask_again(state, _facts(request, staff))


def _facts(request: CadreRequest, staff: Staff) -> screening.ScreeningFacts:
    """The chat's facts, with the villages of the staff member's area (their own first)."""
    prefix = scope_prefix(staff.area_code)
    rows = request.db.execute(_VILLAGES.where(Area.code.startswith(prefix, autoescape=True))).all()
    villages = [screening.Village(code=code, name=name, township=township or "", own=code == staff.area_code,
                                  township_code=parent or "")
                for code, name, township, parent in rows]
    return screening.ScreeningFacts(channel=request.message.channel, now=request.now, locale=request.locale,
                                    villages=tuple(sorted(villages, key=lambda v: not v.own)))


def _file(request: CadreRequest, staff: Staff, command: SubmitReport) -> Result:
    """File the report as the REST route does (reporter cadre, the chat's channel); the case number, whether
    it joined an open case, and its contact cadre."""
    draft = ReportDraft(
        channel=Channel(request.message.channel),
        reporter_kind=ReporterKind.CADRE,
        raw_text=command.raw_text,
        risks=list(command.risks),
        disasters=list(command.disasters),
        guarantees=list(command.guarantees),
        other_risk_text=command.other_risk_text,
        urgent=command.urgent,
        parsed=dict(command.parsed),
        head_name=command.head_name,
        id_number=command.id_number,
        phone=command.phone,
        household_size=command.household_size,
        village_code=command.village_code,
        group_name=command.group_name,
    )
    db = request.db
    record = (name_on_record(db=db, vault=request.vault, id_number=command.id_number,
                             head_name=command.head_name) if command.id_number else None)
    if record is not None and not command.name_confirmed:  # asked first, the names masked
        return Result(ok=False, reason="name_not_on_record",
                      data={"head": mask_name(record.head_name), "heads_number": record.heads_number})
    try:
        with db.begin_nested(), journal.batched(db):
            filed = file_staff_report(db=db, vault=request.vault, staff=staff, draft=draft, now=request.now,
                                      notifier=request.notifier, name_differs=record is not None)
    except CaseError as error:
        return Result(ok=False, reason=error.reason)
    if filed.joined_existing and not case_in_scope(staff, filed.case):
        # the household is on record in a village outside the cadre's area: the report joins its case there
        # (the contact cadre there is told), and the chat names neither that case nor its cadre
        return Result(ok=True, joined_existing=True, data={"elsewhere": True})
    cadre = _contact_cadre(db, filed.case)
    data: dict[str, Any] = {"case": filed.case.number, "cadre": cadre.name if cadre is not None else None,
                            "yours": cadre is not None and cadre.id == staff.id}
    if filed.joined_existing:  # a case still waiting for annex 1 (a home visit is refused without it)
        unsigned = signature_gaps(db=db, vault=request.vault, case=filed.case)
        if unsigned:  # who signs, named for a case of the cadre's area only
            data["unsigned"] = unsigned
    return Result(ok=True, joined_existing=filed.joined_existing, data=data)


def _contact_cadre(db: Session, case: Case) -> Staff | None:
    assignment = current_assignment(db, case)
    return db.get(Staff, assignment.staff_id) if assignment is not None else None
