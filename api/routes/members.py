"""A household's members over REST (annex 2, A5-A17): field staff add them at or after the home visit and
record their details as they learn them."""

from __future__ import annotations

from fastapi import APIRouter

from api import schemas, views
from api.deps import CaseDep, CurrentStaff, NowDep, SessionDep, VaultDep
from api.errors import not_found, responses
from cases import members
from cases.members import DETAILS

router = APIRouter(prefix="/api/cases/{number}/members", tags=["workflow"])
ERRORS = responses(401, 404, 409, 422)


@router.post("", response_model=schemas.HouseholdOut, status_code=201, responses=ERRORS)
def add_member(
    body: schemas.MemberIn, case: CaseDep, staff: CurrentStaff, db: SessionDep, vault: VaultDep, now: NowDep
) -> schemas.HouseholdOut:
    """Record a member with the ID number, or without one the birth date, and A9-A17 as far as known (409
    `member_in_other_household` when the ID number is on record in another household, `member_exists` in
    this one; 422 `unknown_ethnicity` ... for a code not in its table); answers the household with its
    members, ID numbers masked."""
    members.record_member(
        db=db, vault=vault, case=case, actor=staff, now=now, name=body.name, relation_code=body.relation_code,
        id_number=body.id_number, birth_date=body.birth_date, note=body.note,
        details=body.model_dump(include=set(DETAILS)),
    )
    db.commit()
    return views.case_household_out(db, case, vault)


@router.post("/{member_id}", response_model=schemas.HouseholdOut, responses=ERRORS)
def update_member(
    member_id: int,
    body: schemas.MemberEditIn,
    case: CaseDep,
    staff: CurrentStaff,
    db: SessionDep,
    vault: VaultDep,
    now: NowDep,
) -> schemas.HouseholdOut:
    """Record a member's A9-A17 as they become known (the head's too): only the fields sent change, null
    makes one unknown again; `birth_date` only for a member without an ID number (422
    `birth_date_from_id`). Correct the `name`, `relation_code` or `id_number` typed wrong: the ID number
    checked (422 `invalid_id_number`), the birth date then its; 409 `member_in_other_household`,
    `member_exists` (in this household), `member_signed_annex1` (the name or ID number of one who signed
    annex 1), `head_relation_fixed`. The head's name and ID number are the household's too. On the timeline
    and in the audit log by the items' names, never their values."""
    changes = body.model_dump(include=body.model_fields_set - {"note"})
    try:
        members.update_member(db=db, vault=vault, case=case, actor=staff, now=now, member_id=member_id,
                              changes=changes, note=body.note)
    except LookupError as exc:
        raise not_found("member") from exc
    db.commit()
    return views.case_household_out(db, case, vault)


@router.post("/{member_id}/remove", response_model=schemas.HouseholdOut, responses=ERRORS)
def remove_member(
    member_id: int,
    body: schemas.MemberRemoveIn,
    case: CaseDep,
    staff: CurrentStaff,
    db: SessionDep,
    vault: VaultDep,
    now: NowDep,
) -> schemas.HouseholdOut:
    """Take a member off (not the head, nor one whose annex 1 signature is on record), with the reason."""
    try:
        members.remove_member(db=db, case=case, actor=staff, now=now, member_id=member_id, reason=body.reason)
    except LookupError as exc:
        raise not_found("member") from exc
    db.commit()
    return views.case_household_out(db, case, vault)
