"""terminal keks

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('terminal_keks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('terminal_id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('algorithm', sa.String(length=1), nullable=False),
    sa.Column('kcv', sa.String(length=10), nullable=False),
    sa.Column('sealed', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminals.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('terminal_id')
    )
    with op.batch_alter_table('terminal_keks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_terminal_keks_operator_id'), ['operator_id'], unique=False)



def downgrade():
    with op.batch_alter_table('terminal_keks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_terminal_keks_operator_id'))

    op.drop_table('terminal_keks')
