"""Members of a merchant: cards, balances, the points programme and its ledger (docs/members.md)."""
