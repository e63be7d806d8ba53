"""A household's members (annex 2, A5-A17) as field staff record them at or after the home visit.

One person belongs to one household (家庭成员原则上以公安部门户籍人口为准): an ID number already on
record in another household, as its head or a member, is refused until that household is corrected (a
split household, 分户, is recorded there first). Where the region has every adult sign annex 1
(`signers = all_adults`), the members recorded here are the people whose signatures the case waits for.
A member's details (A9-A17) are each unknown until recorded; A26 is generated from the members' A17.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import ColumnElement, exists, or_, select, update
from sqlalchemy.orm import Session

from cases.clock import BEIJING
from cases.codes import MEMBER_CODED_FIELDS, MEMBER_RELATIONS, NO, RELATION_HEAD, WORK_MONTHS_MAX, YES
from cases.crypto import Vault, mask_text
from cases.errors import IntakeError, WorkflowError
from cases.ids import check_id, written_name
from cases.intake import add_member, ensure_head_member
from cases.models import OPEN_STATUSES, Authorization, Case, Household, Member, Report, Staff
from cases.steps import VERIFIER_ROLES, log_step, require_staff, require_status

MEMBER_ROLES = VERIFIER_ROLES  # who visits the household records who lives in it
MAX_NAME = 64  # members.name
MAX_PLACE = 64  # members.a15_work_place
DETAILS = (  # A9-A17 in the form's order (the coded ones in cases.codes.MEMBER_CODED_FIELDS)
    "a9_ethnicity", "a10_political_status", "a11_education", "a12_schooling", "a13_health",
    "a14_labour_skill", "a15_work_area", "a15_work_place", "a16_work_months", "a17_medical_insurance",
)
EARLIEST_BIRTH = date(1900, 1, 1)
Value = str | Decimal | date | None


def record_member(
    *,
    db: Session,
    vault: Vault,
    case: Case,
    actor: Staff,
    now: datetime,
    name: str,
    relation_code: str,
    id_number: str | None,
    birth_date: date | None = None,
    details: Mapping[str, Value] | None = None,
    note: str | None = None,
) -> Member:
    """Add a member to the case's household (an open case): the ID number, as annex 2's A7, or without one
    the birth date; A9-A17 as far as they are known."""
    require_status(case, OPEN_STATUSES, "recording a household member")
    require_staff(db, case, actor, MEMBER_ROLES, "recording a household member")
    if relation_code == RELATION_HEAD:
        raise WorkflowError("head_exists", "the household's head is on record already; add the other members")
    if relation_code not in MEMBER_RELATIONS:
        raise IntakeError("unknown_relation", f"{relation_code} is not an A8 relation code")
    if not name.strip():
        raise IntakeError("name_required", "the member's name is required")
    if len(name.strip()) > MAX_NAME:
        raise IntakeError("name_too_long", f"a name has at most {MAX_NAME} characters")
    today = now.astimezone(BEIJING).date()
    facts = check_details(details or {})
    id_hash: str | None = None
    normalized: str | None = None
    born = birth_date  # the ID number's, when given
    if id_number and id_number.strip():
        check = check_id(id_number, today=today)
        if not check.valid or check.normalized is None:
            raise IntakeError("invalid_id_number", f"ID number refused ({check.reason})")
        if birth_date is not None and birth_date != check.birth_date:
            raise IntakeError("birth_date_mismatch", "the birth date is not the ID number's")
        normalized, id_hash, born = check.normalized, vault.lookup_hash(check.normalized), check.birth_date
    elif birth_date is None:
        raise IntakeError("id_or_birth_date_required", "the ID number, or without one the birth date")
    else:
        check_birth_date(birth_date, today)
    household = db.get(Household, case.household_id)
    assert household is not None
    ensure_head_member(db, household)
    if id_hash is not None and any(m.id_hash == id_hash for m in household.members):
        raise WorkflowError("member_exists", "this ID number is already a member of this household")
    written = written_name(name)  # as add_member keeps it
    if any(m.birth_date == born and m.name == written for m in household.members
           if id_hash is None or m.id_hash is None):  # one recorded by the birth date is given the number
        raise WorkflowError("member_exists", "a member of this name and birth date is on record already")
    if id_hash is not None and _elsewhere(db, id_hash, household.id):
        raise WorkflowError(
            "member_in_other_household",
            "this ID number is on record in another household: correct that household first (分户)",
        )
    member = add_member(
        db=db,
        vault=vault,
        household=household,
        name=name,
        relation=MEMBER_RELATIONS[relation_code],
        id_number=normalized,
        birth_date=birth_date,
    )
    for column, value in facts.items():
        setattr(member, column, value)
    filled = [column for column in DETAILS if facts.get(column) is not None]
    data: dict[str, object] = {"member_id": member.id, "relation": relation_code}
    if filled:
        data["fields"] = filled  # which items, never their values
    log_step(db, case, action="member_added", now=now, actor=actor, note=mask_text(note) or None, data=data)
    return member


def update_member(
    *,
    db: Session,
    vault: Vault,
    case: Case,
    actor: Staff,
    now: datetime,
    member_id: int,
    changes: Mapping[str, Value],
    note: str | None = None,
) -> Member:
    """Record a member's A9-A17 (None: not known), or the birth date of one without an ID number, or correct
    the A5 name, A8 relation or A7 ID number typed wrong (IDENTITY); only the items given change, and a change
    is on the timeline and in the audit log by its items' names."""
    require_status(case, OPEN_STATUSES, "updating a household member")
    require_staff(db, case, actor, MEMBER_ROLES, "updating a household member")
    member = db.get(Member, member_id)
    if member is None or member.household_id != case.household_id:
        raise LookupError("member")
    household = member.household
    today = now.astimezone(BEIJING).date()
    wanted: dict[str, object] = dict(check_details({k: v for k, v in changes.items()
                                                    if k not in ("birth_date", *IDENTITY)}))
    wanted.update(_identity(vault, member, changes, today))
    new_id = wanted.get("id_number")
    if isinstance(new_id, Identity) and new_id.id_hash == member.id_hash:  # the number on record typed again
        del wanted["id_number"]
        new_id = None
    if "birth_date" in changes:
        born = changes["birth_date"]
        if born is not None and not isinstance(born, date):
            raise IntakeError("bad_birth_date", "the birth date is not a date")
        if isinstance(new_id, Identity):
            if born != new_id.birth_date:
                raise IntakeError("birth_date_mismatch", "the birth date is not the new ID number's")
        elif member.id_number_enc is not None:
            if born != check_id(vault.decrypt(member.id_number_enc)).birth_date:
                raise IntakeError("birth_date_from_id", "the birth date is the ID number's")
        elif born is None:
            raise IntakeError("id_or_birth_date_required", "a member without an ID number keeps a birth date")
        else:
            check_birth_date(born, today)
            wanted["birth_date"] = born
    if isinstance(new_id, Identity):
        wanted["birth_date"] = new_id.birth_date  # the birth date follows the ID number
    changed = [c for c in FIELDS if c in wanted and _current(member, c) != _compared(wanted[c])]
    if not changed:
        return member
    if {"name", "id_number"} & set(changed):
        _refuse_if_signed(db, member)
    if isinstance(new_id, Identity) and "id_number" in changed:
        _refuse_if_taken(db, household, member, new_id.id_hash)
    elif member.id_hash is None and {"name", "birth_date"} & set(changed):
        _refuse_if_twin(household, member, wanted.get("name", member.name), wanted.get("birth_date"))
    for column in changed:
        _apply(vault, household, member, column, wanted[column])
    if member.is_head and {"name", "id_number"} & set(changed):
        _correct_reports(db, case, household, changed)
    db.flush()
    log_step(db, case, action="member_updated", now=now, actor=actor, note=mask_text(note) or None,
             data={"member_id": member.id, "fields": changed})
    return member


IDENTITY = ("name", "relation_code", "id_number")  # A5, A8, A7: corrected, never made unknown
FIELDS = ("name", "relation", "id_number", *DETAILS, "birth_date")  # the items a change names, in this order


@dataclass(frozen=True)
class Identity:
    """A member's corrected ID number: as kept (encrypted, hashed) and the birth date it gives."""

    normalized: str
    id_hash: str
    birth_date: date | None


def _identity(vault: Vault, member: Member, changes: Mapping[str, Value], today: date) -> dict[str, object]:
    """The name, relation (as the form writes it) and ID number a correction gives, each checked as a new
    member's is; refused with the reason when one is missing or not valid."""
    out: dict[str, object] = {}
    if "name" in changes:
        name = changes["name"]
        written = written_name(name) if isinstance(name, str) else ""
        if not written:
            raise IntakeError("name_required", "the member's name is required")
        if len(written) > MAX_NAME:
            raise IntakeError("name_too_long", f"a name has at most {MAX_NAME} characters")
        out["name"] = written
    if "relation_code" in changes:
        code = changes["relation_code"]
        if member.is_head:
            if code != RELATION_HEAD:
                raise WorkflowError("head_relation_fixed", "the head's relation is 01: no other head here")
        elif code == RELATION_HEAD:
            raise WorkflowError("head_exists", "the household's head is on record already")
        elif not isinstance(code, str) or code not in MEMBER_RELATIONS:
            raise IntakeError("unknown_relation", f"{code} is not an A8 relation code")
        else:
            out["relation"] = MEMBER_RELATIONS[code]
    if "id_number" in changes:
        raw = changes["id_number"]
        if not isinstance(raw, str) or not raw.strip():
            if member.id_number_enc is not None:
                raise IntakeError("id_number_required", "an ID number on record is corrected, not taken away")
        else:
            check = check_id(raw, today=today)
            if not check.valid or check.normalized is None:
                raise IntakeError("invalid_id_number", f"ID number refused ({check.reason})")
            normalized = check.normalized
            out["id_number"] = Identity(normalized, vault.lookup_hash(normalized), check.birth_date)
    return out


def _current(member: Member, column: str) -> object:
    return member.id_hash if column == "id_number" else getattr(member, column)


def _compared(value: object) -> object:
    return value.id_hash if isinstance(value, Identity) else value


def _apply(vault: Vault, household: Household, member: Member, column: str, value: object) -> None:
    """One changed item on the member; the head's name and ID number on the household record too."""
    if isinstance(value, Identity):
        member.id_number_enc, member.id_hash = vault.encrypt(value.normalized), value.id_hash
        if member.is_head:
            household.id_number_enc, household.id_hash = member.id_number_enc, member.id_hash
        return
    setattr(member, column, value)
    if column == "name" and member.is_head:
        household.head_name = member.name


def _correct_reports(db: Session, case: Case, household: Household, changed: list[str]) -> None:
    """The head's corrected name and ID number in the case's reports that fill annex 1 (the latest one
    carrying the household's facts fills it: cases.annex1_text.report_of_case), so the application a member
    is shown to sign names the head as the record now does. None of them was signed on a shown text (the
    head's name and number are refused a change then: _refuse_if_signed), so no signature's text changes."""
    values = ({"head_name": household.head_name} if "name" in changed else {}) | (
        {"id_number_enc": household.id_number_enc} if "id_number" in changed else {})
    db.execute(update(Report).where(Report.case_id == case.id, Report.head_name.is_not(None)).values(values)
               .execution_options(synchronize_session="fetch"))


def _refuse_if_signed(db: Session, member: Member) -> None:
    """A signature is to a name and an ID number: not those of a member who signed annex 1, nor the head's
    once anyone in the household signed an annex 1 shown in full (the text names the head; written from a
    report or from the household record, it is verified by writing it again: cases.annex1_text.rebuild)."""
    signed: ColumnElement[bool] = exists().where(Authorization.member_id == member.id)
    if member.is_head:
        signed = or_(signed, exists().where(
            Authorization.household_id == member.household_id,
            Authorization.shown_sha256.is_not(None),
        ))
    if db.scalar(select(signed)):
        raise WorkflowError(
            "member_signed_annex1", "annex 1 was signed with this name and ID number: they cannot be changed"
        )


def _refuse_if_twin(household: Household, member: Member, name: object, born: object) -> None:
    """A member without an ID number is told apart by the name and birth date (as record_member does)."""
    born = born if born is not None else member.birth_date
    if any(m.id != member.id and m.name == name and m.birth_date == born for m in household.members):
        raise WorkflowError("member_exists", "a member of this name and birth date is on record already")


def _refuse_if_taken(db: Session, household: Household, member: Member, id_hash: str) -> None:
    """One person in one household, and once in it."""
    if (household.id_hash == id_hash and not member.is_head) or any(
        m.id != member.id and m.id_hash == id_hash for m in household.members
    ):
        raise WorkflowError("member_exists", "this ID number is already a member of this household")
    if _elsewhere(db, id_hash, household.id):
        raise WorkflowError(
            "member_in_other_household",
            "this ID number is on record in another household: correct that household first (分户)",
        )


def check_details(details: Mapping[str, Value]) -> dict[str, Value]:
    """A9-A17 as they are kept: a code of the item's table, A16 as months 0-12 in tenths, A15's place in
    words (an ID or phone number typed in it masked, as in any free text); an empty value is not known (None).
    Refused with a reason that names the item."""
    unknown = set(details) - set(DETAILS)
    if unknown:
        raise ValueError(f"not a member detail: {sorted(unknown)}")
    out: dict[str, Value] = {}
    for field in MEMBER_CODED_FIELDS:
        if field.column in details:
            code = details[field.column]
            code = code.strip() if isinstance(code, str) else code
            if code and (not isinstance(code, str) or code not in field.codes):
                reason = "unknown_" + field.column.split("_", 1)[1]
                raise IntakeError(reason, f"not an {field.number} {field.name} code")
            out[field.column] = code or None
    if "a15_work_place" in details:
        place = details["a15_work_place"]
        place = place.strip() if isinstance(place, str) else None
        if place and len(place) > MAX_PLACE:
            raise IntakeError("work_place_too_long", f"the place of work has at most {MAX_PLACE} characters")
        out["a15_work_place"] = mask_text(place) or None  # free text: a number typed in it is kept masked
    if "a16_work_months" in details:
        out["a16_work_months"] = work_months(details["a16_work_months"])
    return out


def work_months(value: Value) -> Decimal | None:
    """A16 务工时间: months worked in the year, 0-12, a half month as .5 (附件6 12); None when not known."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        months = Decimal(value.strip() if isinstance(value, str) else str(value))
    except (InvalidOperation, ValueError, TypeError):
        months = Decimal("NaN")
    tenth = Decimal("0.1")
    if not months.is_finite() or not 0 <= months <= WORK_MONTHS_MAX or months != months.quantize(tenth):
        raise IntakeError("bad_work_months", f"A16 is months from 0 to {WORK_MONTHS_MAX}, in tenths")
    return months.quantize(tenth)


def check_birth_date(born: date, today: date) -> None:
    if born > today:
        raise IntakeError("birth_date_in_future", "the birth date is in the future")
    if born < EARLIEST_BIRTH:
        raise IntakeError("bad_birth_date", "the birth date is not plausible")


def a26_from_members(members: Iterable[Member]) -> str | None:
    """A26 generated from the members' A17 (附件6 22): 01 是 when a member has not joined basic medical
    insurance, 02 否 when every member has; None (not known) while one's A17 is unknown and none is 否."""
    answers = [m.a17_medical_insurance for m in members]
    if NO in answers:
        return YES
    if answers and all(a == YES for a in answers):
        return NO
    return None


def remove_member(
    *, db: Session, case: Case, actor: Staff, now: datetime, member_id: int, reason: str
) -> None:
    """Take a member off the household (recorded in error, moved out, 分户); not the head, and not one whose
    annex 1 signature is on record (that evidence stays with the person who gave it)."""
    require_status(case, OPEN_STATUSES, "removing a household member")
    require_staff(db, case, actor, MEMBER_ROLES, "removing a household member")
    if not reason.strip():
        raise IntakeError("reason_required", "say why the member is taken off")
    member = db.get(Member, member_id)
    if member is None or member.household_id != case.household_id:
        raise LookupError("member")
    if member.is_head:
        raise WorkflowError("head_cannot_be_removed", "the head of the household cannot be removed")
    if db.scalar(select(exists().where(Authorization.member_id == member.id))):
        raise WorkflowError("member_signed", "this member signed annex 1: the signature stays on record")
    relation = next((code for code, words in MEMBER_RELATIONS.items() if words == member.relation), None)
    db.delete(member)
    db.flush()
    log_step(db, case, action="member_removed", now=now, actor=actor, note=mask_text(reason),
             data={"member_id": member_id, "relation": relation})


def _elsewhere(db: Session, id_hash: str, household_id: int) -> bool:
    """Whether the ID is another household's head or member (one indexed look-up each)."""
    return bool(db.scalar(select(
        or_(
            exists().where(Member.id_hash == id_hash, Member.household_id != household_id),
            exists().where(Household.id_hash == id_hash, Household.id != household_id),
        )
    )))
