"""Card-linked offers of issuing banks (docs/bank-offers.md)."""
