"""lookup attempt target

A case look-up (case number + the ID number's last 4) was throttled per chat identity only, so a stranger
could try a case's last 4 digits from one new web session after another. Each attempt now keeps the case
number it was made for (`target`), and failures against one case are counted across every identity.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 06:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('lookup_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target', sa.String(length=16), nullable=True))
        batch_op.create_index('ix_lookup_attempts_kind_target_at', ['kind', 'target', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('lookup_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_lookup_attempts_kind_target_at')
        batch_op.drop_column('target')
