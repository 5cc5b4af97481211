"""gift cards: cards of a merchant and their ledger; the members' stored-value ledger (docs/gift-cards.md)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('gift_cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=12), nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.Column('issued', sa.BigInteger(), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('issued_by', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('merchant_id', 'number', name='uq_gift_card_number')
    )
    with op.batch_alter_table('gift_cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gift_cards_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_gift_cards_operator_id'), ['operator_id'], unique=False)
    op.create_table('gift_card_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.Column('terminal_id', sa.Integer(), nullable=True),
    sa.Column('invoice', sa.BigInteger(), nullable=True),
    sa.Column('original_invoice', sa.BigInteger(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('by', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['gift_cards.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminals.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('terminal_id', 'invoice', 'kind', name='uq_gift_card_request')
    )
    with op.batch_alter_table('gift_card_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gift_card_entries_card_id'), ['card_id'], unique=False)
    op.create_table('stored_value_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.Column('short', sa.BigInteger(), nullable=False),
    sa.Column('offline', sa.Boolean(), nullable=False),
    sa.Column('terminal_id', sa.Integer(), nullable=True),
    sa.Column('invoice', sa.BigInteger(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminals.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('terminal_id', 'invoice', 'kind', name='uq_stored_value_request')
    )
    with op.batch_alter_table('stored_value_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_value_entries_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stored_value_entries_merchant_id'), ['merchant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('stored_value_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_value_entries_merchant_id'))
        batch_op.drop_index(batch_op.f('ix_stored_value_entries_member_id'))
    op.drop_table('stored_value_entries')
    with op.batch_alter_table('gift_card_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gift_card_entries_card_id'))
    op.drop_table('gift_card_entries')
    with op.batch_alter_table('gift_cards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gift_cards_operator_id'))
        batch_op.drop_index(batch_op.f('ix_gift_cards_merchant_id'))
    op.drop_table('gift_cards')
