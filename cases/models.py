"""The case store's tables (SQLAlchemy 2, typed). Enums are stored as short strings on every backend."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    column,
    literal_column,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, QueryableAttribute, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, list[Any]: JSON}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on SQLite too: stored as UTC, returned aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: pass timezone-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _enum(cls: type[enum.StrEnum]) -> String:
    return String(max(len(m.value) for m in cls) + 8)


# --- enums -------------------------------------------------------------------------------------


class AreaLevel(enum.StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"


class Role(enum.StrEnum):
    HOTLINE = "hotline"
    CADRE = "cadre"
    VILLAGE = "village"
    TOWNSHIP = "township"
    COUNTY = "county"
    ADMIN = "admin"


class Channel(enum.StrEnum):
    TELEGRAM = "telegram"
    WECHAT = "wechat"
    SMS = "sms"
    WEB = "web"
    HOTLINE = "hotline"
    CONSOLE = "console"


class ReporterKind(enum.StrEnum):
    SELF = "self"
    PROXY = "proxy"
    HOTLINE = "hotline"
    CADRE = "cadre"
    DEPARTMENT = "department"


class CaseStatus(enum.StrEnum):
    """Identification (steps 1-5), monitoring, and risk elimination (its own five steps)."""

    APPLIED = "applied"  # 1 提交申请
    VERIFIED = "verified"  # 2 入户核实 done, awaiting village review
    PUBLIC_NOTICE = "public_notice"  # 3 村评议 passed, 7-day 公示 running
    TOWNSHIP_REVIEW = "township_review"  # 4 乡镇审核
    COUNTY_REVIEW = "county_review"  # 5 县级比对审定
    MONITORED = "monitored"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    ELIM_PROPOSED = "elim_proposed"  # 村提出
    ELIM_VERIFIED = "elim_verified"  # 入户核实, household signed annexes 4 and 5
    ELIM_NOTICE = "elim_notice"  # 村评议 + 7-day 公示
    ELIM_TOWNSHIP = "elim_township"  # 乡镇审核
    ELIM_COUNTY = "elim_county"  # 县级审定
    ELIMINATED = "eliminated"


OPEN_STATUSES = frozenset(
    s for s in CaseStatus if s not in (CaseStatus.REFUSED, CaseStatus.WITHDRAWN, CaseStatus.ELIMINATED)
)
MONITORED_STATUSES = (  # a monitored household, also while its risk elimination is under way (in order)
    CaseStatus.MONITORED,
    CaseStatus.ELIM_PROPOSED,
    CaseStatus.ELIM_VERIFIED,
    CaseStatus.ELIM_NOTICE,
    CaseStatus.ELIM_TOWNSHIP,
    CaseStatus.ELIM_COUNTY,
)


class AuthorizationKind(enum.StrEnum):
    SIGN = "sign"
    WITHDRAW = "withdraw"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # permanently failed (not retried), e.g. blocked or opted out
    DEAD = "dead"  # retries exhausted
    # not sent, and never will be: its subject no longer held when it was due (the task done, cancelled or
    # moved to a colleague, the case closed); `error_code` says why ("stale:task_done"). Not a failure
    DROPPED = "dropped"


OPEN_OUTBOX = (OutboxStatus.PENDING, OutboxStatus.SENDING)


def open_status(status: ColumnElement[Any] | QueryableAttribute[Any]) -> ColumnElement[bool]:
    """`status IN ('pending', 'sending')` with the values written out, as the partial index ix_outbox_open
    says it: a partial index serves a query only through the very terms of its WHERE, and SQLite (like a
    generic plan on PostgreSQL) cannot match a bound parameter to them."""
    return status.in_([literal_column(f"'{s.value}'") for s in OPEN_OUTBOX])


class InboundStatus(enum.StrEnum):
    RECEIVED = "received"
    HANDLED = "handled"
    DEAD = "dead"


def partial_index(name: str, *columns: str, where: ColumnElement[bool]) -> Index:
    """An index holding only the rows `where` selects, on SQLite and PostgreSQL alike."""
    return Index(name, *columns, sqlite_where=where, postgresql_where=where)


def waiting_status(status: ColumnElement[Any] | QueryableAttribute[Any]) -> ColumnElement[bool]:
    """`status = 'received'` with the value written out, as the partial index ix_inbound_waiting says it
    (see open_status: a bound parameter would not match it)."""
    return status == literal_column(f"'{InboundStatus.RECEIVED.value}'")


class TaskStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class ContactStatus(enum.StrEnum):
    ACTIVE = "active"
    OPTED_OUT = "opted_out"  # SMS STOP / 退订
    UNREACHABLE = "unreachable"  # blocked the bot, 403


# --- areas and staff ---------------------------------------------------------------------------


class Area(Base):
    """A division: province/city/county/township/village with its 12-digit (padded) statistical code."""

    __tablename__ = "areas"
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[AreaLevel] = mapped_column(_enum(AreaLevel))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)


class RegionSetting(Base):
    """Per-region-per-year rules: income line, elimination floor, signers, deadlines (working days)."""

    __tablename__ = "region_settings"
    __table_args__ = (UniqueConstraint("area_code", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"))
    year: Mapped[int] = mapped_column(Integer)
    income_line: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    elimination_floor: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("5000"))
    signers: Mapped[str] = mapped_column(String(16), default="applicant")  # applicant | all_adults
    ack_days: Mapped[int] = mapped_column(Integer, default=1)
    assign_days: Mapped[int] = mapped_column(Integer, default=1)
    verify_days: Mapped[int] = mapped_column(Integer, default=7)
    notice_days: Mapped[int] = mapped_column(Integer, default=7)  # calendar days of public notice
    township_days: Mapped[int] = mapped_column(Integer, default=5)
    county_days: Mapped[int] = mapped_column(Integer, default=10)
    evaluation_days: Mapped[int] = mapped_column(Integer, default=90)  # quarterly evaluation
    escalation_margin_days: Mapped[int] = mapped_column(Integer, default=2)


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[Role] = mapped_column(_enum(Role))
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    phone_enc: Mapped[str | None] = mapped_column(Text)
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LoginAttempt(Base):
    """One staff login attempt; failures in a window lead to 429 (G7), shared by every process."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))  # lower-cased as typed, known or not
    client: Mapped[str | None] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)


class ConsoleSession(Base):
    """A staff console login: the cookie holds a random token, the row its SHA-256 and the CSRF token."""

    __tablename__ = "console_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# --- households and contacts -------------------------------------------------------------------


class Household(Base):
    __tablename__ = "households"
    id: Mapped[int] = mapped_column(primary_key=True)
    head_name: Mapped[str] = mapped_column(String(64))
    id_number_enc: Mapped[str | None] = mapped_column(Text)
    id_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone_enc: Mapped[str | None] = mapped_column(Text)
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    village_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    group_name: Mapped[str | None] = mapped_column(String(64))  # 村民小组
    address: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int | None] = mapped_column(Integer)
    formerly_poor: Mapped[bool] = mapped_column(Boolean, default=False)
    has_labour_capacity: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    members: Mapped[list[Member]] = relationship(back_populates="household", cascade="all, delete-orphan")


class Member(Base):
    """A household member; adults may have to sign where the region requires every adult's signature."""

    __tablename__ = "members"
    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    relation: Mapped[str | None] = mapped_column(String(32))  # 户主, 配偶, 子女 ...
    id_number_enc: Mapped[str | None] = mapped_column(Text)
    id_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    birth_date: Mapped[date | None] = mapped_column(Date)  # the ID number's, or given when there is none
    is_head: Mapped[bool] = mapped_column(Boolean, default=False)
    # annex 2's A9-A17 (cases.codes.MEMBER_CODED_FIELDS), each unknown (NULL) until a cadre records it
    a9_ethnicity: Mapped[str | None] = mapped_column(String(2))
    a10_political_status: Mapped[str | None] = mapped_column(String(2))
    a11_education: Mapped[str | None] = mapped_column(String(2))
    a12_schooling: Mapped[str | None] = mapped_column(String(2))
    a13_health: Mapped[str | None] = mapped_column(String(2))
    a14_labour_skill: Mapped[str | None] = mapped_column(String(2))
    a15_work_area: Mapped[str | None] = mapped_column(String(16))  # cases.codes.WORK_AREAS
    a15_work_place: Mapped[str | None] = mapped_column(String(64))  # 务工所在省、市、县、乡
    a16_work_months: Mapped[Decimal | None] = mapped_column(Numeric(3, 1))
    a17_medical_insurance: Mapped[str | None] = mapped_column(String(2))  # 01 是, 02 否

    household: Mapped[Household] = relationship(back_populates="members")


class Contact(Base):
    """A channel identity (telegram/wechat/sms/web + external id) linked to a household or a staff member."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    external_id: Mapped[str] = mapped_column(String(128))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    display_name: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[ContactStatus] = mapped_column(_enum(ContactStatus), default=ContactStatus.ACTIVE)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


# --- cases -------------------------------------------------------------------------------------


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)  # random, not guessable
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)  # village, for scoping
    status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus), default=CaseStatus.APPLIED, index=True)
    discovery: Mapped[ReporterKind] = mapped_column(_enum(ReporterKind))
    category: Mapped[int | None] = mapped_column(Integer)  # 1 脱贫不稳定户, 2 边缘易致贫户, 3 突发严重困难户
    risks: Mapped[list[str]] = mapped_column(JSON, default=list)  # A27 codes
    guarantees: Mapped[list[str]] = mapped_column(JSON, default=list)  # A23-A26
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    refused_reason: Mapped[str | None] = mapped_column(Text)
    refused_at_status: Mapped[str | None] = mapped_column(String(32))
    notice_start: Mapped[date | None] = mapped_column(Date)
    notice_end: Mapped[date | None] = mapped_column(Date)
    elimination_mode: Mapped[str | None] = mapped_column(String(16))  # assistance | natural
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # the reminder sweep looks here
    monitored_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)
    # When the reminder sweep last ran the task rules over the case (None: never, so the next tick does);
    # set by the sweep alone, with a plain UPDATE that leaves `version` and `updated_at` as they are
    tasks_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    household: Mapped[Household] = relationship()
    events: Mapped[list[CaseEvent]] = relationship(order_by="CaseEvent.id", back_populates="case")
    __mapper_args__ = {"version_id_col": version}


class CaseEvent(Base):
    """The timeline: every step, with who, when and a note."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    action: Mapped[str] = mapped_column(String(48))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    actor_label: Mapped[str] = mapped_column(String(128))  # "张三 (cadre)", "household via sms", "system"
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    case: Mapped[Case] = relationship(back_populates="events")


class Report(Base):
    """One report as received: raw words, channel, who reported, what the parser understood."""

    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    reporter_kind: Mapped[ReporterKind] = mapped_column(_enum(ReporterKind))
    proxy_relation: Mapped[str | None] = mapped_column(String(32))
    proxy_name: Mapped[str | None] = mapped_column(String(64))
    proxy_phone_enc: Mapped[str | None] = mapped_column(Text)
    raw_text: Mapped[str] = mapped_column(Text)
    parsed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    risks: Mapped[list[str]] = mapped_column(JSON, default=list)
    disasters: Mapped[list[str]] = mapped_column(JSON, default=list)
    guarantees: Mapped[list[str]] = mapped_column(JSON, default=list)
    other_risk_text: Mapped[str | None] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The household as this report gave it: what fills annex 1 (cases.annex1_text rebuilds it from these)
    head_name: Mapped[str | None] = mapped_column(String(64))
    id_number_enc: Mapped[str | None] = mapped_column(Text)
    household_size: Mapped[int | None] = mapped_column(Integer)
    written_address: Mapped[str | None] = mapped_column(String(255))  # province down to the village
    group_name: Mapped[str | None] = mapped_column(String(64))  # 村民小组


class Authorization(Base):
    """Signed annex 1 (or its withdrawal): immutable evidence of consent."""

    __tablename__ = "authorizations"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[AuthorizationKind] = mapped_column(_enum(AuthorizationKind), default=AuthorizationKind.SIGN)
    withdraws_id: Mapped[int | None] = mapped_column(ForeignKey("authorizations.id"))
    text_version: Mapped[str] = mapped_column(String(32))
    text_sha256: Mapped[str] = mapped_column(String(64))
    signer_name: Mapped[str] = mapped_column(String(64))
    signer_id_enc: Mapped[str | None] = mapped_column(Text)
    signer_id_hash: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    message_ref: Mapped[str | None] = mapped_column(String(128))  # channel message id of the signature
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    witnessed_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # at a home visit
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The annex 1 text as shown, filled in from this report's facts (None: signed on paper at a visit)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    shown_sha256: Mapped[str | None] = mapped_column(String(64))
    # Which filling was shown: "full", or "masked" (name and address hidden, for an identity not yet
    # linked to the household); cases.annex1_text rebuilds that one to verify shown_sha256
    shown_variant: Mapped[str | None] = mapped_column(String(8))


class Objection(Base):
    """An objection (异议) raised during a public notice; must be resolved before the case goes on."""

    __tablename__ = "objections"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    raised_by: Mapped[str] = mapped_column(String(128))
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | upheld | dismissed
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class Assignment(Base):
    """Contact cadre <-> case, with history: a reassignment ends one row and starts another. The three
    moments are indexed: the reminder sweep finds the cases whose assignment changed by them."""

    __tablename__ = "assignments"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    assigned_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    reason: Mapped[str | None] = mapped_column(Text)


class HomeVisit(Base):
    """入户核实: at least two staff; the annex 2 fields A23-A38."""

    __tablename__ = "home_visits"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16), default="identification")  # | elimination
    visited_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    household_size: Mapped[int] = mapped_column(Integer)
    a23_housing_unsafe: Mapped[bool] = mapped_column(Boolean, default=False)
    a24_child_out_of_school: Mapped[bool] = mapped_column(Boolean, default=False)
    a25_water_unsafe: Mapped[bool] = mapped_column(Boolean, default=False)
    a26_no_medical_insurance: Mapped[bool] = mapped_column(Boolean, default=False)
    a27_risks: Mapped[list[str]] = mapped_column(JSON, default=list)
    a27a_disasters: Mapped[list[str]] = mapped_column(JSON, default=list)
    a27_other: Mapped[str | None] = mapped_column(Text)
    a28_wages: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal(0))
    a29_business_income: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal(0))
    a30_property_income: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal(0))
    a31_transfer_income: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal(0))
    a32_business_expenses: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal(0))
    a33_net_income: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    a34_per_capita: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    a35_insurance_payouts: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal(0))
    a36_compliant_spending: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal(0))
    a37_adjusted_income: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    a38_adjusted_per_capita: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    income_period_start: Mapped[date | None] = mapped_column(Date)
    income_period_end: Mapped[date | None] = mapped_column(Date)
    suggested_category: Mapped[int | None] = mapped_column(Integer)
    has_labour_capacity: Mapped[bool | None] = mapped_column(Boolean)
    household_signed: Mapped[bool] = mapped_column(Boolean, default=False)  # annexes 4 and 5 (elimination)
    notes: Mapped[str | None] = mapped_column(Text)

    verifiers: Mapped[list[VisitVerifier]] = relationship(cascade="all, delete-orphan")


class VisitVerifier(Base):
    __tablename__ = "visit_verifiers"
    visit_id: Mapped[int] = mapped_column(ForeignKey("home_visits.id"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)


class Measure(Base):
    """An assistance measure (A39-A52 with its sub-code)."""

    __tablename__ = "measures"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    code: Mapped[str] = mapped_column(String(8))
    sub_code: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)
    started_on: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    created_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Evaluation(Base):
    """The quarterly assistance-effect evaluation of a monitored household."""

    __tablename__ = "evaluations"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    evaluated_on: Mapped[date] = mapped_column(Date)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    result: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Attachment(Base):
    """A photo, voice note or file sent to a report or a case, kept whole; never forwarded."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    kind: Mapped[str] = mapped_column(String(16))  # photo | voice | document
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    channel_file_id: Mapped[str | None] = mapped_column(String(255))  # fetched later when not inline
    needs_listening: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # how it came; None only on a file added to a case before revision 0006 recorded it
    channel: Mapped[Channel | None] = mapped_column(_enum(Channel))
    # the staff member who sent it from their bound chat; None: the household's side (or before 0006)
    sent_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


# --- hotline, tasks, messaging -----------------------------------------------------------------


class HotlineCall(Base):
    __tablename__ = "hotline_calls"
    id: Mapped[int] = mapped_column(primary_key=True)
    operator_staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    caller_phone_enc: Mapped[str | None] = mapped_column(Text)
    caller_phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    parsed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    area_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    callback_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Task(Base):
    """A due piece of follow-up work (reminder rules create and close these)."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_open_due", "status", "due_at"),
        UniqueConstraint("case_id", "kind", "cycle"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    hotline_call_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_calls.id"))
    kind: Mapped[str] = mapped_column(String(32))  # acknowledge, verify, notice_end, township, ...
    cycle: Mapped[str] = mapped_column(String(32), default="")  # e.g. the quarter for evaluations
    assignee_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    area_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[TaskStatus] = mapped_column(_enum(TaskStatus), default=TaskStatus.OPEN)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_note: Mapped[str | None] = mapped_column(Text)
    postponed_reason: Mapped[str | None] = mapped_column(Text)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))  # e.g. who asked for a callback
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # e.g. phone_enc, phone_masked, note


class LookupAttempt(Base):
    """A chat identity's case look-up (case number + ID last 4) or binding-code try; failures in a
    window are throttled (G4, G7), shared by every process."""

    __tablename__ = "lookup_attempts"
    __table_args__ = (Index("ix_lookup_attempts_contact_kind_at", "contact_id", "kind", "at"),
                      Index("ix_lookup_attempts_kind_target_at", "kind", "target", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    kind: Mapped[str] = mapped_column(String(16))  # case | binding
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    target: Mapped[str | None] = mapped_column(String(16))  # the case number a case look-up was for


class ReminderLog(Base):
    """One row per reminder sent, so a reminder is never sent twice for the same task and due date."""

    __tablename__ = "reminder_log"
    __table_args__ = (UniqueConstraint("task_id", "kind", "due_at", "staff_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    kind: Mapped[str] = mapped_column(String(16))  # assignment | due | escalation | digest
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    # kind:task:staff:due; unique also where task_id is NULL (digests), which the constraint above misses
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BindingCode(Base):
    """A one-time code a cadre types in a chat to link that identity to their staff account."""

    __tablename__ = "binding_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class InboundMessage(Base):
    """Every inbound channel message, stored first; unique per (channel, user_key, external_id)."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("channel", "user_key", "external_id"),
        # a contact's messages not yet handled (usually none): whether one waits is a probe, however long
        # the contact's history (the unique index above would read all of it, row by row)
        partial_index("ix_inbound_waiting", "channel", "user_key", "id",
                      where=waiting_status(column("status"))),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    user_key: Mapped[str] = mapped_column(String(128))
    external_id: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    text: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[InboundStatus] = mapped_column(_enum(InboundStatus), default=InboundStatus.RECEIVED)
    error: Mapped[str | None] = mapped_column(Text)
    replies: Mapped[list[Any]] = mapped_column(JSON, default=list)  # the answer, replayed on a retry
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DialogueSession(Base):
    """Serializable dialogue state per (channel, user_key); the row is the per-contact lock."""

    __tablename__ = "dialogue_sessions"
    __table_args__ = (UniqueConstraint("channel", "user_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    user_key: Mapped[str] = mapped_column(String(128))
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Outbox(Base):
    """A message to send, written in the same transaction as the state change; the dispatcher sends it."""

    __tablename__ = "outbox"
    __table_args__ = (
        # the dispatcher walks one channel's due rows in order (bot.outbox.claim_due)
        Index("ix_outbox_due", "status", "channel", "next_attempt_at"),
        # the rows not yet sent, by address: whether a row heads its address's queue is one probe, however
        # many rows were sent to it before; sent rows (an SMS answered inline, most rows) never enter it.
        # No index holds every row by address: SQLite, having no statistics, would rate it as good as this
        # one and then read an address's whole history for each row it claims
        partial_index("ix_outbox_open", "channel", "to", "id", where=open_status(column("status"))),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    to: Mapped[str] = mapped_column(String(128))  # channel address: chat id, openid, E.164 number
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    kind: Mapped[str] = mapped_column(String(16), default="reply")  # reply | notification | reminder
    body: Mapped[str] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # keyboards, template ids ...
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    # the structured cause of the last failure, "<provider>:<code>" ("twilio:30007", "wechat:45015",
    # "telegram:blocked", "contact:opted_out"): what the console explains in plain words
    error_code: Mapped[str | None] = mapped_column(String(64))
    provider_id: Mapped[str | None] = mapped_column(String(128))
    provider_status: Mapped[str | None] = mapped_column(String(32))
    segments: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """Every state change and every unmasked view."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(128))  # "staff:12", "household:sms", "system"
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    area_code: Mapped[str | None] = mapped_column(String(12), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ChannelState(Base):
    """Small shared state kept in the database so every process sees it: the channel adapters' send-rate
    slots (`until` = when the next send may go) and API access tokens (`value`), and the reminder sweep's
    marks (`until` = when the last full sweep, and the last sync of the changed cases, began)."""

    __tablename__ = "channel_state"
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# --- immutable evidence ------------------------------------------------------------------------


class ImmutableRecordError(Exception):
    """An attempt to change or delete a signed authorization (a withdrawal is a new record)."""


def _refuse_authorization_update(_mapper: Any, _connection: Any, target: Authorization) -> None:
    from sqlalchemy import inspect

    state = inspect(target)
    if any(attr.history.has_changes() for attr in state.attrs):
        raise ImmutableRecordError("authorizations are immutable: record a withdrawal instead")


def _refuse_authorization_delete(_mapper: Any, _connection: Any, _target: Authorization) -> None:
    raise ImmutableRecordError("authorizations are immutable and cannot be deleted")


def _refuse_bulk_authorization_change(orm_execute_state: Any) -> None:
    if orm_execute_state.is_update or orm_execute_state.is_delete:
        for mapper in orm_execute_state.all_mappers:
            if mapper.class_ is Authorization:
                raise ImmutableRecordError("authorizations are immutable: no bulk UPDATE or DELETE")


def _install_immutability() -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    event.listen(Authorization, "before_update", _refuse_authorization_update)
    event.listen(Authorization, "before_delete", _refuse_authorization_delete)
    event.listen(Session, "do_orm_execute", _refuse_bulk_authorization_change)


_install_immutability()
