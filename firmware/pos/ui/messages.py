# Message catalog: every text the merchant sees, by key, in English and
# Simplified Chinese; another language adds a dict with the same keys.
_EN = {
    "ready": "READY",
    "test_keys": "TEST KEYS",
    "keys_refused": "KEY STORE REFUSED",
    "pending": "TO SEND",
    "press_menu": "MENU: functions",
    "menu": "MENU",
    "sale": "Sale",
    "refund": "Refund",
    "reports": "Reports",
    "settings": "Settings",
    "about": "About",
    "apps": "Apps",
    "stock": "Stock",
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
    "gift": "Gift card",
    "ewallet": "E-wallet",
    "cash_tendered": "Cash tendered",
    "not_enough_cash": "Less than the total:",
    "total": "Total",
    "change": "Change",
    "no_printer": "No printer: no receipt",
    "receipt_printed": "Receipt printed",
    "paper_out_reprint": "Load paper, F1 reprint",
    "enter_done_f1_reprint": "ENTER done  F1 reprint",
    "void": "Void",
    "preauth": "Pre-auth",
    "completion": "Completion",
    "balance": "Balance",
    "tip_adjust": "Tip adjust",
    "split": "Split tender",
    "insert_card": "INSERT CARD",
    "batch_full": "BATCH FULL - SETTLE",
    "remove_card": "REMOVE CARD",
    "no_reader": "Card reader not available",
    "approved": "APPROVED",
    "declined": "DECLINED",
    "not_completed": "NOT COMPLETED",
    "cancelled": "Cancelled",
    "timed_out": "Timed out",
    "auth_code": "AUTH",
    "enter_pin": "ENTER PIN",
    "online_pin": "ENTER PIN (ONLINE)",
    "last_pin_try": "LAST PIN TRY",
    "pin_too_short": "PIN: 4 to 12 digits",
    "pin_footer": "ENTER ok CLEAR CANCEL",
    "choose_app": "CHOOSE APPLICATION",
    "use_this_app": "Use this application?",
    "remaining": "Remaining",
    "paid": "Paid",
    "supervisor_pin": "Supervisor PIN",
    "operator_pin": "Operator PIN",
    "not_allowed": "Not allowed for this operator",
    "wrong_pin": "Wrong PIN",
    "invoice": "Invoice no.",
    "not_found": "Not found",
    "already_voided": "Already voided",
    "x_report": "X report",
    "z_report": "Z report",
    "txn_list": "Transactions",
    "reprint": "Reprint",
    "settled": "Settled",
    "settle_failed": "Settlement failed",
    "tip": "Tip",
    "original_inv": "Original invoice",
    "language": "Language",
    "scan_to_pay": "Scan with your wallet app",
    "insert_chip": "CHIP CARD: INSERT CHIP",
    "one_card_only": "PLEASE PRESENT ONE CARD",
    "merchant_name": "Merchant name",
    "tips": "Tips at sale",
    "on": "On",
    "off": "Off",
    "use_another_interface": "PLEASE INSERT OR SWIPE",
    "show_qr": "Show QR to customer",
    "scan_code": "Scan customer code",
    "scan_customer_code": "SCAN CUSTOMER CODE",
    "not_a_wallet_code": "Not a wallet code",
    "chip_error_swipe": "CHIP ERROR: SWIPE CARD",
    "amount_needed": "Key in an amount first",
    "over_limit": "Over limit: max {max}",
    "decimals_max": "{n} decimals at most",
    "exact": "F1 Exact",
    "card_removed": "CARD REMOVED",
    "tap_insert_swipe": "TAP, INSERT OR SWIPE",
    "wrong_pin_tries": "WRONG PIN: {n} TRIES LEFT",
    "wrong_pin_last": "WRONG PIN: LAST TRY",
    "signing_on": "Signing on to the host",
    "batch_open": "Transactions in batch: {n}",
    "qr_paid": "PAID BY WALLET",
    "no_host_record": "Offline, no host record",
    "error": "ERROR",
    "english": "English",
    "chinese": "中文",
    "enroll_title": "Cloud enrollment",
    "enroll_prompt": "Type the activation code",
    "enroll_prompt2": "or scan its QR code",
    "enroll_working": "Enrolling with the cloud...",
    "enrolled": "ENROLLED",
    "tms_on": "Management starts at restart",
    "enter_restart": "ENTER: restart now",
    "code_12_digits": "The code has 12 digits",
    "not_an_activation_code": "Not an activation code",
    "often_bought": "Often bought with:",
}


LANGUAGES = ("en", "zh")
language = "en"
_SETTINGS = "config/terminal.json"


def set_language(lang, save=True):
    """Switch the display language ('en', 'zh'); kept in config/terminal.json."""
    global language
    if lang not in LANGUAGES:
        raise ValueError("language %r not one of %s" % (lang, ", ".join(LANGUAGES)))
    language = lang
    if save:
        import json
        try:
            with open(_SETTINGS) as f:
                d = json.load(f)
        except (OSError, ValueError):
            d = {}
        d["language"] = lang
        with open(_SETTINGS + ".tmp", "w") as f:
            json.dump(d, f)
        import os
        os.rename(_SETTINGS + ".tmp", _SETTINGS)


def load_language():
    """At boot: the language saved in config/terminal.json (English if none or bad)."""
    import json
    try:
        with open(_SETTINGS) as f:
            lang = json.load(f).get("language", "en")
        set_language(lang, save=False)
    except (OSError, ValueError, AttributeError):
        pass


def t(key, **fields):
    """The text for `key` in the current language ('{name}' fields filled in)."""
    text = None
    if language == "zh":
        from pos.ui.messages_zh import CATALOG
        text = CATALOG.get(key)
    text = text or _EN.get(key) or key
    if fields:
        for k in fields:
            text = text.replace("{" + k + "}", str(fields[k]))
    return text
