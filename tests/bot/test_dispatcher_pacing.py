"""The dispatcher when a rate limit is the bottleneck (T7): a busy slot is learnt once per batch and the rows
that need it go back in one statement, spread so later claims take only what can be sent; a batch paces its
Telegram sends by waiting for the overall slot; the loop sleeps until the earliest slot frees. Counted in
statements, transactions and calls at the HTTP boundary, on a pinned clock moved by the injected sleep."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from api.channels import jobs_for
from bot import outbox, runtime
from bot.context import BotContext
from bot.dispatcher import Dispatcher
from bot.telegram import OVERALL, PER_CHAT
from cases.clock import FrozenClock
from cases.db import make_loop_engine, make_session_factory
from cases.models import ChannelState, OutboxStatus
from tests.bot import helpers as h
from tests.bot.conftest import TW_FROM, RecordingTelegram, RecordingTwilio
from tests.bot.world import World

TG_ALL = "rate:telegram:all"
SMS_KEY = f"rate:sms:from:{TW_FROM}"


@dataclass
class Tally:
    """Statements, commits and rollbacks on an engine (SQLAlchemy events), and writes to the outbox."""

    statements: int = 0
    outbox_writes: int = 0
    commits: int = 0
    rollbacks: int = 0
    log: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.statements = self.outbox_writes = self.commits = self.rollbacks = 0
        self.log.clear()


@contextmanager
def tally(engine: Engine, budget: int | None = None, stop: threading.Event | None = None) -> Iterator[Tally]:
    """Count while inside; past `budget` statements set `stop` (a spinning loop ends and fails the test)."""
    t = Tally()

    def statement(conn: Any, cursor: Any, sql: str, params: Any, context: Any, executemany: bool) -> None:
        t.statements += 1
        t.log.append(sql.split("\n", 1)[0][:80])
        if sql.lstrip().upper().startswith("UPDATE OUTBOX"):
            t.outbox_writes += 1
        if budget is not None and stop is not None and t.statements > budget:
            stop.set()

    def commit(conn: Any) -> None:
        t.commits += 1

    def rollback(conn: Any) -> None:
        t.rollbacks += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    event.listen(engine, "rollback", rollback)
    try:
        yield t
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
        event.remove(engine, "rollback", rollback)


class PinnedSleep:
    """The dispatcher's injected sleep: records each wait and moves the pinned clock by it."""

    def __init__(self, clock: FrozenClock, stop: threading.Event | None = None, after: int = 1000) -> None:
        self.clock, self.stop, self.after = clock, stop, after
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(seconds=seconds)
        if self.stop is not None and len(self.waits) >= self.after:
            self.stop.set()


def paced(ctx: BotContext, clock: FrozenClock) -> tuple[Dispatcher, PinnedSleep]:
    d = runtime.dispatcher(ctx)
    sleep = PinnedSleep(clock)
    d.sleep = sleep
    return d, sleep


def another_process_holds(db: Session, key: str, now: datetime, seconds: float) -> None:
    """Another dispatcher took the slot of `key` for `seconds` (through the database, as it would)."""
    assert _take(db.get_bind(), [(key, timedelta(seconds=seconds))], now) == {}


async def test_T7_a_busy_overall_slot_is_asked_for_once_and_the_batch_goes_back_in_one_statement(
    ctx: BotContext,
    session_factory: sessionmaker[Session],
    db: Session,
    clock: FrozenClock,
    tg: RecordingTelegram,
) -> None:
    ids = [h.queue(db, clock(), "telegram", str(7000 + i), f"第{i}条") for i in range(20)]
    another_process_holds(db, TG_ALL, clock(), 2.0)
    free = clock() + timedelta(seconds=2)
    d, _ = paced(ctx, clock)
    with tally(ctx.engine) as t:
        done = await d.run_round()
    assert tg.calls == []
    assert done.claimed == 20 and done.deferred == 20 and done.wake_at == free
    # the claim, then one refused reservation (rolled back), then all 20 back in one statement: no
    # transaction a row (the old way: a refused reservation and a release for each of the 20)
    assert t.commits == 2, t.log
    assert t.rollbacks == 1 and t.outbox_writes == 2, t.log
    got = [h.row(db, i) for i in ids]
    assert {r.status for r in got} == {OutboxStatus.PENDING}
    assert {r.attempts for r in got} == {0} and {r.claimed_until for r in got} == {None}
    # a batch waits for Telegram's overall slot itself, so they come back together at its free moment
    assert {r.next_attempt_at for r in got} == {free}


async def test_T7_a_batch_paces_its_telegram_sends_by_the_overall_slot_without_giving_rows_back(
    ctx: BotContext, db: Session, clock: FrozenClock, tg: RecordingTelegram
) -> None:
    ids = [h.queue(db, clock(), "telegram", str(7100 + i), f"第{i}条") for i in range(12)]
    d, sleep = paced(ctx, clock)
    start = clock()
    with tally(ctx.engine) as t:
        done = await d.run_round()
    assert len(tg.sent()) == 12 and done.claimed == 12 and done.deferred == 0
    assert {h.row(db, i).status for i in ids} == {OutboxStatus.SENT}
    # one wait for each slot after the first, never longer than the overall interval: 30 a second
    assert len(sleep.waits) == 11 and all(0 < w <= OVERALL.total_seconds() + 1e-6 for w in sleep.waits)
    assert clock() - start >= 11 * OVERALL
    # a claim, then a reservation and a record a send: nothing refused, nothing released
    assert t.commits == 1 + 2 * 12 and t.rollbacks == 0, t.log


async def test_T7_rows_that_wait_for_one_sms_number_come_back_a_second_apart(
    ctx: BotContext, db: Session, clock: FrozenClock, tw: RecordingTwilio
) -> None:
    ids = [h.queue(db, clock(), "sms", f"+86138000020{i:02d}", "提醒") for i in range(4)]
    another_process_holds(db, SMS_KEY, clock(), 5.0)
    free = clock() + timedelta(seconds=5)
    d, _ = paced(ctx, clock)
    with tally(ctx.engine) as t:
        done = await d.run_round()
    assert tw.requests == [] and done.deferred == 4
    assert t.commits == 2 and t.outbox_writes == 2, t.log
    assert [h.row(db, i).next_attempt_at for i in ids] == [free + timedelta(seconds=n) for n in range(4)]
    assert {h.row(db, i).attempts for i in ids} == {0}


async def test_T7_a_channel_whose_shared_slot_is_busy_is_not_claimed_until_it_frees(
    ctx: BotContext, db: Session, clock: FrozenClock, tw: RecordingTwilio
) -> None:
    first = [h.queue(db, clock(), "sms", f"+86138000021{i:02d}", "一") for i in range(3)]
    d, _ = paced(ctx, clock)
    await d.run_round()  # one goes; the number's slot is then busy for a second: two go back
    assert len(tw.creates()) == 1
    assert [h.row(db, i).next_attempt_at - clock() for i in first[1:]] == [
        timedelta(seconds=1),
        timedelta(seconds=2),
    ]
    later = [h.queue(db, clock(), "sms", f"+86138000022{i:02d}", "二") for i in range(3)]
    with tally(ctx.engine) as t:
        done = await d.run_round()
    # no SMS row is claimed while the number's slot is known to be busy: nothing tried, nothing released
    assert done.claimed == 0 and done.wake_at == clock() + timedelta(seconds=1)
    assert t.rollbacks == 0 and t.outbox_writes == 0, t.log
    assert {(h.row(db, i).status, h.row(db, i).attempts) for i in later} == {(OutboxStatus.PENDING, 0)}
    clock.advance(seconds=1)
    with tally(ctx.engine) as t:
        done = await d.run_round()
    # then one row a round, the one the slot lets go
    assert done.claimed == 1 and len(tw.creates()) == 2 and t.rollbacks == 0, t.log


async def test_T7_the_loop_sleeps_until_the_slot_frees_instead_of_spinning(
    ctx: BotContext, db: Session, clock: FrozenClock, tw: RecordingTwilio
) -> None:
    ids = [h.queue(db, clock(), "sms", f"+86138000023{i:02d}", "提醒") for i in range(3)]
    another_process_holds(db, SMS_KEY, clock(), 0.4)
    start = clock()
    stop = threading.Event()
    d, sleep = paced(ctx, clock)
    sleep.stop, sleep.after = stop, 8
    with tally(ctx.engine, budget=300, stop=stop) as t:  # a spinning loop runs out of budget and stops
        await d.run_forever(interval=1.0, stop=stop)
    assert t.statements <= 300, "the loop spun"
    assert {h.row(db, i).status for i in ids} == {OutboxStatus.SENT}
    assert len(tw.creates()) == 3
    # until the slot another process holds frees (not the whole interval), then a second a send
    assert sleep.waits[:4] == [0.4, 1.0, 1.0, 1.0]
    assert all(w > 0 for w in sleep.waits)
    sent_at = [h.row(db, i).sent_at for i in ids]
    assert sent_at == [start + timedelta(seconds=s) for s in (0.4, 1.4, 2.4)]


async def test_T7_the_worker_loop_also_sleeps_only_until_the_slot_frees(
    world: World, clock: FrozenClock, tg: RecordingTelegram
) -> None:
    jobs = jobs_for(world.ctx)
    jobs.last_reminders = clock()  # the reminder rules ran just now: this is about the outbox
    stop = threading.Event()
    sleep = PinnedSleep(clock, stop, after=3)
    jobs.dispatcher.sleep = sleep
    with world.sessions() as db:
        ids = [h.queue(db, clock(), "telegram", str(7200 + i), "您好") for i in range(3)]
        another_process_holds(db, TG_ALL, clock(), 0.25)
    with tally(world.ctx.engine, budget=300, stop=stop) as t:
        await jobs.run_forever(interval=1.0, stop=stop)
    assert t.statements <= 300, "the loop spun"
    assert len(tg.sent()) == 3
    # first until the slot frees, then the batch paces itself at the overall interval
    assert sleep.waits[0] == 0.25
    assert all(0 < w <= OVERALL.total_seconds() + 1e-6 for w in sleep.waits[1:3])
    with world.sessions() as db:
        assert {h.row(db, i).status for i in ids} == {OutboxStatus.SENT}


async def test_T7_one_chat_still_gets_at_most_one_message_a_second_in_a_paced_batch(
    ctx: BotContext, db: Session, clock: FrozenClock, tg: RecordingTelegram
) -> None:
    for n in range(3):
        for chat in ("7301", "7302"):
            h.queue(db, clock(), "telegram", chat, f"{chat}-{n}")
    d, sleep = paced(ctx, clock)
    stop = threading.Event()
    sleep.stop, sleep.after = stop, 40
    sent_at: list[tuple[datetime, int]] = []
    tg.script = lambda m, p: (sent_at.append((clock(), int(p["chat_id"]))), (200, tg.success(m, p)))[1]
    with tally(ctx.engine, budget=400, stop=stop) as t:
        await d.run_forever(interval=1.0, stop=stop)
    assert t.statements <= 400, "the loop spun"
    for chat in (7301, 7302):
        times = [at for at, c in sent_at if c == chat]
        assert len(times) == 3
        assert all(b - a >= PER_CHAT for a, b in zip(times, times[1:], strict=False))
    texts = [p["text"] for p in tg.sent()]
    assert [x for x in texts if x.startswith("7301")] == ["7301-0", "7301-1", "7301-2"]  # in order


async def test_G2_a_batch_that_stalls_gives_back_what_it_has_not_sent_before_its_lease_matters(
    ctx: BotContext, db: Session, clock: FrozenClock, tg: RecordingTelegram
) -> None:
    ids = [h.queue(db, clock(), "telegram", str(7400 + i), "您好") for i in range(4)]
    d, _ = paced(ctx, clock)
    d.concurrency = 1

    def slow(method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        clock.advance(seconds=40)  # the provider took 40 s to answer
        return 200, tg.success(method, params)

    tg.script = slow
    await d.run_round()
    # the first went; the others were claimed with a 60 s lease, 40 s ago: not sent, given back
    assert len(tg.sent()) == 1
    assert [h.row(db, i).status for i in ids] == [OutboxStatus.SENT] + [OutboxStatus.PENDING] * 3
    assert {h.row(db, i).attempts for i in ids[1:]} == {0}


def test_G2_give_back_leaves_a_row_another_worker_took_over_after_the_lease_lapsed(
    session_factory: sessionmaker[Session], db: Session, clock: FrozenClock
) -> None:
    rid = h.queue(db, clock(), "telegram", "7500", "您好")
    start = clock()
    with session_factory() as s:
        assert [c.id for c in outbox.claim_due(s, now=start, channels=["telegram"])] == [rid]
    later = start + outbox.LEASE + timedelta(seconds=1)
    with session_factory() as s:  # the first worker stalled; its lease lapsed; another took the row
        assert [c.id for c in outbox.claim_due(s, now=later, channels=["telegram"])] == [rid]
    with session_factory() as s:  # the first worker wakes up and gives back what it did not send
        outbox.give_back(s, [(rid, start + timedelta(seconds=1))], lease_until=start + outbox.LEASE)
    got = h.row(db, rid)
    assert got.status == OutboxStatus.SENDING and got.claimed_until == later + outbox.LEASE


def test_claim_due_takes_no_more_of_a_channel_than_its_limit(db: Session, clock: FrozenClock) -> None:
    sms = [h.queue(db, clock(), "sms", f"+86138000024{i:02d}") for i in range(3)]
    tg = [h.queue(db, clock(), "telegram", str(7600 + i)) for i in range(3)]
    got = outbox.claim_due(db, now=clock(), channels=["sms", "telegram"], limits={"sms": 1})
    assert sorted(c.id for c in got) == sorted([sms[0], *tg])
    assert [h.row(db, i).status for i in sms[1:]] == [OutboxStatus.PENDING] * 2
    assert {h.row(db, i).attempts for i in sms[1:]} == {0}


def test_T7_two_workers_creating_a_new_rate_key_at_once_get_one_slot(
    session_factory: sessionmaker[Session], clock: FrozenClock, postgres_only: None
) -> None:
    key, now = "rate:telegram:chat:7700", clock()
    first = session_factory()
    try:  # one worker has created the key's row and not yet committed
        first.add(ChannelState(key=key, until=now + PER_CHAT, updated_at=now))
        first.flush()
        got: list[dict[str, datetime]] = []
        second = threading.Thread(
            target=lambda: got.append(_take(session_factory.kw["bind"], [(key, PER_CHAT)], now)),
            name="second-worker",
        )
        second.start()  # its insert waits for the first's transaction, then finds the key taken
        first.commit()
        second.join(timeout=30)
    finally:
        first.close()
    assert got == [{key: now + PER_CHAT}]


def _take(engine: Engine, keys: list[tuple[str, timedelta]], now: datetime) -> dict[str, datetime]:
    """A worker's reservation of `keys`, as the dispatcher makes it (on its own autocommit connection)."""
    with engine.connect() as raw:
        return outbox.take_free_slots(raw.execution_options(isolation_level="AUTOCOMMIT"), keys, now=now)


def _until(db: Session, key: str) -> datetime | None:
    db.expire_all()
    got = db.get(ChannelState, key)
    return None if got is None else got.until


def test_T7_a_send_takes_all_its_slots_in_one_statement_or_none_of_them(
    ctx: BotContext, db: Session, clock: FrozenClock
) -> None:
    now, chat, new_chat = clock(), "rate:telegram:chat:7800", "rate:telegram:chat:7801"
    another_process_holds(db, chat, now, 1.0)
    with ctx.engine.connect() as raw:
        conn = raw.execution_options(isolation_level="AUTOCOMMIT")
        with tally(ctx.engine) as t:  # the chat is busy: the free overall slot is not kept either
            assert outbox.take_free_slots(conn, [(TG_ALL, OVERALL), (chat, PER_CHAT)], now=now) == {
                chat: now + timedelta(seconds=1)
            }
        assert t.commits == 0 and t.rollbacks == 1, t.log
        assert _until(db, TG_ALL) == now and _until(db, chat) == now + timedelta(seconds=1)
        later = now + timedelta(seconds=1)
        another_process_holds(db, TG_ALL, later, 2.0)
        # a chat's first send while the overall slot is busy: its row is made, its slot left free
        assert outbox.take_free_slots(conn, [(TG_ALL, OVERALL), (new_chat, PER_CHAT)], now=later) == {
            TG_ALL: later + timedelta(seconds=2)
        }
        assert _until(db, new_chat) == later and _until(db, TG_ALL) == later + timedelta(seconds=2)
        free = later + timedelta(seconds=2)
        with tally(ctx.engine) as t:  # every slot free: one statement takes them all, and that is all
            assert outbox.take_free_slots(conn, [(TG_ALL, OVERALL), (new_chat, PER_CHAT)], now=free) == {}
        assert t.statements == 1 and t.commits == 1 and t.rollbacks == 0, t.log
    assert _until(db, TG_ALL) == free + OVERALL and _until(db, new_chat) == free + PER_CHAT


async def test_T7_a_send_s_slots_and_its_record_are_one_autocommit_statement_each(
    ctx: BotContext, db: Session, clock: FrozenClock, tg: RecordingTelegram
) -> None:
    ids = [h.queue(db, clock(), "telegram", str(7900 + i), f"第{i}条") for i in range(3)]
    seen: list[tuple[str, bool]] = []

    def statement(conn: Any, cursor: Any, sql: str, params: Any, context: Any, executemany: bool) -> None:
        words = " ".join(sql.split())
        if "channel_state" in words or words.startswith("UPDATE outbox SET extra"):
            raw = conn.connection.dbapi_connection  # sqlite3: no isolation level is autocommit
            alone = raw.isolation_level is None if ctx.engine.dialect.name == "sqlite" else raw.autocommit
            seen.append(("slots" if "channel_state" in words else "record", bool(alone)))

    event.listen(ctx.engine, "before_cursor_execute", statement)
    try:
        d, _ = paced(ctx, clock)
        done = await d.run_round()
    finally:
        event.remove(ctx.engine, "before_cursor_execute", statement)
    assert done.claimed == 3 and len(tg.sent()) == 3
    assert {h.row(db, i).status for i in ids} == {OutboxStatus.SENT}
    # no BEGIN and COMMIT round trips around them on PostgreSQL: each statement is its own transaction
    assert sorted(seen) == [("record", True)] * 3 + [("slots", True)] * 3


async def test_on_postgresql_serve_s_dispatcher_does_its_database_work_on_the_loop_s_engine(
    ctx: BotContext, db: Session, clock: FrozenClock, tg: RecordingTelegram, db_url: str, postgres_only: None
) -> None:
    ids = [h.queue(db, clock(), "telegram", str(8000 + i), f"第{i}条") for i in range(3)]
    loop_engine = make_loop_engine(db_url)
    assert loop_engine is not None
    on_loop = replace(ctx, sessions=make_session_factory(ctx.engine, on_loop=loop_engine))
    d, _ = paced(on_loop, clock)
    d.on_loop = True
    drivers: list[str] = []

    def statement(conn: Any, *_: Any) -> None:
        drivers.append(conn.dialect.driver)

    for engine in (ctx.engine, loop_engine.sync_engine):
        event.listen(engine, "before_cursor_execute", statement)
    try:
        done = await d.run_round()
    finally:
        for engine in (ctx.engine, loop_engine.sync_engine):
            event.remove(engine, "before_cursor_execute", statement)
        await loop_engine.dispose()
    assert done.claimed == 3 and len(tg.sent()) == 3
    assert {h.row(db, i).status for i in ids} == {OutboxStatus.SENT}
    # the claim, each send's slots and record, all waited for on the loop (asyncpg), none in this thread
    assert len(drivers) >= 7 and set(drivers) == {"asyncpg"}, drivers
