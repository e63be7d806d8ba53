"""Request and response models of the REST API. Responses carry masked values only."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from cases.models import AuthorizationKind, CaseStatus, Channel, ReporterKind, Role


class ErrorOut(BaseModel):
    """Every error: a stable reason code and a message for people."""

    reason: str = Field(examples=["case_not_found"])
    message: str = Field(examples=["no such case in your area"])


class FieldError(BaseModel):
    loc: list[str | int] = Field(examples=[["body", "verifier_ids"]])
    msg: str


class ValidationErrorOut(ErrorOut):
    """An invalid request (reason `invalid_request`) with the fields at fault."""

    errors: list[FieldError]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds")


class StaffOut(BaseModel):
    id: int
    username: str
    name: str
    role: Role
    area_code: str
    area_name: str | None = None
    phone: str | None = Field(default=None, description="masked")


class CreatedOut(BaseModel):
    id: int
    at: datetime


# --- cases ---------------------------------------------------------------------------------------


class StaffRef(BaseModel):
    id: int
    name: str
    role: Role


class CaseSummary(BaseModel):
    number: str
    status: CaseStatus
    category: int | None = Field(description="1 脱贫不稳定户, 2 边缘易致贫户, 3 突发严重困难户")
    urgent: bool
    risks: list[str] = Field(description="A27 codes")
    guarantees: list[str] = Field(description="A23-A26")
    discovery: ReporterKind
    village_code: str
    village_name: str | None
    head_name_masked: str
    assigned_to: StaffRef | None
    opened_at: datetime
    updated_at: datetime


class CasePage(BaseModel):
    items: list[CaseSummary]
    total: int
    page: int
    page_size: int


class MemberDetails(BaseModel):
    """Annex 2's A9-A17 for one member, each null until known; the codes are GET /api/codes's tables."""

    a9_ethnicity: str | None = Field(default=None, max_length=16, description="A9 民族 (`ethnicities`)")
    a10_political_status: str | None = Field(
        default=None, max_length=16, description="A10 政治面貌 (`political_statuses`)"
    )
    a11_education: str | None = Field(default=None, max_length=16, description="A11 文化程度 (`education`)")
    a12_schooling: str | None = Field(default=None, max_length=16, description="A12 在校生情况 (`schooling`)")
    a13_health: str | None = Field(default=None, max_length=16, description="A13 健康状况 (`health`)")
    a14_labour_skill: str | None = Field(
        default=None, max_length=16, description="A14 劳动技能 (`labour_skills`)"
    )
    a15_work_area: str | None = Field(
        default=None, max_length=16, description="A15 务工区域 (`work_areas`: county 县内 ... other 其他)"
    )
    a15_work_place: str | None = Field(
        default=None, max_length=64, description="A15 where: 务工所在省、市、县、乡",
        examples=["广东省东莞市"],
    )
    a16_work_months: Decimal | None = Field(
        default=None, description="A16 务工时间: months worked in the year, 0-12, a half as .5",
        examples=["3.5"],
    )
    a17_medical_insurance: str | None = Field(
        default=None, max_length=16,
        description="A17 参加城乡居民（职工）基本医疗保险: 01 是, 02 否 (`yes_no`)",
    )


class MemberOut(MemberDetails):
    id: int
    name: str
    relation: str | None
    id_number_masked: str
    birth_year: int | None = Field(description="the year of the birth date (the ID number's, or given)")
    is_head: bool


class HouseholdOut(BaseModel):
    id: int
    head_name: str
    id_number_masked: str
    phone_masked: str
    village_code: str | None
    group_name: str | None = Field(description="村民小组")
    address: str | None
    size: int | None
    formerly_poor: bool
    has_labour_capacity: bool | None
    members: list[MemberOut]
    a26_derived: str | None = Field(
        description="A26 有家庭成员未参加基本医疗保险, generated from the members' A17: 01 是 when one has "
        "not joined, 02 否 when every one has, null while one's A17 is not known and none is 否"
    )


class EventOut(BaseModel):
    at: datetime
    action: str
    from_status: str | None
    to_status: str | None
    actor: str
    actor_staff_id: int | None
    note: str | None
    data: dict[str, Any]


class ReportOut(BaseModel):
    id: int
    created_at: datetime
    channel: Channel
    reporter_kind: ReporterKind
    proxy_relation: str | None
    proxy_name_masked: str
    raw_text: str
    parsed: dict[str, Any] = Field(description="what the parser understood (codes, amounts; IDs masked)")
    risks: list[str]
    disasters: list[str]
    guarantees: list[str]
    other_risk_text: str | None
    urgent: bool


class AuthorizationOut(BaseModel):
    """The signed annex 1 kept as evidence (or a withdrawal of it)."""

    id: int
    kind: AuthorizationKind
    withdraws_id: int | None
    text_version: str
    text_sha256: str
    signer_name_masked: str
    signer_id_masked: str
    channel: Channel
    message_ref: str | None
    witnessed_by_staff_id: int | None
    signed_at: datetime
    shown_sha256: str | None = Field(
        default=None, description="SHA-256 of annex 1 as shown, filled in from report `report_id` (chat)"
    )
    report_id: int | None = Field(default=None, description="the report whose facts filled the text shown")
    shown_variant: str | None = Field(
        default=None,
        description="which filling was shown: full, or masked (name and address hidden from an identity "
        "not linked to the household); `cases.annex1_text.rebuild` writes that one again to verify",
    )
    withdrawn_by_id: int | None = Field(
        default=None, description="for a signature: the id of the record withdrawing it, if withdrawn"
    )
    withdrawn_at: datetime | None = Field(default=None, description="for a signature: when it was withdrawn")


class VisitOut(BaseModel):
    id: int
    purpose: str
    visited_on: date
    recorded_at: datetime
    verifiers: list[StaffRef]
    household_size: int
    a23_housing_unsafe: bool
    a24_child_out_of_school: bool
    a25_water_unsafe: bool
    a26_no_medical_insurance: bool
    a27_risks: list[str]
    a27a_disasters: list[str]
    a27_other: str | None
    a28_wages: Decimal
    a29_business_income: Decimal
    a30_property_income: Decimal
    a31_transfer_income: Decimal
    a32_business_expenses: Decimal
    a33_net_income: Decimal
    a34_per_capita: Decimal
    a35_insurance_payouts: Decimal
    a36_compliant_spending: Decimal
    a37_adjusted_income: Decimal
    a38_adjusted_per_capita: Decimal
    income_period_start: date | None
    income_period_end: date | None
    suggested_category: int | None
    has_labour_capacity: bool | None
    household_signed: bool
    notes: str | None


class MeasureOut(BaseModel):
    id: int
    code: str = Field(examples=["A39"])
    name: str | None
    sub_code: str | None
    sub_name: str | None
    description: str | None
    started_on: date | None
    amount: Decimal | None
    created_by_staff_id: int | None
    created_at: datetime


class AssignmentOut(BaseModel):
    id: int
    staff: StaffRef
    assigned_at: datetime
    assigned_by_staff_id: int | None
    acknowledged_at: datetime | None
    ended_at: datetime | None
    reason: str | None


class ObjectionOut(BaseModel):
    id: int
    raised_at: datetime
    raised_by: str
    content: str
    status: str
    resolution: str | None
    resolved_at: datetime | None
    resolved_by_staff_id: int | None


class CaseDetail(CaseSummary):
    refused_reason: str | None
    refused_at_status: str | None
    notice_start: date | None
    notice_end: date | None
    elimination_mode: str | None
    monitored_at: datetime | None
    closed_at: datetime | None
    household: HouseholdOut
    timeline: list[EventOut]
    reports: list[ReportOut]
    visits: list[VisitOut]
    measures: list[MeasureOut]
    assignment: AssignmentOut | None
    assignment_history: list[AssignmentOut]
    pending_signatures: list[str] = Field(description="who must still sign annex 1 (names)")
    authorizations: list[AuthorizationOut]
    objections: list[ObjectionOut]
    allowed_actions: list[str] = Field(default_factory=list)


class MeasureIn(BaseModel):
    code: str = Field(pattern=r"^A(39|4\d|5[0-2])$", examples=["A39"])
    sub_code: str | None = Field(default=None, max_length=16, examples=["03"])
    description: str | None = Field(default=None, max_length=2000)
    started_on: date | None = None
    amount: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)


class AssignmentIn(BaseModel):
    staff_id: int
    note: str | None = Field(default=None, max_length=500, examples=["原联系人调岗"])


class RevealIn(BaseModel):
    field: Literal["id_number", "phone"]
    reason: str = Field(min_length=2, max_length=500, description="why the value is needed (audited)")
    member_id: int | None = Field(default=None, description="a member's ID number instead of the head's")


class RevealOut(BaseModel):
    field: str
    value: str = Field(description="the unmasked value; this view is in the audit log")
    audit_id: int


class AttachmentOut(BaseModel):
    """A photo, voice note or file sent to the case or one of its reports (no bytes)."""

    id: int
    kind: str = Field(description="photo, voice or document")
    content_type: str
    size: int = Field(description="bytes")
    sha256: str | None = Field(description="of the stored bytes; null when they stayed at the channel")
    created_at: datetime
    report_id: int | None = Field(description="the report it came with; null when added to the case later")
    channel: Channel | None = Field(
        description="the channel it came by (a report's: the report's); null for one added to the case "
        "before channels were kept for such files"
    )
    sent_by: Literal["household", "staff"] | None = Field(
        description="household: from the household's side (its chat, or its proxy's); staff: a staff member "
        "from their bound chat; null when not recorded (added to the case before this was kept)"
    )
    sent_by_staff_id: int | None = Field(description="the staff member who sent it, when one did")
    stored: bool = Field(description="false: too large to fetch, the file stays at the channel")
    needs_listening: bool = Field(description="a voice note no one has marked listened to yet")
    url: str | None = Field(description="its bytes (each view is audited); null when not stored")


# --- hotline -------------------------------------------------------------------------------------


class HotlineCallIn(BaseModel):
    caller_phone: str | None = Field(default=None, max_length=32)
    summary: str = Field(min_length=1, max_length=4000)
    started_at: datetime | None = Field(default=None, description="defaults to now; timezone required")
    duration_seconds: int | None = Field(default=None, ge=0)
    village_code: str | None = Field(default=None, pattern=r"^\d{12}$")
    callback_at: datetime | None = None


class HotlineCallOut(BaseModel):
    id: int
    operator_staff_id: int
    caller_phone_masked: str
    started_at: datetime
    duration_seconds: int | None
    summary: str
    parsed: dict[str, Any]
    area_code: str | None
    case_number: str | None
    report_id: int | None
    callback_at: datetime | None
    callback_done_at: datetime | None


class HotlineCallPage(BaseModel):
    items: list[HotlineCallOut]
    total: int
    page: int
    page_size: int


class HotlineReportIn(BaseModel):
    """Turn a call into a report (reporter_kind hotline): who the household is and what is wrong."""

    head_name: str = Field(min_length=1, max_length=64)
    id_number: str | None = Field(default=None, max_length=32)
    phone: str | None = Field(default=None, max_length=32, description="defaults to the caller's number")
    village_code: str = Field(pattern=r"^\d{12}$")
    group_name: str | None = Field(default=None, max_length=64)
    household_size: int | None = Field(default=None, ge=1, le=30)
    risks: list[str] = Field(default_factory=list, description="A27 codes 01-09")
    disasters: list[str] = Field(default_factory=list)
    guarantees: list[str] = Field(default_factory=list)
    other_risk_text: str | None = None
    urgent: bool = False
    raw_text: str | None = Field(default=None, description="defaults to the call summary")
    proxy_relation: str | None = Field(default=None, max_length=32, description="when a relative called")
    proxy_name: str | None = Field(default=None, max_length=64)
    name_confirmed: bool = Field(
        default=False,
        description="file under head_name although the ID number's household on record has another head "
        "(after a 409 head_name_differs: the name was checked with the caller)",
    )


class StaffReportIn(BaseModel):
    """A report found by cadre screening (干部走访排查) or raised by a department alert (部门筛查预警)."""

    reporter_kind: Literal["cadre", "department"]
    department: str | None = Field(
        default=None, max_length=64, description="department alert: who raised it", examples=["县医保局"]
    )
    raw_text: str = Field(min_length=1, max_length=4000, description="what was found")
    head_name: str = Field(min_length=1, max_length=64)
    id_number: str | None = Field(default=None, max_length=32)
    phone: str | None = Field(default=None, max_length=32)
    village_code: str = Field(pattern=r"^\d{12}$")
    group_name: str | None = Field(default=None, max_length=64)
    household_size: int | None = Field(default=None, ge=1, le=30)
    risks: list[str] = Field(default_factory=list, description="A27 codes 01-09")
    disasters: list[str] = Field(default_factory=list, description="A27a codes 01-07")
    guarantees: list[str] = Field(default_factory=list, description="A23-A26")
    other_risk_text: str | None = None
    urgent: bool = False
    name_confirmed: bool = Field(
        default=False,
        description="file under head_name although the ID number's household on record has another head "
        "(after a 409 head_name_differs: the name was checked)",
    )


class AttachCallIn(BaseModel):
    case_number: str = Field(min_length=4, max_length=24)


class IntakeOut(BaseModel):
    case_number: str
    joined_existing: bool
    report_id: int


# --- audit ---------------------------------------------------------------------------------------


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_staff_id: int | None
    action: str
    entity: str
    entity_id: str | None
    area_code: str | None
    detail: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditOut]
    total: int
    page: int
    page_size: int


# --- workflow ------------------------------------------------------------------------------------

WorkflowAction = Literal[
    "village_review",
    "conclude_notice",
    "township_review",
    "county_approve",
    "refuse",
    "withdraw",
    "request_review",
    "propose_elimination",
]


class ActionIn(BaseModel):
    """A workflow step; `reason` for refuse, `category` for county_approve, `mode` for propose_elimination."""

    note: str | None = Field(default=None, max_length=2000)
    reason: str | None = Field(
        default=None, max_length=2000, description="refuse: the reason the household is told"
    )
    category: int | None = Field(default=None, ge=1, le=3, description="county_approve: 1, 2 or 3")
    mode: Literal["assistance", "natural"] | None = Field(default=None, description="propose_elimination")


class VisitIn(BaseModel):
    """入户核实: at least two verifiers and the annex 2 figures (yuan, for the 12-month income period)."""

    verifier_ids: list[int] = Field(min_length=2, description="staff ids of the verification group (>= 2)")
    visited_on: date
    household_size: int = Field(ge=1, le=30)
    a23_housing_unsafe: bool = False
    a24_child_out_of_school: bool = False
    a25_water_unsafe: bool = False
    a26_no_medical_insurance: bool = False
    a27_risks: list[str] = Field(default_factory=list)
    a27a_disasters: list[str] = Field(default_factory=list)
    a27_other: str | None = None
    a28_wages: Decimal = Field(default=Decimal(0), ge=0)
    a29_business_income: Decimal = Decimal(0)
    a30_property_income: Decimal = Field(default=Decimal(0), ge=0)
    a31_transfer_income: Decimal = Field(default=Decimal(0), ge=0)
    a32_business_expenses: Decimal = Field(default=Decimal(0), ge=0)
    a35_insurance_payouts: Decimal = Field(default=Decimal(0), ge=0)
    a36_compliant_spending: Decimal = Field(default=Decimal(0), ge=0)
    has_labour_capacity: bool | None = None
    formerly_poor: bool | None = None
    household_signed: bool = Field(default=False, description="annexes 4 and 5, at an elimination visit")
    notes: str | None = Field(default=None, max_length=4000)
    note: str | None = Field(default=None, max_length=2000, description="timeline note")


class ObjectionIn(BaseModel):
    raised_by: str = Field(min_length=1, max_length=128, examples=["村民（匿名）"])
    content: str = Field(min_length=1, max_length=4000)
    note: str | None = None


class ResolveObjectionIn(BaseModel):
    upheld: bool = Field(description="true: the objection holds and the step is refused")
    resolution: str = Field(min_length=1, max_length=4000)
    note: str | None = None


class EvaluationIn(BaseModel):
    result: str = Field(min_length=1, max_length=4000)
    evaluated_on: date | None = None
    note: str | None = None


class EvaluationOut(BaseModel):
    id: int
    evaluated_on: date
    staff_id: int | None
    result: str
    created_at: datetime


class SignatureIn(BaseModel):
    """Annex 1 signed on paper at a home visit, witnessed by the staff member recording it."""

    signer_name: str = Field(min_length=1, max_length=64)
    signer_id_number: str | None = Field(
        default=None, max_length=32, description="checked against the member's"
    )
    message_ref: str | None = Field(default=None, max_length=128, description="e.g. the paper form's number")


class MemberIn(MemberDetails):
    """A household member as annex 2 records one (A5 name, A7 ID number, A8 relation to the head, A9-A17)."""

    name: str = Field(min_length=1, max_length=64)
    relation_code: str = Field(
        pattern=r"^\d{2}$",
        description="A8 与户主关系: 02 配偶, 03 之子 ... 99 其他 (`relations` in GET /api/codes)",
    )
    id_number: str | None = Field(
        default=None, min_length=15, max_length=32, description="the member's resident ID number"
    )
    birth_date: date | None = Field(default=None, description="without an ID number (else the ID's)")
    note: str | None = Field(default=None, max_length=500)


class MemberEditIn(MemberDetails):
    """A member's A9-A17 as they become known, or the A5 name, A8 relation and A7 ID number corrected: only
    the fields sent change, null makes a detail unknown again (not a name, relation or ID number)."""

    name: str | None = Field(
        default=None, min_length=1, max_length=64,
        description="A5 corrected (not of one who signed annex 1; the head's is the household's too)",
    )
    relation_code: str | None = Field(
        default=None, pattern=r"^\d{2}$",
        description="A8 corrected: 02 配偶 ... 99 其他 (not 01: the head stays the head)",
    )
    id_number: str | None = Field(
        default=None, min_length=15, max_length=32,
        description="A7 corrected or first given: checked, and the birth date follows it (not of one who "
        "signed annex 1)",
    )
    birth_date: date | None = Field(default=None, description="of a member without an ID number only")
    note: str | None = Field(default=None, max_length=500)


class MemberRemoveIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="e.g. recorded in error, 分户, moved away")


class ChatCallbackOut(BaseModel):
    """A call-back a household asked for in a chat (人工), waiting for the 12317 desk (number masked)."""

    id: int
    asked_at: datetime
    due_at: datetime
    channel: str | None = Field(description="the chat it was asked in: telegram, wechat, sms or web")
    phone_masked: str | None
    note: str | None = Field(description="what the household said, numbers masked; 申请复核 after a refusal")
    case_number: str | None = Field(description="the household's case, when the chat knew it")
    status: str
    done_at: datetime | None = None
    done_note: str | None = None


class CallbackDoneIn(BaseModel):
    note: str = Field(min_length=1, max_length=500, description="what the call settled")


class CodeTables(BaseModel):
    """Code -> official name (Chinese, as the annexes write it); statuses in the deployment's language."""

    risks: dict[str, str] = Field(description="A27 risk types, 01-09")
    guarantees: dict[str, str] = Field(description="the 三保障 and drinking water items, A23-A26")
    disasters: dict[str, str] = Field(description="A27a disaster kinds, 01-07 (with risk 04)")
    categories: dict[str, str] = Field(description="monitored household categories 1-3")
    measures: dict[str, str] = Field(description="assistance measure types (annex 2, A39 ...)")
    annex1_items: dict[str, str] = Field(description="annex 1's items ①-⑭ by number")
    relations: dict[str, str] = Field(description="A8 a member's relation to the head, 01-21 and 99")
    ethnicities: dict[str, str] = Field(description="A9 民族, 01-56 and 99")
    political_statuses: dict[str, str] = Field(description="A10 政治面貌, 01-06")
    education: dict[str, str] = Field(description="A11 文化程度, 01-06")
    schooling: dict[str, str] = Field(description="A12 在校生情况, 01-26 (no 16)")
    health: dict[str, str] = Field(description="A13 健康状况, 01-04")
    labour_skills: dict[str, str] = Field(description="A14 劳动技能, 01-05")
    work_areas: dict[str, str] = Field(description="A15 务工区域 (annex 6 numbers none: keyed in words)")
    yes_no: dict[str, str] = Field(description="是否型 items: A17 a member's basic medical insurance, A26")
    statuses: dict[str, str] = Field(description="case statuses")
