"""app store: developers, packages under review or published, crash reports from terminals

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('app_developers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('email', sa.String(length=120), nullable=False),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('app_packages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('developer_id', sa.Integer(), nullable=False),
    sa.Column('app_id', sa.String(length=32), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('name_en', sa.String(length=64), nullable=False),
    sa.Column('name_zh', sa.String(length=64), nullable=False),
    sa.Column('manifest', sa.Text(), nullable=False),
    sa.Column('package', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('developer_metadata', sa.LargeBinary(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('granted', sa.Text(), nullable=False),
    sa.Column('reason', sa.String(length=240), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=True),
    sa.Column('module_id', sa.Integer(), nullable=True),
    sa.Column('meta_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['developer_id'], ['app_developers.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['module_id'], ['software_modules.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('app_id', 'version', name='uq_app_version')
    )
    with op.batch_alter_table('app_packages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_packages_app_id'), ['app_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_app_packages_developer_id'), ['developer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_app_packages_state'), ['state'], unique=False)
    op.create_table('app_crashes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('terminal_id', sa.Integer(), nullable=False),
    sa.Column('app_id', sa.String(length=32), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('why', sa.String(length=80), nullable=False),
    sa.Column('at', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminals.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('app_crashes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_crashes_app_id'), ['app_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_app_crashes_terminal_id'), ['terminal_id'], unique=False)


def downgrade():
    with op.batch_alter_table('app_crashes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_crashes_terminal_id'))
        batch_op.drop_index(batch_op.f('ix_app_crashes_app_id'))
    op.drop_table('app_crashes')
    with op.batch_alter_table('app_packages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_packages_state'))
        batch_op.drop_index(batch_op.f('ix_app_packages_developer_id'))
        batch_op.drop_index(batch_op.f('ix_app_packages_app_id'))
    op.drop_table('app_packages')
    op.drop_table('app_developers')
