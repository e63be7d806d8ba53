"""Where a request's database work runs (bot.context.run_db_work): on the event loop when SQLite's writer
turn is free, else in a worker thread; PostgreSQL's on the loop too when the sessions are the server's
(cases.db.LoopSessions), each round trip waited for without blocking the loop."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.context import BotContext, finish_db_work, run_db_work
from cases.clock import system_clock
from cases.db import another_process_writes, make_loop_engine, make_session_factory, writer_turn


def _ctx(engine: Engine, threads: int = 2, *, on_loop: AsyncEngine | None = None, in_flight: int = 8
         ) -> BotContext:
    settings: Any = SimpleNamespace(db_threads=threads, db_in_flight=in_flight)  # all run_db_work reads
    return BotContext(settings=settings, sessions=make_session_factory(engine, on_loop=on_loop),
                      clock=system_clock)


def _where(ctx: BotContext) -> str:
    async def go() -> str:
        loop_thread = threading.get_ident()
        ran = await run_db_work(ctx, threading.get_ident)
        return "loop" if ran == loop_thread else "thread"

    return asyncio.run(go())


def test_free_sqlite_work_runs_on_the_loop_and_postgresql_in_a_thread(engine: Engine) -> None:
    assert _where(_ctx(engine)) == ("loop" if engine.dialect.name == "sqlite" else "thread")


def test_another_thread_writing_makes_the_work_wait_its_turn_on_the_loop_which_keeps_serving(
    engine: Engine,
) -> None:
    ctx = _ctx(engine)
    held, release = threading.Event(), threading.Event()
    events: list[str] = []

    def writer() -> None:
        with writer_turn(engine):
            held.set()
            release.wait(5)
            events.append("writer done")

    async def go() -> tuple[str, int]:
        loop_thread = threading.get_ident()
        ticks = 0

        async def ticker() -> None:  # other requests are served meanwhile: the loop is not blocked
            nonlocal ticks
            while True:
                ticks += 1
                if ticks == 20:
                    release.set()
                await asyncio.sleep(0.001)

        def work() -> int:
            events.append("work")
            return threading.get_ident()

        tick = asyncio.ensure_future(ticker())
        ran = await run_db_work(ctx, work)
        tick.cancel()
        return ("loop" if ran == loop_thread else "thread"), ticks

    other = threading.Thread(target=writer)
    other.start()
    held.wait(5)
    try:
        where, ticks = asyncio.run(go())
    finally:
        release.set()
        other.join()
    if engine.dialect.name == "sqlite":
        assert where == "loop" and ticks >= 20
        assert events == ["writer done", "work"]  # it waited for the other writer's turn to end
    else:
        assert where == "thread"


def test_requests_waiting_for_the_turn_run_in_arrival_order(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL: worker threads and row locks, no turn to queue for
    ctx = _ctx(engine)
    order: list[int] = []
    held, done = threading.Event(), threading.Event()

    def holder() -> None:  # another thread holds the turn while five requests arrive
        with writer_turn(engine):
            held.set()
            done.wait(0.05)

    async def five() -> None:
        await asyncio.gather(*(run_db_work(ctx, lambda i=i: order.append(i)) for i in range(5)))

    other = threading.Thread(target=holder)
    other.start()
    held.wait(5)
    try:
        asyncio.run(five())
    finally:
        done.set()
        other.join()
    assert order == [0, 1, 2, 3, 4]


def test_another_process_writing_is_seen_without_waiting_and_sends_the_work_to_a_thread(
    engine: Engine, db_url: str
) -> None:
    if engine.dialect.name != "sqlite":
        assert another_process_writes(engine) is False
        return
    blocker = create_engine(db_url).raw_connection()  # another process's connection, as far as locks go
    blocker.cursor().execute("BEGIN IMMEDIATE")
    try:
        assert another_process_writes(engine) is True
        with engine.connect() as conn:  # the probe left the connection's own patience as it was
            assert int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) >= 1000
        threading.Timer(0.3, blocker.rollback).start()
        assert _where(_ctx(engine)) == "thread"
    finally:
        blocker.rollback()
        blocker.close()
    assert another_process_writes(engine) is False
    assert _where(_ctx(engine)) == "loop"


REQUEST = contextvars.ContextVar("request", default="none")


async def _request(ctx: BotContext, n: int, work: Callable[[], str]) -> str:
    """Request n: its own context (REQUEST = 'rn'), whose database work is `work`."""
    REQUEST.set(f"r{n}")
    return await run_db_work(ctx, work)


def test_postgresql_work_runs_on_at_most_db_threads_threads_in_the_requests_context() -> None:
    # a PostgreSQL engine that never connects: the work below is ours and touches no database
    ctx = _ctx(create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none"), threads=2)
    lock = threading.Lock()
    pairs = threading.Barrier(2, timeout=10)  # each work waits for a second one running beside it
    running, most, seen = 0, 0, []

    def work() -> str:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            seen.append(threading.current_thread().name)
        pairs.wait()  # one thread alone would break the barrier; two get through, a pair at a time
        with lock:
            running -= 1
        return REQUEST.get()

    async def eight() -> list[str]:
        return list(await asyncio.gather(*(_request(ctx, n, work) for n in range(8))))

    assert asyncio.run(eight()) == [f"r{n}" for n in range(8)]  # each in its own request's context
    assert most == 2  # eight requests at once, two running together, never more
    # two threads of the pool (asyncio.to_thread's default pool has six here, named asyncio_N)
    assert len(seen) == 8 and len(set(seen)) == 2 and all(name.startswith("shenbao-db") for name in seen)


def _loop_engine(db_url: str) -> AsyncEngine:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite has no loop engine: its work runs on the loop under the writer turn")
    loop_engine = make_loop_engine(db_url)
    assert loop_engine is not None
    return loop_engine


def test_postgresql_work_of_the_servers_sessions_waits_on_the_loop_which_keeps_serving(
    engine: Engine, db_url: str
) -> None:
    loop_engine = _loop_engine(db_url)
    ctx = _ctx(engine, on_loop=loop_engine)
    assert ctx.sessions().get_bind() is engine  # outside the loop's work: the plain engine
    blocker = engine.raw_connection()
    blocker.cursor().execute("SELECT pg_advisory_lock(4242)")  # another worker holds what the work needs

    def work() -> tuple[int, bool]:
        with ctx.sessions() as db:
            db.execute(text("SET LOCAL lock_timeout = '5s'"))  # a loop blocked by this wait fails, not hangs
            db.execute(text("SELECT pg_advisory_xact_lock(4242)"))  # waits for the blocker
            db.commit()
            return threading.get_ident(), db.get_bind() is loop_engine.sync_engine

    async def go() -> tuple[tuple[int, bool], int, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                if ticks == 20:
                    blocker.cursor().execute("SELECT pg_advisory_unlock(4242)")
                await asyncio.sleep(0.001)

        tick = asyncio.ensure_future(ticker())
        try:
            return await run_db_work(ctx, work), threading.get_ident(), ticks
        finally:
            tick.cancel()
            await loop_engine.dispose()

    try:
        (ran_on, own_engine), loop_thread, ticks = asyncio.run(go())
    finally:
        blocker.close()
    assert ran_on == loop_thread and own_engine  # on the loop, on the loop's engine
    assert ticks >= 20  # the loop went on serving while the work waited for the lock


def test_postgresql_work_on_the_loop_overlaps_at_most_db_in_flight_requests_in_their_context(
    engine: Engine, db_url: str
) -> None:
    loop_engine = _loop_engine(db_url)
    ctx = _ctx(engine, on_loop=loop_engine, in_flight=2)
    running, most = 0, 0

    def work() -> str:
        nonlocal running, most
        with ctx.sessions() as db:
            running += 1
            most = max(most, running)
            db.execute(text("SELECT pg_sleep(0.05)"))  # the loop runs the others' work meanwhile
            running -= 1
        return REQUEST.get()

    async def six() -> list[str]:
        try:
            return list(await asyncio.gather(*(_request(ctx, n, work) for n in range(6))))
        finally:
            await loop_engine.dispose()

    assert asyncio.run(six()) == [f"r{n}" for n in range(6)]
    assert most == 2  # two round trips overlapped (one at a time would be 1), never more than db_in_flight


def test_shutdown_waits_for_work_still_running_on_the_loop(engine: Engine, db_url: str) -> None:
    """An SMS answered at its deadline is still being handled: the app's shutdown waits for it rather than
    cancel it with the loop (its transaction, the message's only copy, would roll back)."""
    loop_engine = _loop_engine(db_url)
    ctx = _ctx(engine, on_loop=loop_engine)
    blocker = engine.raw_connection()
    blocker.cursor().execute("SELECT pg_advisory_lock(4343)")
    done: list[str] = []

    def work() -> None:
        with ctx.sessions() as db:
            db.execute(text("SET LOCAL lock_timeout = '5s'"))
            db.execute(text("SELECT pg_advisory_xact_lock(4343)"))
            db.commit()
        done.append("handled")

    async def go() -> tuple[int, int]:
        first = asyncio.ensure_future(run_db_work(ctx, work))
        await asyncio.sleep(0.05)
        still = await finish_db_work(0.1)  # the lock is held past the wait: left running, and said so
        threading.Timer(0.2, lambda: blocker.cursor().execute("SELECT pg_advisory_unlock(4343)")).start()
        left = await finish_db_work(10)
        assert first.done()
        await loop_engine.dispose()
        return still, left

    try:
        assert asyncio.run(go()) == (1, 0)
    finally:
        blocker.close()
    assert done == ["handled"]
