"""Reports staff file for a household: found by cadre screening (干部走访排查) or raised by a department alert
(部门筛查预警), over REST (`POST /api/cases`) or from a cadre's bound chat (排查). Who may file which, the
village check and the audit entry live here, so both ways file alike.

Sources: domain README "Discovery channels" 2 and 3; Hunan opinions 二（二）2 第一步
"对于通过基层干部排查、部门筛查预警发现的，由村（居）干部或驻村工作队入户指导农户向村（居）委会提出，并填写附件1"
(the household signs annex 1 later, at the home visit). Flushes, never commits: the caller does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from cases import audit
from cases.crypto import Vault
from cases.errors import CaseError, IntakeError
from cases.ids import check_id
from cases.intake import IntakeResult, ReportDraft, find_household_by_id_number, same_name, submit_report
from cases.models import Area, ReporterKind, Role, Staff
from cases.notify import Notifier
from cases.regions import ancestors

# 干部走访排查 is done by township, village-stationed and village cadres; 部门筛查预警 arrives at the county
# (or township) and is verified on the ground.
REPORTERS: dict[ReporterKind, frozenset[Role]] = {
    ReporterKind.CADRE: frozenset({Role.CADRE, Role.VILLAGE, Role.TOWNSHIP, Role.COUNTY}),
    ReporterKind.DEPARTMENT: frozenset({Role.TOWNSHIP, Role.COUNTY, Role.ADMIN}),
}


class StaffReportRefused(CaseError):
    """The account may not file this kind of report (inactive_staff, role_not_allowed)."""


def may_file(staff: Staff, kind: ReporterKind | str) -> bool:
    """Whether an active account of this role files reports of this kind."""
    return staff.active and Role(staff.role) in REPORTERS.get(ReporterKind(kind), frozenset())


def village_in_area(db: Session, staff: Staff, village_code: str) -> bool:
    """Whether the code is a known area within the staff member's own (the area itself or one below it)."""
    return db.get(Area, village_code) is not None and staff.area_code in {
        a.code for a in ancestors(db, village_code)}


@dataclass(frozen=True)
class NameOnRecord:
    """How the head's name typed with an ID number differs from the household on record with that number."""

    head_name: str  # the head on record of the household the number is in
    heads_number: bool  # the number is the head's (else a member's: the typed head is not the head)


def name_on_record(*, db: Session, vault: Vault, id_number: str, head_name: str) -> NameOnRecord | None:
    """The record, when the ID number is of a household on record whose head is not `head_name` (another
    name for the head's number, or a member's number given as the head's); None when it fits or no
    household has the number."""
    household = find_household_by_id_number(db=db, vault=vault, id_number=id_number)
    check = check_id(id_number)
    if household is None or check.normalized is None:
        return None
    digest = vault.lookup_hash(check.normalized)
    member = next((m for m in household.members if m.id_hash == digest), None)
    heads = household.id_hash == digest or (member is not None and member.is_head)
    if heads and same_name(household.head_name, head_name):  # 張三 on record is the 张三 a chat keeps
        return None
    return NameOnRecord(head_name=household.head_name, heads_number=heads)


def file_staff_report(*, db: Session, vault: Vault, staff: Staff, draft: ReportDraft, now: datetime,
                      notifier: Notifier, name_differs: bool = False) -> IntakeResult:
    """File `draft` (reporter cadre or department) as `staff`: refused for an inactive account, a role that
    does not do that work, or a village outside their area; else it opens a case or joins the household's
    open one (matched on the ID number, whatever channel opened it), audited as report.<kind> (with
    `name_differs` when the staff member confirmed a head's name other than the record's)."""
    kind = ReporterKind(draft.reporter_kind)
    if not staff.active:
        raise StaffReportRefused("inactive_staff", "this staff account is inactive")
    if not may_file(staff, kind):
        raise StaffReportRefused("role_not_allowed", f"a {kind} report is not filed by {staff.role}")
    if draft.village_code is None or not village_in_area(db, staff, draft.village_code):
        raise IntakeError("unknown_village", "the village is not a known area of yours")
    draft = replace(draft, parsed={**draft.parsed, "reported_by_staff_id": staff.id})
    result = submit_report(db=db, vault=vault, draft=draft, now=now, notifier=notifier)
    audit.record(
        db=db,
        actor=audit.staff_actor(staff.id),
        actor_staff_id=staff.id,
        action=f"report.{kind}",
        entity="case",
        entity_id=result.case.id,
        area_code=result.case.area_code,
        detail={"case": result.case.number, "joined": result.joined_existing, "report_id": result.report.id,
                **({"name_differs": True} if name_differs else {})},
        now=now,
    )
    return result
