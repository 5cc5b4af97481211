"""Gift cards: issued in the back office with a balance, spent and refunded at the counter
through the device API, every change one entry of the card's ledger (docs/gift-cards.md)."""
