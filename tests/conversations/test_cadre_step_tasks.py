"""完成 on a step's task: the home visit (入户核实) needs its record, so 完成 asks for it and the task stays
open; it closes by itself once the step is recorded. 完成 closed it with no visit recorded, the reminders
stopped and the case waited in 'applied' for a visit no one had recorded."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import reminders
from cases.models import AuditEntry, CaseStatus, Task, TaskStatus
from tests.cases.reminder_world import OutboxNotifier, build_world, move

from .test_cadre_commands import bj, say


def test_done_on_the_home_visit_asks_for_its_record_and_the_task_stays_open(db: Session) -> None:
    w = build_world(db, bj(3, 2))
    reminders.run_reminders(db, bj(3, 2), OutboxNotifier())
    verify = db.scalar(select(Task).where(Task.kind == "verify"))
    assert verify is not None
    for said in (f"完成 {verify.id} 已与村主任入户核实", f"完成 {verify.id}", f"办完{verify.id}"):
        text = say(db, w.cadre.id, said, bj(3, 4))
        assert text == (f"任务 #{verify.id}（入户核实）要登记入户核实记录才能办结："
                        "请在工作台打开案件 SB7Q2K9M，填写“登记入户核实”（核实组至少两人，"
                        "以及核实的情况）。登记之前，任务保持待办。"), said
        db.refresh(verify)
        assert verify.status == TaskStatus.OPEN and verify.done_note is None, said
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "task.complete")) is None
    assert f"#{verify.id} 入户核实" in say(db, w.cadre.id, "待办", bj(3, 4))  # still to do, still reminded
    # another cadre's 完成 of it is still 'no such task of yours'
    other = say(db, w.cadre2.id, f"完成 {verify.id}", bj(3, 4))
    assert other == f"您没有任务 #{verify.id}。发送“待办”查看您的任务。"

    move(db, w.case, CaseStatus.VERIFIED, bj(3, 5))  # the visit recorded: the task closes by itself
    assert f"#{verify.id} 入户核实" not in say(db, w.cadre.id, "待办", bj(3, 5))
    db.refresh(verify)
    assert verify.status == TaskStatus.DONE


def test_done_on_another_steps_task_says_it_closes_with_the_step(db: Session) -> None:
    w = build_world(db, bj(3, 2), status=CaseStatus.VERIFIED)
    reminders.run_reminders(db, bj(3, 2), OutboxNotifier())
    review = db.scalar(select(Task).where(Task.kind == "village_review"))
    assert review is not None and review.assignee_staff_id == w.village.id
    text = say(db, w.village.id, f"完成 {review.id} 已开会", bj(3, 3))
    assert text == (f"任务 #{review.id}（村评议）在工作台办理案件 SB7Q2K9M 的这一步后自动办结，"
                    "发“完成”不能办结。")
    db.refresh(review)
    assert review.status == TaskStatus.OPEN


def test_done_still_closes_the_tasks_a_word_does(db: Session) -> None:
    """The acknowledgement and the quarterly evaluation are closed by 完成, as before."""
    w = build_world(db, bj(3, 2))
    reminders.run_reminders(db, bj(3, 2), OutboxNotifier())
    ack = db.scalar(select(Task).where(Task.kind == "acknowledge"))
    assert ack is not None
    text = say(db, w.cadre.id, f"完成 {ack.id}", bj(3, 2))
    assert text == f"已办结：任务 #{ack.id}（确认接收新案件）。剩余待办 1 项。"


def test_todo_says_done_only_for_the_tasks_done_closes_and_where_a_step_is_recorded(db: Session) -> None:
    """待办 ended with 'reply 完成 <task number> when done' under every list, 入户核实 included, which 完成 no
    longer closes: the step's task now says where it is recorded, and 完成 is offered for the others only."""
    w = build_world(db, bj(3, 2))
    reminders.run_reminders(db, bj(3, 2), OutboxNotifier())
    ack, verify = (db.scalar(select(Task).where(Task.kind == kind)) for kind in ("acknowledge", "verify"))
    assert ack is not None and verify is not None
    text = say(db, w.cadre.id, "待办", bj(3, 3, 9))
    lines = text.split("\n")
    (visit,) = [x for x in lines if f"#{verify.id} 入户核实" in x]
    assert visit.endswith(" · 在工作台“登记入户核实”后办结")
    (acknowledge,) = [x for x in lines if f"#{ack.id} 确认接收新案件" in x]
    assert "办结" not in acknowledge
    assert lines[-1] == "其余任务办完请回复：完成 <任务号> <说明>"

    say(db, w.cadre.id, f"完成 {ack.id}", bj(3, 3, 9))  # only the home visit is left: no 完成 to offer
    text = say(db, w.cadre.id, "待办", bj(3, 3, 9))
    assert "完成 <任务号>" not in text and text.split("\n")[-1].endswith("在工作台“登记入户核实”后办结")


def test_todo_says_where_another_steps_task_is_recorded(db: Session) -> None:
    w = build_world(db, bj(3, 2), status=CaseStatus.VERIFIED)
    reminders.run_reminders(db, bj(3, 2), OutboxNotifier())
    text = say(db, w.village.id, "待办", bj(3, 3, 9))
    assert "村评议" in text and text.split("\n")[-1].endswith(" · 在工作台办理这一步后办结")
    assert "完成 <任务号>" not in text
