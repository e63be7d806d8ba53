"""Risk elimination (its own five steps and rules), assignment, measures and evaluations."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from cases import workflow
from cases.clock import FrozenClock
from cases.errors import WorkflowError
from cases.intake import current_assignment
from cases.models import Assignment, Case, CaseStatus, Household, Measure, Task, TaskStatus
from cases.notify import RecordingNotifier
from cases.workflow import VisitInput
from tests.cases.conftest import World
from tests.cases.test_cases_workflow import open_case, to_monitored


def elim_visit(clock: FrozenClock, **kw: object) -> VisitInput:
    """Hand-computed: (20000 + 4000) / 4 = 6000 per capita, above the 5,000 floor."""
    base: dict[str, object] = dict(
        visited_on=clock().date(),
        household_size=4,
        a28_wages=D("20000"),
        a31_transfer_income=D("4000"),
        has_labour_capacity=True,
        household_signed=True,
    )
    base.update(kw)
    return VisitInput(**base)  # type: ignore[arg-type]


@pytest.fixture
def monitored(world: World, notifier: RecordingNotifier, clock: FrozenClock) -> Case:
    case = open_case(world, notifier)
    to_monitored(world, case, notifier, clock)
    clock.advance(days=90)
    return case


def propose(
    world: World, case: Case, notifier: RecordingNotifier, clock: FrozenClock, mode: str = "assistance"
) -> None:
    workflow.propose_elimination(
        db=world.db,
        case=case,
        actor=world.village_staff,
        now=clock(),
        note="研判",
        notifier=notifier,
        mode=mode,
    )


def elim_verify(
    world: World, case: Case, notifier: RecordingNotifier, clock: FrozenClock, **kw: object
) -> None:
    workflow.record_home_visit(
        db=world.db,
        case=case,
        actor=world.cadre,
        now=clock(),
        note=None,
        notifier=notifier,
        visit=elim_visit(clock, **kw),
        verifier_ids=[world.cadre.id, world.township.id],
    )


def to_county(world: World, case: Case, notifier: RecordingNotifier, clock: FrozenClock) -> None:
    """From a verified case (identification or elimination): village review, the 7-day notice, township."""
    db = world.db
    workflow.village_review(
        db=db, case=case, actor=world.village_staff, now=clock(), note=None, notifier=notifier
    )
    clock.advance(days=7)
    workflow.conclude_notice(
        db=db, case=case, actor=world.village_staff, now=clock(), note=None, notifier=notifier
    )
    workflow.township_review(
        db=db, case=case, actor=world.township, now=clock(), note=None, notifier=notifier
    )


def test_full_elimination_path(
    world: World, monitored: Case, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    db, case = world.db, monitored
    propose(world, case, notifier, clock, mode="natural")
    assert case.status == CaseStatus.ELIM_PROPOSED and case.elimination_mode == "natural"
    elim_verify(world, case, notifier, clock)
    assert case.status == CaseStatus.ELIM_VERIFIED
    workflow.village_review(
        db=db, case=case, actor=world.village_staff, now=clock(), note=None, notifier=notifier
    )
    assert case.status == CaseStatus.ELIM_NOTICE and case.notice_end == case.notice_start + timedelta(days=6)  # type: ignore[operator]
    clock.advance(days=3)
    with pytest.raises(WorkflowError) as err:
        workflow.conclude_notice(
            db=db, case=case, actor=world.village_staff, now=clock(), note=None, notifier=notifier
        )
    assert err.value.reason == "notice_running"
    clock.advance(days=4)
    workflow.conclude_notice(
        db=db, case=case, actor=world.village_staff, now=clock(), note=None, notifier=notifier
    )
    workflow.township_review(
        db=db, case=case, actor=world.township, now=clock(), note=None, notifier=notifier
    )
    assert case.status == CaseStatus.ELIM_COUNTY
    workflow.county_approve(
        db=db, case=case, actor=world.county, now=clock(), note="标识风险消除", notifier=notifier
    )
    db.commit()
    assert case.status == CaseStatus.ELIMINATED and case.closed_at == clock() and case.category == 2


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"household_signed": False}, "household_signature_missing"),
        ({"has_labour_capacity": False}, "no_labour_capacity"),
        ({"a28_wages": D("15996"), "a31_transfer_income": D("0")}, "below_elimination_floor"),  # 3999 each
        ({"verifier_ids": "one"}, "too_few_verifiers"),
    ],
)
def test_elimination_visit_rules(
    world: World,
    monitored: Case,
    notifier: RecordingNotifier,
    clock: FrozenClock,
    kw: dict[str, object],
    reason: str,
) -> None:
    propose(world, monitored, notifier, clock)
    kw = dict(kw)  # parameters are shared between the two backends
    verifiers = [world.cadre.id] if kw.pop("verifier_ids", None) else [world.cadre.id, world.township.id]
    with pytest.raises(WorkflowError) as err:
        workflow.record_home_visit(
            db=world.db,
            case=monitored,
            actor=world.cadre,
            now=clock(),
            note=None,
            notifier=notifier,
            visit=elim_visit(clock, **kw),
            verifier_ids=verifiers,
        )
    assert err.value.reason == reason
    assert monitored.status == CaseStatus.ELIM_PROPOSED


def test_floor_is_exactly_5000(
    world: World, monitored: Case, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    propose(world, monitored, notifier, clock)
    with pytest.raises(WorkflowError):
        elim_verify(world, monitored, notifier, clock, a28_wages=D("15999.96"), a31_transfer_income=D("4000"))
    elim_verify(world, monitored, notifier, clock, a28_wages=D("16000"), a31_transfer_income=D("4000"))
    assert monitored.status == CaseStatus.ELIM_VERIFIED


def test_no_proposal_without_labour_capacity_or_below_floor(
    world: World, monitored: Case, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    # the identification visit found 5,275 per capita: above the floor, so a proposal is possible
    assert "propose_elimination" in workflow.allowed_actions(monitored, world.village_staff, now=clock())
    household = world.db.get(Household, monitored.household_id)
    assert household is not None
    household.has_labour_capacity = False
    with pytest.raises(WorkflowError) as err:
        propose(world, monitored, notifier, clock)
    assert err.value.reason == "no_labour_capacity"
    assert "propose_elimination" not in workflow.allowed_actions(monitored, world.village_staff, now=clock())
    with pytest.raises(WorkflowError) as err:
        propose(world, monitored, notifier, clock, mode="quick")
    assert err.value.reason == "unknown_elimination_mode"
    with pytest.raises(WorkflowError) as err:
        workflow.propose_elimination(
            db=world.db,
            case=monitored,
            actor=world.cadre2,
            now=clock(),
            note=None,
            notifier=notifier,
            mode="assistance",
        )
    assert err.value.reason == "no_labour_capacity"


def test_proposal_refused_when_last_income_is_below_floor(
    world: World, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    from tests.cases.test_cases_workflow import poor_visit

    db = world.db
    case = open_case(world, notifier)
    workflow.record_home_visit(
        db=db,
        case=case,
        actor=world.cadre,
        now=clock(),
        note=None,
        notifier=notifier,
        visit=poor_visit(clock().date(), a28_wages=D("2000")),  # 2,775 per capita
        verifier_ids=[world.cadre.id, world.village_staff.id],
    )
    to_county(world, case, notifier, clock)
    workflow.county_approve(db=db, case=case, actor=world.county, now=clock(), note=None, notifier=notifier)
    with pytest.raises(WorkflowError) as err:
        propose(world, case, notifier, clock)
    assert err.value.reason == "below_elimination_floor"


def test_elimination_refusal_returns_to_monitoring(
    world: World, monitored: Case, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    propose(world, monitored, notifier, clock)
    elim_verify(world, monitored, notifier, clock)
    workflow.village_review(
        db=world.db, case=monitored, actor=world.village_staff, now=clock(), note=None, notifier=notifier
    )
    clock.advance(days=7)
    workflow.conclude_notice(
        db=world.db, case=monitored, actor=world.village_staff, now=clock(), note=None, notifier=notifier
    )
    workflow.refuse(
        db=world.db,
        case=monitored,
        actor=world.township,
        now=clock(),
        note=None,
        notifier=notifier,
        reason="收入不稳定",
    )
    assert monitored.status == CaseStatus.MONITORED and monitored.elimination_mode is None
    assert monitored.refused_reason is None and monitored.closed_at is None


def test_reassignment_moves_open_tasks_and_tells_both(
    world: World, monitored: Case, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    db = world.db
    old = current_assignment(db, monitored)
    assert old is not None and old.staff_id == world.cadre.id
    open_task = Task(
        case_id=monitored.id,
        kind="evaluation",
        cycle="2026Q2",
        assignee_staff_id=world.cadre.id,
        due_at=clock(),
        created_at=clock(),
    )
    done_task = Task(
        case_id=monitored.id,
        kind="verify",
        assignee_staff_id=world.cadre.id,
        due_at=clock(),
        status=TaskStatus.DONE,
        created_at=clock(),
    )
    db.add_all([open_task, done_task])
    db.flush()
    with pytest.raises(WorkflowError) as err:
        workflow.assign(
            db=db,
            case=monitored,
            actor=world.cadre,
            now=clock(),
            note=None,
            notifier=notifier,
            staff_id=world.cadre2.id,
        )
    assert err.value.reason == "role_not_allowed"
    with pytest.raises(WorkflowError) as err:
        workflow.assign(
            db=db,
            case=monitored,
            actor=world.township,
            now=clock(),
            note=None,
            notifier=notifier,
            staff_id=world.other_cadre.id,
        )
    assert err.value.reason == "assignee_out_of_area"
    new = workflow.assign(
        db=db,
        case=monitored,
        actor=world.township,
        now=clock(),
        note="调动",
        notifier=notifier,
        staff_id=world.cadre2.id,
    )
    db.commit()
    assert (
        old.ended_at == clock()
        and new.staff_id == world.cadre2.id
        and new.assigned_by_staff_id == world.township.id
    )
    assert open_task.assignee_staff_id == world.cadre2.id and done_task.assignee_staff_id == world.cadre.id
    assert ("staff", world.cadre2.id, "case_assigned") in notifier.events()
    told = next(p for _k, who, e, p in notifier.sent if e == "case_assigned" and who == world.cadre2.id)
    assert told["village"] and told["head_name_masked"] and told["due_at"]  # the notice reads in full
    assert ("staff", world.cadre.id, "case_unassigned") in notifier.events()
    assert len(db.scalars(select(Assignment).where(Assignment.ended_at.is_(None))).all()) == 1
    with pytest.raises(WorkflowError) as err:
        workflow.assign(
            db=db,
            case=monitored,
            actor=world.township,
            now=clock(),
            note=None,
            notifier=notifier,
            staff_id=world.cadre2.id,
        )
    assert err.value.reason == "already_assigned"


def test_reassign_all_of_a_transferred_cadre(
    world: World, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    db = world.db
    a = open_case(world, notifier)
    b = open_case(world, notifier, id_number="430421199203041529")
    owners = {current_assignment(db, c).staff_id for c in (a, b)}  # type: ignore[union-attr]
    assert owners == {world.cadre.id, world.cadre2.id}
    moved = workflow.reassign_all(
        db=db, from_staff=world.cadre, actor=world.village_staff, now=clock(), note="调离", notifier=notifier
    )
    assert [m.staff_id for m in moved] == [world.cadre2.id]
    assert {current_assignment(db, c).staff_id for c in (a, b)} == {world.cadre2.id}  # type: ignore[union-attr]


def test_measures_and_evaluations(
    world: World, monitored: Case, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    db = world.db
    m = workflow.add_measure(
        db=db,
        case=monitored,
        actor=world.cadre,
        now=clock(),
        code="A45",
        sub_code="03",
        description="医疗救助 3000 元",
        amount=D("3000"),
    )
    water = workflow.add_measure(
        db=db, case=monitored, actor=world.cadre, now=clock(), code="A44", sub_code=None
    )
    assert (m.code, m.sub_code, m.amount) == ("A45", "03", D("3000.00")) and water.sub_code == "01"
    for code, sub, reason in (
        ("A53", "01", "unknown_measure"),
        ("A39", "09", "unknown_measure_sub_code"),
        ("A39", None, "unknown_measure_sub_code"),
    ):
        with pytest.raises(WorkflowError) as err:
            workflow.add_measure(
                db=db, case=monitored, actor=world.cadre, now=clock(), code=code, sub_code=sub
            )
        assert err.value.reason == reason
    with pytest.raises(WorkflowError) as err:
        workflow.add_measure(
            db=db, case=monitored, actor=world.hotline, now=clock(), code="A39", sub_code="01"
        )
    assert err.value.reason == "role_not_allowed"
    evaluation = workflow.record_evaluation(
        db=db, case=monitored, actor=world.cadre, now=clock(), result="医疗费用已报销，收入稳定"
    )
    db.commit()
    assert evaluation.evaluated_on == clock().date()
    assert len(db.scalars(select(Measure)).all()) == 2
    with pytest.raises(WorkflowError):
        workflow.record_evaluation(db=db, case=monitored, actor=world.cadre, now=clock(), result=" ")
    fresh = open_case(world, notifier, id_number="430421199203041529")
    with pytest.raises(WorkflowError) as err:
        workflow.add_measure(db=db, case=fresh, actor=world.cadre, now=clock(), code="A39", sub_code="01")
    assert err.value.reason == "illegal_step"
