# In-store marketing: the idle-screen campaigns of the terminal's store, kept on flash
# (pos.marketing.idle) and fetched from the cloud's marketing feed (pos.marketing.refresh);
# docs/marketing.md.


class MarketingError(Exception):
    """A campaigns file the terminal refuses; the one in use stays.  The message says why."""
