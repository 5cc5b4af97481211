"""insights: the trading record the insights read, members' privacy switches, recommendation models, lenders and consents

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('lenders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash'),
    sa.UniqueConstraint('operator_id', 'name', name='uq_lender_name')
    )
    with op.batch_alter_table('lenders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lenders_operator_id'), ['operator_id'], unique=False)

    op.create_table('credit_consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('lender_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=32), nullable=False),
    sa.Column('granted_at', sa.DateTime(), nullable=False),
    sa.Column('granted_by', sa.String(length=120), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['lender_id'], ['lenders.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('credit_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_consents_lender_id'), ['lender_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_consents_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('insight_items',
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('merchant_id', 'code')
    )
    op.create_table('insight_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('recommendations_opt_out', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('merchant_id', 'code', name='uq_insight_member')
    )
    with op.batch_alter_table('insight_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_insight_members_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('insight_models',
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.Column('baskets_used', sa.Integer(), nullable=False),
    sa.Column('members_excluded', sa.Integer(), nullable=False),
    sa.Column('model', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('merchant_id')
    )
    op.create_table('insight_baskets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('tender', sa.String(length=8), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('member_code', sa.String(length=32), nullable=False),
    sa.Column('items', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('insight_baskets', schema=None) as batch_op:
        batch_op.create_index('ix_insight_baskets_merchant_at', ['merchant_id', 'at'], unique=False)
        batch_op.create_index('ix_insight_baskets_merchant_member', ['merchant_id', 'member_code'], unique=False)



def downgrade():
    with op.batch_alter_table('insight_baskets', schema=None) as batch_op:
        batch_op.drop_index('ix_insight_baskets_merchant_member')
        batch_op.drop_index('ix_insight_baskets_merchant_at')

    op.drop_table('insight_baskets')
    op.drop_table('insight_models')
    with op.batch_alter_table('insight_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_insight_members_merchant_id'))

    op.drop_table('insight_members')
    op.drop_table('insight_items')
    with op.batch_alter_table('credit_consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_consents_merchant_id'))
        batch_op.drop_index(batch_op.f('ix_credit_consents_lender_id'))

    op.drop_table('credit_consents')
    with op.batch_alter_table('lenders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lenders_operator_id'))

    op.drop_table('lenders')
