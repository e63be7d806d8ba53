"""Workflow rules not walked by the happy paths: refusal with a reason at every step and the review (复核)
that follows, objections during the elimination notice, and the region's own notice length and income line."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from cases import workflow
from cases.clock import FrozenClock
from cases.errors import WorkflowError
from cases.models import Case, CaseEvent, CaseStatus, RegionSetting, Staff
from cases.notify import RecordingNotifier
from tests.cases.conftest import COUNTY, World
from tests.cases.test_cases_elimination import elim_verify, propose, to_county
from tests.cases.test_cases_workflow import open_case, poor_visit, to_monitored, verify

REASON = "家庭人均纯收入超过监测范围"


def advance_to(
    world: World, case: Case, notifier: RecordingNotifier, clock: FrozenClock, status: str
) -> None:
    """Walk the identification steps until the case reaches `status`."""
    db, steps = world.db, [CaseStatus.APPLIED]
    if status == steps[-1]:
        return
    verify(world, case, notifier, clock)
    if status == CaseStatus.VERIFIED:
        return
    workflow.village_review(
        db=db, case=case, actor=world.village_staff, now=clock(), note=None, notifier=notifier
    )
    if status == CaseStatus.PUBLIC_NOTICE:
        return
    clock.advance(days=7)
    workflow.conclude_notice(
        db=db, case=case, actor=world.village_staff, now=clock(), note=None, notifier=notifier
    )
    if status == CaseStatus.TOWNSHIP_REVIEW:
        return
    workflow.township_review(
        db=db, case=case, actor=world.township, now=clock(), note=None, notifier=notifier
    )
    assert case.status == status == CaseStatus.COUNTY_REVIEW


def refuser(world: World, status: str) -> Staff:
    return {
        CaseStatus.APPLIED: world.village_staff,
        CaseStatus.VERIFIED: world.village_staff,
        CaseStatus.PUBLIC_NOTICE: world.cadre,
        CaseStatus.TOWNSHIP_REVIEW: world.township,
        CaseStatus.COUNTY_REVIEW: world.county,
    }[CaseStatus(status)]


@pytest.mark.parametrize(
    ("status", "review_returns_to"),
    [
        ("applied", "applied"),
        ("verified", "verified"),
        ("public_notice", "verified"),  # a new village review and a new 7-day notice
        ("township_review", "township_review"),
        ("county_review", "county_review"),
    ],
)
def test_refusal_with_a_reason_at_every_step_then_review(
    world: World, notifier: RecordingNotifier, clock: FrozenClock, status: str, review_returns_to: str
) -> None:
    db = world.db
    case = open_case(world, notifier)
    advance_to(world, case, notifier, clock, status)
    assert "refuse" in workflow.allowed_actions(case, refuser(world, status), now=clock())
    workflow.refuse(
        db=db,
        case=case,
        actor=refuser(world, status),
        now=clock(),
        note=None,
        notifier=notifier,
        reason=REASON,
    )
    db.commit()
    assert (case.status, case.refused_at_status, case.refused_reason) == ("refused", status, REASON)
    told = [p for kind, _, event, p in notifier.sent if kind == "household" and p.get("status") == "refused"]
    assert told == [{"case_number": case.number, "status": "refused", "action": "refused", "reason": REASON}]
    event = db.scalars(select(CaseEvent).where(CaseEvent.action == "refused")).one()
    assert event.from_status == status and event.data["reason"] == REASON
    # 复核: the household asks by SMS; the case reopens where it was refused
    clock.advance(days=1)
    workflow.request_review(
        db=db, case=case, now=clock(), note="家里情况没变", notifier=notifier, channel="sms"
    )
    db.commit()
    assert case.status == review_returns_to and case.closed_at is None and case.refused_reason is None
    if review_returns_to == CaseStatus.VERIFIED:
        assert case.notice_start is None and case.notice_end is None
    review = db.scalars(select(CaseEvent).where(CaseEvent.action == "review_requested")).one()
    assert review.data["refused_reason"] == REASON and review.actor_label == "household via sms"
    with pytest.raises(WorkflowError) as err:  # only a refused case can be reviewed
        workflow.request_review(db=db, case=case, now=clock(), note=None, notifier=notifier, channel="sms")
    assert err.value.reason == "illegal_step"


@pytest.mark.parametrize(
    "status", ["applied", "verified", "public_notice", "township_review", "county_review"]
)
def test_no_refusal_without_a_reason_at_any_step(
    world: World, notifier: RecordingNotifier, clock: FrozenClock, status: str
) -> None:
    case = open_case(world, notifier)
    advance_to(world, case, notifier, clock, status)
    with pytest.raises(WorkflowError) as err:
        workflow.refuse(
            db=world.db,
            case=case,
            actor=refuser(world, status),
            now=clock(),
            note=None,
            notifier=notifier,
            reason=" ",
        )
    assert err.value.reason == "reason_required" and case.status == status


@pytest.mark.parametrize(
    "step", ["elim_proposed", "elim_verified", "elim_notice", "elim_township", "elim_county"]
)
def test_elimination_refused_at_every_step_returns_to_monitoring(
    world: World, notifier: RecordingNotifier, clock: FrozenClock, step: str
) -> None:
    db = world.db
    case = open_case(world, notifier)
    to_monitored(world, case, notifier, clock)
    propose(world, case, notifier, clock)
    actor = world.village_staff
    if step != "elim_proposed":
        elim_verify(world, case, notifier, clock)
    if step not in ("elim_proposed", "elim_verified"):
        workflow.village_review(db=db, case=case, actor=actor, now=clock(), note=None, notifier=notifier)
    if step in ("elim_township", "elim_county"):
        clock.advance(days=7)
        workflow.conclude_notice(db=db, case=case, actor=actor, now=clock(), note=None, notifier=notifier)
        actor = world.township
    if step == "elim_county":
        workflow.township_review(db=db, case=case, actor=actor, now=clock(), note=None, notifier=notifier)
        actor = world.county
    assert case.status == step
    workflow.refuse(
        db=db, case=case, actor=actor, now=clock(), note=None, notifier=notifier, reason="收入不稳定"
    )
    assert case.status == CaseStatus.MONITORED and case.category == 2 and case.elimination_mode is None
    event = db.scalars(select(CaseEvent).where(CaseEvent.action == "elimination_refused")).one()
    assert event.data == {"reason": "收入不稳定", "at": step}


def test_objection_during_the_elimination_notice(
    world: World, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    db = world.db
    case = open_case(world, notifier)
    to_monitored(world, case, notifier, clock)
    propose(world, case, notifier, clock)
    elim_verify(world, case, notifier, clock)
    workflow.village_review(
        db=db, case=case, actor=world.village_staff, now=clock(), note=None, notifier=notifier
    )
    objection = workflow.raise_objection(
        db=db,
        case=case,
        actor=world.cadre,
        now=clock(),
        note=None,
        notifier=notifier,
        raised_by="邻居",
        content="他家老人还在住院，负担重",
    )
    clock.advance(days=8)
    with pytest.raises(WorkflowError) as err:
        workflow.conclude_notice(
            db=db, case=case, actor=world.village_staff, now=clock(), note=None, notifier=notifier
        )
    assert err.value.reason == "objection_open"
    workflow.resolve_objection(
        db=db,
        case=case,
        actor=world.village_staff,
        now=clock(),
        note=None,
        notifier=notifier,
        objection_id=objection.id,
        upheld=True,
        resolution="核实仍有大额医疗支出",
    )
    assert case.status == CaseStatus.MONITORED and case.elimination_mode is None
    assert objection.status == "upheld" and objection.resolved_by_staff_id == world.village_staff.id


def test_notice_length_is_the_regions_setting(
    world: World, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    world.db.add(RegionSetting(area_code=COUNTY, year=2026, income_line=D("6500"), notice_days=10))
    world.db.flush()
    case = open_case(world, notifier)
    advance_to(world, case, notifier, clock, CaseStatus.PUBLIC_NOTICE)
    assert case.notice_start is not None and case.notice_end == case.notice_start + timedelta(days=9)
    clock.advance(days=9)  # the tenth day: still running
    with pytest.raises(WorkflowError) as err:
        workflow.conclude_notice(
            db=world.db, case=case, actor=world.village_staff, now=clock(), note=None, notifier=notifier
        )
    assert err.value.reason == "notice_running"
    clock.advance(days=1)
    workflow.conclude_notice(
        db=world.db, case=case, actor=world.village_staff, now=clock(), note=None, notifier=notifier
    )
    assert case.status == CaseStatus.TOWNSHIP_REVIEW


@pytest.mark.parametrize(("line", "category"), [(None, 2), (D("5000"), 3), (D("2000"), None)])
def test_category_follows_the_regions_line_for_the_visit_year(
    world: World, notifier: RecordingNotifier, clock: FrozenClock, line: D | None, category: int | None
) -> None:
    """The visit's A34 is 5,275 and A38 2,025 (hand-computed in poor_visit): within Hunan's 6,500 -> 2;
    above a line of 5,000 but A38 within -> 3; both above a line of 2,000 -> nothing suggested."""
    if line is not None:
        world.db.add(RegionSetting(area_code=COUNTY, year=clock().year, income_line=line))
        world.db.flush()
    case = open_case(world, notifier)
    visit = workflow.record_home_visit(
        db=world.db,
        case=case,
        actor=world.cadre,
        now=clock(),
        note=None,
        notifier=notifier,
        visit=poor_visit(clock().date()),
        verifier_ids=[world.cadre.id, world.village_staff.id],
    )
    assert visit.suggested_category == category


@pytest.mark.parametrize("change", ["labour", "floor"])
def test_county_rechecks_the_elimination_rules_at_approval(
    world: World, notifier: RecordingNotifier, clock: FrozenClock, change: str
) -> None:
    """Between the elimination visit and the county's approval the household lost its labour capacity, or
    the region raised its floor above the household's 6,000 per capita: the county cannot approve."""
    from cases.models import Household

    db = world.db
    case = open_case(world, notifier)
    to_monitored(world, case, notifier, clock)
    propose(world, case, notifier, clock)
    elim_verify(world, case, notifier, clock)  # 6,000 per capita, labour capacity
    to_county(world, case, notifier, clock)
    if change == "labour":
        household = db.get(Household, case.household_id)
        assert household is not None
        household.has_labour_capacity = False
    else:
        db.add(
            RegionSetting(
                area_code=COUNTY, year=clock().year, income_line=D("7000"), elimination_floor=D("6500")
            )
        )
        db.flush()
    with pytest.raises(WorkflowError) as err:
        workflow.county_approve(
            db=db, case=case, actor=world.county, now=clock(), note=None, notifier=notifier
        )
    assert err.value.reason == {"labour": "no_labour_capacity", "floor": "below_elimination_floor"}[change]
    assert case.status == CaseStatus.ELIM_COUNTY
