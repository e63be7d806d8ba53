"""attachment channel and sender

A photo or voice message added to a case after its report (by the household with its case open, or by a
cadre from the bound chat) kept no channel, so the console could only say 聊天补充. Each attachment now
keeps the channel it came by (`channel`) and, when a staff member sent it, who (`sent_by_staff_id`); both
nullable: files added to a case before this revision stay without them. The attachments of a report take
its channel.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 09:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('sent_by_staff_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_attachments_sent_by_staff_id_staff'), 'staff', ['sent_by_staff_id'], ['id']
        )
    op.execute(
        "UPDATE attachments SET channel = (SELECT reports.channel FROM reports WHERE reports.id = "
        "attachments.report_id) WHERE report_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_attachments_sent_by_staff_id_staff'), type_='foreignkey')
        batch_op.drop_column('sent_by_staff_id')
        batch_op.drop_column('channel')
