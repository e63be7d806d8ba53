"""The identification workflow of domain/README.md, rule by rule, on both backends."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from cases import annex1, workflow
from cases.clock import FrozenClock
from cases.errors import WorkflowError
from cases.intake import ReportDraft, sign_authorization, submit_report
from cases.models import AuditEntry, Case, CaseEvent, CaseStatus, Channel, ReporterKind, Role
from cases.notify import RecordingNotifier
from cases.status import status_summary
from cases.workflow import VisitInput
from tests.cases.conftest import TOWNSHIP2, VILLAGE, World

HEAD_ID = "430421199001013458"


def open_case(
    world: World, notifier: RecordingNotifier, *, sign: bool = True, id_number: str = HEAD_ID
) -> Case:
    draft = ReportDraft(
        channel=Channel.SMS,
        reporter_kind=ReporterKind.SELF,
        raw_text="老伴生病住院",
        risks=["01"],
        head_name="张三",
        id_number=id_number,
        village_code=VILLAGE,
        household_size=4,
    )
    case = submit_report(db=world.db, vault=world.vault, draft=draft, now=world.now, notifier=notifier).case
    if sign:
        sign_authorization(
            db=world.db,
            vault=world.vault,
            case=case,
            signer_name="张三",
            signer_id_number=id_number,
            channel=Channel.SMS,
            message_ref="sms-1",
            contact_id=None,
            now=world.now,
            text_version=annex1.CURRENT_VERSION,
        )
    world.db.commit()
    return case


def poor_visit(on: date, **kw: object) -> VisitInput:
    """Hand-computed: (12000 + 8000 + 500 + 3600 - 3000) / 4 = 5275 per capita, within 6,500 -> category 2."""
    base: dict[str, object] = dict(
        visited_on=on,
        household_size=4,
        a27_risks=["01"],
        a28_wages=D("12000"),
        a29_business_income=D("8000"),
        a30_property_income=D("500"),
        a31_transfer_income=D("3600"),
        a32_business_expenses=D("3000"),
        a35_insurance_payouts=D("2000"),
        a36_compliant_spending=D("15000"),
        has_labour_capacity=True,
    )
    base.update(kw)
    return VisitInput(**base)  # type: ignore[arg-type]


def verify(world: World, case: Case, notifier: RecordingNotifier, clock: FrozenClock) -> None:
    workflow.record_home_visit(
        db=world.db,
        case=case,
        actor=world.cadre,
        now=clock(),
        note="看了病历",
        notifier=notifier,
        visit=poor_visit(clock().date()),
        verifier_ids=[world.cadre.id, world.village_staff.id],
    )


def to_notice(world: World, case: Case, notifier: RecordingNotifier, clock: FrozenClock) -> None:
    verify(world, case, notifier, clock)
    workflow.village_review(
        db=world.db, case=case, actor=world.village_staff, now=clock(), note="评议通过", notifier=notifier
    )


def to_monitored(world: World, case: Case, notifier: RecordingNotifier, clock: FrozenClock) -> None:
    to_notice(world, case, notifier, clock)
    clock.advance(days=7)
    workflow.conclude_notice(
        db=world.db, case=case, actor=world.village_staff, now=clock(), note=None, notifier=notifier
    )
    workflow.township_review(
        db=world.db, case=case, actor=world.township, now=clock(), note="同意", notifier=notifier
    )
    workflow.county_approve(
        db=world.db, case=case, actor=world.county, now=clock(), note="审定", notifier=notifier
    )


def test_full_identification_path(world: World, notifier: RecordingNotifier, clock: FrozenClock) -> None:
    db = world.db
    case = open_case(world, notifier)
    to_notice(world, case, notifier, clock)
    assert case.status == CaseStatus.PUBLIC_NOTICE
    assert (case.notice_start, case.notice_end) == (date(2026, 3, 2), date(2026, 3, 8))  # 7 calendar days
    clock.advance(days=6)  # 2026-03-08, the notice's last day
    with pytest.raises(WorkflowError) as err:
        workflow.conclude_notice(
            db=db, case=case, actor=world.village_staff, now=clock(), note=None, notifier=notifier
        )
    assert err.value.reason == "notice_running"
    clock.advance(days=1)
    workflow.conclude_notice(
        db=db, case=case, actor=world.village_staff, now=clock(), note=None, notifier=notifier
    )
    workflow.township_review(
        db=db, case=case, actor=world.township, now=clock(), note="同意", notifier=notifier
    )
    assert case.status == CaseStatus.COUNTY_REVIEW
    workflow.county_approve(db=db, case=case, actor=world.county, now=clock(), note="审定", notifier=notifier)
    db.commit()
    assert case.status == CaseStatus.MONITORED and case.category == 2 and case.monitored_at == clock()
    events = db.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)).all()
    steps = [(e.action, e.to_status) for e in events if e.to_status]
    assert steps == [
        ("case_opened", "applied"),
        ("home_verified", "verified"),
        ("village_reviewed", "public_notice"),
        ("notice_concluded", "township_review"),
        ("township_reviewed", "county_review"),
        ("county_approved", "monitored"),
    ]
    approved = events[-1]
    assert approved.actor_staff_id == world.county.id and approved.note == "审定" and approved.at == clock()
    assert approved.actor_label == "周九 (county)"
    audits = {a.action for a in db.scalars(select(AuditEntry))}
    assert {"case.home_verified", "case.village_reviewed", "case.county_approved"} <= audits
    told = [p["status"] for k, _, e, p in notifier.sent if k == "household" and e == "case_status_changed"]
    assert told == ["verified", "public_notice", "township_review", "county_review", "monitored"]
    (notice,) = [p for _k, _, e, p in notifier.sent
                 if e == "case_status_changed" and p["status"] == "public_notice"]
    (reviewed,) = [e for e in events if e.action == "village_reviewed"]
    assert notice["notice_end"] == reviewed.data["notice_end"]  # the household is told until when
    summary = status_summary(db, case, vault=world.vault)
    assert summary.status == "monitored" and summary.steps_done == 5 and summary.category == 2


def test_visit_records_annex2_income(world: World, notifier: RecordingNotifier, clock: FrozenClock) -> None:
    case = open_case(world, notifier)
    visit = workflow.record_home_visit(
        db=world.db,
        case=case,
        actor=world.village_staff,
        now=clock(),
        note=None,
        notifier=notifier,
        visit=poor_visit(date(2026, 3, 1), a23_housing_unsafe=True),
        verifier_ids=[world.cadre.id, world.township.id],
    )
    world.db.commit()
    assert (visit.a33_net_income, visit.a34_per_capita) == (D("21100.00"), D("5275.00"))
    assert (visit.a37_adjusted_income, visit.a38_adjusted_per_capita) == (D("8100.00"), D("2025.00"))
    assert (visit.income_period_start, visit.income_period_end) == (date(2025, 3, 1), date(2026, 2, 28))
    assert visit.suggested_category == 2 and {v.staff_id for v in visit.verifiers} == {
        world.cadre.id,
        world.township.id,
    }
    assert case.guarantees == ["A23"]


@pytest.mark.parametrize(
    ("who", "reason"),
    [
        (lambda w: [w.cadre.id], "too_few_verifiers"),
        (lambda w: [w.cadre.id, w.cadre.id], "too_few_verifiers"),
        (lambda w: [w.cadre.id, w.other_cadre.id], "verifier_out_of_area"),
        (lambda w: [w.cadre.id, w.hotline.id], "verifier_role"),
        (lambda w: [w.cadre.id, 99999], "unknown_verifier"),
    ],
)
def test_home_verification_needs_two_distinct_staff(
    world: World, notifier: RecordingNotifier, clock: FrozenClock, who: object, reason: str
) -> None:
    case = open_case(world, notifier)
    with pytest.raises(WorkflowError) as err:
        workflow.record_home_visit(
            db=world.db,
            case=case,
            actor=world.cadre,
            now=clock(),
            note=None,
            notifier=notifier,
            visit=poor_visit(clock().date()),
            verifier_ids=who(world),
        )  # type: ignore[operator]
    assert err.value.reason == reason
    assert case.status == CaseStatus.APPLIED


def test_no_verification_before_the_signature(
    world: World, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    case = open_case(world, notifier, sign=False)
    assert "record_home_visit" not in workflow.allowed_actions(case, world.cadre, now=clock())
    with pytest.raises(WorkflowError) as err:
        verify(world, case, notifier, clock)
    assert err.value.reason == "signature_pending"


def test_visit_date_cannot_be_in_the_future(
    world: World, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    case = open_case(world, notifier)
    with pytest.raises(WorkflowError) as err:
        workflow.record_home_visit(
            db=world.db,
            case=case,
            actor=world.cadre,
            now=clock(),
            note=None,
            notifier=notifier,
            visit=poor_visit(clock().date() + timedelta(days=1)),
            verifier_ids=[world.cadre.id, world.village_staff.id],
        )
    assert err.value.reason == "visit_in_future"


def test_roles_and_areas(world: World, notifier: RecordingNotifier, clock: FrozenClock) -> None:
    db = world.db
    case = open_case(world, notifier)
    with pytest.raises(WorkflowError) as err:
        workflow.record_home_visit(
            db=db,
            case=case,
            actor=world.hotline,
            now=clock(),
            note=None,
            notifier=notifier,
            visit=poor_visit(clock().date()),
            verifier_ids=[world.cadre.id, world.cadre2.id],
        )
    assert err.value.reason == "role_not_allowed"
    to_notice(world, case, notifier, clock)
    clock.advance(days=7)
    workflow.conclude_notice(db=db, case=case, actor=world.cadre, now=clock(), note=None, notifier=notifier)
    for actor in (world.cadre, world.village_staff, world.county):
        with pytest.raises(WorkflowError) as err:
            workflow.township_review(db=db, case=case, actor=actor, now=clock(), note=None, notifier=notifier)
        assert err.value.reason == "role_not_allowed"
    other_township = world.staff("town2", Role.TOWNSHIP, TOWNSHIP2, "冯二")
    with pytest.raises(WorkflowError) as err:
        workflow.township_review(
            db=db, case=case, actor=other_township, now=clock(), note=None, notifier=notifier
        )
    assert err.value.reason == "out_of_area"
    world.township.active = False
    with pytest.raises(WorkflowError) as err:
        workflow.township_review(
            db=db, case=case, actor=world.township, now=clock(), note=None, notifier=notifier
        )
    assert err.value.reason == "inactive_staff"
    world.township.active = True
    workflow.township_review(
        db=db, case=case, actor=world.township, now=clock(), note=None, notifier=notifier
    )
    with pytest.raises(WorkflowError) as err:
        workflow.county_approve(
            db=db, case=case, actor=world.township, now=clock(), note=None, notifier=notifier
        )
    assert err.value.reason == "role_not_allowed"
    with pytest.raises(WorkflowError) as err:  # illegal step: village review again
        workflow.village_review(
            db=db, case=case, actor=world.village_staff, now=clock(), note=None, notifier=notifier
        )
    assert err.value.reason == "illegal_step"
    with pytest.raises(WorkflowError) as err:
        workflow.county_approve(
            db=db, case=case, actor=world.county, now=clock(), note=None, notifier=notifier, category=4
        )
    assert err.value.reason == "category_required"
    workflow.county_approve(
        db=db, case=case, actor=world.county, now=clock(), note=None, notifier=notifier, category=3
    )
    assert case.category == 3


def test_objections_block_until_investigated(
    world: World, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    db = world.db
    case = open_case(world, notifier)
    with pytest.raises(WorkflowError) as err:  # no objection outside a notice
        workflow.raise_objection(
            db=db,
            case=case,
            actor=world.village_staff,
            now=clock(),
            note=None,
            notifier=notifier,
            raised_by="村民",
            content="他家有车",
        )
    assert err.value.reason == "illegal_step"
    to_notice(world, case, notifier, clock)
    clock.advance(days=2)
    objection = workflow.raise_objection(
        db=db,
        case=case,
        actor=world.village_staff,
        now=clock(),
        note="电话反映",
        notifier=notifier,
        raised_by="同组村民",
        content="他家新买了小车",
    )
    assert ("staff", world.cadre.id, "objection_raised") in notifier.events()
    assert status_summary(db, case).next_step == "objection_investigation"
    clock.advance(days=10)
    with pytest.raises(WorkflowError) as err:
        workflow.conclude_notice(
            db=db, case=case, actor=world.village_staff, now=clock(), note=None, notifier=notifier
        )
    assert err.value.reason == "objection_open"
    assert "conclude_notice" not in workflow.allowed_actions(case, world.village_staff, now=clock())
    assert "resolve_objection" in workflow.allowed_actions(case, world.village_staff, now=clock())
    workflow.resolve_objection(
        db=db,
        case=case,
        actor=world.village_staff,
        now=clock(),
        note=None,
        notifier=notifier,
        objection_id=objection.id,
        upheld=False,
        resolution="车是儿子单位的，核实符合条件",
    )
    with pytest.raises(WorkflowError) as err:
        workflow.resolve_objection(
            db=db,
            case=case,
            actor=world.village_staff,
            now=clock(),
            note=None,
            notifier=notifier,
            objection_id=objection.id,
            upheld=True,
            resolution="x",
        )
    assert err.value.reason == "no_open_objection"
    workflow.conclude_notice(
        db=db, case=case, actor=world.village_staff, now=clock(), note=None, notifier=notifier
    )
    assert case.status == CaseStatus.TOWNSHIP_REVIEW and objection.status == "dismissed"


def test_upheld_objection_refuses(world: World, notifier: RecordingNotifier, clock: FrozenClock) -> None:
    db = world.db
    case = open_case(world, notifier)
    to_notice(world, case, notifier, clock)
    objection = workflow.raise_objection(
        db=db,
        case=case,
        actor=world.cadre,
        now=clock(),
        note=None,
        notifier=notifier,
        raised_by="村民",
        content="在城里有房",
    )
    workflow.resolve_objection(
        db=db,
        case=case,
        actor=world.township,
        now=clock(),
        note=None,
        notifier=notifier,
        objection_id=objection.id,
        upheld=True,
        resolution="核实在县城有商品房",
    )
    db.commit()
    assert case.status == CaseStatus.REFUSED and case.refused_at_status == "public_notice"
    assert case.refused_reason == "objection upheld: 核实在县城有商品房"
    told = [p for k, _, e, p in notifier.sent if k == "household" and p.get("status") == "refused"]
    assert told and told[0]["reason"] == case.refused_reason
    summary = status_summary(db, case)
    assert summary.next_step == "may_request_review" and summary.refused_reason == case.refused_reason
    # 复核: a refusal at the notice goes back to a new village review and notice
    workflow.request_review(
        db=db, case=case, now=clock(), note="家里房子是亲戚的", notifier=notifier, channel="sms"
    )
    assert case.status == CaseStatus.VERIFIED and case.notice_end is None and case.closed_at is None
    assert ("staff", world.cadre.id, "review_requested") in notifier.events()


def test_refusal_needs_a_reason_and_the_responsible_level(
    world: World, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    db = world.db
    case = open_case(world, notifier)
    to_monitored_until_township(world, case, notifier, clock)
    with pytest.raises(WorkflowError) as err:
        workflow.refuse(
            db=db, case=case, actor=world.township, now=clock(), note=None, notifier=notifier, reason="  "
        )
    assert err.value.reason == "reason_required"
    with pytest.raises(WorkflowError) as err:
        workflow.refuse(
            db=db,
            case=case,
            actor=world.village_staff,
            now=clock(),
            note=None,
            notifier=notifier,
            reason="不符合",
        )
    assert err.value.reason == "role_not_allowed"
    workflow.refuse(
        db=db,
        case=case,
        actor=world.township,
        now=clock(),
        note="审核",
        notifier=notifier,
        reason="家庭人均纯收入超过监测范围",
    )
    assert case.status == CaseStatus.REFUSED and case.closed_at == clock()
    assert workflow.allowed_actions(case, world.county, now=clock()) == []
    workflow.request_review(
        db=db, case=case, now=clock(), note=None, notifier=notifier, actor=world.hotline, channel="hotline"
    )
    assert case.status == CaseStatus.TOWNSHIP_REVIEW


def to_monitored_until_township(
    world: World, case: Case, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    to_notice(world, case, notifier, clock)
    clock.advance(days=7)
    workflow.conclude_notice(
        db=world.db, case=case, actor=world.village_staff, now=clock(), note=None, notifier=notifier
    )


def test_review_refused_while_another_case_is_open(
    world: World, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    db = world.db
    case = open_case(world, notifier)
    workflow.refuse(
        db=db,
        case=case,
        actor=world.village_staff,
        now=clock(),
        note=None,
        notifier=notifier,
        reason="材料不全",
    )
    again = open_case(world, notifier, sign=False)  # a new report opens a new case after the refusal
    assert again.id != case.id
    with pytest.raises(WorkflowError) as err:
        workflow.request_review(db=db, case=case, now=clock(), note=None, notifier=notifier, channel="wechat")
    assert err.value.reason == "household_has_open_case"


def test_household_withdrawal(world: World, notifier: RecordingNotifier, clock: FrozenClock) -> None:
    db = world.db
    case = open_case(world, notifier)
    verify(world, case, notifier, clock)
    workflow.withdraw(db=db, case=case, now=clock(), note="孩子寄钱回来了", notifier=notifier, channel="sms")
    db.commit()
    assert case.status == CaseStatus.WITHDRAWN and case.closed_at == clock()
    assert (
        db.scalars(select(CaseEvent).where(CaseEvent.action == "withdrawn")).one().actor_label
        == "household via sms"
    )
    assert ("staff", world.cadre.id, "case_withdrawn") in notifier.events()
    with pytest.raises(WorkflowError):
        workflow.withdraw(db=db, case=case, now=clock(), note=None, notifier=notifier, channel="sms")
    other = open_case(world, notifier)
    to_monitored(world, other, notifier, clock)
    with pytest.raises(WorkflowError) as err:
        workflow.withdraw(db=db, case=other, now=clock(), note=None, notifier=notifier, channel="sms")
    assert err.value.reason == "illegal_step"


def test_allowed_actions_follow_role_and_status(
    world: World, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    case = open_case(world, notifier)
    assert workflow.allowed_actions(case, world.cadre, now=clock()) == [
        "record_home_visit",
        "refuse",
        "withdraw",
    ]
    assert set(workflow.allowed_actions(case, world.village_staff, now=clock())) == {
        "record_home_visit",
        "refuse",
        "withdraw",
        "assign",
    }
    assert workflow.allowed_actions(case, world.county, now=clock()) == ["assign"]
    assert workflow.allowed_actions(case, world.other_cadre, now=clock()) == []
    to_notice(world, case, notifier, clock)
    assert "conclude_notice" not in workflow.allowed_actions(case, world.village_staff, now=clock())
    assert "raise_objection" in workflow.allowed_actions(case, world.hotline, now=clock())
    clock.advance(days=7)
    assert "conclude_notice" in workflow.allowed_actions(case, world.village_staff, now=clock())
