"""Card-linked offers of issuing banks (docs/bank-offers.md): the campaign file's rules
(campaign) and the compiled table the counter matches cards against (table).  A terminal
without a campaign file loads neither; the table is compiled here from the campaigns, so the
table reader never loads the campaign rules."""
import os

SOURCE = "config/offers.json"      # delivered by terminal management (pos.tms.params)


def installed():
    """Whether a campaign file is installed: asked before anything of the offers is loaded."""
    try:
        os.stat(SOURCE)
        return True
    except OSError:
        return False


def current_table(version):
    """The table for the installed offers.json, compiled now if it is missing or stale; None
    when there is no campaign file (or it no longer passes its check: no offer is better than
    a wrong one)."""
    try:
        size = os.stat(SOURCE)[6]
    except OSError:
        return None
    from pos.offers.table import TABLE, Table, stamp_of
    t = Table()
    want = stamp_of(version, size)
    if t.stamp() != want:
        import json
        from pos.offers import campaign
        try:
            with open(SOURCE) as f:
                d = json.load(f)
            campaign.compile_table(d, want)
        except (OSError, ValueError):     # OfferError is a ValueError
            try:
                os.remove(TABLE)
            except OSError:
                pass
            return None
    return t
