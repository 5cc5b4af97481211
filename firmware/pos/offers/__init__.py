"""Card-linked offers of issuing banks (docs/bank-offers.md): the campaign file's rules
(campaign) and the compiled table the counter matches cards against (table).  A terminal
without a campaign file loads neither."""
import os

SOURCE = "config/offers.json"      # delivered by terminal management (pos.tms.params)


def installed():
    """Whether a campaign file is installed: asked before anything of the offers is loaded."""
    try:
        os.stat(SOURCE)
        return True
    except OSError:
        return False
