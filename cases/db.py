"""Engine and session factory: SQLite gets WAL, foreign keys and a busy timeout; PostgreSQL as is."""

from __future__ import annotations

import logging
import shlex
import sqlite3
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from time import monotonic, perf_counter
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.util.concurrency import greenlet_spawn, in_greenlet

SQLITE_BUSY_TIMEOUT_MS = 15_000
SQLITE_AUTOCHECKPOINT_PAGES = 1000  # SQLite's default: the commit that fills the WAL copies it back
# With a background checkpointer, a commit checkpoints only if the WAL outgrew this (the checkpointer is
# stuck or gone): a backstop, so the WAL cannot grow without end.
SQLITE_BACKSTOP_CHECKPOINT_PAGES = 20_000

POSTGRES_POOL_SIZE = 12
POSTGRES_POOL_OVERFLOW = 20
POSTGRES_PING_AFTER_IDLE_SECONDS = 5.0  # a pooled connection idle this long is tested before use

log = logging.getLogger(__name__)
T = TypeVar("T")


def make_engine(url: str, *, background_checkpoints: bool = False,
                ping_idle_seconds: float = POSTGRES_PING_AFTER_IDLE_SECONDS, **kwargs: Any) -> Engine:
    """Create an engine for `url`; SQLite files get their folder, WAL, foreign keys and busy timeout.
    `background_checkpoints`: the WAL is copied back by a `WalCheckpointer`, not by the commits of requests
    (a checkpoint writes and syncs the database file: about 20 ms inside some unlucky request's commit).
    PostgreSQL: a pooled connection idle `ping_idle_seconds` or longer is tested before use."""
    parsed = make_url(url)
    # a database error's message leaves out the statement's parameters (phone numbers, chat ids, names),
    # which `log.exception` would otherwise write to the log with its traceback
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        engine = create_engine(url, **kwargs)
        pages = SQLITE_BACKSTOP_CHECKPOINT_PAGES if background_checkpoints else SQLITE_AUTOCHECKPOINT_PAGES
        event.listen(engine, "connect", lambda conn, _record: _sqlite_pragmas(conn, pages))
        return engine
    # kept open: the loop's worker threads (6 on 2 cores), the dispatcher and the console's thread pool use
    # more than SQLAlchemy's default 5 at once, and each connection opened past those costs a PostgreSQL
    # backend start (a few ms), only to be closed again when it is given back
    if kwargs.get("poolclass") is not None:  # NullPool (migrations) and the like: no pool to size or ping
        return create_engine(url, **kwargs)
    engine = create_engine(url, **_postgres_defaults(kwargs))
    if not kwargs.get("pool_pre_ping"):
        ping_after_idle(engine, ping_idle_seconds)
    return engine


def ping_after_idle(engine: Engine, seconds: float) -> None:
    """Test a pooled connection before use when it sat in the pool at least `seconds` (SQLAlchemy's
    pessimistic recipe: a checkout listener that raises DisconnectionError, so the pool connects anew).
    `pool_pre_ping` pings on every checkout: a round trip on every request, 1 of a message's 8 on
    PostgreSQL (webhook bench, SMS: 4.1-4.2 ms of CPU a message without it, 4.6-4.9 with it). A connection
    in steady use is not pinged: if the server restarted meanwhile, its first statement fails, SQLAlchemy
    invalidates the whole pool, and the request answers with an error its platform retries (G1)."""

    @event.listens_for(engine, "checkin")
    def _stamp(_dbapi: Any, record: Any) -> None:
        record.info["idle_since"] = monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or monotonic() - since < seconds:
            return
        try:
            engine.dialect.do_ping(dbapi)
        except Exception as exc:  # noqa: BLE001 - whatever the driver raises, the connection is gone
            raise DisconnectionError(type(exc).__name__) from exc


def _sqlite_pragmas(dbapi_connection: Any, autocheckpoint_pages: int = SQLITE_AUTOCHECKPOINT_PAGES) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA wal_autocheckpoint={int(autocheckpoint_pages)}")
    cursor.close()


class WalCheckpointer:
    """Copies an SQLite file's WAL back into the database every `interval` seconds, from a thread of its
    own (PASSIVE: never waits for readers or the writer, who go on meanwhile); SQLite does this work, and
    its sync, outside the GIL. For engines made with `background_checkpoints=True`."""

    def __init__(self, engine: Engine, interval: float = 1.0) -> None:
        self.engine, self.interval = engine, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def checkpoint(self) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (busy, WAL frames, frames copied back)."""
        raw = self.engine.raw_connection()  # a pooled connection: pragmas set, closed by the pool
        try:
            cursor = raw.cursor()
            row = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            cursor.close()
            raw.commit()
        finally:
            raw.close()
        return (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)

    def start(self) -> WalCheckpointer:
        self._thread = threading.Thread(target=self._run, name="sqlite-wal-checkpointer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.checkpoint()
            except Exception:  # noqa: BLE001 - try again next time; the backstop bounds the WAL meanwhile
                log.exception("WAL checkpoint failed")


def wal_checkpointer_for(engine: Engine, interval: float) -> WalCheckpointer | None:
    """A checkpointer for a SQLite file engine (None for PostgreSQL, in-memory SQLite, or interval 0)."""
    if engine.dialect.name != "sqlite" or interval <= 0 or engine.url.database in (None, "", ":memory:"):
        return None
    return WalCheckpointer(engine, interval)


def make_session_factory(engine: Engine, *, on_loop: AsyncEngine | None = None) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit. `on_loop`: the sessions opened by work
    that `run_on_loop` runs come from that engine instead (see LoopSessions)."""
    if on_loop is not None:
        return LoopSessions(engine, on_loop)
    return sessionmaker(bind=engine, expire_on_commit=False)


def make_loop_engine(url: str, *, ping_idle_seconds: float = POSTGRES_PING_AFTER_IDLE_SECONDS,
                     **kwargs: Any) -> AsyncEngine | None:
    """PostgreSQL: an engine on asyncpg's connections, for requests' database work run on the event loop by
    `run_on_loop`; None for SQLite (whose work runs on the loop anyway, see bot.context.run_db_work).
    Pooled and pinged as `make_engine`'s.

    asyncpg, not psycopg's asyncio connections (`make_engine`'s driver): a statement's round trip costs
    60-67 us of CPU through SQLAlchemy on asyncpg against 84-95 on asyncio psycopg, which registers and
    unregisters the socket with the loop at every wait (measured on uvloop, `SELECT 1` prepared, one
    connection); the webhook bench's SMS dialogue 1.66 ms a message instead of 1.96, Telegram 1.75
    instead of 2.21. `url` is the configured one (`postgresql+psycopg://...`): asyncpg connects to the same
    server, user and database, with the query's libpq options (see `_asyncpg_connect`)."""
    if make_url(url).get_backend_name() != "postgresql":
        return None
    kwargs.setdefault("async_creator", _asyncpg_connect(url))
    engine = create_async_engine("postgresql+asyncpg://", **_postgres_defaults(kwargs))
    if not kwargs.get("pool_pre_ping"):
        ping_after_idle(engine.sync_engine, ping_idle_seconds)
    return engine


def _asyncpg_connect(url: str) -> Callable[[], Awaitable[Any]]:
    """asyncpg's connect for SQLAlchemy's `async_creator`, to the server `url` names (any driver). asyncpg's
    DSN parser reads libpq's connection options (sslmode, sslrootcert, target_session_attrs, ...) and
    sends any other as a server setting (application_name); libpq's `connect_timeout` and `options`
    (`-c name=value`) are given to asyncpg as its `timeout` and `server_settings`."""
    parsed = make_url(url)
    query = dict(parsed.query)
    kwargs: dict[str, Any] = {}
    timeout = query.pop("connect_timeout", None)
    if isinstance(timeout, str) and timeout:
        kwargs["timeout"] = float(timeout)
    options = query.pop("options", None)
    if isinstance(options, str):
        kwargs["server_settings"] = server_settings(options)
    dsn = parsed.set(drivername="postgresql", query=query).render_as_string(hide_password=False)

    async def connect() -> Any:
        import asyncpg  # only PostgreSQL's loop engine needs it

        return await asyncpg.connect(dsn, **kwargs)

    return connect


def server_settings(options: str) -> dict[str, str]:
    """libpq's `options` (`-c search_path=x -c statement_timeout=5s`, `-cname=value`, `--name=value`) as
    name -> value."""
    words = shlex.split(options)
    found: dict[str, str] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if word == "-c" and i + 1 < len(words):
            setting, i = words[i + 1], i + 2
        elif word.startswith("-c") or word.startswith("--"):
            setting, i = word[2:], i + 1
        else:
            raise ValueError(f"database URL options: {word!r} is not -c name=value")
        name, sep, value = setting.partition("=")
        if not sep:
            raise ValueError(f"database URL options: {setting!r} is not name=value")
        found[name.replace("-", "_")] = value
    return found


def _postgres_defaults(kwargs: dict[str, Any]) -> dict[str, Any]:
    """A pooled PostgreSQL engine's arguments, as `make_engine` explains them: parameters hidden from error
    messages, and a pool of POSTGRES_POOL_SIZE kept open (POSTGRES_POOL_OVERFLOW more when busy)."""
    kwargs.setdefault("hide_parameters", True)
    kwargs.setdefault("pool_size", POSTGRES_POOL_SIZE)
    kwargs.setdefault("max_overflow", POSTGRES_POOL_OVERFLOW)
    return kwargs


class LoopSessions(sessionmaker[Session]):
    """Sessions on `engine`, except in work that `run_on_loop` runs: there on `loop_engine`, whose
    statements wait for PostgreSQL on the event loop (SQLAlchemy's greenlet bridge, the machinery of its
    AsyncSession) instead of blocking a thread. Callers see a plain Session either way."""

    def __init__(self, engine: Engine, loop_engine: AsyncEngine) -> None:
        super().__init__(bind=engine, expire_on_commit=False)
        self.loop_engine = loop_engine
        self.on_loop = sessionmaker(bind=loop_engine.sync_engine, expire_on_commit=False)

    def __call__(self, **local_kw: Any) -> Session:
        return self.on_loop(**local_kw) if in_greenlet() else super().__call__(**local_kw)


def engines_of(sessions: sessionmaker[Session]) -> tuple[Engine, ...]:
    """Every engine a factory's sessions may be bound to (event listeners go on each)."""
    bind = sessions.kw["bind"]
    if isinstance(sessions, LoopSessions):
        return (bind, sessions.loop_engine.sync_engine)
    return (bind,)


async def run_on_loop(work: Callable[[], T]) -> T:
    """Run blocking database work on the running event loop, in a greenlet: sessions a LoopSessions factory
    opens there wait for each round trip without blocking the loop, which serves other requests meanwhile."""
    return await greenlet_spawn(work)


def is_sqlite(engine_or_session: Engine | Session) -> bool:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "sqlite"


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error."""
    with factory() as db, db.begin():
        yield db


class WriterTurn:
    """This process's SQLite writer turn: a reentrant lock that its threads queue on. A try without waiting
    (`acquire(blocking=False)`, the event loop's) gives way while a thread waits for the turn: Python's
    locks are not fair, and a loop taking the turn again right after each request kept the dispatcher
    thread waiting up to 0.8 s (measured: 2 ms requests back to back beside a thread wanting the turn every
    30 ms; with the give-way, at most 5 ms)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._guard = threading.Lock()
        self._waiting = 0
        self._owner: int | None = None
        self._depth = 0

    def acquire(self, blocking: bool = True) -> bool:
        me = threading.get_ident()
        if self._owner == me:  # reentrant: the holder takes it again at once
            self._lock.acquire()
        elif not blocking:
            if self._waiting or not self._lock.acquire(blocking=False):
                return False
        else:
            with self._guard:
                self._waiting += 1
            try:
                self._lock.acquire()
            finally:
                with self._guard:
                    self._waiting -= 1
        self._owner = me
        self._depth += 1
        return True

    @property
    def waiting(self) -> int:
        """Threads blocked waiting for the turn right now."""
        return self._waiting

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
        self._lock.release()

    def __enter__(self) -> WriterTurn:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


_WRITERS: weakref.WeakKeyDictionary[Engine, WriterTurn] = weakref.WeakKeyDictionary()
_WRITERS_GUARD = threading.Lock()


def writer_lock(engine_or_session: Engine | Session) -> WriterTurn | None:
    """This process's SQLite writer turn (the one `writer_turn` takes); None for PostgreSQL."""
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    if bind.dialect.name != "sqlite":
        return None
    if not isinstance(bind, Engine):
        bind = bind.engine
    with _WRITERS_GUARD:
        lock = _WRITERS.get(bind)
        if lock is None:
            lock = _WRITERS[bind] = WriterTurn()
    return lock


Probe = tuple[threading.Lock, sqlite3.Connection]
_PROBES: weakref.WeakKeyDictionary[Engine, Probe] = weakref.WeakKeyDictionary()


def _probe(engine: Engine) -> Probe:
    """A connection of the engine's file kept for `another_process_writes`: it never waits for a lock and
    holds no transaction between tries (a pooled one cost a check-out and four statements a try)."""
    with _WRITERS_GUARD:
        found = _PROBES.get(engine)
        if found is None:
            conn = sqlite3.connect(str(engine.url.database), timeout=0, isolation_level=None,
                                   check_same_thread=False)
            found = _PROBES[engine] = (threading.Lock(), conn)
            weakref.finalize(engine, conn.close)
    return found


def another_process_writes(engine: Engine) -> bool:
    """SQLite: whether another process holds the database's write lock right now (tried without waiting;
    call it holding this process's writer turn, so no thread of ours is the writer)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return False
    lock, conn = _probe(engine)
    with lock:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return True
        conn.execute("ROLLBACK")
        return False


def writer_turn(engine_or_session: Engine | Session) -> AbstractContextManager[Any]:
    """SQLite has one writer: threads of this process queue on a lock instead of polling the database's
    busy timeout (which sleeps up to 100 ms a try); other processes still meet the busy timeout.
    Reentrant, so a writer may call code that takes its turn again. PostgreSQL: nothing to do (row locks)."""
    lock = writer_lock(engine_or_session)
    return nullcontext() if lock is None else lock


def in_writer_turns(
    db: Session,
    items: Sequence[T],
    size: int,
    work: Callable[[Sequence[T]], None],
    pause: Callable[[float], None] | None = None,
) -> None:
    """A background job's `work`, `size` items at a time: each batch in the process's writer turn and
    committed, so on SQLite (one writer) requests go on between batches instead of waiting for the whole
    job; `pause(seconds)`, when given, is called after each batch with the time it took."""
    for start in range(0, len(items), size):
        began = perf_counter()
        with writer_turn(db):
            work(items[start : start + size])
            db.commit()
        if pause is not None:
            pause(perf_counter() - began)
