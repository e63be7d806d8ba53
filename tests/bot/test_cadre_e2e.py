"""Issue 5, done when: a cadre linked over Telegram receives the assignment and the digest, answers 完成,
and the task closes. Real Update JSON and signed Twilio forms in, the recording fake Bot API and Twilio
client out, the worker's own job loop (api.channels.Jobs, as `shenbao worker` runs it), a pinned clock."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.channels import jobs_for, run_worker
from api.settings import Settings
from cases.clock import BEIJING
from cases.models import (
    AuditEntry,
    Case,
    Contact,
    Outbox,
    OutboxStatus,
    Report,
    ReporterKind,
    Staff,
    Task,
    TaskStatus,
)
from cases.passwords import hash_password
from conversations import binding
from tests.api.test_console import login as console_login
from tests.bot import channels as ch
from tests.bot.test_telegram import full_report, talk
from tests.bot.world import World, case_number
from tests.conversations.conftest import CADRE_PHONE, ID_WANG, MEIHUA

CADRE_CHAT, HOUSEHOLD_CHAT = 7770001, 5550001
CADRE_SMS = "+86" + CADRE_PHONE
PASSWORD = "cadre-password-2026"


def at(world: World, when: datetime) -> None:
    """Move the pinned clock forward to `when` (Beijing time)."""
    delta = when - world.clock()
    assert delta.total_seconds() >= 0, (when, world.clock())
    world.clock.advance(seconds=delta.total_seconds())


def worker_round(world: World, rounds: int = 6) -> None:
    """What `shenbao worker` does in a loop: the reminder rules when due, then dispatcher batches."""
    for _ in range(rounds):
        asyncio.run(jobs_for(world.ctx).run_once())
        world.clock.advance(seconds=1.1)


def cadre_chat(world: World) -> list[str]:
    return [p["text"] for p in world.tg.sent() if p["chat_id"] == CADRE_CHAT]


def texts_to_cadre_phone(world: World) -> list[str]:
    return [d["Body"] for d in world.tw.creates() if d["To"] == CADRE_SMS]


def console_code(world: World) -> str:
    """The cadre signs in to the staff console and asks for a binding code, as on the binding page."""
    with world.sessions() as s, s.begin():
        cadre = s.get(Staff, world.cadre_id)
        assert cadre is not None
        cadre.password_hash = hash_password(PASSWORD)
    with TestClient(world.app, base_url="https://testserver", follow_redirects=False) as web:
        csrf = console_login(web, "cadre-meihua", PASSWORD)  # the binding page's form token
        shown = web.post("/console/binding", data={"csrf": csrf})
    code = re.search(r'id="binding-code">(\d{8})<', shown.text)
    assert code is not None, shown.text
    return code.group(1)


def bind(world: World, db: Session) -> None:
    """Codes from the console's binding page, redeemed from Telegram and from SMS."""
    answer = talk(world, [f"绑定 {console_code(world)}"], start=9000, chat=CADRE_CHAT)[0]
    assert "李桂英" in answer, answer
    with world.sessions() as s, s.begin():  # the same code service the chat redeems against
        code = binding.issue_code(db=s, vault=world.vault, staff_id=world.cadre_id, now=world.clock())
    with world.client() as client:
        res = ch.tw_post(client, ch.tw_sms(CADRE_SMS, "SM" + "b" * 32, f"绑定 {code}"))
    assert res.status_code == 200 and "李桂英" in "".join(ch.twiml_messages(res))
    db.expire_all()
    linked = {
        (str(c.channel), c.external_id)
        for c in db.scalars(select(Contact).where(Contact.staff_id == world.cadre_id))
    }
    assert linked == {("telegram", str(CADRE_CHAT)), ("sms", CADRE_SMS)}


def test_a_cadre_linked_over_telegram_gets_the_assignment_and_digest_answers_done_and_the_task_closes(
    world: World, db: Session
) -> None:
    bind(world, db)

    # Monday 21:30, inside the SMS quiet hours: a household in the cadre's village reports and signs
    at(world, datetime(2026, 3, 2, 21, 30, tzinfo=BEIJING))
    number = case_number(talk(world, full_report(), start=100, chat=HOUSEHOLD_CHAT)[-1])
    assigned = [t for t in cadre_chat(world) if number in t]
    assert len(assigned) == 1 and "梅花村新案件" in assigned[0] and "张*" in assigned[0]
    assert "张三" not in assigned[0]  # masked

    worker_round(world)  # the reminder rules run: tasks, the due-soon reminder, Monday's digest
    digest = [t for t in cadre_chat(world) if t.startswith("今天：")]
    assert len(digest) == 1, cadre_chat(world)
    tasks = dict(
        (kind, int(task_id)) for task_id, kind in re.findall(r"#(\d+) (\S+) · 案件 " + number, digest[0])
    )
    assert set(tasks) == {"确认接收新案件", "入户核实"}, digest[0]  # named as in 待办 and the console
    assert "🟠" in digest[0]  # the acknowledgement is due tomorrow 18:00: orange
    assert texts_to_cadre_phone(world) == []  # quiet hours: no texts to the cadre at night ...
    db.expire_all()
    held = list(
        db.scalars(select(Outbox).where(Outbox.to == CADRE_SMS, Outbox.status == OutboxStatus.PENDING))
    )
    tuesday_8 = datetime(2026, 3, 3, 8, 0, tzinfo=BEIJING)
    assert len(held) >= 2 and all(r.next_attempt_at == tuesday_8 for r in held)  # ... held, not dropped

    at(world, datetime(2026, 3, 3, 7, 59, tzinfo=BEIJING))
    worker_round(world)
    assert texts_to_cadre_phone(world) == []
    at(world, tuesday_8)
    worker_round(world, rounds=10)
    sms = texts_to_cadre_phone(world)
    assert any(number in t and "梅花村新案件" in t for t in sms)  # the held assignment, in the morning
    # Tuesday's digest only: Monday's, held overnight, says 今天 of a day gone and is dropped, not sent
    assert sum(t.startswith("今天：") for t in sms) == 1
    db.expire_all()
    old = [r for r in db.scalars(select(Outbox).where(Outbox.to == CADRE_SMS))
           if (r.extra or {}).get("subject", {}).get("date") == "2026-03-02"]
    assert [(r.status, r.error_code) for r in old] == [(OutboxStatus.DROPPED, "stale:digest_old")]
    assert sum(t.startswith("今天：") for t in cadre_chat(world)) == 2  # Tuesday's digest in Telegram too

    # the cadre answers over the Telegram webhook (the acknowledgement: 入户核实 closes with its visit record)
    ack = tasks["确认接收新案件"]
    before = len(cadre_chat(world))
    answer = talk(world, [f"完成 {ack} 已入户"], start=9100, chat=CADRE_CHAT)[0]
    assert answer == f"已办结：任务 #{ack}（确认接收新案件）。剩余待办 1 项。"
    assert len(cadre_chat(world)) == before + 1
    db.expire_all()
    task = db.get(Task, ack)
    assert task is not None and task.status == TaskStatus.DONE and task.done_note == "已入户"
    assert task.done_at is not None and task.done_at.astimezone(BEIJING).date().isoformat() == "2026-03-03"
    audit = db.scalar(select(AuditEntry).where(AuditEntry.action == "task.complete"))
    assert audit is not None and audit.actor_staff_id == world.cadre_id

    # the rules run again: the closed task stays closed and no second digest goes out today
    worker_round(world)
    db.expire_all()
    assert db.get(Task, ack).status == TaskStatus.DONE  # type: ignore[union-attr]
    assert sum(t.startswith("今天：") for t in cadre_chat(world)) == 2
    acks = select(Task.id).where(Task.kind == "acknowledge", Task.status == TaskStatus.OPEN)
    assert db.scalar(acks) is None


def test_shenbao_worker_once_runs_the_reminder_rules_as_well_as_the_outbox(
    world: World, db: Session, settings: Settings
) -> None:
    """`shenbao worker --once` on the same database (no channel configured in that process)."""
    bind(world, db)
    number = case_number(talk(world, full_report(), start=100, chat=HOUSEHOLD_CHAT)[-1])
    db.expire_all()
    assert db.scalar(select(Task.id).limit(1)) is None  # no rules have run yet
    assert run_worker(settings, clock=world.clock, once=True) == 0
    db.expire_all()
    kinds = set(db.scalars(select(Task.kind).where(Task.assignee_staff_id == world.cadre_id)))
    assert kinds == {"acknowledge", "verify"}
    digest = db.scalar(
        select(Outbox).where(
            Outbox.to == str(CADRE_CHAT), Outbox.kind == "reminder", Outbox.body.startswith("今天：")
        )
    )
    assert digest is not None and number in digest.body and digest.status == OutboxStatus.PENDING


def test_a_cadre_files_a_household_found_by_screening_over_telegram(world: World, db: Session) -> None:
    """排查 over the Telegram webhook: numbered questions (keyboard buttons pressed as their labels), the
    read-back confirmed, the case filed as reporter cadre by the cadre, and the cadre told its number."""
    bind(world, db)
    said = ["排查", "王五", ID_WANG, "139 1234 5678", "1 西渡镇梅花村（本村）", "2组", "3",
            "户主中风卧床，看病花了三万多，儿子务工收入不稳"]
    answers = talk(world, said, start=9200, chat=CADRE_CHAT)
    assert answers[0].startswith("排查上报：户主姓名？"), answers[0]
    assert "王五的身份证号" in answers[1] and "户主手机号" in answers[2] and "哪个村" in answers[3]
    assert "村民小组" in answers[4] and "几口人" in answers[5] and "有什么困难" in answers[6]
    readback = answers[7]
    assert "户主：王五" in readback and "身份证：430421********0015" in readback
    assert "困难：因病、因务工就业不稳" in readback and "约30,000元" in readback, readback
    keyboard = [row[0]["text"] for row in world.tg.sent()[-1]["reply_markup"]["keyboard"]]
    assert keyboard == ["1 对，上报", "2 改", "0 返回"]
    assert ID_WANG not in "".join(cadre_chat(world))  # masked in every reply

    filed = talk(world, ["1 对，上报"], start=9300, chat=CADRE_CHAT)[0]
    number = case_number(filed)
    assert f"已上报：案件号 {number}（走访排查）" in filed and "案件已分给您" in filed
    assert any(number in t and "梅花村新案件" in t for t in cadre_chat(world))  # and the assignment notice
    db.expire_all()
    case = db.scalars(select(Case).where(Case.number == number)).one()
    report = db.scalars(select(Report).where(Report.case_id == case.id)).one()
    assert case.discovery == ReporterKind.CADRE and case.area_code == MEIHUA and case.risks == ["01", "07"]
    assert report.channel == "telegram" and report.parsed["reported_by_staff_id"] == world.cadre_id
    audit = db.scalar(select(AuditEntry).where(AuditEntry.action == "report.cadre"))
    assert audit is not None and audit.actor_staff_id == world.cadre_id and audit.detail["case"] == number
    # the case is the cadre's: 案件 shows it in the same chat
    assert f"案件 {number}" in talk(world, [f"案件 {number}"], start=9400, chat=CADRE_CHAT)[0]
