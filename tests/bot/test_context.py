"""Where a request's database work runs (bot.context.run_db_work): on the event loop when SQLite's writer
turn is free, else in a worker thread, so the loop never waits on a lock or on PostgreSQL."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Engine, create_engine

from bot.context import BotContext, run_db_work
from cases.clock import system_clock
from cases.db import another_process_writes, make_session_factory, writer_turn


def _ctx(engine: Engine, threads: int = 2) -> BotContext:
    settings: Any = SimpleNamespace(db_threads=threads)  # all run_db_work reads of the settings
    return BotContext(settings=settings, sessions=make_session_factory(engine), clock=system_clock)


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

    async def request(n: int) -> str:
        REQUEST.set(f"r{n}")
        return await run_db_work(ctx, work)

    async def eight() -> list[str]:
        return list(await asyncio.gather(*(request(n) for n in range(8))))

    assert asyncio.run(eight()) == [f"r{n}" for n in range(8)]  # each in its own request's context
    assert most == 2  # eight requests at once, two running together, never more
    # two threads of the pool (asyncio.to_thread's default pool has six here, named asyncio_N)
    assert len(seen) == 8 and len(set(seen)) == 2 and all(name.startswith("shenbao-db") for name in seen)
