"""member details

Members kept only a name, an ID number (and the birth date it gives) and the A8 relation. Annex 2 records
for each member, the head included, A9 民族, A10 政治面貌, A11 文化程度, A12 在校生情况, A13 健康状况,
A14 劳动技能, A15 务工区域 (and where), A16 务工时间 (months) and A17 基本医疗保险 (是/否), from which A26
is generated. All nullable: every member on record, head or not, stays unknown until a cadre records them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 22:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CODED = ('a9_ethnicity', 'a10_political_status', 'a11_education', 'a12_schooling', 'a13_health',
         'a14_labour_skill')


def upgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        for name in CODED:
            batch_op.add_column(sa.Column(name, sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('a15_work_area', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('a15_work_place', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('a16_work_months', sa.Numeric(precision=3, scale=1), nullable=True))
        batch_op.add_column(sa.Column('a17_medical_insurance', sa.String(length=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        for name in ('a17_medical_insurance', 'a16_work_months', 'a15_work_place', 'a15_work_area',
                     *reversed(CODED)):
            batch_op.drop_column(name)
