"""outbox queue indexes

The dispatcher's claim walked every due row of the claimed channels, and for each one every earlier row
sent to the same address, under the writer turn: its time grew with the backlog and with the history.
Now `ix_outbox_due` leads with status and channel, so a channel's due rows are read in order and the walk
stops at the claim's cap, and the partial index `ix_outbox_open` holds only the rows not yet sent, so
whether a row heads its address's queue is one probe (bot.outbox.claim_due). `ix_outbox_address`, every
row by address, goes: without statistics SQLite rated it as good as the partial index and read an
address's whole history through it; the one other reader (the web page's pending replies) asks for
open rows only.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 17:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status IN ('pending', 'sending')")


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')
        batch_op.drop_index('ix_outbox_address')
        batch_op.create_index('ix_outbox_due', ['status', 'channel', 'next_attempt_at'], unique=False)
        batch_op.create_index(
            'ix_outbox_open', ['channel', 'to', 'id'], unique=False, sqlite_where=OPEN, postgresql_where=OPEN
        )


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_open')
        batch_op.drop_index('ix_outbox_due')
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_outbox_address', ['channel', 'to'], unique=False)
