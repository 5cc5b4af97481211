"""tms: software modules, artifacts, actions; terminal attributes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('software_modules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('description', sa.String(length=240), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('operator_id', 'kind', 'name', 'version', name='uq_module_version')
    )
    with op.batch_alter_table('software_modules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_software_modules_operator_id'), ['operator_id'], unique=False)

    op.create_table('artifacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=128), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('sha1', sa.String(length=40), nullable=False),
    sa.Column('md5', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['software_modules.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('module_id', 'filename', name='uq_artifact_filename')
    )
    with op.batch_alter_table('artifacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_artifacts_module_id'), ['module_id'], unique=False)

    op.create_table('actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('terminal_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('forced', sa.Boolean(), nullable=False),
    sa.Column('maintenance_window', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['module_id'], ['software_modules.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminals.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_actions_module_id'), ['module_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_actions_operator_id'), ['operator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_actions_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_actions_terminal_id'), ['terminal_id'], unique=False)

    op.create_table('action_status',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('execution', sa.String(length=16), nullable=False),
    sa.Column('finished', sa.String(length=8), nullable=False),
    sa.Column('progress_cnt', sa.Integer(), nullable=True),
    sa.Column('progress_of', sa.Integer(), nullable=True),
    sa.Column('code', sa.Integer(), nullable=True),
    sa.Column('details', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('action_status', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_status_action_id'), ['action_id'], unique=False)

    with op.batch_alter_table('terminals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attributes', sa.Text(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('attributes_requested', sa.Boolean(), nullable=False, server_default=sa.true()))



def downgrade():
    with op.batch_alter_table('terminals', schema=None) as batch_op:
        batch_op.drop_column('attributes_requested')
        batch_op.drop_column('attributes')

    with op.batch_alter_table('action_status', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_status_action_id'))

    op.drop_table('action_status')
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_actions_terminal_id'))
        batch_op.drop_index(batch_op.f('ix_actions_state'))
        batch_op.drop_index(batch_op.f('ix_actions_operator_id'))
        batch_op.drop_index(batch_op.f('ix_actions_module_id'))

    op.drop_table('actions')
    with op.batch_alter_table('artifacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_artifacts_module_id'))

    op.drop_table('artifacts')
    with op.batch_alter_table('software_modules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_software_modules_operator_id'))

    op.drop_table('software_modules')
