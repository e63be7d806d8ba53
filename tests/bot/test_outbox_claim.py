"""The dispatcher's claim does the same work however long the backlog and however much was sent before.

It runs under the writer turn, so its time is every webhook's wait. Work is counted as SQLite virtual
machine steps (a progress handler called on every step): a count, not a timing. Before the claim walked
one channel's due rows in order and probed only the open rows of an address, the first test counted
830,068 steps against 2,792."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from bot import outbox
from cases.clock import FrozenClock
from cases.models import Outbox, OutboxStatus
from tests.conftest import counting_steps, rows_touched

_TABLE = Outbox.__table__


def reply(channel: str, to: str, body: str, *, at: datetime, sent: bool) -> dict[str, Any]:
    """An outbox row, due (pending) or sent at `at`."""
    return dict(channel=channel, to=to, kind="reply", body=body, extra={},
                status=OutboxStatus.SENT if sent else OutboxStatus.PENDING, attempts=1 if sent else 0,
                next_attempt_at=at, created_at=at, sent_at=at if sent else None)


def fill(db: Session, now: datetime, *, addresses: int, sent_each: int, pending_each: int) -> None:
    """Telegram replies to `addresses` chats: `sent_each` sent long ago, then `pending_each` due, in turn;
    and as many SMS as were sent to the chats, answered inline. Empties the outbox first."""
    long_ago = now - timedelta(days=30)
    rows = [reply("telegram", str(1000 + a), f"旧 {k}", at=long_ago, sent=True)
            for k in range(sent_each) for a in range(addresses)]
    rows += [reply("telegram", str(1000 + a), f"回复 {k}",
                   at=now - timedelta(seconds=60) + timedelta(milliseconds=k * addresses + a), sent=False)
             for k in range(pending_each) for a in range(addresses)]
    rows += [reply("sms", f"+8613800{a:06d}", "短信", at=now, sent=True)
             for a in range(addresses * sent_each)]
    conn = db.connection()
    conn.execute(_TABLE.delete())
    conn.execute(insert(_TABLE), rows)
    db.commit()


def claim_steps(db: Session, now: datetime, **world: int) -> tuple[int, list[outbox.Claimed]]:
    """Fill the outbox with `world` (see fill), then claim once: the steps it took and what it claimed."""
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("counts SQLite's own steps; the claim's SQL is the same on PostgreSQL")
    fill(db, now, **world)
    with counting_steps(db) as steps:
        got = outbox.claim_due(db, now=now, channels=["sms", "telegram", "wechat"], limit=20)
    return steps[0], got


def test_a_claim_does_not_grow_with_the_backlog_or_the_history(db: Session, clock: FrozenClock) -> None:
    small, got = claim_steps(db, clock(), addresses=25, sent_each=0, pending_each=1)
    assert len(got) == 20
    # 3,000 due, 8,000 sent before
    big, got = claim_steps(db, clock(), addresses=200, sent_each=40, pending_each=15)
    assert [int(r.to) for r in got] == list(range(1000, 1020))  # each chat's oldest reply, oldest first
    assert {r.body for r in got} == {"回复 0"}
    assert big < 1.5 * small, (small, big)


def test_an_idle_claim_reads_nothing_of_the_history(db: Session, clock: FrozenClock) -> None:
    small, got = claim_steps(db, clock(), addresses=1, sent_each=1, pending_each=0)
    assert got == []
    big, got = claim_steps(db, clock(), addresses=200, sent_each=40, pending_each=0)
    assert got == []
    assert big < 1.5 * small, (small, big)


def test_on_postgresql_statistics_of_an_emptier_table_do_not_make_the_claim_quadratic(
    db: Session, clock: FrozenClock
) -> None:
    """A new deployment, or a burst filling the outbox faster than autovacuum analyses it: PostgreSQL plans
    the claim on statistics that say the table is nearly empty. Then "no earlier open row" was joined
    row by row against every open row of the channel (3,000 due rows: 4.5 M rows thrown away; in the
    webhook bench, claims of up to 16 s). The head check must stay one probe of ix_outbox_open a row."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner; SQLite's claim is counted in steps above")
    now = clock()
    conn = db.connection()
    conn.execute(text("ALTER TABLE outbox SET (autovacuum_enabled = false)"))  # the statistics stay stale
    conn.execute(_TABLE.delete())
    conn.execute(text("ANALYZE outbox"))
    fill(db, now, addresses=200, sent_each=0, pending_each=15)  # 3,000 due rows, 200 of them heads
    conn = db.connection()
    due, _lapsed = outbox._CLAIMS["postgresql"]
    sql = str(due.params(channel="telegram", now=now, cap=20).compile(
        dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    try:
        plan = conn.execute(text("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)).scalar_one()[0]["Plan"]
        touched = rows_touched(plan)
    finally:
        db.rollback()
        db.connection().execute(text("ALTER TABLE outbox RESET (autovacuum_enabled)"))
        db.commit()
    assert touched < 20 * 3_000, touched  # linear in the backlog at worst (fresh statistics: the cap's worth)
