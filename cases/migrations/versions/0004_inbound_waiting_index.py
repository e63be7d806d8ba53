"""inbound waiting index

Whether a contact has a message still waiting to be handled (asked on every Telegram message, and by the
drain that handles them in update_id order) read the contact's whole history through the unique index
(channel, user_key, external_id), row by row, to check each one's status: its cost grew with every
message the contact ever sent. The partial index `ix_inbound_waiting` holds only the messages not yet
handled (usually none of a contact's), so the question is one probe.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 02:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = sa.text("status = 'received'")


def upgrade() -> None:
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.create_index(
            'ix_inbound_waiting', ['channel', 'user_key', 'id'], unique=False,
            sqlite_where=WAITING, postgresql_where=WAITING,
        )


def downgrade() -> None:
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_waiting')
