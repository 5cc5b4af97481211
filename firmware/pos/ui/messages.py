# Message catalog: every text the merchant sees, by key.  English now; other
# languages add a dict with the same keys (Simplified Chinese needs its glyph
# subset, see docs/architecture.md).
_EN = {
    "ready": "READY",
    "press_menu": "MENU: functions",
    "menu": "MENU",
    "sale": "Sale",
    "refund": "Refund",
    "reports": "Reports",
    "settings": "Settings",
    "about": "About",
    "not_yet": "Not available yet",
    "press_cancel": "CANCEL: back",
    "enter_amount": "Enter amount",
    "amount_too_large": "Amount over limit",
    "firmware": "Firmware",
    "board": "Board",
    "heap_free": "Heap free",
    "net_ok": "NET",
    "net_down": "NET!",
    "net_unknown": "NET?",
    "paper_ok": "PAPER",
    "paper_low": "PAPER LOW",
    "paper_out": "NO PAPER",
    "paper_unknown": "PAPER?",
    "confirm": "ENTER: yes  CANCEL: no",
    "cash": "Cash",
    "card": "Card",
    "qr": "QR",
    "cash_tendered": "Cash tendered",
    "not_enough_cash": "Less than the total:",
    "total": "Total",
    "change": "Change",
    "no_printer": "No printer: no receipt",
    "receipt_printed": "Receipt printed",
    "paper_out_reprint": "Load paper, F1 reprint",
    "enter_done_f1_reprint": "ENTER done  F1 reprint",
}

_CATALOGS = {"en": _EN}
language = "en"


def t(key, **fields):
    """The text for `key` in the current language ('{name}' fields filled in)."""
    text = _CATALOGS.get(language, _EN).get(key) or _EN.get(key) or key
    if fields:
        for k in fields:
            text = text.replace("{" + k + "}", str(fields[k]))
    return text
