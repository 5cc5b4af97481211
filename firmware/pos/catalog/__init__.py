# The counter's catalog and cart: items on flash with an index (store.py), barcodes and
# in-store codes (barcode.py), the basket and its tax (cart.py).  docs/catalog.md.
# Loaded only when a cart is opened, never at boot or at Ready.


class CatalogError(ValueError):
    """A barcode, a catalog file or a cart operation refused; the message says what to do."""
