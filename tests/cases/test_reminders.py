"""Reminder rules with a pinned clock: deadlines, working days, quiet hours, escalation, reassignment,
duplicates — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cases import reminders as r
from cases.clock import BEIJING
from cases.models import (
    Assignment,
    CaseStatus,
    Channel,
    Evaluation,
    Outbox,
    ReminderLog,
    Task,
    TaskStatus,
)
from tests.cases.reminder_world import OutboxNotifier, World, at_once, build_world, move


def bj(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=BEIJING)


def run(db: Session, now: datetime, notifier: OutboxNotifier | None = None,
        policy: r.ReminderPolicy | None = None) -> r.RunReport:
    notifier = notifier or OutboxNotifier()
    notifier.now = now
    return r.run_reminders(db, now, notifier, policy)


def task(db: Session, kind: str) -> Task:
    found = db.scalars(select(Task).where(Task.kind == kind).order_by(Task.id.desc())).first()
    assert found is not None, kind
    return found


def acknowledged_world(db: Session, now: datetime, *, setting: bool = True) -> World:
    """The small county, its cadre having acknowledged the case at `now` (committed)."""
    w = build_world(db, now, setting=setting)
    w.assignment.acknowledged_at = now
    db.commit()
    return w


def logs(db: Session, kind: str | None = None) -> list[ReminderLog]:
    q = select(ReminderLog).order_by(ReminderLog.id)
    if kind:
        q = q.where(ReminderLog.kind == kind)
    return list(db.scalars(q))


# --- working days ------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "days", "expected"), [
    (date(2026, 3, 2), 1, date(2026, 3, 3)),  # Monday -> Tuesday
    (date(2026, 3, 6), 1, date(2026, 3, 9)),  # Friday -> Monday
    (date(2026, 2, 13), 1, date(2026, 2, 14)),  # Friday -> the make-up Saturday before Spring Festival
    (date(2026, 2, 14), 1, date(2026, 2, 24)),  # across the 2026 Spring Festival (15-23 Feb off)
    (date(2026, 2, 27), 1, date(2026, 2, 28)),  # Friday -> the make-up Saturday after it
    (date(2026, 3, 2), 7, date(2026, 3, 11)),
    (date(2026, 2, 15), 0, date(2026, 2, 24)),  # a holiday rolls forward to the next working day
])
def test_add_workdays_follows_the_chinese_calendar(start: date, days: int, expected: date) -> None:
    assert r.add_workdays(start, days) == expected


def test_quarters() -> None:
    assert r.quarter_of(date(2026, 2, 17)) == ("2026Q1", date(2026, 1, 1), date(2026, 3, 31))
    assert r.quarter_of(date(2026, 12, 31)) == ("2026Q4", date(2026, 10, 1), date(2026, 12, 31))


def test_quiet_hours_wrap_midnight() -> None:
    policy = r.ReminderPolicy()
    assert r.in_quiet_hours(bj(2026, 3, 2, 20, 59), policy) is None
    assert r.in_quiet_hours(bj(2026, 3, 2, 21, 0), policy) == bj(2026, 3, 3, 8, 0)
    assert r.in_quiet_hours(bj(2026, 3, 3, 7, 59), policy) == bj(2026, 3, 3, 8, 0)
    assert r.in_quiet_hours(bj(2026, 3, 3, 8, 0), policy) is None
    day_quiet = r.ReminderPolicy(quiet_start=time(12), quiet_end=time(14))
    assert r.in_quiet_hours(bj(2026, 3, 3, 13, 0), day_quiet) == bj(2026, 3, 3, 14, 0)
    assert r.in_quiet_hours(bj(2026, 3, 3, 22, 0), day_quiet) is None


# --- rules -------------------------------------------------------------------------------------


def test_new_case_gets_acknowledge_and_verify_tasks_with_working_day_deadlines(db: Session) -> None:
    now = bj(2026, 2, 13, 16)  # Friday before the Spring Festival
    w = build_world(db, now)
    run(db, now)
    ack, verify = task(db, "acknowledge"), task(db, "verify")
    assert ack.assignee_staff_id == w.cadre.id and ack.cycle == f"a{w.assignment.id}"
    assert ack.due_at == bj(2026, 2, 14, 18)  # the make-up Saturday
    # 7 working days from 13 Feb: 14, 24, 25, 26, 27, 28 Feb, 2 Mar
    assert verify.due_at == bj(2026, 3, 2, 18)
    assert verify.assignee_staff_id == w.cadre.id


def test_region_setting_changes_the_deadline(db: Session) -> None:
    now = bj(2026, 3, 2)
    build_world(db, now)
    from cases.models import RegionSetting

    county_2026 = RegionSetting(area_code="430421000000", year=2026, income_line=6500, verify_days=3,
                                ack_days=2, notice_days=7, township_days=5, county_days=10,
                                evaluation_days=90, escalation_margin_days=1, assign_days=1,
                                elimination_floor=5000, signers="applicant")
    db.add(county_2026)
    db.commit()
    run(db, now)
    assert task(db, "verify").due_at == bj(2026, 3, 5, 18)
    assert task(db, "acknowledge").due_at == bj(2026, 3, 4, 18)


def test_defaults_apply_without_any_region_setting(db: Session) -> None:
    now = bj(2026, 3, 2)
    build_world(db, now, setting=False)
    run(db, now)
    assert task(db, "verify").due_at == bj(2026, 3, 11, 18)


def test_tasks_follow_the_steps_and_close_when_met(db: Session) -> None:
    now = bj(2026, 3, 2)
    w = build_world(db, now)
    run(db, now)
    w.assignment.acknowledged_at = now
    db.commit()
    later = bj(2026, 3, 4)
    move(db, w.case, CaseStatus.VERIFIED, later)
    run(db, later)
    assert task(db, "acknowledge").status == TaskStatus.DONE
    verify = task(db, "verify")
    assert verify.status == TaskStatus.DONE and verify.done_at == later
    review = task(db, "village_review")
    assert review.assignee_staff_id == w.village.id and review.status == TaskStatus.OPEN
    # public notice 5-11 March (7 days); concluding it is due the next working day after it ends
    move(db, w.case, CaseStatus.PUBLIC_NOTICE, bj(2026, 3, 5), notice_start=date(2026, 3, 5),
         notice_end=date(2026, 3, 11))
    run(db, bj(2026, 3, 5))
    assert task(db, "village_review").status == TaskStatus.DONE
    assert task(db, "notice_end").due_at == bj(2026, 3, 12, 18)
    move(db, w.case, CaseStatus.TOWNSHIP_REVIEW, bj(2026, 3, 12))
    run(db, bj(2026, 3, 12))
    township = task(db, "township")
    assert township.assignee_staff_id == w.township.id and township.due_at == bj(2026, 3, 19, 18)
    move(db, w.case, CaseStatus.COUNTY_REVIEW, bj(2026, 3, 13))
    run(db, bj(2026, 3, 13))
    assert task(db, "county").assignee_staff_id == w.county.id
    move(db, w.case, CaseStatus.REFUSED, bj(2026, 3, 16), refused_reason="收入高于监测线")
    run(db, bj(2026, 3, 16))
    assert task(db, "county").status == TaskStatus.CANCELLED
    assert db.scalar(select(func.count()).select_from(Task).where(Task.status == TaskStatus.OPEN)) == 0


def test_notice_deadline_over_a_holiday(db: Session) -> None:
    now = bj(2026, 2, 6)
    w = build_world(db, now)
    move(db, w.case, CaseStatus.PUBLIC_NOTICE, now, notice_start=date(2026, 2, 8),
         notice_end=date(2026, 2, 14))
    run(db, now)
    # ends on the make-up Saturday 14 Feb; the next working day is 24 Feb, after the Spring Festival
    assert task(db, "notice_end").due_at == bj(2026, 2, 24, 18)


def test_a_return_to_a_step_is_a_new_cycle(db: Session) -> None:
    now = bj(2026, 3, 2)
    w = build_world(db, now)
    run(db, now)
    move(db, w.case, CaseStatus.VERIFIED, bj(2026, 3, 3))
    run(db, bj(2026, 3, 3))
    move(db, w.case, CaseStatus.APPLIED, bj(2026, 3, 4))  # e.g. an upheld objection sends it back
    run(db, bj(2026, 3, 4))
    verifies = db.scalars(select(Task).where(Task.kind == "verify").order_by(Task.id)).all()
    assert [t.status for t in verifies] == [TaskStatus.DONE, TaskStatus.OPEN]
    assert verifies[1].due_at == bj(2026, 3, 13, 18)


def test_quarterly_evaluation_for_monitored_households(db: Session) -> None:
    now = bj(2026, 1, 10)
    w = build_world(db, now, status=CaseStatus.MONITORED)
    run(db, bj(2026, 2, 2))
    q1 = task(db, "evaluate")
    assert (q1.cycle, q1.due_at, q1.assignee_staff_id) == ("2026Q1", bj(2026, 3, 31, 18), w.cadre.id)
    db.add(Evaluation(case_id=w.case.id, evaluated_on=date(2026, 2, 20), staff_id=w.cadre.id,
                      result="医疗救助到位，收入稳定", created_at=bj(2026, 2, 20)))
    db.commit()
    run(db, bj(2026, 2, 21))
    assert task(db, "evaluate").status == TaskStatus.DONE
    run(db, bj(2026, 4, 1))
    q2 = task(db, "evaluate")
    assert (q2.cycle, q2.status, q2.due_at) == ("2026Q2", TaskStatus.OPEN, bj(2026, 6, 30, 18))


def test_household_monitored_late_in_a_quarter_is_evaluated_from_the_next(db: Session) -> None:
    build_world(db, bj(2026, 3, 25), status=CaseStatus.MONITORED)
    run(db, bj(2026, 3, 26))
    assert db.scalar(select(func.count()).select_from(Task).where(Task.kind == "evaluate")) == 0


def test_elimination_steps_have_follow_ups(db: Session) -> None:
    now = bj(2026, 4, 1)
    w = build_world(db, now, status=CaseStatus.MONITORED)
    w.assignment.acknowledged_at = now
    move(db, w.case, CaseStatus.ELIM_PROPOSED, now)
    run(db, now)
    assert task(db, "elim_verify").due_at == bj(2026, 4, 13, 18)  # Qingming 4-6 April off
    assert task(db, "evaluate").status == TaskStatus.OPEN  # still monitored while elimination runs
    move(db, w.case, CaseStatus.ELIM_TOWNSHIP, bj(2026, 4, 20))
    run(db, bj(2026, 4, 20))
    assert task(db, "elim_verify").status == TaskStatus.DONE
    assert task(db, "elim_township").assignee_staff_id == w.township.id
    move(db, w.case, CaseStatus.ELIMINATED, bj(2026, 4, 28))
    run(db, bj(2026, 4, 28))
    assert db.scalar(select(func.count()).select_from(Task).where(Task.status == TaskStatus.OPEN)) == 0


# --- reminders ---------------------------------------------------------------------------------


def test_due_overdue_and_escalation_are_each_sent_once(db: Session) -> None:
    now = bj(2026, 3, 2, 9)
    w = acknowledged_world(db, now)
    notifier = OutboxNotifier()
    run(db, now, notifier)
    assert logs(db, "due") == [] and logs(db, "overdue") == []
    verify = task(db, "verify")
    assert r.urgency(verify, now) == r.OK and r.colour(verify, now) == "green"
    soon = bj(2026, 3, 10, 19)  # less than 24 h before 11 March 18:00
    assert r.colour(verify, soon) == "orange"
    run(db, soon, notifier)
    run(db, soon + timedelta(minutes=5), notifier)
    assert [(x.task_id, x.staff_id) for x in logs(db, "due")] == [(verify.id, w.cadre.id)]
    late = bj(2026, 3, 11, 18, 1)
    assert r.colour(verify, late) == "red"
    run(db, late, notifier)
    run(db, late, notifier)
    assert len(logs(db, "overdue")) == 1
    assert logs(db, "escalation") == []
    # overdue by the 2-day margin: the township hears of it, once
    run(db, bj(2026, 3, 13, 18, 2), notifier)
    run(db, bj(2026, 3, 14, 9), notifier)
    esc = logs(db, "escalation")
    assert [(x.task_id, x.staff_id) for x in esc] == [(verify.id, w.township.id)]
    assert task(db, "verify").escalated_at == bj(2026, 3, 13, 18, 2)
    events = [e for _s, e, _p in notifier.events]
    assert events.count("task_due") == 1 and events.count("task_overdue") == 1
    assert events.count("task_escalated") == 1
    esc_params = next(p for _s, e, p in notifier.events if e == "task_escalated")
    assert esc_params["assignee"] == "李明" and esc_params["days_overdue"] == 2
    # each log row points at the Outbox row written with it
    for entry in logs(db):
        if entry.staff_id in (w.cadre.id, w.township.id):
            assert entry.outbox_id is not None


def test_a_case_assigned_in_the_evening_gets_no_due_soon_reminder_on_top_of_its_notice(db: Session) -> None:
    """Assigned Monday 20:00, to be acknowledged by Tuesday 18:00: already inside the 24-hour window when
    the 'case_assigned' notice goes out, so the next ticks send no 'due soon' for it (they did, minutes
    after the notice); overdue, it is reminded as any task. Assigned Monday 10:00 (due in 32 hours), the
    same task is reminded once inside the window, as before."""
    evening = bj(2026, 3, 2, 20)
    build_world(db, evening)
    notifier = OutboxNotifier()
    run(db, evening, notifier)
    run(db, evening + timedelta(minutes=5), notifier)
    ack = task(db, "acknowledge")
    assert ack.due_at == bj(2026, 3, 3, 18) and r.colour(ack, evening) == "orange"  # still orange on lists
    assert [x.task_id for x in logs(db, "due")] == []
    run(db, bj(2026, 3, 3, 18, 5), notifier)
    assert [x.task_id for x in logs(db, "overdue")] == [ack.id]


def test_a_case_assigned_in_working_hours_is_reminded_when_its_acknowledgement_is_due_soon(
    db: Session,
) -> None:
    morning = bj(2026, 3, 2, 10)
    build_world(db, morning)
    run(db, morning)
    ack = task(db, "acknowledge")
    assert ack.due_at == bj(2026, 3, 3, 18) and logs(db, "due") == []
    run(db, bj(2026, 3, 2, 18, 30))  # 23.5 hours before
    assert [x.task_id for x in logs(db, "due")] == [ack.id]


def test_escalation_margin_from_policy(db: Session) -> None:
    now = bj(2026, 3, 2, 9)
    acknowledged_world(db, now)
    run(db, bj(2026, 3, 12, 18, 30), policy=r.ReminderPolicy(escalation_margin_days=1))
    assert len(logs(db, "escalation")) == 1


def test_escalation_margin_from_settings_where_no_region_setting_gives_one(db: Session) -> None:
    now = bj(2026, 3, 2, 9)
    acknowledged_world(db, now, setting=False)
    late = bj(2026, 3, 12, 18, 30)  # the verify task is overdue by one day
    run(db, late, policy=r.ReminderPolicy(fallback_escalation_margin_days=3))
    assert logs(db, "escalation") == []
    run(db, late, policy=r.ReminderPolicy(fallback_escalation_margin_days=1))
    assert len(logs(db, "escalation")) == 1


def test_postponed_task_gets_reminded_again_for_its_new_date(db: Session) -> None:
    now = bj(2026, 3, 2, 9)
    w = acknowledged_world(db, now)
    run(db, bj(2026, 3, 11, 19))
    verify = task(db, "verify")
    assert len(logs(db, "overdue")) == 1
    r.postpone_task(db, task_id=verify.id, staff_id=w.cadre.id, days=3, reason="户主住院，出院后入户",
                    now=bj(2026, 3, 11, 19))
    db.commit()
    assert verify.due_at == bj(2026, 3, 16, 18) and verify.postponed_reason
    run(db, bj(2026, 3, 12, 9))
    assert len(logs(db, "overdue")) == 1
    run(db, bj(2026, 3, 16, 18, 5))
    assert len(logs(db, "overdue")) == 2
    with pytest.raises(r.TaskError):
        r.postpone_task(db, task_id=verify.id, staff_id=w.cadre.id, days=0, reason="x", now=bj(2026, 3, 16))
    with pytest.raises(r.TaskError):
        r.postpone_task(db, task_id=verify.id, staff_id=w.cadre2.id, days=2, reason="x", now=bj(2026, 3, 16))


def test_sms_in_quiet_hours_is_deferred_not_dropped(db: Session) -> None:
    now = bj(2026, 3, 2, 9)
    acknowledged_world(db, now)
    night = bj(2026, 3, 11, 22, 30)
    report = run(db, night)
    rows = db.scalars(select(Outbox).order_by(Outbox.id)).all()
    sms = [x for x in rows if x.channel == Channel.SMS]
    tg = [x for x in rows if x.channel == Channel.TELEGRAM]
    assert sms and tg and report.deferred_sms == len(sms)
    assert all(x.next_attempt_at == bj(2026, 3, 12, 8) for x in sms)
    assert all(x.next_attempt_at == night for x in tg)
    day = bj(2026, 3, 12, 12)
    run(db, day)  # the digest at noon: not deferred
    digest_sms = db.scalars(
        select(Outbox).where(Outbox.channel == Channel.SMS, Outbox.id > rows[-1].id)).all()
    assert digest_sms and all(x.next_attempt_at == day for x in digest_sms)


class Interleaved(OutboxNotifier):
    """Another writer's pending SMS lands in the outbox while each reminder is written. On PostgreSQL a
    webhook's reply committed meanwhile is visible to the sweep's transaction just the same."""

    def __init__(self) -> None:
        super().__init__()
        self.foreign: list[Outbox] = []

    def notify_staff(self, db: Session, *, staff_id: int, event: str, params: dict[str, Any]) -> list[Outbox]:
        row = Outbox(channel=Channel.SMS, to="+8613900000001", kind="reply", body="村民的回复", extra={},
                     next_attempt_at=self.now, created_at=self.now)
        db.add(row)
        db.flush()
        self.foreign.append(row)
        return super().notify_staff(db, staff_id=staff_id, event=event, params=params)


def test_a_reminder_takes_only_the_rows_its_notifier_wrote(db: Session) -> None:
    now = bj(2026, 3, 2, 9)
    acknowledged_world(db, now)
    notifier = Interleaved()
    night = bj(2026, 3, 11, 22, 30)
    report = run(db, night, notifier)
    assert notifier.foreign and logs(db)
    foreign = {row.id for row in notifier.foreign}
    assert all(row.next_attempt_at == night for row in notifier.foreign)  # a household's SMS goes tonight
    own_sms = db.scalars(select(Outbox).where(Outbox.kind == "reminder", Outbox.channel == Channel.SMS)).all()
    assert own_sms and report.deferred_sms == len(own_sms)
    assert all(x.next_attempt_at == bj(2026, 3, 12, 8) for x in own_sms)
    for entry in logs(db):
        assert entry.outbox_id is not None and entry.outbox_id not in foreign


def test_daily_digest_once_a_day_from_the_digest_hour(db: Session) -> None:
    now = bj(2026, 3, 2, 7)
    w = build_world(db, now)
    notifier = OutboxNotifier()
    run(db, now, notifier)
    assert logs(db, "digest") == []
    run(db, bj(2026, 3, 2, 8, 0), notifier)
    run(db, bj(2026, 3, 2, 17, 0), notifier)
    digests = [(s, p) for s, e, p in notifier.events if e == "daily_digest"]
    assert [s for s, _ in digests] == [w.cadre.id]
    assert {t["task_kind"] for t in digests[0][1]["tasks"]} == {"acknowledge", "verify"}
    assert digests[0][1]["soon"] == 0  # acknowledge is due tomorrow 18:00: more than 24 h away
    run(db, bj(2026, 3, 3, 8, 30), notifier)
    digests = [(s, p) for s, e, p in notifier.events if e == "daily_digest"]
    assert len(digests) == 2 and digests[1][1]["soon"] == 1
    assert len(logs(db, "digest")) == 2


def test_reassignment_moves_open_tasks_and_tells_both(db: Session) -> None:
    now = bj(2026, 3, 2)
    w = build_world(db, now)
    run(db, now)
    notifier = OutboxNotifier()
    later = bj(2026, 3, 3)
    w.assignment.ended_at = later
    w.assignment.reason = "调离"
    db.add(Assignment(case_id=w.case.id, staff_id=w.cadre2.id, assigned_at=later))
    moved = r.reassign_tasks(db, case_id=w.case.id, from_staff_id=w.cadre.id, to_staff_id=w.cadre2.id,
                             now=later, notifier=notifier)
    db.commit()
    assert [t.kind for t in moved] == ["verify"]
    assert [(s, e) for s, e, _p in notifier.events] == [(w.cadre.id, "tasks_moved_away"),
                                                         (w.cadre2.id, "tasks_moved_in")]
    run(db, later)
    acks = db.scalars(select(Task).where(Task.kind == "acknowledge").order_by(Task.id)).all()
    assert [(a.assignee_staff_id, a.status) for a in acks] == [
        (w.cadre.id, TaskStatus.CANCELLED), (w.cadre2.id, TaskStatus.OPEN)]
    assert acks[1].due_at == bj(2026, 3, 4, 18)
    assert task(db, "verify").assignee_staff_id == w.cadre2.id
    assert r.open_tasks_for(db, w.cadre.id) == []


def test_rules_move_tasks_to_the_new_cadre_even_without_reassign_tasks(db: Session) -> None:
    now = bj(2026, 3, 2)
    w = build_world(db, now)
    run(db, now)
    w.assignment.ended_at = bj(2026, 3, 3)
    db.add(Assignment(case_id=w.case.id, staff_id=w.cadre2.id, assigned_at=bj(2026, 3, 3)))
    db.commit()
    run(db, bj(2026, 3, 3))
    assert task(db, "verify").assignee_staff_id == w.cadre2.id
    assert {t.kind for t in r.open_tasks_for(db, w.cadre2.id)} == {"acknowledge", "verify"}


def test_complete_acknowledge_and_evaluation(db: Session) -> None:
    now = bj(2026, 2, 2)
    w = build_world(db, now, status=CaseStatus.MONITORED)
    run(db, now)
    ack = task(db, "acknowledge")
    r.complete_task(db, task_id=ack.id, staff_id=w.cadre.id, note="", now=now)
    assert db.get(Assignment, w.assignment.id).acknowledged_at == now  # type: ignore[union-attr]
    ev = task(db, "evaluate")
    with pytest.raises(r.TaskError):
        r.complete_task(db, task_id=ev.id, staff_id=w.cadre.id, note=" ", now=now)
    r.complete_task(db, task_id=ev.id, staff_id=w.cadre.id, note="帮扶措施到位", now=now)
    db.commit()
    assert db.scalar(select(Evaluation.result)) == "帮扶措施到位"
    with pytest.raises(r.TaskError):
        r.complete_task(db, task_id=ev.id, staff_id=w.cadre.id, note="again", now=now)
    run(db, bj(2026, 2, 3))
    assert task(db, "evaluate").status == TaskStatus.DONE
    assert task(db, "acknowledge").status == TaskStatus.DONE


def test_two_workers_racing_send_each_reminder_once(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as db:
        w = build_world(db, bj(2026, 3, 2, 9))
        w.assignment.acknowledged_at = bj(2026, 3, 2, 9)
        db.commit()
        run(db, bj(2026, 3, 2, 9))  # tasks exist; nothing due yet (digest aside)
    when = bj(2026, 3, 14, 9)
    _, errors = at_once(session_factory, lambda db: run(db, when))
    assert errors == [] or all("could not serialize" in str(e) or "deadlock" in str(e) for e in errors)
    with session_factory() as db:
        keys = [(x.task_id, x.kind, x.staff_id) for x in logs(db) if x.kind != "digest"]
        assert len(keys) == len(set(keys)) and ("overdue" in {k for _t, k, _s in keys})
        digests = [x.staff_id for x in logs(db, "digest") if x.due_at == datetime.combine(
            when.date(), time(8, 0), tzinfo=BEIJING)]
        assert len(digests) == len(set(digests)) == 1


# --- the sweep over every case -------------------------------------------------------------------


def test_the_sweep_commits_in_batches_so_writers_are_not_held_for_all_of_it(
    db: Session, session_factory: sessionmaker[Session]
) -> None:
    from sqlalchemy import event

    from cases.models import Case, CaseEvent, Household, ReporterKind
    from tests.cases.reminder_world import VILLAGE

    now = bj(2026, 3, 2)
    world = build_world(db, now)
    for i in range(2 * r.SYNC_BATCH + 5):
        household = Household(head_name=f"户{i}", village_code=VILLAGE, size=3, created_at=now)
        db.add(household)
        db.flush()
        case = Case(number=f"SB{i:08d}", household_id=household.id, area_code=VILLAGE,
                    status=CaseStatus.APPLIED, discovery=ReporterKind.SELF, risks=["01"], guarantees=[],
                    opened_at=now, updated_at=now)
        db.add(case)
        db.flush()
        db.add(CaseEvent(case_id=case.id, at=now, action="applied", to_status="applied", actor_label="t",
                         data={}))
        db.add(Assignment(case_id=case.id, staff_id=world.cadre.id, assigned_at=now))
    db.commit()

    visible: list[int] = []  # tasks another connection sees after each of the sweep's commits

    def look(_session: Session) -> None:
        with session_factory() as other:
            visible.append(int(other.scalar(select(func.count()).select_from(Task)) or 0))

    paused: list[float] = []  # what a background sweep sleeps between batches: each batch's own time
    event.listen(db, "after_commit", look)
    try:
        report = r.run_reminders(db, now, OutboxNotifier(), pause=paused.append)
    finally:
        event.remove(db, "after_commit", look)
    batches = -(-(2 * r.SYNC_BATCH + 6) // r.SYNC_BATCH)
    assert len(paused) == batches and all(p > 0 for p in paused)
    total = db.scalar(select(func.count()).select_from(Task))
    assert report.cases == 2 * r.SYNC_BATCH + 6
    assert total == 2 * (2 * r.SYNC_BATCH + 6)  # acknowledge + verify for every case
    # Part of the sweep was committed (the write lock let go) while the rest was still to do, twice.
    assert len([n for n in visible if 0 < n < total]) >= 2
