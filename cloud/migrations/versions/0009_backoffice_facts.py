"""back office: per-sale, per-tender and per-line facts written at ingest, indexed by merchant and day

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def _keys():
    return [sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ondelete='CASCADE'),
            sa.ForeignKeyConstraint(['sale_id'], ['sales.id'], ondelete='CASCADE'),
            sa.ForeignKeyConstraint(['store_id'], ['stores.id'], ondelete='CASCADE')]


def upgrade():
    op.create_table('sale_facts',
    sa.Column('sale_id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('terminal_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hour', sa.SmallInteger(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('cashier', sa.String(length=40), nullable=False),
    sa.Column('member_id', sa.String(length=64), nullable=False),
    sa.Column('first_visit', sa.Boolean(), nullable=False),
    sa.Column('gross', sa.BigInteger(), nullable=False),
    sa.Column('discounts', sa.BigInteger(), nullable=False),
    sa.Column('net', sa.BigInteger(), nullable=False),
    sa.Column('tax', sa.BigInteger(), nullable=False),
    sa.Column('tip', sa.BigInteger(), nullable=False),
    *_keys(),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminals.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sale_id')
    )
    with op.batch_alter_table('sale_facts', schema=None) as batch_op:
        batch_op.create_index('ix_sale_facts_merchant_day', ['merchant_id', 'day'], unique=False)
        batch_op.create_index('ix_sale_facts_merchant_store_day', ['merchant_id', 'store_id', 'day'], unique=False)
        batch_op.create_index('ix_sale_facts_merchant_member', ['merchant_id', 'member_id'], unique=False)

    op.create_table('tender_facts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sale_id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=24), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    *_keys(),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('tender_facts', schema=None) as batch_op:
        batch_op.create_index('ix_tender_facts_merchant_day', ['merchant_id', 'day'], unique=False)
        batch_op.create_index('ix_tender_facts_merchant_store_day', ['merchant_id', 'store_id', 'day'], unique=False)
        batch_op.create_index(batch_op.f('ix_tender_facts_sale_id'), ['sale_id'], unique=False)

    op.create_table('line_facts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sale_id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('sku', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('qty', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    *_keys(),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('line_facts', schema=None) as batch_op:
        batch_op.create_index('ix_line_facts_merchant_day', ['merchant_id', 'day'], unique=False)
        batch_op.create_index('ix_line_facts_merchant_store_day', ['merchant_id', 'store_id', 'day'], unique=False)
        batch_op.create_index(batch_op.f('ix_line_facts_sale_id'), ['sale_id'], unique=False)


def downgrade():
    for table in ('line_facts', 'tender_facts'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f('ix_%s_sale_id' % table))
            batch_op.drop_index('ix_%s_merchant_store_day' % table)
            batch_op.drop_index('ix_%s_merchant_day' % table)
        op.drop_table(table)
    with op.batch_alter_table('sale_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_sale_facts_merchant_member')
        batch_op.drop_index('ix_sale_facts_merchant_store_day')
        batch_op.drop_index('ix_sale_facts_merchant_day')
    op.drop_table('sale_facts')
