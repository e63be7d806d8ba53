"""Telegram through real Update JSON and PTB's Bot on a recording request object (T2-T5, T10, dialogues)."""

from __future__ import annotations

from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session

from bot.telegram import _STORED
from cases.db import engines_of
from cases.models import Attachment as AttachmentRow
from cases.models import Authorization, Contact, ContactStatus, InboundStatus, Outbox, OutboxStatus, Role
from cases.models import InboundMessage as InboundRow
from tests.bot import channels as ch
from tests.bot.world import DESCRIPTION, World, case_number
from tests.conversations.conftest import COUNTY, ID_ZHANG
from tests.conversations.test_waiting_index import plan

CHAT = 5550001
APOLOGY = "我们这边出了问题"  # the dead letter's answer (conversations.service._dead_letter)


def talk(w: World, texts: list[str], *, start: int = 1000, chat: int = CHAT) -> list[str]:
    """Send each text as an Update, let the dispatcher deliver; the bot's answers to each, in order."""
    answers = []
    with w.client() as client:
        for i, t in enumerate(texts):
            before = len(w.tg.sent())
            res = ch.tg_post(client, ch.tg_text(chat, start + i, t))
            assert res.status_code == 200
            w.dispatch()
            answers.append("\n".join(p["text"] for p in w.tg.sent()[before:] if p["chat_id"] == chat))
    return answers


def full_report(name: str = "张三") -> list[str]:
    return [
        DESCRIPTION,
        "1",
        name,
        ID_ZHANG,
        "4口人",
        "西渡镇梅花村",
        "1",
        "3",
        "139 1234 5678",
        "1",
        "同意",
        name,
    ]


def test_telegram_whole_self_report_dialogue(world: World) -> None:
    answers = talk(world, full_report())
    assert "因病" in answers[0] and "对吗" in answers[0]
    assert "身份证" in answers[2] and "几口人" in answers[3] and "同意" in answers[9]
    number = case_number(answers[-1])
    assert "已签字" in answers[-1] and "李桂英" in answers[-1]
    assert ID_ZHANG not in "\n".join(answers)  # read back masked
    case = world.case(number)
    with world.sessions() as db:
        auth = db.scalar(select(Authorization).where(Authorization.case_id == case.id))
        assert auth is not None and auth.channel == "telegram" and auth.signer_name == "张三"
    keyboards = [p["reply_markup"] for p in world.tg.sent() if p.get("reply_markup")]
    assert keyboards and keyboards[0]["keyboard"][0][0]["text"].startswith("1")


def test_T2_the_same_update_twice_also_across_a_restart_is_handled_once(world: World, db: Session) -> None:
    update = ch.tg_text(CHAT, 4242, DESCRIPTION)
    with world.client() as client:
        assert ch.tg_post(client, update).status_code == 200
        assert ch.tg_post(client, update).status_code == 200
    restarted = world.restart()
    with restarted.client() as client:
        assert ch.tg_post(client, update).status_code == 200
    restarted.dispatch()
    assert ch.stored(db) == 1
    assert len([p for p in world.tg.sent() if "对吗" in p["text"]]) == 1


def test_T3_concurrent_updates_of_one_chat_are_handled_one_at_a_time_in_update_id_order(
    world: World, db: Session
) -> None:
    from telegram import Update

    from bot.telegram import to_inbound

    # update 5002 got stored first (another worker), but 5001 is older: 5001 must be handled first
    later = to_inbound(Update.de_json(ch.tg_text(CHAT, 5002, "1"), None), world.ctx)
    assert later is not None
    with world.sessions() as s:
        world.ctx.record(s, later)
    with world.client() as client:
        assert ch.tg_post(client, ch.tg_text(CHAT, 5001, DESCRIPTION)).status_code == 200
    db.expire_all()
    rows = list(db.scalars(select(InboundRow).order_by(InboundRow.handled_at, InboundRow.id)))
    assert [r.status for r in rows] == [InboundStatus.HANDLED, InboundStatus.HANDLED]
    first_replies = list(db.scalars(select(Outbox.inbound_id).order_by(Outbox.id)))
    by_ext = {r.id: r.external_id for r in rows}
    assert [by_ext[i].split(":")[0] for i in dict.fromkeys(first_replies)] == ["5001", "5002"]
    world.dispatch()
    assert "姓名" in world.tg.sent()[-1]["text"]  # "1" confirmed the description: order kept


def test_an_update_with_none_waiting_before_it_is_stored_and_handled_in_one_commit(
    world: World, db: Session
) -> None:
    commits: list[object] = []

    def count(conn: object) -> None:
        commits.append(conn)

    engines = engines_of(world.sessions)  # PostgreSQL: the webhook's work is on the loop's engine
    for engine in engines:
        event.listen(engine, "commit", count)
    try:
        with world.client() as client:
            assert ch.tg_post(client, ch.tg_text(CHAT, 6001, DESCRIPTION)).status_code == 200
    finally:
        for engine in engines:
            event.remove(engine, "commit", count)
    db.expire_all()
    row = db.scalar(select(InboundRow))
    assert row is not None and row.status == InboundStatus.HANDLED
    assert len(commits) == 1



def test_a_message_of_a_dialogue_under_way_reads_its_lock_contact_and_queue_in_one_statement(
    world: World,
) -> None:
    """The usual message costs five statements: store it; lock the session, reading the sender's contact
    and whether other updates of the chat wait; save the state; queue the reply; mark it handled. On
    PostgreSQL they are two: the store and the lock, then the three writes. Each statement is a fixed cost
    on every message (before: separate reads of the contact and the queue)."""
    talk(world, [DESCRIPTION])
    statements: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(" ".join(statement.split()[:3]))

    engines = engines_of(world.sessions)
    for engine in engines:
        event.listen(engine, "before_cursor_execute", note)
    try:
        with world.client() as client:
            assert ch.tg_post(client, ch.tg_text(CHAT, 1001, "1")).status_code == 200
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", note)
    work = [s for s in statements if not s.startswith(("BEGIN", "SAVEPOINT", "RELEASE"))]
    if engine.dialect.name == "postgresql":
        assert [s.split()[0] for s in work] == ["WITH", "WITH"], statements
        assert work[0].startswith("WITH stored AS") and work[1].startswith("WITH saved AS")
    else:
        assert [s.split()[0] for s in work] == ["INSERT", "SELECT", "UPDATE", "INSERT", "UPDATE"], statements
        assert work[0].startswith("INSERT INTO inbound_messages") and work[3].startswith("INSERT INTO outbox")

def test_T4_handling_fails_after_the_update_is_stored_still_200_and_dead_lettered(
    world: World, db: Session
) -> None:
    conn = db.connection()
    if conn.dialect.name == "sqlite":
        conn.execute(
            text(
                "CREATE TRIGGER boom BEFORE INSERT ON outbox WHEN NEW.\"to\" = '666' "
                "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
            )
        )
    else:
        conn.execute(
            text(
                "CREATE OR REPLACE FUNCTION boom() RETURNS trigger AS $$ BEGIN "
                "IF NEW.\"to\" = '666' THEN RAISE EXCEPTION 'disk on fire'; END IF; RETURN NEW; END "
                "$$ LANGUAGE plpgsql"
            )
        )
        conn.execute(text("CREATE TRIGGER boom BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION boom()"))
    db.commit()
    try:
        with world.client() as client:
            res = ch.tg_post(client, ch.tg_text(666, 7001, DESCRIPTION))
        assert res.status_code == 200
        db.expire_all()
        row = db.scalar(select(InboundRow))
        assert row is not None and row.status == InboundStatus.DEAD and row.error
        assert "666" not in row.error and "disk" not in row.error  # the error's kind, not the row's values
        with world.client() as client:  # staff see the dead letter to follow it up
            listed = client.get(
                "/api/deliveries/failed", headers=world.staff_headers("county1", Role.COUNTY, COUNTY)
            ).json()
        assert [(m["direction"], m["id"], m["status"]) for m in listed] == [("inbound", row.id, "dead")]
    finally:
        db.rollback()
        db.execute(
            text("DROP TRIGGER boom" + ("" if db.connection().dialect.name == "sqlite" else " ON outbox"))
        )
        db.commit()


def test_T4_an_update_that_could_not_be_stored_is_500_so_telegram_sends_it_again(
    world: World, db: Session
) -> None:
    conn = db.connection()
    if conn.dialect.name == "sqlite":
        conn.execute(text("CREATE TRIGGER boom BEFORE INSERT ON inbound_messages "
                          "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"))
    else:
        conn.execute(text("CREATE OR REPLACE FUNCTION boom() RETURNS trigger AS $$ BEGIN "
                          "RAISE EXCEPTION 'disk on fire'; END $$ LANGUAGE plpgsql"))
        conn.execute(text("CREATE TRIGGER boom BEFORE INSERT ON inbound_messages "
                          "FOR EACH ROW EXECUTE FUNCTION boom()"))
    db.commit()
    try:
        with world.client() as client:
            res = ch.tg_post(client, ch.tg_text(CHAT, 7101, DESCRIPTION))
        assert res.status_code == 500
        db.expire_all()
        assert db.scalar(select(InboundRow)) is None
    finally:
        db.rollback()
        db.execute(text("DROP TRIGGER boom" + ("" if db.connection().dialect.name == "sqlite"
                                               else " ON inbound_messages")))
        db.commit()
    with world.client() as client:  # Telegram's retry, the database back: stored and answered once
        assert ch.tg_post(client, ch.tg_text(CHAT, 7101, DESCRIPTION)).status_code == 200
    world.dispatch()
    assert [p["chat_id"] for p in world.tg.sent()] == [CHAT]
    assert db.scalar(select(InboundRow.status)) == InboundStatus.HANDLED


def test_whether_a_failed_update_was_stored_is_asked_of_its_chat_through_the_unique_index(
    engine: Engine,
) -> None:
    found = plan(engine, _STORED)
    assert "user_key" in found and "Seq Scan" not in found and "SCAN inbound_messages" not in found, found


def test_T5_edited_callback_kicked_photo_and_sticker_updates_do_not_crash(world: World, db: Session) -> None:
    with world.client() as client:
        for name in [
            "telegram_text.json",
            "telegram_edited.json",
            "telegram_callback.json",
            "telegram_sticker.json",
            "telegram_photo.json",
        ]:
            assert ch.tg_post(client, ch.tg_update(name)).status_code == 200, name
        assert ch.tg_post(client, ch.tg_update("telegram_kicked.json")).status_code == 200
    db.expire_all()
    contact = db.scalar(
        select(Contact).where(Contact.channel == "telegram", Contact.external_id == str(CHAT))
    )
    assert contact is not None and contact.status == ContactStatus.UNREACHABLE
    assert ch.stored(db) == 5  # the kicked notice is a state change, not a message
    # handled, not dead-lettered: a crash after storing still answers 200 (T4), so 200 alone proves nothing
    handled = list(db.scalars(select(InboundRow).order_by(InboundRow.id)))
    kinds = [(r.external_id, r.status, r.error) for r in handled]
    assert all(status == InboundStatus.HANDLED and error is None for _e, status, error in kinds), kinds
    replies = list(db.scalars(select(Outbox).where(Outbox.kind == "reply")))
    assert {r.inbound_id for r in replies} == {r.id for r in handled}  # each update got its own answer
    assert not [r.body for r in replies if APOLOGY in r.body]
    got_file = [p for m, p in world.tg.calls if m == "getFile"]
    assert got_file == [{"file_id": "AgACAgUAAxkBAAIBlarge"}]  # the largest PhotoSize
    assert any(m == "download" for m, _ in world.tg.calls)
    world.dispatch()
    assert not [p for p in world.tg.sent() if p["chat_id"] == CHAT]  # unreachable now: nothing sent


def test_T5_a_photo_is_kept_at_full_resolution_when_it_supplements_a_report(
    world: World, db: Session
) -> None:
    talk(world, full_report())
    talk(world, ["补充"], start=2000)
    with world.client() as client:
        assert ch.tg_post(client, ch.tg_update("telegram_photo.json", update_id=3000)).status_code == 200
    db.expire_all()
    stored_photo = db.scalar(select(AttachmentRow).where(AttachmentRow.kind == "photo"))
    assert stored_photo is not None and stored_photo.size == len(world.tg.file_bytes)
    assert stored_photo.content_type == "image/jpeg"


def test_T10_update_ids_that_jump_or_restart_low_are_accepted(world: World, db: Session) -> None:
    answers = talk(world, [DESCRIPTION], start=900_000_000)
    answers += talk(world, ["1"], start=17)
    assert "对吗" in answers[0] and "姓名" in answers[1] and ch.stored(db) == 2


def test_a_restart_in_the_middle_of_a_dialogue_goes_on(world: World) -> None:
    steps = full_report()
    talk(world, steps[:5])
    later = world.restart()
    answers = talk(later, steps[5:], start=1005)
    assert case_number(answers[-1])


def test_replies_wait_for_the_dispatcher_and_are_sent_once(world: World, db: Session) -> None:
    with world.client() as client:
        ch.tg_post(client, ch.tg_text(CHAT, 8001, "你好"))
    assert world.tg.sent() == []  # answered 200; the reply goes out through the outbox
    world.dispatch()
    world.dispatch()
    db.expire_all()
    rows = list(db.scalars(select(Outbox)))
    assert rows and all(r.status == OutboxStatus.SENT for r in rows)
    assert len(world.tg.sent()) == len(rows)


def test_two_messages_of_one_chat_at_once_are_both_handled_one_at_a_time(world: World, db: Session) -> None:
    import threading

    from fastapi.testclient import TestClient

    talk(world, [DESCRIPTION])
    results: list[int] = []

    def post(update_id: int, words: str) -> None:
        with TestClient(world.app) as client:
            results.append(ch.tg_post(client, ch.tg_text(CHAT, update_id, words)).status_code)

    threads = [
        threading.Thread(target=post, args=(1101, "1")),
        threading.Thread(target=post, args=(1102, "张三")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200, 200]
    db.expire_all()
    rows = list(db.scalars(select(InboundRow)))
    assert len(rows) == 3 and all(r.status == InboundStatus.HANDLED for r in rows)
    before = len(world.tg.sent())
    world.dispatch()
    assert len(world.tg.sent()) - before >= 2  # each got its answer; the session row serialised them


def test_T3_two_updates_of_one_chat_racing_through_the_webhook_are_handled_one_after_the_other(
    world: World, db: Session
) -> None:
    """At the household-size question, 4 and 5 arrive at once on two connections: one is the size (then
    the village is asked), the other is read as the village after it. Handled side by side, both would be
    the size; a step that failed would be dead-lettered with an apology."""
    import threading

    from fastapi.testclient import TestClient

    talk(world, full_report()[:4])  # now at "how many people"
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def post(update_id: int, words: str) -> None:
        with TestClient(world.app) as client:
            barrier.wait()
            codes.append(ch.tg_post(client, ch.tg_text(CHAT, update_id, words)).status_code)

    threads = [threading.Thread(target=post, args=args) for args in ((1201, "4"), (1202, "5"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200, 200]
    db.expire_all()
    raced = list(db.scalars(select(InboundRow).where(InboundRow.external_id.in_(["1201:1201", "1202:1202"]))))
    assert [r.status for r in raced] == [InboundStatus.HANDLED] * 2
    answers = {r.id: "\n".join(o.body for o in db.scalars(select(Outbox).where(Outbox.inbound_id == r.id)))
               for r in raced}
    assert sum("哪个村" in a for a in answers.values()) == 1, answers
    assert sum("没有找到这个村" in a for a in answers.values()) == 1, answers
    assert not any(APOLOGY in a for a in answers.values())

