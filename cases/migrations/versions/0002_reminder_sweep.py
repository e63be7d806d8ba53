"""reminder sweep: changed cases

The reminder tick runs the task rules only over the cases whose inputs changed (cases.reminders,
cases.sweeps): `cases.tasks_synced_at` marks when the sweep last ran them over a case (NULL: never), and
the change times it looks at are indexed. Closed cases count as synced: their tasks were closed by the
sweep of the old code, which ran over every open case.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 09:16:33.585564
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cases.models


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignments_acknowledged_at'), ['acknowledged_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignments_assigned_at'), ['assigned_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignments_ended_at'), ['ended_at'], unique=False)

    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_events_at'), ['at'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tasks_synced_at', cases.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_tasks_synced_at'), ['tasks_synced_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_updated_at'), ['updated_at'], unique=False)

    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluations_created_at'), ['created_at'], unique=False)

    op.execute(
        "UPDATE cases SET tasks_synced_at = updated_at WHERE status IN ('refused', 'withdrawn', 'eliminated')"
    )


def downgrade() -> None:
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluations_created_at'))

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_updated_at'))
        batch_op.drop_index(batch_op.f('ix_cases_tasks_synced_at'))
        batch_op.drop_column('tasks_synced_at')

    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_events_at'))

    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignments_ended_at'))
        batch_op.drop_index(batch_op.f('ix_assignments_assigned_at'))
        batch_op.drop_index(batch_op.f('ix_assignments_acknowledged_at'))
