"""Round 5 of exploratory testing, the contact cadre in the bound chat: what a busy cadre on a phone types."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import reminders
from cases.clock import BEIJING
from cases.models import CaseStatus, Task, TaskStatus
from conversations.flows.cadre_commands import respond
from tests.cases.reminder_world import OutboxNotifier, build_world, move


def bj(m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(2026, m, d, hh, mm, tzinfo=BEIJING)


def say(db: Session, staff_id: int, text: str, now: datetime) -> str:
    replies = respond(db, staff_id=staff_id, text=text, now=now)
    db.commit()
    assert len(replies) == 1
    return replies[0].text


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
