"""Reports in, households and cases out: one household, one open case; the signed annex 1.

Functions flush but never commit: the caller (conversation service, API route) commits once.
Sources: domain README "Discovery channels", "Identification procedure" step 1; Hunan opinions
二（二）1 "农户自主申报 ... 还可由他人代为申报" and 二（二）2 第一步 "签署授权依法查询家庭财产等信息的
《防止返贫监测对象个人申请及承诺授权书》（附件1）; 对于通过基层干部排查、部门筛查预警发现的 ... 并填写附件1".
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy import case as when
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from cases import annex1, annex1_text, audit, rows
from cases.clock import BEIJING
from cases.crypto import Vault, mask_name, mask_parsed, mask_text
from cases.errors import IntakeError
from cases.events import SYSTEM, add_event
from cases.ids import age_on, check_id, normalize_phone, written_name
from cases.models import (
    OPEN_STATUSES,
    Area,
    Assignment,
    Authorization,
    AuthorizationKind,
    Base,
    Case,
    CaseStatus,
    Channel,
    Contact,
    Household,
    Member,
    Report,
    ReporterKind,
    Staff,
)
from cases.notify import Notifier
from cases.regions import ancestors
from cases.reminders import Lookups, acknowledge_due, local_date

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CASE_PREFIX = "SB"
ADULT_AGE = 18


@dataclass
class ReportDraft:
    """What a channel, the hotline or a cadre knows about a report when it is submitted."""

    channel: Channel
    reporter_kind: ReporterKind
    raw_text: str
    risks: list[str] = field(default_factory=list)
    disasters: list[str] = field(default_factory=list)
    guarantees: list[str] = field(default_factory=list)
    other_risk_text: str | None = None
    urgent: bool = False
    parsed: dict[str, Any] = field(default_factory=dict)
    head_name: str | None = None
    id_number: str | None = None
    phone: str | None = None
    household_size: int | None = None
    village_code: str | None = None
    group_name: str | None = None
    address: str | None = None
    proxy_relation: str | None = None
    proxy_name: str | None = None
    proxy_phone: str | None = None
    contact_id: int | None = None


@dataclass
class IntakeResult:
    case: Case
    report: Report
    household: Household
    joined_existing: bool
    cadre: Staff | None = None  # the contact cadre the new case was assigned to, if any
    # the filing identity (draft.contact_id) stands for the household: it made the household, was linked
    # to it, or is an SMS from the phone number on its record. Knowing the ID number and the name proves
    # nothing (a neighbour knows them): only such an identity is linked, told the case and signs in a chat.
    vouched: bool = False


# --- numbers and look-ups ----------------------------------------------------------------------


def new_case_number() -> str:
    """SB + 8 random Crockford base32 characters (40 bits): not guessable, easy to read out."""
    return CASE_PREFIX + "".join(secrets.choice(CROCKFORD) for _ in range(8))


def normalize_case_number(raw: str) -> str:
    """Upper-case, drop spaces and hyphens, read O as 0 and I/L as 1 (Crockford)."""
    value = unicodedata.normalize("NFKC", raw).upper().replace(" ", "").replace("-", "")
    if value.startswith(CASE_PREFIX):
        head, tail = CASE_PREFIX, value[len(CASE_PREFIX) :]
    else:
        head, tail = CASE_PREFIX, value
    return head + tail.replace("O", "0").replace("I", "1").replace("L", "1")


def find_case_by_number(*, db: Session, number: str) -> Case | None:
    """The case with this number (tolerant of case, spaces and Crockford look-alikes)."""
    return db.scalar(select(Case).where(Case.number == normalize_case_number(number)))


def open_case_for_household(*, db: Session, household_id: int) -> Case | None:
    """The household's open case, if any (there is at most one)."""
    return db.scalar(
        select(Case)
        .where(Case.household_id == household_id, Case.status.in_(list(OPEN_STATUSES)))
        .order_by(Case.id.desc())
        .limit(1)
    )


def find_household_by_id_number(*, db: Session, vault: Vault, id_number: str) -> Household | None:
    """The household whose head or a member has this ID number (after validation and normalisation)."""
    check = check_id(id_number)
    if not check.valid or check.normalized is None:
        return None
    return db.scalar(_HOUSEHOLD_OF_ID, {"digest": vault.lookup_hash(check.normalized)})


# The household whose head has the ID (first), else one where a member has it: one query, built once.
# The candidates are a union of two index probes (households.id_hash, members.id_hash), then fetched by
# key. Written as `id_hash = :d OR id IN (members ...)`, PostgreSQL used no index for the OR and every
# report read the whole households table (a county's hundred thousand; 0.8 ms of PostgreSQL's time a
# report at the webhook bench's 4,000); SQLite served it from both indexes.
_HOUSEHOLD_OF_ID = (
    select(Household)
    .where(
        Household.id.in_(
            select(Household.id)
            .where(Household.id_hash == bindparam("digest"))
            .union_all(select(Member.household_id).where(Member.id_hash == bindparam("digest")))
        )
    )
    .order_by(when((Household.id_hash == bindparam("digest"), 0), else_=1), Household.id)
    .limit(1)
)


def link_contact_to_household(*, db: Session, contact_id: int, household_id: int, now: datetime) -> Contact:
    """Link a channel identity to a household (so it is told about the case); refuses staff contacts."""
    contact = db.get(Contact, contact_id)
    if contact is None:
        raise IntakeError("unknown_contact", "no such contact")
    if contact.staff_id is not None:
        raise IntakeError("contact_is_staff", "a staff member's contact cannot stand for a household")
    if contact.household_id != household_id:
        previous = contact.household_id
        db.connection().execute(_LINK_CONTACT, {"row_id": contact.id, "household": household_id})
        set_committed_value(contact, "household_id", household_id)  # what the row holds now
        audit.record(
            db=db,
            actor=SYSTEM,
            action="contact.link",
            entity="contact",
            entity_id=contact.id,
            area_code=None,
            detail={"household_id": household_id, "previous": previous},
            now=now,
        )
    return contact


_CONTACTS = Base.metadata.tables[Contact.__tablename__]
_LINK_CONTACT = (
    update(_CONTACTS).where(_CONTACTS.c.id == bindparam("row_id")).values(household_id=bindparam("household"))
)


def same_name(a: str, b: str) -> bool:
    """Whether two names are one as written, spaces and width aside and traditional characters read as
    simplified: 張偉 on record is the 张伟 a chat keeps of what was typed (nlu.normalize). Only compared so:
    a record keeps the name as it was written."""
    a, b = written_name(a), written_name(b)
    return a == b or _simplified(a) == _simplified(b)


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc  # loaded only when two names differ as written (nlu.normalize.to_simplified's converter)

    return opencc.OpenCC("t2s")


def _simplified(name: str) -> str:
    out: str = _t2s().convert(name)
    return out if len(out) == len(name) else name


def members_named(household: Household, name: str) -> list[Member]:
    """The household's members of that name: as written, else alike (same_name: 張偉 for 张伟)."""
    said = written_name(name)
    exact = [member for member in household.members if member.name == said]
    return exact or [member for member in household.members if same_name(member.name, said)]


# --- households and members --------------------------------------------------------------------


def add_member(
    *,
    db: Session,
    vault: Vault,
    household: Household,
    name: str,
    relation: str | None = None,
    id_number: str | None = None,
    birth_date: date | None = None,
    is_head: bool = False,
) -> Member:
    """Add a household member; an ID number is validated, stored encrypted and gives the birth date."""
    member = Member(
        household=household, name=written_name(name), relation=relation, is_head=is_head,
        birth_date=birth_date,
    )
    if id_number:
        check = check_id(id_number)
        if not check.valid or check.normalized is None:
            raise IntakeError("invalid_id_number", f"ID number refused ({check.reason})")
        member.id_number_enc = vault.encrypt(check.normalized)
        member.id_hash = vault.lookup_hash(check.normalized)
        member.birth_date = member.birth_date or check.birth_date
    db.add(member)
    db.flush()
    return member


def head_member(household: Household) -> Member | None:
    return next((m for m in household.members if m.is_head), None)


def ensure_head_member(db: Session, household: Household) -> Member:
    """The head as a Member row (households imported or seeded without one get it from head_name)."""
    head = head_member(household)
    if head is None:
        head = Member(
            household=household,
            name=written_name(household.head_name),
            relation="户主",
            is_head=True,
            id_number_enc=household.id_number_enc,
            id_hash=household.id_hash,
        )
        db.add(head)
        db.flush()
    return head


def _household_for(
    db: Session, vault: Vault, draft: ReportDraft, id_normalized: str | None
) -> Household | None:
    if id_normalized is not None:
        found = find_household_by_id_number(db=db, vault=vault, id_number=id_normalized)
        if found is not None:
            return found
        return None
    if draft.contact_id is not None and draft.reporter_kind == ReporterKind.SELF:
        contact = db.get(Contact, draft.contact_id)
        if contact is not None and contact.household_id is not None:
            return db.get(Household, contact.household_id)
    return None


def _new_household(
    db: Session,
    vault: Vault,
    draft: ReportDraft,
    id_normalized: str | None,
    birth: date | None,
    phone: str | None,
    now: datetime,
) -> Household | None:
    """The new household with its head as a member; None when its ID number was filed meanwhile (another
    transaction inserted that household after the look-up; a unique index makes the insert wait for it)."""
    if not draft.head_name:
        raise IntakeError("head_name_required", "the household head's name is needed for a new household")
    name = written_name(draft.head_name)
    id_enc, id_hash = vault.encrypt_optional(id_normalized), vault.hash_optional(id_normalized)
    household = Household(
        head_name=name,
        id_number_enc=id_enc,
        id_hash=id_hash,
        phone_enc=vault.encrypt_optional(phone),
        phone_hash=vault.hash_optional(phone),
        village_code=draft.village_code,
        group_name=draft.group_name,
        address=draft.address,
        size=draft.household_size,
        created_at=now,
    )
    if rows.insert_unless_taken(db, household, "id_hash") is None:
        return None
    head = rows.insert(db, Member(household_id=household.id, name=name, relation="户主", is_head=True,
                                  id_number_enc=id_enc, id_hash=id_hash, birth_date=birth))
    # built with its head: the members are known, not loaded again at the signature
    set_committed_value(household, "members", [head])
    set_committed_value(head, "household", household)
    return household


def _fill_blanks(household: Household, vault: Vault, draft: ReportDraft, phone: str | None) -> None:
    """A later report only fills what the household record lacks; it never overwrites (a proxy could)."""
    if phone and household.phone_enc is None:
        household.phone_enc = vault.encrypt(phone)
        household.phone_hash = vault.lookup_hash(phone)
    for attr, value in (
        ("village_code", draft.village_code),
        ("group_name", draft.group_name),
        ("address", draft.address),
        ("size", draft.household_size),
    ):
        if value is not None and getattr(household, attr) is None:
            setattr(household, attr, value)


# --- assignment --------------------------------------------------------------------------------


# A village's active contact cadres, each with how many open cases it is assigned (built once)
_CADRES_WITH_LOAD = (
    select(
        Staff,
        select(func.count())
        .select_from(Assignment)
        .join(Case, Case.id == Assignment.case_id)
        .where(
            Assignment.staff_id == Staff.id,
            Assignment.ended_at.is_(None),
            Case.status.in_(list(OPEN_STATUSES)),
        )
        .correlate(Staff)
        .scalar_subquery(),
    )
    .where(Staff.area_code == bindparam("village"), Staff.role == "cadre", Staff.active.is_(True))
    .order_by(Staff.id)
)


def pick_cadre(db: Session, village_code: str, *, exclude: tuple[int, ...] = ()) -> Staff | None:
    """The village's active contact cadre with the fewest open assignments (lowest id on a tie)."""
    loads = [
        (int(n), staff.id, staff)
        for staff, n in db.execute(_CADRES_WITH_LOAD, {"village": village_code})
        if staff.id not in exclude
    ]
    return min(loads, key=lambda x: (x[0], x[1]))[2] if loads else None


def current_assignment(db: Session, case: Case) -> Assignment | None:
    return db.scalar(
        select(Assignment)
        .where(Assignment.case_id == case.id, Assignment.ended_at.is_(None))
        .order_by(Assignment.id.desc())
        .limit(1)
    )


def notify_cadre(db: Session, case: Case, notifier: Notifier, event: str,
                 params: dict[str, Any] | None = None) -> bool:
    """Tell the case's contact cadre of `event` (with `params`, else the case's notification parameters);
    False when no cadre is assigned."""
    assignment = current_assignment(db, case)
    if assignment is None:
        return False
    notifier.notify_staff(db, staff_id=assignment.staff_id, event=event,
                          params=case_params(db, case) if params is None else params)
    return True


_ASSIGN = Base.metadata.tables[Assignment.__tablename__].insert()


def auto_assign(db: Session, case: Case, now: datetime, notifier: Notifier,
                lookups: Lookups | None = None) -> Staff | None:
    """Assign the village's least busy cadre (a plain INSERT: the row is not needed as an object) and tell
    them; or record that no cadre is free. `lookups`: areas the caller has read already."""
    cadre = pick_cadre(db, case.area_code)
    if cadre is None:
        add_event(
            db,
            case,
            action="assignment_pending",
            now=now,
            actor_label=SYSTEM,
            note="no active contact cadre in this village",
        )
        return None
    db.connection().execute(
        _ASSIGN,
        {"case_id": case.id, "staff_id": cadre.id, "assigned_at": now, "reason": "auto: fewest open cases"},
    )
    add_event(db, case, action="assigned", now=now, actor_label=SYSTEM, data={"staff_id": cadre.id})
    audit.record(
        db=db,
        actor=SYSTEM,
        action="assignment.create",
        entity="case",
        entity_id=case.id,
        area_code=case.area_code,
        detail={"staff_id": cadre.id, "auto": True},
        now=now,
    )
    notifier.notify_staff(db, staff_id=cadre.id, event="case_assigned",
                          params=case_params(db, case, assigned_at=now, lookups=lookups))
    return cadre


def case_params(db: Session, case: Case, *, assigned_at: datetime | None = None,
                lookups: Lookups | None = None) -> dict[str, Any]:
    """Notification parameters: nothing sensitive (masked name, codes, the case number); for an
    assignment made at `assigned_at`, when it is to be acknowledged (`due_at`, as the reminders count)."""
    village = db.get(Area, case.area_code)
    household = db.get(Household, case.household_id)
    params: dict[str, Any] = {
        "case_number": case.number,
        "village": village.name if village else case.area_code,
        "head_name_masked": mask_name(household.head_name if household else None),
        "urgent": case.urgent,
        "risks": list(case.risks),
        "status": str(case.status),
    }
    if assigned_at is not None:
        days = (lookups or Lookups(db)).days(case.area_code, local_date(assigned_at).year)
        params["due_at"] = acknowledge_due(days, assigned_at).isoformat()
    return params


# --- reports -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Added:
    """What words joined to an open case (a further report, a supplement) brought that the case lacked."""

    risks: tuple[str, ...] = ()  # A27 codes new to the case
    guarantees: tuple[str, ...] = ()  # A23-A26 codes new to the case
    urgent: bool = False  # the case became urgent

    def __bool__(self) -> bool:
        return bool(self.risks or self.guarantees or self.urgent)

    def data(self) -> dict[str, Any]:
        """As a timeline event's data and a notice's parameters: only what was added."""
        out: dict[str, Any] = {}
        if self.risks:
            out["added_risks"] = list(self.risks)
        if self.guarantees:
            out["added_guarantees"] = list(self.guarantees)
        if self.urgent:
            out["became_urgent"] = True
        return out


def merge_into_case(case: Case, *, risks: list[str], guarantees: list[str], urgent: bool,
                    now: datetime) -> Added:
    """Merge what was read into the open case: codes are only ever added and `urgent` only raised; the case
    changes (and `updated_at` moves) only when something is new."""
    added = Added(risks=tuple(sorted(set(risks) - set(case.risks))),
                  guarantees=tuple(sorted(set(guarantees) - set(case.guarantees))),
                  urgent=urgent and not case.urgent)
    if added:
        case.risks = sorted(set(case.risks) | set(added.risks))
        case.guarantees = sorted(set(case.guarantees) | set(added.guarantees))
        case.urgent = case.urgent or added.urgent
        case.updated_at = now
    return added


def submit_report(
    *, db: Session, vault: Vault, draft: ReportDraft, now: datetime, notifier: Notifier
) -> IntakeResult:
    """Record a report; join the household's open case or open a new one and assign the village cadre."""
    id_normalized: str | None = None
    birth: date | None = None
    if draft.id_number:
        check = check_id(draft.id_number, today=now.date())
        if not check.valid:
            raise IntakeError("invalid_id_number", f"ID number refused ({check.reason})")
        id_normalized, birth = check.normalized, check.birth_date
    phone = normalize_phone(draft.phone)
    # The village and its ancestors, read once: they write the report's address, and are held for the
    # whole filing (the session keeps loaded rows only while something refers to them; the cadre's
    # notification reads the village again).
    chain = ancestors(db, draft.village_code) if draft.village_code is not None else []
    if draft.village_code is not None and not chain:
        raise IntakeError("unknown_village", "the village code is not a known area")
    lookups = Lookups(db)  # the cadre's deadline is read for the same village: its chain is not read again
    lookups.know_chain(chain)

    household = _household_for(db, vault, draft, id_normalized)
    created = False
    if household is None:
        household = _new_household(db, vault, draft, id_normalized, birth, phone, now)
        created = household is not None
        if household is None:  # the same ID number was filed meanwhile, on another channel: that household
            household = _household_for(db, vault, draft, id_normalized)
            if household is None:
                raise IntakeError("household_conflict", "the ID number is taken; its household is not found")
    if created:
        vouched = True
    else:
        if draft.reporter_kind in _FROM_THE_HOUSEHOLD and id_normalized is not None and draft.head_name:
            _check_name_on_record(household, vault.lookup_hash(id_normalized), draft.head_name)
        vouched = _vouches(db, vault, draft, household)
        # a phone number the record lacks, from a chat that is not the household's, would make that chat's
        # owner pass for the household (an SMS from it would vouch); a proxy's stays (they are asked for it)
        _fill_blanks(household, vault, draft,
                     phone if vouched or draft.reporter_kind != ReporterKind.SELF else None)

    case: Case | None = None
    if not created:  # a household this transaction inserted has no case, and no one else sees it yet
        # Serialise concurrent reports about one household (PostgreSQL row lock; SQLite has one writer).
        if db.get_bind().dialect.name != "sqlite":
            db.execute(select(Household.id).where(Household.id == household.id).with_for_update())
        case = open_case_for_household(db=db, household_id=household.id)
    joined = case is not None
    added = Added()
    if case is None:
        village = household.village_code
        if village is None:
            raise IntakeError("village_required", "the household's village is needed to open a case")
        case = Case(
            household_id=household.id,
            area_code=village,
            status=CaseStatus.APPLIED,
            discovery=draft.reporter_kind,
            risks=sorted(set(draft.risks)),
            guarantees=sorted(set(draft.guarantees)),
            urgent=draft.urgent,
            opened_at=now,
            updated_at=now,
        )
        while True:  # a random number; in the rare case it is taken, another
            case.number = new_case_number()
            if rows.insert_unless_taken(db, case, "number") is not None:
                break
    else:
        added = merge_into_case(case, risks=draft.risks, guarantees=draft.guarantees, urgent=draft.urgent,
                                now=now)

    report = Report(
        case_id=case.id,
        household_id=household.id,
        contact_id=draft.contact_id,
        channel=draft.channel,
        reporter_kind=draft.reporter_kind,
        proxy_relation=draft.proxy_relation,
        proxy_name=draft.proxy_name,
        proxy_phone_enc=vault.encrypt_optional(normalize_phone(draft.proxy_phone)),
        raw_text=mask_text(draft.raw_text),  # the numbers people type in it are kept masked (design.md)
        parsed=mask_parsed(dict(draft.parsed)),
        risks=sorted(set(draft.risks)),
        disasters=sorted(set(draft.disasters)),
        guarantees=sorted(set(draft.guarantees)),
        other_risk_text=draft.other_risk_text,
        urgent=draft.urgent,
        created_at=now,
        head_name=written_name(draft.head_name) if draft.head_name else None,
        id_number_enc=vault.encrypt_optional(id_normalized),
        household_size=draft.household_size,
        written_address=annex1_text.address_of(chain),
        group_name=draft.group_name,
    )
    rows.insert(db, report)
    if draft.contact_id is not None and draft.reporter_kind == ReporterKind.SELF and vouched:
        link_contact_to_household(db=db, contact_id=draft.contact_id, household_id=household.id, now=now)

    cadre: Staff | None = None
    actor = f"{draft.reporter_kind} via {draft.channel}"
    detail = {"report_id": report.id, "channel": str(draft.channel), "reporter": str(draft.reporter_kind)}
    if joined:
        # what the report brought that the case lacked (新增：…), as a supplement's event says it
        add_event(db, case, action="report_joined", now=now, actor_label=actor, data=detail | added.data())
        audit.record(
            db=db,
            actor=actor,
            action="report.join",
            entity="case",
            entity_id=case.id,
            area_code=case.area_code,
            detail=detail,
            now=now,
        )
        # what it added is told with it, and 【紧急】 once the case is urgent (as a supplement's notice)
        if not notify_cadre(db, case, notifier, "case_report_joined", case_params(db, case) | added.data()):
            cadre = auto_assign(db, case, now, notifier, lookups)  # none was free when the case opened: again
    else:
        add_event(
            db,
            case,
            action="case_opened",
            now=now,
            actor_label=actor,
            to_status=CaseStatus.APPLIED,
            data=detail,
        )
        audit.record(
            db=db,
            actor=actor,
            action="case.open",
            entity="case",
            entity_id=case.id,
            area_code=case.area_code,
            detail=detail,
            now=now,
        )
        opened = _OPENED.get(draft.reporter_kind, "case_opened")
        if draft.reporter_kind == ReporterKind.PROXY and not household.id_hash:
            opened = "case_opened_by_proxy_no_id"
        notifier.notify_household(db, household_id=household.id, event=opened,
                                  params={"case_number": case.number})
        cadre = auto_assign(db, case, now, notifier, lookups)
    db.flush()
    return IntakeResult(case=case, report=report, household=household, joined_existing=joined, cadre=cadre,
                        vouched=vouched)


_FROM_THE_HOUSEHOLD = (ReporterKind.SELF, ReporterKind.PROXY)  # reports whose names are typed in a chat
# what the household is told of a case opened for it: it reported (itself or by the hotline), someone else
# did, or staff found it (a cadre's screening, a department's alert) and it is told so, not "your report"
_OPENED = {
    ReporterKind.PROXY: "case_opened_by_proxy",
    ReporterKind.CADRE: "case_opened_by_staff",
    ReporterKind.DEPARTMENT: "case_opened_by_staff",
}


def _check_name_on_record(household: Household, id_hash: str, name: str) -> None:
    """The name given with an ID number must be the name on record for it (the member, or the head whose
    number the household carries): otherwise it is someone else's number, typed by mistake or not."""
    for member in household.members:
        if member.id_hash == id_hash:
            if not same_name(member.name, name):
                raise IntakeError("name_not_on_record", "the name does not fit the ID number on record")
            return
    if household.id_hash == id_hash and not same_name(household.head_name, name):
        raise IntakeError("name_not_on_record", "the name does not fit the ID number on record")


def _vouches(db: Session, vault: Vault, draft: ReportDraft, household: Household) -> bool:
    """Whether the filing identity is the household's own (see IntakeResult.vouched): linked to it, or an
    SMS from the phone number on its record that no proxy of the household gave as their own."""
    contact = db.get(Contact, draft.contact_id) if draft.contact_id is not None else None
    if contact is None or contact.staff_id is not None:
        return False
    if contact.household_id == household.id:
        return True
    phone = normalize_phone(contact.external_id) if contact.channel == Channel.SMS else None
    if phone is None or household.phone_hash is None or vault.lookup_hash(phone) != household.phone_hash:
        return False
    proxies = db.scalars(select(Report.proxy_phone_enc).where(
        Report.household_id == household.id, Report.reporter_kind == ReporterKind.PROXY,
        Report.proxy_phone_enc.is_not(None))).all()
    return all(vault.decrypt(enc) != phone for enc in proxies if enc)


# --- the signed annex 1 ------------------------------------------------------------------------


def _signer_member(db: Session, household: Household, signer_name: str, id_hash: str | None = None) -> Member:
    """The member of that name (members_named); of two of the same name (a father and son both 张伟), the one
    whose ID number was given."""
    named = members_named(household, signer_name)
    if not named:
        raise IntakeError(
            "signer_not_in_household", "the signer's name matches neither the household head nor a member"
        )
    return next((m for m in named if id_hash is not None and m.id_hash == id_hash), named[0])


def active_signatures(*, db: Session, case: Case) -> list[Authorization]:
    """Signatures on this case that have not been withdrawn."""
    found = db.scalars(
        select(Authorization).where(Authorization.case_id == case.id).order_by(Authorization.id)
    ).all()
    withdrawn = {a.withdraws_id for a in found if a.kind == AuthorizationKind.WITHDRAW}
    return [a for a in found if a.kind == AuthorizationKind.SIGN and a.id not in withdrawn]


def sign_authorization(
    *,
    db: Session,
    vault: Vault,
    case: Case,
    signer_name: str,
    signer_id_number: str | None,
    channel: Channel,
    message_ref: str | None,
    contact_id: int | None,
    now: datetime,
    text_version: str,
    witnessed_by_staff_id: int | None = None,
    shown_sha256: str | None = None,
    report_id: int | None = None,
    shown_variant: str = annex1_text.FULL,
    signatures: list[Authorization] | None = None,
) -> Authorization:
    """Record a signed annex 1 as immutable evidence (the signer must be the head or a member); with
    `shown_sha256`, the filled text as shown (in `shown_variant`), checked against what the report's facts
    write again. `signatures`: the case's active signatures when the caller knows them (none, on a case
    it has just opened), else they are read."""
    if case.status not in OPEN_STATUSES:
        raise IntakeError("case_closed", "the case is closed")
    try:
        digest = annex1.sha256(text_version)
    except annex1.UnknownVersion:
        raise IntakeError("unknown_text_version", f"no annex 1 text version {text_version!r}") from None
    household = db.get(Household, case.household_id)
    assert household is not None
    ensure_head_member(db, household)
    id_enc: str | None = None
    id_hash: str | None = None
    check = check_id(signer_id_number, today=now.date()) if signer_id_number else None
    if check is not None and check.valid and check.normalized is not None:
        id_hash = vault.lookup_hash(check.normalized)
    member = _signer_member(db, household, signer_name, id_hash)
    if check is not None:
        if not check.valid or check.normalized is None or id_hash is None:
            raise IntakeError("invalid_id_number", f"ID number refused ({check.reason})")
        if member.id_hash is not None and member.id_hash != id_hash:
            raise IntakeError("signer_id_mismatch", "the ID number does not match this member's")
        id_enc = vault.encrypt(check.normalized)
        if member.id_hash is None:
            _record_member_id(db, household, member, id_enc, id_hash, check.birth_date)
    elif witnessed_by_staff_id is None:
        raise IntakeError("signer_id_required", "an ID number, or a staff witness at a home visit, is needed")
    for existing in active_signatures(db=db, case=case) if signatures is None else signatures:
        if existing.member_id == member.id and existing.text_version == text_version:
            return existing  # a repeated "I agree" must not pile up evidence rows
    if shown_sha256 is not None:
        report_id = annex1_text.check_shown(db, vault, case, version=text_version, shown_sha256=shown_sha256,
                                            report_id=report_id, signed_on=now.astimezone(BEIJING).date(),
                                            variant=shown_variant)
    auth = Authorization(
        case_id=case.id,
        household_id=household.id,
        member_id=member.id,
        kind=AuthorizationKind.SIGN,
        text_version=text_version,
        text_sha256=digest,
        signer_name=member.name,
        signer_id_enc=id_enc,
        signer_id_hash=id_hash,
        channel=channel,
        message_ref=message_ref,
        contact_id=contact_id,
        witnessed_by_staff_id=witnessed_by_staff_id,
        signed_at=now,
        report_id=report_id if shown_sha256 is not None else None,
        shown_sha256=shown_sha256,
        shown_variant=shown_variant if shown_sha256 is not None else None,
    )
    rows.insert(db, auth)
    detail = {
        "authorization_id": auth.id,
        "member_id": member.id,
        "text_version": text_version,
        "channel": str(channel),
        "witnessed_by_staff_id": witnessed_by_staff_id,
    }
    add_event(
        db, case, action="authorization_signed", now=now, actor_label=f"household via {channel}", data=detail
    )
    audit.record(
        db=db,
        actor=f"household:{channel}",
        action="authorization.sign",
        entity="case",
        entity_id=case.id,
        area_code=case.area_code,
        detail=detail,
        now=now,
    )
    return auth


def _record_member_id(
    db: Session, household: Household, member: Member, id_enc: str, id_hash: str, birth: date | None
) -> None:
    """First time a member's ID is known (at signature): keep it, and on the household for the head; the birth
    date is then the number's (one typed at the door without it gives way, as cases.members has it). Refused
    when the number is another member's, here or in another household, or another household's head."""
    holder = db.scalar(select(Member.household_id).where(Member.id_hash == id_hash, Member.id != member.id))
    if holder == household.id:  # one person, once in the household
        raise IntakeError("signer_id_mismatch", "the ID number is another member's of this household")
    if holder is not None or db.scalar(select(Household.id).where(Household.id_hash == id_hash,
                                                                   Household.id != household.id)):
        raise IntakeError("id_number_belongs_to_another_household",  # one person in one household
                          "this ID number is on record in another household")
    member.id_number_enc, member.id_hash = id_enc, id_hash
    member.birth_date = birth or member.birth_date
    if member.is_head and household.id_hash is None:
        household.id_number_enc, household.id_hash = id_enc, id_hash


def withdraw_authorization(
    *,
    db: Session,
    authorization: Authorization,
    channel: Channel,
    message_ref: str | None,
    contact_id: int | None,
    now: datetime,
    note: str | None = None,
) -> Authorization:
    """Withdraw consent: a new WITHDRAW record pointing at the signature (the original stays)."""
    if authorization.kind != AuthorizationKind.SIGN:
        raise IntakeError("not_a_signature", "only a signature can be withdrawn")
    already = db.scalar(select(Authorization.id).where(Authorization.withdraws_id == authorization.id))
    if already is not None:
        raise IntakeError("already_withdrawn", "this signature was already withdrawn")
    record = Authorization(
        case_id=authorization.case_id,
        household_id=authorization.household_id,
        member_id=authorization.member_id,
        kind=AuthorizationKind.WITHDRAW,
        withdraws_id=authorization.id,
        text_version=authorization.text_version,
        text_sha256=authorization.text_sha256,
        signer_name=authorization.signer_name,
        signer_id_enc=authorization.signer_id_enc,
        signer_id_hash=authorization.signer_id_hash,
        channel=channel,
        message_ref=message_ref,
        contact_id=contact_id,
        signed_at=now,
    )
    db.add(record)
    db.flush()
    case = db.get(Case, authorization.case_id)
    assert case is not None
    detail = {"authorization_id": record.id, "withdraws_id": authorization.id, "channel": str(channel)}
    add_event(
        db,
        case,
        action="authorization_withdrawn",
        now=now,
        actor_label=f"household via {channel}",
        note=note,
        data=detail,
    )
    audit.record(
        db=db,
        actor=f"household:{channel}",
        action="authorization.withdraw",
        entity="case",
        entity_id=case.id,
        area_code=case.area_code,
        detail=detail,
        now=now,
    )
    return record


def consent_to_withdraw(*, db: Session, case: Case, contact_id: int) -> list[Authorization]:
    """The signatures this identity may withdraw on the case: those given from it, else the head's (a
    linked identity speaks for the head). Refused unless it is the household's own linked identity."""
    contact = db.get(Contact, contact_id)
    if contact is None or contact.staff_id is not None or contact.household_id != case.household_id:
        raise IntakeError("not_linked", "only the household's own linked identity can withdraw its consent")
    if case.status not in OPEN_STATUSES:
        raise IntakeError("case_closed", "the case is closed")
    active = active_signatures(db=db, case=case)
    targets = [a for a in active if a.contact_id == contact_id]
    if not targets:
        household = db.get(Household, case.household_id)
        head = head_member(household) if household is not None else None
        targets = [a for a in active if head is not None and a.member_id == head.id]
    if not targets:
        raise IntakeError("nothing_signed", "no signature on this case that this identity can withdraw")
    return targets


def withdraw_household_consent(
    *,
    db: Session,
    case: Case,
    contact_id: int,
    channel: Channel,
    message_ref: str | None,
    now: datetime,
    notifier: Notifier,
) -> list[Authorization]:
    """The household, from its own linked identity, withdraws its annex 1 consent on an open case: each
    signature of `consent_to_withdraw` gets a new WITHDRAW record, the contact cadre is told, and the case
    waits for a new signature."""
    targets = consent_to_withdraw(db=db, case=case, contact_id=contact_id)
    records = [
        withdraw_authorization(
            db=db, authorization=a, channel=channel, message_ref=message_ref, contact_id=contact_id, now=now
        )
        for a in targets
    ]
    case.updated_at = now
    notify_cadre(db, case, notifier, "authorization_withdrawn")
    return records


def has_withdrawal(*, db: Session, case: Case) -> bool:
    """Whether a signature on this case was ever withdrawn."""
    return (
        db.scalar(
            select(Authorization.id)
            .where(Authorization.case_id == case.id, Authorization.kind == AuthorizationKind.WITHDRAW)
            .limit(1)
        )
        is not None
    )


def signature_gaps(*, db: Session, vault: Vault | None, case: Case) -> list[str]:
    """Who must still sign, where it matters now: on an applied case, or an open one whose consent was
    withdrawn (later steps were signed once; a withdrawal makes the signature pending again)."""
    status = case.status
    if status == CaseStatus.APPLIED or (status in OPEN_STATUSES and has_withdrawal(db=db, case=case)):
        return pending_signatures(db=db, vault=vault, case=case)
    return []


def required_signers(*, db: Session, case: Case, on: date | None = None) -> list[Member]:
    """Who must sign annex 1: the head alone, or every adult member (regional setting `signers`)."""
    from cases.regions import SIGNERS_ALL_ADULTS, RegionSettingMissing, setting_for, year_of

    household = db.get(Household, case.household_id)
    assert household is not None
    ensure_head_member(db, household)
    members = sorted(household.members, key=lambda m: (not m.is_head, m.id))
    if len(members) == 1 and members[0].is_head:
        return members  # the head alone signs under either setting: it need not be read
    on = on or case.opened_at.astimezone(BEIJING).date()
    try:
        signers = setting_for(db, case.area_code, year_of(case.opened_at)).signers
    except RegionSettingMissing:
        signers = "applicant"
    if signers != SIGNERS_ALL_ADULTS:
        return [m for m in members if m.is_head][:1]
    # A member whose birth date is unknown is asked to sign too: better one signature too many.
    return [m for m in members if m.is_head or m.birth_date is None or age_on(m.birth_date, on) >= ADULT_AGE]


def pending_signatures(*, db: Session, vault: Vault | None, case: Case, on: date | None = None) -> list[str]:
    """Names of the people whose annex 1 signature this case still lacks (head first)."""
    signed = {a.member_id for a in active_signatures(db=db, case=case)}
    return [m.name for m in required_signers(db=db, case=case, on=on) if m.id not in signed]
