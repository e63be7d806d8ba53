"""Workflow steps over REST: transitions, home visits, objections, assignment, evaluations.

Each route calls one cases function; a refused step (cases.errors.WorkflowError) answers 409 with its reason.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api import schemas, views
from api.deps import CaseDep, CurrentStaff, NotifierDep, NowDep, SessionDep, VaultDep
from api.errors import ApiError, responses
from api.routes.cases import FieldStaff
from cases import annex1, assignments, visits, workflow
from cases.intake import sign_authorization
from cases.models import Channel, Evaluation

router = APIRouter(prefix="/api/cases/{number}", tags=["workflow"])
STEP_ERRORS = responses(401, 404, 409, 422)


@router.post("/actions/{action}", response_model=schemas.CaseDetail, responses=STEP_ERRORS)
def take_action(
    action: schemas.WorkflowAction,
    body: schemas.ActionIn,
    case: CaseDep,
    staff: CurrentStaff,
    db: SessionDep,
    vault: VaultDep,
    notifier: NotifierDep,
    now: NowDep,
) -> schemas.CaseDetail:
    """Take one workflow step; the case's `allowed_actions` lists the steps you may take now."""
    common: dict[str, Any] = {
        "db": db,
        "case": case,
        "actor": staff,
        "now": now,
        "note": body.note,
        "notifier": notifier,
    }
    if action == "refuse":
        workflow.refuse(**common, reason=body.reason or "")
    elif action == "county_approve":
        workflow.county_approve(**common, category=body.category)
    elif action == "propose_elimination":
        if body.mode is None:
            raise ApiError(422, "mode_required", "propose_elimination needs mode: assistance or natural")
        workflow.propose_elimination(**common, mode=body.mode)
    else:
        step = {
            "village_review": workflow.village_review,
            "conclude_notice": workflow.conclude_notice,
            "township_review": workflow.township_review,
            "withdraw": workflow.withdraw,
            "request_review": workflow.request_review,
        }[action]
        step(**common)
    db.commit()
    return views.case_detail(db, case, vault, allowed_actions=workflow.allowed_actions(case, staff, now=now))


@router.post("/visits", response_model=schemas.VisitOut, status_code=201, responses=STEP_ERRORS)
def record_visit(
    body: schemas.VisitIn,
    case: CaseDep,
    staff: CurrentStaff,
    db: SessionDep,
    notifier: NotifierDep,
    now: NowDep,
) -> schemas.VisitOut:
    """入户核实: record the visit (>= 2 verifiers), compute A33-A38, and advance the case."""
    fields = body.model_dump(exclude={"verifier_ids", "note"})
    visit = visits.record_home_visit(
        db=db,
        case=case,
        actor=staff,
        now=now,
        note=body.note,
        notifier=notifier,
        visit=visits.VisitInput(**fields),
        verifier_ids=body.verifier_ids,
    )
    db.commit()
    return views.visit_out(db, visit)


@router.post("/objections", response_model=schemas.ObjectionOut, status_code=201, responses=STEP_ERRORS)
def raise_objection(
    body: schemas.ObjectionIn,
    case: CaseDep,
    staff: CurrentStaff,
    db: SessionDep,
    notifier: NotifierDep,
    now: NowDep,
) -> schemas.ObjectionOut:
    """Record an objection (异议) raised during the public notice; the case waits until it is resolved."""
    row = workflow.raise_objection(
        db=db,
        case=case,
        actor=staff,
        now=now,
        note=body.note,
        notifier=notifier,
        raised_by=body.raised_by,
        content=body.content,
    )
    db.commit()
    return views.objection_out(row)


@router.post("/objections/{objection_id}/resolve", response_model=schemas.ObjectionOut, responses=STEP_ERRORS)
def resolve_objection(
    objection_id: int,
    body: schemas.ResolveObjectionIn,
    case: CaseDep,
    staff: CurrentStaff,
    db: SessionDep,
    notifier: NotifierDep,
    now: NowDep,
) -> schemas.ObjectionOut:
    """Close an investigated objection: dismissed lets the notice conclude; upheld refuses the step."""
    row = workflow.resolve_objection(
        db=db,
        case=case,
        actor=staff,
        now=now,
        note=body.note,
        notifier=notifier,
        objection_id=objection_id,
        upheld=body.upheld,
        resolution=body.resolution,
    )
    db.commit()
    return views.objection_out(row)


@router.post("/assignment", response_model=schemas.AssignmentOut, responses=STEP_ERRORS)
def assign(
    body: schemas.AssignmentIn,
    case: CaseDep,
    staff: CurrentStaff,
    db: SessionDep,
    notifier: NotifierDep,
    now: NowDep,
) -> schemas.AssignmentOut:
    """Make a staff member the contact cadre (ends the current assignment; the history is kept)."""
    row = assignments.assign(
        db=db, case=case, actor=staff, now=now, note=body.note, notifier=notifier, staff_id=body.staff_id
    )
    db.commit()
    return views.assignment_out(db, row)


@router.post("/evaluations", response_model=schemas.EvaluationOut, status_code=201, responses=STEP_ERRORS)
def record_evaluation(
    body: schemas.EvaluationIn, case: CaseDep, staff: CurrentStaff, db: SessionDep, now: NowDep
) -> schemas.EvaluationOut:
    """Record the quarterly assistance-effect evaluation of a monitored household."""
    row: Evaluation = visits.record_evaluation(
        db=db,
        case=case,
        actor=staff,
        now=now,
        result=body.result,
        evaluated_on=body.evaluated_on,
        note=body.note,
    )
    db.commit()
    return schemas.EvaluationOut.model_validate(row, from_attributes=True)


@router.post("/signatures", response_model=schemas.AuthorizationOut, status_code=201, responses=STEP_ERRORS)
def witness_signature(
    body: schemas.SignatureIn, case: CaseDep, staff: FieldStaff, db: SessionDep, vault: VaultDep, now: NowDep
) -> schemas.AuthorizationOut:
    """Record annex 1 signed in person (current text version), with you as the witness."""
    row = sign_authorization(
        db=db,
        vault=vault,
        case=case,
        signer_name=body.signer_name,
        signer_id_number=body.signer_id_number,
        channel=Channel.CONSOLE,
        message_ref=body.message_ref,
        contact_id=None,
        now=now,
        text_version=annex1.CURRENT_VERSION,
        witnessed_by_staff_id=staff.id,
    )
    db.commit()
    return views.authorization_out(row, vault)
