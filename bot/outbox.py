"""The outbox in the database: claiming due rows, recording results, rate slots, inline answers.

Everything here lives in the database so several `shenbao serve` / `shenbao worker` processes can
share it: rows are claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite serialises writers),
a claim is a lease (`claimed_until`) that another worker takes over once it lapses, and send rates
are slots in `channel_state` reserved by a conditional UPDATE.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Integer, bindparam, case, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from bot import smstext
from cases.clock import BEIJING
from cases.db import writer_turn
from cases.models import (
    Base,
    Channel,
    ChannelState,
    Contact,
    ContactStatus,
    Outbox,
    OutboxStatus,
    open_status,
)
from cases.prepared import Prepared
from cases.subjects import REASONS, why_stale

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
INLINE_GRACE = timedelta(seconds=15)
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 30 * 60.0
MAX_ATTEMPTS = 8
_OUTBOX = Base.metadata.tables[Outbox.__tablename__]


@dataclass(frozen=True)
class Claimed:
    """A detached copy of a claimed row: what a sender needs, nothing bound to a session."""

    id: int
    channel: str
    to: str
    body: str
    kind: str
    contact_id: int | None
    attempts: int
    extra: dict[str, Any] = field(default_factory=dict)
    provider_id: str | None = None
    last_error: str | None = None
    created_at: datetime | None = None
    blocked: ContactStatus | None = None  # the contact's status at claim time when it may not be sent to

    @classmethod
    def of(cls, row: Outbox, blocked: ContactStatus | None = None) -> Claimed:
        return cls(
            id=row.id,
            channel=str(row.channel),
            to=row.to,
            body=row.body,
            kind=row.kind,
            contact_id=row.contact_id,
            attempts=row.attempts,
            extra=dict(row.extra or {}),
            provider_id=row.provider_id,
            last_error=row.last_error,
            created_at=row.created_at,
            blocked=blocked,
        )


def backoff(
    attempts: int, *, base: float = BACKOFF_BASE_SECONDS, cap: float = BACKOFF_CAP_SECONDS
) -> timedelta:
    """Exponential backoff after the `attempts`-th failed try: base, 2 base, 4 base ... capped."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Claim:
    """A claim's rows to send, and how many due rows it dropped as out of date instead (not sent)."""

    rows: list[Claimed]
    dropped: int = 0


def claim_due(
    db: Session,
    *,
    now: datetime,
    channels: Sequence[str],
    limit: int = 50,
    lease: timedelta = LEASE,
    limits: Mapping[str, int] | None = None,
) -> list[Claimed]:
    """Claim due rows of `channels` (pending and due, or a lapsed lease after a crash); commits.
    Only the oldest unsent row of an address is taken, so replies never overtake each other.
    `limits` caps the rows taken per channel (what its send rate allows before the lease matters);
    rows over a cap are left pending, untouched. Rows out of date are dropped (`claim`)."""
    return claim(db, now=now, channels=channels, limit=limit, lease=lease, limits=limits).rows


def claim(
    db: Session,
    *,
    now: datetime,
    channels: Sequence[str],
    limit: int = 50,
    lease: timedelta = LEASE,
    limits: Mapping[str, int] | None = None,
) -> Claim:
    """claim_due, also telling how many rows it dropped: a notice to staff whose subject no longer holds
    (cases.subjects: the task done, cancelled, rescheduled or moved to a colleague, the case closed) is
    marked dropped, with the reason as its error code, in the claim's transaction, and not sent.

    One statement a channel, each walking that channel's due rows in order (ix_outbox_due) and stopping
    at its cap, and one for lapsed leases; whether a row heads its address is one probe of the partial
    index of open rows (ix_outbox_open); one more, by primary keys, when rows about tasks or cases are
    among them. A backlog behind a rate limit, or years of sent rows, cost nothing here: the claim runs
    under the writer turn, so its time is every webhook's wait."""
    if not channels:
        return Claim([])
    due_of, lapsed = _CLAIMS[db.connection().dialect.name]
    room = {str(c): min(limit, (limits or {}).get(str(c), limit)) for c in channels}  # rows left a channel
    rows = list(db.scalars(lapsed, {"now": now, "channels": list(room), "cap": limit}))
    for channel, cap in room.items():
        if cap > 0:
            rows += db.scalars(due_of, {"now": now, "channel": channel, "cap": cap})
    rows.sort(key=lambda r: (r.next_attempt_at, r.id))
    stale = _stale_of(db, rows, now)
    claimed: list[Outbox] = []
    for row in rows:
        if row.id in stale:
            _drop(row, stale[row.id])
            continue
        if len(claimed) >= limit or room[str(row.channel)] <= 0:
            continue
        room[str(row.channel)] -= 1
        row.status = OutboxStatus.SENDING
        row.claimed_until = now + lease
        row.attempts = row.attempts + 1
        if row.channel == Channel.SMS and row.segments is None:
            row.segments = sum(
                smstext.segments(p)
                for p in smstext.split(
                    smstext.with_choices(row.body, list((row.extra or {}).get("choices") or []))
                )
            )
        claimed.append(row)
    stops = _blocked_of(db, claimed)
    db.commit()
    return Claim([Claimed.of(r, stops.get(r.id)) for r in claimed], dropped=len(stale))


def _stale_of(db: Session, rows: Sequence[Outbox], now: datetime) -> dict[int, str]:
    """The rows that are notices whose subject no longer holds, with why (cases.subjects). Never a reply,
    nor a row the provider may hold already in part (its id recorded, parts sent): that one is finished."""
    subjects = {
        r.id: r.extra["subject"]
        for r in rows
        if r.kind != "reply"
        and isinstance((r.extra or {}).get("subject"), dict)
        and r.provider_id is None
        and not r.extra.get("parts_sent")
    }
    return why_stale(db, subjects, today=now.astimezone(BEIJING).date()) if subjects else {}


def _drop(row: Outbox, reason: str) -> None:
    """Mark a due row dropped, not sent: pending or sending (a lapsed lease) before, never tried again."""
    log.info("outbox %s dropped, out of date: %s", row.id, reason)
    row.status = OutboxStatus.DROPPED
    row.claimed_until = None
    row.error_code = reason
    row.last_error = f"not sent: {REASONS.get(reason, reason)}"


_EARLIER = aliased(Outbox)
# The row is its address's first open row: one probe of the partial index ix_outbox_open (the first entry
# under channel and address), whatever PostgreSQL's statistics say. Written as "no earlier open row"
# (NOT EXISTS), the planner, on statistics taken while the table was nearly empty (a new deployment, or
# the webhook bench filling it 0 -> 30,000 rows in a minute, before autovacuum analysed it again), joined
# every due row against every open row of the channel: a claim ran up to 16 s of PostgreSQL's CPU, and
# the dispatcher's claims took most of a core from the webhooks. As a scalar subquery it cannot be
# turned into a join: the same statistics give a linear walk (30,000 open rows: 97 ms instead of
# minutes), fresh ones the walk in ix_outbox_due's order that stops at the cap (0.2 ms).
_QUEUE_HEAD = Outbox.id == (
    select(_EARLIER.id)
    .where(_EARLIER.channel == Outbox.channel, _EARLIER.to == Outbox.to, open_status(_EARLIER.status))
    .order_by(_EARLIER.id)
    .limit(1)
    .scalar_subquery()
)
_DUE_OF = (  # a channel's due pending rows that head their address, oldest first, at most `cap`
    select(Outbox)
    .where(
        Outbox.status == OutboxStatus.PENDING,
        Outbox.channel == bindparam("channel"),
        Outbox.next_attempt_at <= bindparam("now"),
        _QUEUE_HEAD,
    )
    .order_by(Outbox.next_attempt_at, Outbox.id)
    .limit(bindparam("cap", type_=Integer))
)
_LAPSED = (  # rows whose worker's lease ran out (it crashed mid-send): taken over first
    select(Outbox)
    .where(
        Outbox.status == OutboxStatus.SENDING,
        Outbox.claimed_until < bindparam("now"),
        Outbox.channel.in_(bindparam("channels", expanding=True)),
        _QUEUE_HEAD,
    )
    .order_by(Outbox.next_attempt_at, Outbox.id)
    .limit(bindparam("cap", type_=Integer))
)
_CLAIMS = {  # PostgreSQL: rows another worker is claiming right now are skipped (SQLite serialises writers)
    "sqlite": (_DUE_OF, _LAPSED),
    "postgresql": (_DUE_OF.with_for_update(skip_locked=True), _LAPSED.with_for_update(skip_locked=True)),
}


def _blocked_of(db: Session, rows: Sequence[Outbox]) -> dict[int, ContactStatus]:
    """For each row whose contact (by id, else by channel and address) may not be written to: its status.
    One query for the batch."""
    if not rows:
        return {}
    ids = {r.contact_id for r in rows if r.contact_id}
    addresses = {r.to for r in rows}
    found = db.execute(
        select(Contact.id, Contact.channel, Contact.external_id, Contact.status).where(
            or_(Contact.id.in_(ids), Contact.external_id.in_(addresses))
        )
    ).all()
    by_id = {c.id: c.status for c in found}
    by_address = {(str(c.channel), c.external_id): c.status for c in found}
    stops: dict[int, ContactStatus] = {}
    for r in rows:
        status = by_id.get(r.contact_id) if r.contact_id in by_id else by_address.get((str(r.channel), r.to))
        if status is not None and status != ContactStatus.ACTIVE:
            stops[r.id] = ContactStatus(status)
    return stops


# locked on PostgreSQL; SQLite, one writer, renders no FOR UPDATE
_RECORDED = Prepared(select(_OUTBOX.c.extra, _OUTBOX.c.provider_id).where(_OUTBOX.c.id == bindparam("row_id"))
                     .with_for_update())
_RECORD_PART = (  # the dispatcher records every part it sends
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row_id"))
    .values(extra=bindparam("extra"), provider_id=bindparam("provider_id"))
)
# a delivery failure the provider's status callback reported before the send was recorded is kept
_REPORTED_FAILED = or_(_OUTBOX.c.provider_status == "failed", _OUTBOX.c.provider_status == "undelivered")
_SENT_VALUES: dict[str, Any] = dict(
    status=OutboxStatus.SENT,
    sent_at=bindparam("now"),
    claimed_until=None,
    last_error=case((_REPORTED_FAILED, _OUTBOX.c.last_error), else_=None),
    error_code=case((_REPORTED_FAILED, _OUTBOX.c.error_code), else_=None),
)
_RECORD_SENT = Prepared(_RECORD_PART.values(**_SENT_VALUES))
_RECORD_ONE_PART = Prepared(_RECORD_PART)


def record_provider_id(
    db: Session,
    row_id: int,
    provider_id: str,
    *,
    now: datetime,
    parts_sent: int | None = None,
    done: bool = True,
) -> None:
    """The first thing after a provider accepted a message: its id, committed (G2)."""
    conn = db.connection()
    found = _RECORDED.first(conn, {"row_id": row_id})
    if found is None:
        db.rollback()
        return
    extra = dict(found.extra or {})
    extra["provider_ids"] = [*extra.get("provider_ids", []), provider_id]
    if parts_sent is not None:
        extra["parts_sent"] = parts_sent
    values = {"row_id": row_id, "extra": extra, "provider_id": found.provider_id or provider_id}
    (_RECORD_SENT if done else _RECORD_ONE_PART).run(conn, {**values, "now": now} if done else values)
    db.commit()


_HELD = (  # the row is still this claim's: sending under its lease, no provider id recorded meanwhile
    _OUTBOX.c.id == bindparam("row_id"),
    _OUTBOX.c.status == OutboxStatus.SENDING,
    _OUTBOX.c.claimed_until == bindparam("lease"),
    _OUTBOX.c.provider_id.is_not_distinct_from(bindparam("was", type_=_OUTBOX.c.provider_id.type)),
)
_RECORD_HELD_PART = Prepared(_RECORD_PART.where(*_HELD))
_RECORD_HELD_SENT = Prepared(_RECORD_PART.where(*_HELD).values(**_SENT_VALUES))


def record_held(
    conn: Connection,
    row: Claimed,
    provider_id: str,
    *,
    lease_until: datetime,
    extra: Mapping[str, Any],
    was: str | None,
    now: datetime,
    done: bool,
) -> bool:
    """`record_provider_id` in one statement, for the dispatcher that holds the row: `extra` is the row's
    extra as this claim knows it (the claim's, plus the parts it recorded), `was` the provider id it knows
    the row has. Changes the row only while it is still held so (sending, under `lease_until`, no provider
    id recorded by anyone else: a status callback that came first); True when it did, False when the
    caller must record through `record_provider_id`, which reads the row first. On an autocommit
    connection the one statement is the transaction; commits."""
    values = {
        "row_id": row.id,
        "lease": lease_until,
        "was": was,
        "extra": dict(extra),
        "provider_id": was or provider_id,
    }
    if done:
        changed = _RECORD_HELD_SENT.count(conn, {**values, "now": now})
    else:
        changed = _RECORD_HELD_PART.count(conn, values)
    if changed == 1:
        conn.commit()
        return True
    conn.rollback()
    return False


def mark_sent(
    db: Session, row_id: int, *, now: datetime, provider_id: str | None = None, note: str | None = None
) -> None:
    row = db.get(Outbox, row_id)
    if row is None:
        return
    row.status = OutboxStatus.SENT
    row.sent_at = now
    row.claimed_until = None
    if provider_id and not row.provider_id:
        row.provider_id = provider_id
    if note:
        row.provider_status = note
    db.commit()


def release(
    db: Session,
    row_id: int,
    *,
    until: datetime,
    count_attempt: bool = False,
    error: str | None = None,
    code: str | None = None,
) -> None:
    """Give a claimed row back (rate slot busy, 429): pending again from `until`."""
    row = db.get(Outbox, row_id)
    if row is None:
        return
    row.status = OutboxStatus.PENDING
    row.next_attempt_at = until
    row.claimed_until = None
    if not count_attempt:
        row.attempts = max(0, row.attempts - 1)
    if error:
        row.last_error = error[:500]
        row.error_code = code
    db.commit()


_GIVE_BACK = (  # built once: the rows of a batch that were not sent, back in one executemany
    update(_OUTBOX)
    .where(
        _OUTBOX.c.id == bindparam("row_id"),
        _OUTBOX.c.status == OutboxStatus.SENDING,
        _OUTBOX.c.claimed_until == bindparam("lease"),
    )
    .values(
        status=OutboxStatus.PENDING,
        next_attempt_at=bindparam("at"),
        claimed_until=None,
        attempts=case((_OUTBOX.c.attempts > 0, _OUTBOX.c.attempts - 1), else_=0),
    )
)


def give_back(db: Session, rows: Sequence[tuple[int, datetime]], *, lease_until: datetime) -> None:
    """Release claimed rows that were not tried (a rate slot was busy), each pending again from its own
    moment, in one statement; the claim is not counted as an attempt. Only rows still held under this
    claim's lease (`claimed_until` as claim_due set it) change. Commits."""
    if not rows:
        return
    db.connection().execute(_GIVE_BACK, [{"row_id": rid, "at": at, "lease": lease_until} for rid, at in rows])
    db.commit()


def retry_later(
    db: Session,
    row_id: int,
    *,
    now: datetime,
    error: str,
    code: str | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    uncertain: bool = False,
) -> OutboxStatus:
    """A transient failure: back off exponentially, or dead once the attempts are used up (G3)."""
    row = db.get(Outbox, row_id)
    if row is None:
        return OutboxStatus.DEAD
    row.last_error = error[:500]
    row.error_code = code
    row.claimed_until = None
    extra = dict(row.extra or {})
    if uncertain:
        extra["uncertain"] = True  # the provider may have it: look it up before a resend (S9)
    row.extra = extra
    if row.attempts >= max_attempts:
        row.status = OutboxStatus.DEAD
    else:
        row.status = OutboxStatus.PENDING
        row.next_attempt_at = now + backoff(row.attempts)
    db.commit()
    return row.status


def fail(
    db: Session,
    row_id: int,
    *,
    error: str,
    code: str | None = None,
    contact_status: ContactStatus | None = None,
) -> None:
    """A permanent failure: not retried; the contact is marked (blocked -> unreachable, STOP -> opted out)."""
    row = db.get(Outbox, row_id)
    if row is None:
        return
    row.status = OutboxStatus.FAILED
    row.last_error = error[:500]
    row.error_code = code
    row.claimed_until = None
    if contact_status is not None:
        set_contact_status(
            db, channel=str(row.channel), address=row.to, contact_id=row.contact_id, status=contact_status
        )
    db.commit()


def set_contact_status(
    db: Session, *, channel: str, address: str, status: ContactStatus, contact_id: int | None = None
) -> None:
    """Mark the contact behind an address (flushes; the caller commits)."""
    contact = db.get(Contact, contact_id) if contact_id else None
    if contact is None:
        contact = db.scalar(select(Contact).where(Contact.channel == channel, Contact.external_id == address))
    if contact is not None:
        contact.status = status


@dataclass(frozen=True)
class InlineRow:
    """A reply row taken for an inline answer."""

    id: int
    body: str
    extra: dict[str, Any] | None


_CLAIM_INLINE = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)), _OUTBOX.c.status == OutboxStatus.PENDING)
    .values(status=OutboxStatus.SENT, sent_at=bindparam("now"), provider_status="inline")
    .returning(_OUTBOX.c.id, _OUTBOX.c.body, _OUTBOX.c.extra)
)
_SET_SEGMENTS = update(_OUTBOX).where(_OUTBOX.c.id == bindparam("row_id")).values(segments=bindparam("n"))


def claim_inline(
    db: Session,
    ids: Iterable[int],
    *,
    now: datetime,
    segments: Callable[[InlineRow], int] | None = None,
) -> list[InlineRow]:
    """Take rows written for an inline answer (TwiML, WeChat passive reply, web): pending -> sent only
    if nobody else has, in one statement; the caller answers with the bodies of the rows it got, in order.
    `segments` counts what a row costs (SMS) and is stored with it. Commits."""
    wanted = list(ids)
    if not wanted:
        return []
    with writer_turn(db):
        conn = db.connection()
        got = [
            InlineRow(id=int(r[0]), body=str(r[1]), extra=r[2])
            for r in conn.execute(_CLAIM_INLINE, {"ids": wanted, "now": now})
        ]
        got.sort(key=lambda r: r.id)
        if segments is not None and got:
            conn.execute(_SET_SEGMENTS, [{"row_id": r.id, "n": segments(r)} for r in got])
        db.commit()
    return got


_STATE = Base.metadata.tables[ChannelState.__tablename__]
_INSERT: dict[str, Callable[[Any], Any]] = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}
_SLOTS: dict[tuple[str, int], tuple[Prepared[Any], Prepared[Any]]] = {}


def _slot_statements(dialect: str, n: int) -> tuple[Prepared[Any], Prepared[Any]]:
    """For n rate keys (`k0`.. the keys, `n0`.. the moments each frees again once taken): the statement
    that takes each key's slot that is free (an UPDATE of its row, or its first row), returning the keys
    taken; and the SELECT of the n keys' moments. Built once a dialect and a number of keys."""
    found = _SLOTS.get((dialect, n))
    if found is None:
        keys = [bindparam(f"k{i}", type_=_STATE.c.key.type) for i in range(n)]
        now = bindparam("now", type_=_STATE.c.until.type)
        insert = _INSERT[dialect](_STATE).values(
            [{"key": keys[i], "until": bindparam(f"n{i}", type_=_STATE.c.until.type), "updated_at": now}
             for i in range(n)]
        )
        take = insert.on_conflict_do_update(
            index_elements=[_STATE.c.key],
            set_={"until": insert.excluded.until, "updated_at": insert.excluded.updated_at},
            where=or_(_STATE.c.until.is_(None), _STATE.c.until <= now),
        ).returning(_STATE.c.key)
        untils = select(_STATE.c.key, _STATE.c.until).where(_STATE.c.key.in_(keys))
        found = _SLOTS[(dialect, n)] = (Prepared(take), Prepared(untils))
    return found


_UNTAKE = Prepared(  # a slot taken without the others, given back: free from `now` (it was free before)
    update(_STATE)
    .where(_STATE.c.key == bindparam("k"), _STATE.c.until == bindparam("next_free"))
    .values(until=bindparam("now"))
)


def take_free_slots(
    conn: Connection, keys: Sequence[tuple[str, timedelta]], *, now: datetime
) -> dict[str, datetime]:
    """Reserve the next send on every rate key (key, interval) at once, or none of them, on an autocommit
    connection: {} when all are reserved, else each busy key with the moment it frees up (nothing taken).
    The reservation is one statement, one round trip (a transaction would cost a BEGIN and a COMMIT more);
    a refusal gives back the slots it took (each free from `now`, as it was) and asks for the busy keys'
    moments: two statements more. Commits a reservation, rolls back a refusal."""
    if not keys:
        return {}
    nexts = {key: now + interval for key, interval in keys}
    take, untils_of = _slot_statements(conn.dialect.name, len(nexts))
    params: dict[str, Any] = {"now": now}
    for i, (key, at) in enumerate(nexts.items()):
        params[f"k{i}"], params[f"n{i}"] = key, at
    taken = {r.key for r in take.rows(conn, params)}
    if len(taken) == len(nexts):
        conn.commit()
        return {}
    for key in taken:
        _UNTAKE.run(conn, {"k": key, "now": now, "next_free": nexts[key]})
    untils = {r.key: r.until for r in untils_of.rows(conn, params)}
    conn.rollback()
    # a key another worker gave back since the statement: free from now
    return {key: max(now, untils.get(key) or now) for key in nexts if key not in taken}


def add(
    db: Session,
    *,
    channel: str,
    to: str,
    body: str,
    now: datetime,
    contact_id: int | None = None,
    kind: str = "notification",
    extra: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    segments: int | None = None,
    not_before: datetime | None = None,
) -> Outbox:
    """Write one outbox row (flushed; committed with the caller's transaction); `not_before`: held until
    then (a staff text in quiet hours), written with the row rather than by a second UPDATE."""
    row = Outbox(
        channel=Channel(channel),
        to=to,
        body=body,
        contact_id=contact_id,
        kind=kind,
        extra=dict(extra or {}),
        dedupe_key=dedupe_key,
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=not_before or now,
        created_at=now,
        segments=segments,
    )
    db.add(row)
    db.flush()
    return row
