"""Home visits (入户核实, annex 2 figures), assistance measures (A39-A52) and quarterly evaluations.

Hunan 二（二）2 第二步: "入户调查核实组由乡镇（街道）干部、驻村（包村）干部、村（居）干部组成，
每组不少于2人 ... 由调查人员填写《防止返贫监测对象信息采集表》（附件2）".
Elimination, 二（三）2 第二步: "每组不少于 2 人 ... 填写（附件 4）、（附件 5），
核实组成员与监测对象分别在表上签字".
二（四）: "每季度至少集中开展一次帮扶效果评估".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import income
from cases.clock import BEIJING
from cases.codes import MEASURES
from cases.errors import WorkflowError
from cases.intake import pending_signatures
from cases.models import (
    Case,
    CaseStatus,
    Evaluation,
    HomeVisit,
    Household,
    Measure,
    Staff,
    VisitVerifier,
)
from cases.notify import Notifier
from cases.regions import RegionSettingMissing, setting_for
from cases.steps import (
    ELIMINATION,
    FOLLOW_UP_ROLES,
    VERIFIER_ROLES,
    in_scope,
    log_step,
    move,
    require_staff,
    require_status,
    status_of,
)

MIN_VERIFIERS = 2
ZERO = Decimal(0)


@dataclass
class VisitInput:
    """The annex 2 figures a verification group brings back (amounts in yuan for the 12-month period)."""

    visited_on: date
    household_size: int
    a23_housing_unsafe: bool = False
    a24_child_out_of_school: bool = False
    a25_water_unsafe: bool = False
    a26_no_medical_insurance: bool = False
    a27_risks: list[str] = field(default_factory=list)
    a27a_disasters: list[str] = field(default_factory=list)
    a27_other: str | None = None
    a28_wages: Decimal = ZERO
    a29_business_income: Decimal = ZERO
    a30_property_income: Decimal = ZERO
    a31_transfer_income: Decimal = ZERO
    a32_business_expenses: Decimal = ZERO
    a35_insurance_payouts: Decimal = ZERO
    a36_compliant_spending: Decimal = ZERO
    has_labour_capacity: bool | None = None
    formerly_poor: bool | None = None
    household_signed: bool = False  # annexes 4 and 5, at an elimination visit
    notes: str | None = None


def _check_verifiers(db: Session, case: Case, verifier_ids: Sequence[int]) -> list[Staff]:
    distinct = list(dict.fromkeys(verifier_ids))
    if len(distinct) < MIN_VERIFIERS:
        raise WorkflowError("too_few_verifiers", "home verification needs at least two different staff")
    staff: list[Staff] = []
    for sid in distinct:
        member = db.get(Staff, sid)
        if member is None or not member.active:
            raise WorkflowError("unknown_verifier", f"verifier {sid} is not an active staff member")
        if member.role not in VERIFIER_ROLES:
            raise WorkflowError(
                "verifier_role", "verifiers are township, village-stationed or village cadres"
            )
        if not in_scope(db, case, member):
            raise WorkflowError("verifier_out_of_area", f"verifier {sid} works outside the case's area")
        staff.append(member)
    return staff


def require_authorization(db: Session, case: Case) -> None:
    """Annex 1 authorizes the checks of deposits, vehicles, housing, business and payroll (G8): no home
    visit recording income and assets, and no county cross-check, without it signed and not withdrawn."""
    if pending_signatures(db=db, vault=None, case=case):
        raise WorkflowError(
            "signature_pending", "annex 1 (the authorization to check income and assets) is not signed "
            "by everyone who must sign, or was withdrawn"
        )


def latest_visit(db: Session, case: Case, purpose: str | None = None) -> HomeVisit | None:
    query = select(HomeVisit).where(HomeVisit.case_id == case.id)
    if purpose is not None:
        query = query.where(HomeVisit.purpose == purpose)
    return db.scalar(query.order_by(HomeVisit.visited_on.desc(), HomeVisit.id.desc()).limit(1))


def record_home_visit(
    *,
    db: Session,
    case: Case,
    actor: Staff,
    now: datetime,
    note: str | None,
    notifier: Notifier,
    visit: VisitInput,
    verifier_ids: Sequence[int],
) -> HomeVisit:
    """Record 入户核实 (>= 2 verifiers, annex 2 figures, income computed) and advance the procedure."""
    current = require_status(case, (CaseStatus.APPLIED, CaseStatus.ELIM_PROPOSED), "home verification")
    require_staff(db, case, actor, VERIFIER_ROLES, "home verification")
    verifiers = _check_verifiers(db, case, verifier_ids)
    today = now.astimezone(BEIJING).date()
    if visit.visited_on > today:
        raise WorkflowError("visit_in_future", "the visit date is in the future")
    household = db.get(Household, case.household_id)
    assert household is not None
    elimination = current == CaseStatus.ELIM_PROPOSED
    require_authorization(db, case)  # the elimination visit checks income and assets too
    figures = income.IncomeFigures(
        visit.household_size,
        visit.a28_wages,
        visit.a29_business_income,
        visit.a30_property_income,
        visit.a31_transfer_income,
        visit.a32_business_expenses,
        visit.a35_insurance_payouts,
        visit.a36_compliant_spending,
    )
    try:
        result = income.compute(figures)
    except (ValueError, TypeError) as exc:
        raise WorkflowError("bad_income_figures", str(exc)) from exc
    try:
        setting = setting_for(db, case.area_code, visit.visited_on.year)
    except RegionSettingMissing as exc:
        raise WorkflowError("no_region_setting", str(exc)) from exc
    formerly_poor = household.formerly_poor if visit.formerly_poor is None else visit.formerly_poor
    suggested = income.suggest_category(
        a34=result.a34_per_capita,
        a38=result.a38_adjusted_per_capita,
        income_line=setting.income_line,
        formerly_poor=formerly_poor,
        has_risk=bool(
            visit.a27_risks
            or visit.a23_housing_unsafe
            or visit.a24_child_out_of_school
            or visit.a25_water_unsafe
            or visit.a26_no_medical_insurance
        ),
    )
    if elimination:
        _check_elimination_visit(visit, result.a34_per_capita, setting.elimination_floor)
    start, end = income.income_period(visit.visited_on)
    row = HomeVisit(
        case_id=case.id,
        purpose="elimination" if elimination else "identification",
        visited_on=visit.visited_on,
        recorded_at=now,
        recorded_by_staff_id=actor.id,
        household_size=visit.household_size,
        a23_housing_unsafe=visit.a23_housing_unsafe,
        a24_child_out_of_school=visit.a24_child_out_of_school,
        a25_water_unsafe=visit.a25_water_unsafe,
        a26_no_medical_insurance=visit.a26_no_medical_insurance,
        a27_risks=sorted(set(visit.a27_risks)),
        a27a_disasters=sorted(set(visit.a27a_disasters)),
        a27_other=visit.a27_other,
        a28_wages=income.money(visit.a28_wages),
        a29_business_income=income.money(visit.a29_business_income),
        a30_property_income=income.money(visit.a30_property_income),
        a31_transfer_income=income.money(visit.a31_transfer_income),
        a32_business_expenses=income.money(visit.a32_business_expenses),
        a33_net_income=result.a33_net_income,
        a34_per_capita=result.a34_per_capita,
        a35_insurance_payouts=income.money(visit.a35_insurance_payouts),
        a36_compliant_spending=income.money(visit.a36_compliant_spending),
        a37_adjusted_income=result.a37_adjusted_income,
        a38_adjusted_per_capita=result.a38_adjusted_per_capita,
        income_period_start=start,
        income_period_end=end,
        suggested_category=suggested,
        has_labour_capacity=visit.has_labour_capacity,
        household_signed=visit.household_signed,
        notes=visit.notes,
    )
    row.verifiers = [VisitVerifier(staff_id=s.id) for s in verifiers]
    db.add(row)
    household.size = visit.household_size
    household.formerly_poor = formerly_poor
    if visit.has_labour_capacity is not None:
        household.has_labour_capacity = visit.has_labour_capacity
    if not elimination:
        guarantees = [
            code
            for code, flag in (
                ("A23", visit.a23_housing_unsafe),
                ("A24", visit.a24_child_out_of_school),
                ("A25", visit.a25_water_unsafe),
                ("A26", visit.a26_no_medical_insurance),
            )
            if flag
        ]
        case.guarantees = guarantees
        if visit.a27_risks:
            case.risks = sorted(set(visit.a27_risks))
    db.flush()
    to = CaseStatus.ELIM_VERIFIED if elimination else CaseStatus.VERIFIED
    data = {
        "visit_id": row.id,
        "verifiers": [s.id for s in verifiers],
        "suggested_category": suggested,
        "a34": str(result.a34_per_capita),
        "a38": str(result.a38_adjusted_per_capita),
    }
    move(db, case, to, action="home_verified", now=now, actor=actor, note=note, notifier=notifier, data=data)
    return row


def _check_elimination_visit(visit: VisitInput, a34: Decimal, floor: Decimal) -> None:
    """Hunan 二（三）1 and 2: household signature, labour capacity, the 5,000 floor."""
    if not visit.household_signed:
        raise WorkflowError("household_signature_missing", "the household must sign annexes 4 and 5")
    if visit.has_labour_capacity is False:
        raise WorkflowError("no_labour_capacity", "a household without labour capacity stays monitored")
    if income.below_elimination_floor(a34, floor):
        raise WorkflowError("below_elimination_floor", f"per-capita net income {a34} is below {floor}")


def add_measure(
    *,
    db: Session,
    case: Case,
    actor: Staff,
    now: datetime,
    code: str,
    sub_code: str | None,
    description: str | None = None,
    started_on: date | None = None,
    amount: Decimal | None = None,
    note: str | None = None,
) -> Measure:
    """Record an assistance measure (A39-A52 with a valid sub-code) on a monitored case."""
    require_status(case, (CaseStatus.MONITORED, *ELIMINATION), "an assistance measure")
    require_staff(db, case, actor, FOLLOW_UP_ROLES, "an assistance measure")
    kind = MEASURES.get(code)
    if kind is None:
        raise WorkflowError("unknown_measure", f"{code} is not an A39-A52 measure")
    if sub_code is None and len(kind.sub_codes) == 1:
        sub_code = next(iter(kind.sub_codes))
    if sub_code not in kind.sub_codes:
        raise WorkflowError("unknown_measure_sub_code", f"{code} has no sub-code {sub_code}")
    measure = Measure(
        case_id=case.id,
        code=code,
        sub_code=sub_code,
        description=description,
        started_on=started_on,
        amount=income.money(amount) if amount is not None else None,
        created_by_staff_id=actor.id,
        created_at=now,
    )
    db.add(measure)
    db.flush()
    log_step(
        db,
        case,
        action="measure_added",
        now=now,
        actor=actor,
        note=note,
        data={"measure_id": measure.id, "code": code, "sub_code": sub_code},
    )
    return measure


def record_evaluation(
    *,
    db: Session,
    case: Case,
    actor: Staff,
    now: datetime,
    result: str,
    evaluated_on: date | None = None,
    note: str | None = None,
) -> Evaluation:
    """Record an assistance-effect evaluation (at least one a quarter while monitored)."""
    require_status(case, (CaseStatus.MONITORED, *ELIMINATION), "an evaluation")
    require_staff(db, case, actor, FOLLOW_UP_ROLES, "an evaluation")
    if not result.strip():
        raise WorkflowError("evaluation_result_required", "an evaluation needs its result")
    day = evaluated_on or now.astimezone(BEIJING).date()
    row = Evaluation(
        case_id=case.id, evaluated_on=day, staff_id=actor.id, result=result.strip(), created_at=now
    )
    db.add(row)
    db.flush()
    log_step(
        db,
        case,
        action="evaluation_recorded",
        now=now,
        actor=actor,
        note=note,
        data={"evaluation_id": row.id, "status": status_of(case).value},
    )
    return row
