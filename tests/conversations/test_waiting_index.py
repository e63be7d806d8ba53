"""Whether a contact has a message waiting is a probe of ix_inbound_waiting, not a walk of its history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Select, text

from bot.telegram import _UNHANDLED
from conversations.service import _SESSION_AND_WAITING, _STORE_AND_LOCK

PARAMS = {
    "channel": "telegram", "user_key": "7001", "row_id": 1, "in_channel": "telegram", "in_user_key": "7001",
    "in_external_id": "1:1", "in_received_at": None, "in_text": None, "in_payload": None,
    "in_status": "received", "in_replies": None,
}


def plan(engine: Engine, statement: Select[Any] | Any) -> str:
    """The database's plan for the statement (PostgreSQL: with sequential scans off, as on a big table)."""
    compiled = statement.compile(dialect=engine.dialect)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            args = [PARAMS.get(name, 1) for name in compiled.positiontup or ()]
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled.string}", tuple(args)).all()
            return "\n".join(str(row[-1]) for row in rows)
        conn.execute(text("SET enable_seqscan = off"))
        params = {name: PARAMS.get(name, 1) for name in compiled.params}
        rows = conn.exec_driver_sql(f"EXPLAIN {compiled.string}", params).all()
        return "\n".join(str(row[0]) for row in rows)


def test_the_session_lock_asks_the_waiting_index(engine: Engine) -> None:
    statements: list[Any] = [_SESSION_AND_WAITING.statement, _UNHANDLED]
    if engine.dialect.name == "postgresql":
        statements.append(_STORE_AND_LOCK[True].statement)
    for statement in statements:
        found = plan(engine, statement)
        assert "ix_inbound_waiting" in found, found
