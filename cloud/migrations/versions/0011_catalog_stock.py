"""catalog and stock: items, categories, versions for delta sync, stock ledger, purchase orders,
stock takes, low-stock alerts

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('catalog_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.SmallInteger(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('merchant_id', 'code', name='uq_category_code'),
    sa.UniqueConstraint('merchant_id', 'name', name='uq_category_name')
    )
    with op.batch_alter_table('catalog_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalog_categories_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('catalog_heads',
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('floor', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('merchant_id')
    )
    op.create_table('catalog_tombstones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=14), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('catalog_tombstones', schema=None) as batch_op:
        batch_op.create_index('ix_catalog_tombstones_merchant_version', ['merchant_id', 'version'], unique=False)

    op.create_table('catalog_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=12), nullable=False),
    sa.Column('barcode', sa.String(length=13), nullable=False),
    sa.Column('key', sa.String(length=14), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('name_zh', sa.String(length=60), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('tax', sa.SmallInteger(), nullable=False),
    sa.Column('unit', sa.String(length=5), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('plu', sa.Integer(), nullable=False),
    sa.Column('reorder_level', sa.BigInteger(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['catalog_categories.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('merchant_id', 'sku', name='uq_item_sku')
    )
    with op.batch_alter_table('catalog_items', schema=None) as batch_op:
        batch_op.create_index('ix_catalog_items_merchant_key', ['merchant_id', 'key'], unique=False)
        batch_op.create_index('ix_catalog_items_merchant_version', ['merchant_id', 'version'], unique=False)

    op.create_table('purchase_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('supplier', sa.String(length=120), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('purchase_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_orders_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_orders_store_id'), ['store_id'], unique=False)

    op.create_table('stock_takes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('stock_takes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_takes_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_takes_store_id'), ['store_id'], unique=False)

    op.create_table('goods_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=40), nullable=False),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('received_by', sa.String(length=120), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['purchase_orders.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id', 'ref', name='uq_goods_receipt_ref')
    )
    with op.batch_alter_table('goods_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goods_receipts_order_id'), ['order_id'], unique=False)

    op.create_table('purchase_order_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('qty_ordered', sa.BigInteger(), nullable=False),
    sa.Column('qty_received', sa.BigInteger(), nullable=False),
    sa.Column('unit_cost', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['catalog_items.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['order_id'], ['purchase_orders.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id', 'item_id', name='uq_po_line_item')
    )
    with op.batch_alter_table('purchase_order_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_order_lines_order_id'), ['order_id'], unique=False)

    op.create_table('stock_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('on_hand', sa.BigInteger(), nullable=False),
    sa.Column('reorder_level', sa.BigInteger(), nullable=False),
    sa.Column('raised_at', sa.DateTime(), nullable=False),
    sa.Column('cleared_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['catalog_items.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('stock_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_alerts_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index('ix_stock_alerts_store_open', ['store_id', 'cleared_at'], unique=False)

    op.create_table('stock_levels',
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('on_hand', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['catalog_items.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('store_id', 'item_id')
    )
    with op.batch_alter_table('stock_levels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_levels_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('stock_count_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('take_id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=40), nullable=False),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['take_id'], ['stock_takes.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('take_id', 'ref', name='uq_stock_count_batch_ref')
    )
    with op.batch_alter_table('stock_count_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_count_batches_take_id'), ['take_id'], unique=False)

    op.create_table('stock_take_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('take_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('counted', sa.BigInteger(), nullable=False),
    sa.Column('expected', sa.BigInteger(), nullable=True),
    sa.Column('variance', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['catalog_items.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['take_id'], ['stock_takes.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('take_id', 'item_id', name='uq_stock_take_item')
    )
    with op.batch_alter_table('stock_take_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_take_lines_take_id'), ['take_id'], unique=False)

    op.create_table('stock_movements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('qty', sa.BigInteger(), nullable=False),
    sa.Column('on_hand_after', sa.BigInteger(), nullable=False),
    sa.Column('sale_id', sa.Integer(), nullable=True),
    sa.Column('line_no', sa.Integer(), nullable=True),
    sa.Column('ref', sa.String(length=40), nullable=False),
    sa.Column('note', sa.String(length=120), nullable=False),
    sa.Column('by', sa.String(length=120), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['catalog_items.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sale_id'], ['sales.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sale_id', 'line_no', name='uq_stock_movement_sale_line')
    )
    with op.batch_alter_table('stock_movements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_movements_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index('ix_stock_movements_store_item', ['store_id', 'item_id', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('stock_movements', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_movements_store_item')
        batch_op.drop_index(batch_op.f('ix_stock_movements_merchant_id'))

    op.drop_table('stock_movements')
    with op.batch_alter_table('stock_count_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_count_batches_take_id'))

    op.drop_table('stock_count_batches')
    with op.batch_alter_table('stock_take_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_take_lines_take_id'))

    op.drop_table('stock_take_lines')
    with op.batch_alter_table('stock_levels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_levels_merchant_id'))

    op.drop_table('stock_levels')
    with op.batch_alter_table('stock_alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_alerts_store_open')
        batch_op.drop_index(batch_op.f('ix_stock_alerts_merchant_id'))

    op.drop_table('stock_alerts')
    with op.batch_alter_table('purchase_order_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_order_lines_order_id'))

    op.drop_table('purchase_order_lines')
    with op.batch_alter_table('goods_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goods_receipts_order_id'))

    op.drop_table('goods_receipts')
    with op.batch_alter_table('stock_takes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_takes_store_id'))
        batch_op.drop_index(batch_op.f('ix_stock_takes_merchant_id'))

    op.drop_table('stock_takes')
    with op.batch_alter_table('purchase_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_orders_store_id'))
        batch_op.drop_index(batch_op.f('ix_purchase_orders_merchant_id'))

    op.drop_table('purchase_orders')
    with op.batch_alter_table('catalog_items', schema=None) as batch_op:
        batch_op.drop_index('ix_catalog_items_merchant_version')
        batch_op.drop_index('ix_catalog_items_merchant_key')

    op.drop_table('catalog_items')
    with op.batch_alter_table('catalog_tombstones', schema=None) as batch_op:
        batch_op.drop_index('ix_catalog_tombstones_merchant_version')

    op.drop_table('catalog_tombstones')
    op.drop_table('catalog_heads')
    with op.batch_alter_table('catalog_categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_categories_merchant_id'))

    op.drop_table('catalog_categories')
