# Invoice numbers and the shift's running totals, kept on flash so a reboot
# neither reuses an invoice number nor loses a total.  The file is rewritten
# whole through a temporary name (rename is atomic on the board's filesystem).
import json
import os

PATH = "counters.json"
_state = None


def _load():
    global _state
    if _state is None:
        try:
            with open(PATH) as f:
                _state = json.load(f)
        except (OSError, ValueError):
            _state = {"invoice": 0, "totals": {}}
    return _state


def _save():
    tmp = PATH + ".tmp"
    with open(tmp, "w") as f:
        f.write(json.dumps(_state))     # one write (json.dump writes token by token)
    os.rename(tmp, PATH)


def next_invoice():
    st = _load()
    st["invoice"] += 1
    _save()
    return st["invoice"]


def peek_invoice():
    """The invoice number the next transaction will get."""
    return _load()["invoice"] + 1


def record_sale(tender, minor):
    st = _load()
    c = st["totals"].get(tender)
    if c is None:
        st["totals"][tender] = [1, minor]
    else:                           # in place: no new object kept per sale
        c[0] += 1
        c[1] += minor
    _save()


def totals():
    return dict(_load()["totals"])


def close_shift():
    """Z report: the shift's totals start again (invoice numbers go on)."""
    st = _load()
    st["totals"] = {}
    st["shift"] = st.get("shift", 0) + 1
    _save()
