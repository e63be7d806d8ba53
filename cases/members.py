"""A household's members (annex 2, A5-A8) as field staff record them at or after the home visit.

One person belongs to one household (家庭成员原则上以公安部门户籍人口为准): an ID number already on
record in another household, as its head or a member, is refused until that household is corrected (a
split household, 分户, is recorded there first). Where the region has every adult sign annex 1
(`signers = all_adults`), the members recorded here are the people whose signatures the case waits for.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from cases.clock import BEIJING
from cases.codes import MEMBER_RELATIONS, RELATION_HEAD
from cases.crypto import Vault, mask_text
from cases.errors import IntakeError, WorkflowError
from cases.ids import check_id
from cases.intake import add_member, ensure_head_member
from cases.models import OPEN_STATUSES, Authorization, Case, Household, Member, Staff
from cases.steps import VERIFIER_ROLES, log_step, require_staff, require_status

MEMBER_ROLES = VERIFIER_ROLES  # who visits the household records who lives in it
MAX_NAME = 64  # members.name


def record_member(
    *,
    db: Session,
    vault: Vault,
    case: Case,
    actor: Staff,
    now: datetime,
    name: str,
    relation_code: str,
    id_number: str,
    note: str | None = None,
) -> Member:
    """Add a member to the case's household (an open case; the ID number is required, as annex 2's A7)."""
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
    check = check_id(id_number, today=now.astimezone(BEIJING).date())
    if not check.valid or check.normalized is None:
        raise IntakeError("invalid_id_number", f"ID number refused ({check.reason})")
    id_hash = vault.lookup_hash(check.normalized)
    household = db.get(Household, case.household_id)
    assert household is not None
    ensure_head_member(db, household)
    if any(m.id_hash == id_hash for m in household.members):
        raise WorkflowError("member_exists", "this ID number is already a member of this household")
    if _elsewhere(db, id_hash, household.id):
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
        id_number=check.normalized,
    )
    log_step(db, case, action="member_added", now=now, actor=actor, note=mask_text(note) or None,
             data={"member_id": member.id, "relation": relation_code})
    return member


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
