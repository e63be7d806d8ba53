"""Round 5 of exploratory testing, the contact cadre in the bound chat: what a busy cadre on a phone types."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import reminders
from cases.models import CaseStatus, Evaluation, Task, TaskStatus
from conversations.flows.cadre_commands import answer
from tests.cases.reminder_world import OutboxNotifier, World, build_world, move

from .conftest import Chat
from .conftest import World as ConvWorld
from .test_cadre_commands import bj, say
from .test_conv_flows import bound_cadre, signed_case


def test_todo_is_up_to_date_before_the_reminder_tick(db: Session) -> None:
    """The cadre was told of a new case and 待办 said 'no open tasks' (the acknowledgement is made by the
    reminder tick, minutes later); after the home visit was recorded, 待办 and 案件 still listed 入户核实."""
    w = build_world(db, bj(3, 2))
    text = say(db, w.cadre.id, "待办", bj(3, 2, 10, 1))
    assert text.startswith("您的待办：2 项"), text
    assert "确认接收新案件 · 案件 SB7Q2K9M" in text and "入户核实" in text
    move(db, w.case, CaseStatus.VERIFIED, bj(3, 4))
    text = say(db, w.cadre.id, "待办", bj(3, 4, 10, 1))
    assert "入户核实" not in text and "确认接收新案件" in text
    assert "入户核实" not in say(db, w.cadre.id, "案件 SB7Q2K9M", bj(3, 4, 10, 2))
    verify = db.scalar(select(Task).where(Task.kind == "verify"))
    assert verify is not None and verify.status == TaskStatus.DONE
    # the reminder tick finds nothing left to do for it
    reminders.run_reminders(db, bj(3, 4, 10, 5), OutboxNotifier())
    assert db.scalar(select(Task).where(Task.kind == "verify", Task.status == TaskStatus.OPEN)) is None


def test_a_question_asked_is_answered_by_the_next_message(db: Session) -> None:
    """完成 <evaluation> asked for a note and 改期 <task> 3 for a reason; the cadre typed just the note or the
    reason, as asked, and got the command list: the command had to be typed again in full."""
    w = build_world(db, bj(1, 5), status=CaseStatus.MONITORED)
    reminders.run_reminders(db, bj(2, 2), OutboxNotifier())
    ev = db.scalar(select(Task).where(Task.kind == "evaluate"))
    assert ev is not None
    state: dict[str, object] = {}

    def chat(text: str, now: datetime) -> str:
        nonlocal state
        replies, state = answer(db, staff_id=w.cadre.id, text=text, now=now, state=state)
        db.commit()
        assert len(replies) == 1
        return replies[0].text

    assert "请附上评估说明" in chat(f"完成 {ev.id}", bj(2, 2))
    assert chat("医保报销到位，务工收入稳定", bj(2, 2, 10, 3)).startswith(f"已办结：任务 #{ev.id}")
    assert db.scalar(select(Evaluation.result)) == "医保报销到位，务工收入稳定"
    # 改期 with neither days nor reason: both asked, one after the other
    w2 = build_world_task(db, w, bj(2, 2))
    assert "几个工作日" in chat(f"改期 {w2}", bj(2, 3))
    assert "为什么要改期" in chat("三天", bj(2, 3))
    assert chat("下雨路断了", bj(2, 3)).startswith(f"任务 #{w2} 已改期")
    task = db.get(Task, w2)
    assert task is not None and task.postponed_reason == "下雨路断了"
    # a question not answered within half an hour is dropped; 取消 drops it at once
    assert "为什么要改期" in chat(f"改期 {w2} 2", bj(2, 3, 11))
    assert chat("取消", bj(2, 3, 11, 1)) == "好的，没有改动。"
    assert chat("下雨", bj(2, 3, 11, 2)).startswith("干部指令：")
    assert "为什么要改期" in chat(f"改期 {w2} 2", bj(2, 3, 12))
    assert chat("下雨", bj(2, 3, 12, 31)).startswith("干部指令：")


def build_world_task(db: Session, w: World, now: datetime) -> int:
    """An open task of the cadre's to move (a call-back)."""
    task = Task(case_id=w.case.id, kind="callback", cycle="c1", assignee_staff_id=w.cadre.id,
                area_code=w.case.area_code, due_at=now, status=TaskStatus.OPEN, created_at=now)
    db.add(task)
    db.commit()
    return task.id


def test_received_acknowledges_the_new_case(db: Session) -> None:
    """The new-case notice asks the cadre to contact the household; 收到, 确认 or 知道了 got the command list
    (which did not say how to acknowledge): the acknowledgement took 待办, then 完成 and the task's number."""
    w = build_world(db, bj(3, 2))
    text = say(db, w.cadre.id, "收到", bj(3, 2, 10, 5))
    ack = db.scalar(select(Task).where(Task.kind == "acknowledge"))
    assert ack is not None and ack.status == TaskStatus.DONE
    assert text == f"已确认接收：新案件 SB7Q2K9M（任务 #{ack.id}）。剩余待办 1 项。"
    db.refresh(w.assignment)
    assert w.assignment.acknowledged_at is not None
    assert say(db, w.cadre.id, "收到", bj(3, 2, 10, 6)).startswith("目前没有待您确认接收的新案件")
    other = say(db, w.cadre2.id, "确认 SB7Q2K9M", bj(3, 2, 10, 6))
    assert other.startswith("没有待您确认接收的新案件 SB7Q2K9M")
    assert "收到 — 确认接收新案件" in say(db, w.cadre.id, "你好", bj(3, 2))


def test_a_busy_cadre_types_commands_loosely(db: Session) -> None:
    """Trailing punctuation, other words for the same command, a case number alone or pasted with words
    around it: each got the command list."""
    w = build_world(db, bj(3, 2))
    for said in ("待办？", "待办。", "查看待办", "有什么任务", "今天的任务"):
        assert say(db, w.cadre.id, said, bj(3, 2, 11)).startswith("您的待办：2 项"), said
    for said in ("SB7Q2K9M", "sb7q2k9m", "SB7Q2K9M怎么样了", "查一下 SB7Q2K9M", "案件 SB 7Q2K9M",
                 "案件 7Q2K9M"):
        assert say(db, w.cadre.id, said, bj(3, 2, 11)).startswith("案件 SB7Q2K9M："), said
    verify = db.scalar(select(Task).where(Task.kind == "verify"))
    assert verify is not None
    moved = say(db, w.cadre.id, f"推迟 {verify.id}，3天，户主外出", bj(3, 2, 11))
    assert moved.startswith(f"任务 #{verify.id} 已改期")
    for said in (f"已完成 {verify.id} 已入户", f"办完{verify.id}", f"完成任务{verify.id}"):
        text = say(db, w.cadre.id, said, bj(3, 2, 11))
        assert text.startswith(f"任务 #{verify.id}（入户核实）要登记入户核实记录"), said  # read as 完成


def test_the_bound_chat_keeps_the_question_between_messages(world: ConvWorld) -> None:
    """Through the service: the state the cadre handler returns is the next message's."""
    number = signed_case(world, Chat(world))
    cadre = bound_cadre(world)
    assert number in cadre.send("待办")
    with world.factory() as db:
        ack = db.scalar(select(Task).where(Task.kind == "acknowledge"))
        assert ack is not None
        ack_id = ack.id
    assert "为什么要改期" in cadre.send(f"改期 {ack_id} 2")
    assert cadre.send("户主在外地，明天回").startswith(f"任务 #{ack_id} 已改期")
    assert cadre.send("户主在外地").startswith("干部指令：")  # answered once


def test_case_details_name_the_housing_risk(db: Session) -> None:
    """案件 listed the A27 risks only: a house unsafe (② 住房安全, A23) was left out."""
    w = build_world(db, bj(3, 2))
    w.case.guarantees = ["A23", "A25"]
    db.commit()
    text = say(db, w.cadre.id, "案件 SB7Q2K9M", bj(3, 2))
    assert "风险：住房安全保障风险、饮水安全风险、因病" in text


def test_0_or_the_back_button_at_a_question_asked_changes_nothing(world: ConvWorld) -> None:
    """At 改期's 'why?' (or 完成's note), 0, 返回 or the keyboard's '0 返回' (the report's buttons stay on the
    keyboard) was taken for the reason: the task was postponed with '0' as why."""
    number = signed_case(world, Chat(world))
    cadre = bound_cadre(world)
    assert number in cadre.send("待办")
    with world.factory() as db:
        ack = db.scalar(select(Task).where(Task.kind == "acknowledge"))
        assert ack is not None
        ack_id, due = ack.id, ack.due_at
    for said in ("0", "0 返回", "返回"):
        assert "为什么要改期" in cadre.send(f"改期 {ack_id} 2")
        assert cadre.send(said) == "好的，没有改动。\n待办", said
    with world.factory() as db:
        task = db.get(Task, ack_id)
        assert task is not None and task.due_at == due and task.postponed_reason is None
    assert "几个工作日" in cadre.send(f"改期 {ack_id}")
    assert cadre.send("0 返回") == "好的，没有改动。\n待办"
    assert "已改期" in cadre.send(f"改期 {ack_id} 2 户主在外地")  # the command itself still works
