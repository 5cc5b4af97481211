"""parameter sets

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('parameter_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('files', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('operator_id', 'scope', 'scope_id', name='uq_parameter_scope')
    )
    with op.batch_alter_table('parameter_sets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parameter_sets_operator_id'), ['operator_id'], unique=False)



def downgrade():
    with op.batch_alter_table('parameter_sets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parameter_sets_operator_id'))

    op.drop_table('parameter_sets')
