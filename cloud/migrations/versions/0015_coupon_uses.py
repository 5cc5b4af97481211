"""coupon uses from the sales upload: a second redemption of a coupon kept for the back office

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('coupon_double_redemptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=20), nullable=False),
    sa.Column('program', sa.String(length=20), nullable=False),
    sa.Column('terminal', sa.String(length=64), nullable=False),
    sa.Column('invoice', sa.BigInteger(), nullable=False),
    sa.Column('sale_id', sa.Integer(), nullable=False),
    sa.Column('discount', sa.BigInteger(), nullable=False),
    sa.Column('first_id', sa.Integer(), nullable=False),
    sa.Column('found_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sale_id'], ['sales.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['first_id'], ['coupon_redemptions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('merchant_id', 'serial', 'terminal', 'invoice', name='uq_coupon_double_redemptions_use')
    )


def downgrade():
    op.drop_table('coupon_double_redemptions')
