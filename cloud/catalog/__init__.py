"""Catalog and stock of a merchant (docs/stock.md)."""
