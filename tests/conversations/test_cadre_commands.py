"""Cadre commands by message: 待办, 案件, 完成, 改期 — Chinese replies, scoped, audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import reminders
from cases.clock import BEIJING
from cases.models import AuditEntry, CaseStatus, Evaluation, Task, TaskStatus
from conversations.flows.cadre_commands import respond
from conversations.i18n import missing_translations
from tests.cases.reminder_world import OutboxNotifier, build_world


def bj(m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(2026, m, d, hh, mm, tzinfo=BEIJING)


def say(db: Session, staff_id: int, text: str, now: datetime) -> str:
    replies = respond(db, staff_id=staff_id, text=text, now=now)
    db.commit()
    assert len(replies) == 1
    return replies[0].text


def test_todo_lists_tasks_with_colours(db: Session) -> None:
    w = build_world(db, bj(3, 2))
    reminders.run_reminders(db, bj(3, 2), OutboxNotifier())
    text = say(db, w.cadre.id, "待办", bj(3, 3, 9))
    ack = db.scalar(select(Task).where(Task.kind == "acknowledge"))
    assert ack is not None
    assert "您的待办：2 项（逾期 0，即将到期 1）" in text
    assert f"🟠 #{ack.id} 确认接收新案件 · 案件 SB7Q2K9M · 截止 03-03 18:00 【即将到期】" in text
    assert "入户核实" in text and "完成 <任务号>" in text
    late = say(db, w.cadre.id, "待办", bj(3, 12))
    assert "逾期 2" in late and late.count("🔴") == 2
    assert say(db, w.cadre2.id, " 待办 ", bj(3, 3)) == "您目前没有待办任务。"


def test_case_details_are_masked_scoped_and_audited(db: Session) -> None:
    w = build_world(db, bj(3, 2))
    reminders.run_reminders(db, bj(3, 2), OutboxNotifier())
    text = say(db, w.cadre.id, "案件 sb7q2k9m", bj(3, 3))
    assert "案件 SB7Q2K9M：已申请，待入户核实" in text
    assert "农户：张*，4 人，梅花村" in text and "张三" not in text
    assert "风险：因病" in text and "入户核实" in text
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "case.view_chat")) is not None
    # a cadre of another village is told there is no such case, exactly as for a wrong number
    other = say(db, w.other_cadre.id, "案件 SB7Q2K9M", bj(3, 3))
    assert other == "您的辖区内没有案件 SB7Q2K9M，请核对案件号。"
    assert say(db, w.cadre.id, "案件 NOPE1234", bj(3, 3)) == "您的辖区内没有案件 NOPE1234，请核对案件号。"
    # the township sees every village under it
    assert "梅花村" in say(db, w.township.id, "案件 SB7Q2K9M", bj(3, 3))


def test_complete_closes_my_task_only(db: Session) -> None:
    w = build_world(db, bj(3, 2))
    reminders.run_reminders(db, bj(3, 2), OutboxNotifier())
    ack = db.scalar(select(Task).where(Task.kind == "acknowledge"))  # 入户核实 closes with its visit's record
    assert ack is not None
    assert say(db, w.cadre2.id, f"完成 {ack.id} 已入户", bj(3, 4)) == \
        f"您没有任务 #{ack.id}。发送“待办”查看您的任务。"
    text = say(db, w.cadre.id, f"完成 {ack.id} 已与村主任入户核实", bj(3, 4))
    assert text == f"已办结：任务 #{ack.id}（确认接收新案件）。剩余待办 1 项。"
    db.refresh(ack)
    assert ack.status == TaskStatus.DONE and ack.done_note == "已与村主任入户核实"
    assert say(db, w.cadre.id, f"完成 {ack.id}", bj(3, 4)) == f"任务 #{ack.id} 已办结。"
    assert db.scalar(select(AuditEntry.action).where(AuditEntry.action == "task.complete")) == "task.complete"


def test_complete_an_evaluation_records_it(db: Session) -> None:
    w = build_world(db, bj(1, 5), status=CaseStatus.MONITORED)
    reminders.run_reminders(db, bj(2, 2), OutboxNotifier())
    ev = db.scalar(select(Task).where(Task.kind == "evaluate"))
    assert ev is not None
    assert "请附上评估说明" in say(db, w.cadre.id, f"完成 {ev.id}", bj(2, 2))
    say(db, w.cadre.id, f"完成 {ev.id} 医保报销到位，务工收入稳定", bj(2, 2))
    assert db.scalar(select(Evaluation.result)) == "医保报销到位，务工收入稳定"


def test_postpone_moves_the_deadline_by_working_days(db: Session) -> None:
    w = build_world(db, bj(2, 10))
    reminders.run_reminders(db, bj(2, 10), OutboxNotifier())
    ack = db.scalar(select(Task).where(Task.kind == "acknowledge"))
    assert ack is not None and ack.due_at == bj(2, 11, 18)
    text = say(db, w.cadre.id, f"改期 {ack.id} 3 户主外出务工，电话联系中", bj(2, 11))
    # 3 working days after 11 Feb: 12, 13, and the make-up Saturday 14 Feb
    assert text == f"任务 #{ack.id} 已改期，新的截止时间：02-14 18:00。"
    db.refresh(ack)
    assert ack.postponed_reason == "户主外出务工，电话联系中"
    assert "原因" in say(db, w.cadre.id, f"改期 {ack.id} 3", bj(2, 11))
    assert "1 至 30" in say(db, w.cadre.id, f"改期 {ack.id} 99 太忙", bj(2, 11))


def test_anything_else_gets_the_command_list(db: Session) -> None:
    w = build_world(db, bj(3, 2))
    replies = respond(db, staff_id=w.cadre.id, text="你好", now=bj(3, 2))
    assert replies[0].text.startswith("干部指令：") and replies[0].choices == ("待办",)


def test_catalog_is_complete() -> None:
    assert missing_translations("conversations", "zh_CN") == []


def test_a_busy_cadre_types_days_in_characters_and_the_list_in_other_words(db: Session) -> None:
    """Round 4 of exploratory testing: 改期 2 三天 下雨路断了 was 'give the number of working days' (三天 read
    as part of the reason), and 待办事项, 我的任务, 看下任务 got the command list instead of the tasks."""
    w = build_world(db, bj(2, 10))
    reminders.run_reminders(db, bj(2, 10), OutboxNotifier())
    ack = db.scalar(select(Task).where(Task.kind == "acknowledge"))
    assert ack is not None
    text = say(db, w.cadre.id, f"改期 {ack.id} 三天 户主外出务工", bj(2, 11))
    assert text == f"任务 #{ack.id} 已改期，新的截止时间：02-14 18:00。"
    db.refresh(ack)
    assert ack.postponed_reason == "户主外出务工"
    for said in ("待办事项", "我的任务", "看下任务", "待辦事項"):
        assert say(db, w.cadre.id, said, bj(2, 11)).startswith("您的待办"), said
