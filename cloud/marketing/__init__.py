"""In-store marketing: idle-screen campaigns of a merchant, scheduled and targeted per store, and
the feed terminals keep them on flash from (docs/marketing.md)."""
