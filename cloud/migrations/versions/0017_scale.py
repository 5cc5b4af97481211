"""scale: sales indexed by operator and receipt time; the daily rollup of the sale facts per store

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.create_index('ix_sales_operator_received', ['operator_id', 'received_at', 'id'], unique=False)

    op.create_table('store_days',
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('sale_count', sa.Integer(), nullable=False),
    sa.Column('refund_count', sa.Integer(), nullable=False),
    sa.Column('sales', sa.BigInteger(), nullable=False),
    sa.Column('refunds', sa.BigInteger(), nullable=False),
    sa.Column('gross', sa.BigInteger(), nullable=False),
    sa.Column('discounts', sa.BigInteger(), nullable=False),
    sa.Column('tax', sa.BigInteger(), nullable=False),
    sa.Column('tips', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('merchant_id', 'store_id', 'day')
    )
    with op.batch_alter_table('store_days', schema=None) as batch_op:
        batch_op.create_index('ix_store_days_day', ['day'], unique=False)
    # the facts stored before this revision, summed once
    op.execute("INSERT INTO store_days (merchant_id, store_id, day, sale_count, refund_count, sales, refunds, gross, "
               "discounts, tax, tips) SELECT merchant_id, store_id, day, "
               "SUM(CASE WHEN kind = 'sale' THEN 1 ELSE 0 END), SUM(CASE WHEN kind = 'sale' THEN 0 ELSE 1 END), "
               "SUM(CASE WHEN kind = 'sale' THEN net ELSE 0 END), SUM(CASE WHEN kind = 'sale' THEN 0 ELSE -net END), "
               "SUM(gross), SUM(discounts), SUM(tax), SUM(tip) FROM sale_facts GROUP BY merchant_id, store_id, day")


def downgrade():
    with op.batch_alter_table('store_days', schema=None) as batch_op:
        batch_op.drop_index('ix_store_days_day')
    op.drop_table('store_days')
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_operator_received')
