"""Sales: completed transactions uploaded by terminals exactly once, and the merchant's books on them."""
