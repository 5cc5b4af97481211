# X report (running totals, shift stays open), Z report (prints the totals,
# settles every acquirer's batch over ISO 8583 0500, closes the shift), the
# transaction list of the open batch and reprint of any of its receipts.
from pos import hw, log
from pos.app import batch, card, counters, money, receipt, services, status
from pos.drivers import escpos
from pos.ui.messages import t
from pos.ui.widgets import Info, Menu, format_amount, wrap

CURRENCY = card.CURRENCY


# the transaction list's kind column, four letters chosen, not cut
_KIND_SHORT = {"sale": "SALE", "refund": "RFND", "void": "VOID", "preauth": "PRE", "completion": "COMP",
               "balance": "BAL"}


def abbreviate(name, width):
    """`name` in `width` characters: whole, or cut with a "." that says it was cut."""
    return name if len(name) <= width else name[:width - 1] + "."
_SIGN = {"sale": 1, "completion": 1, "refund": -1, "void": -1, "preauth": 0, "balance": 0}


def totals(entries=None):
    """{"tender": {name: [count, amount]}, "scheme": {...}, "operator": {...}, "net": int, "count": int}
    over the approved entries of the open batch (voids subtract the voided total)."""
    es = batch.each() if entries is None else entries
    out = {"tender": {}, "scheme": {}, "operator": {}, "net": 0, "count": 0}
    for e in es:
        if not e.get("ok"):
            continue
        sign = _SIGN.get(e["kind"], 0)
        if not sign:
            continue
        amt = sign * (e["amount"] + (e.get("tip", 0) if e["kind"] != "void" else 0))
        for key, name in (("tender", e.get("tender", "card") if e["kind"] != "refund" else "refund"),
                          ("scheme", e.get("scheme") or e.get("tender", "")),
                          ("operator", e.get("op", ""))):
            c = out[key].setdefault(name, [0, 0])
            c[0] += 1
            c[1] += amt
        out["net"] += amt
        out["count"] += 1
    return out


def _lines(tot):
    lines = []
    for key in ("tender", "scheme", "operator"):
        lines.append(key.upper())
        for name in sorted(tot[key]):
            c, a = tot[key][name]
            lines.append((" %-12s %3d" % (abbreviate(name, 12), c), format_amount(a, CURRENCY)))
    lines.append(("NET (%d)" % tot["count"], format_amount(tot["net"], CURRENCY)))
    return lines


def print_report(printer, merchant, title, tot, extra=()):
    printer.check_ready()
    p = printer
    p.init()
    p.align(escpos.ALIGN_CENTER)
    p.double()
    p.line(title)
    p.normal()
    for ln in wrap(merchant, escpos.COLUMNS):
        p.line(ln)
    p.line(receipt.now())
    p.align(escpos.ALIGN_LEFT)
    p.line("-" * escpos.COLUMNS)
    for ln in _lines(tot):
        if isinstance(ln, tuple):
            p.columns(ln[0], ln[1])
        else:
            p.bold()
            p.line(ln)
            p.bold(False)
    p.line("-" * escpos.COLUMNS)
    for ln in extra:
        for part in wrap(ln, escpos.COLUMNS):
            p.line(part)
    p.cut()


def _print(merchant, title, tot, extra=()):
    return receipt.printed(lambda p: print_report(p, merchant, title, tot, extra), hw.printer())


def x_report(merchant):
    tot = totals()
    msg = _print(merchant, "X REPORT", tot)
    return ("push", Info(t("x_report"), _screen(tot) + [msg]))


def _screen(tot):
    out = []
    for name in sorted(tot["tender"]):
        c, a = tot["tender"][name]
        out.append("%-8s%3d %s" % (abbreviate(name, 8), c, format_amount(a, CURRENCY)))
    out.append("NET %s" % format_amount(tot["net"], CURRENCY))
    return out[:8]


def settle_all():
    """Settle every acquirer that has transactions in its open batch: [(acq, result or error)]."""
    eng = services.engine()
    out = []
    for acq in sorted(eng.acquirers):
        sc, sa, rc, ra = eng.totals(acq)
        if not (sc or rc):
            continue
        try:
            result, _tot = eng.settle(acq)
            out.append((acq, result))
        except Exception as exc:
            log.error("app", "settlement failed", acquirer=acq, err=str(exc))
            out.append((acq, "FAILED " + str(exc)[:20]))
    return out


def _cloud_configured():
    try:
        open("config/cloud.json").close()
        return True
    except OSError:
        return False


def z_report(merchant):
    """Supervisor PIN, then totals printed, batches settled, shift closed."""
    from pos.app.flows import PinPrompt

    def with_op(op):
        if status.sync_fill is None and status.batch_count and _cloud_configured():
            # the sync loads at Ready (main.py): a Z report opened before it did would clear
            # transactions it has not queued yet
            return ("replace", Info(t("z_report"), ["CLOUD SYNC STARTING", "BACK TO READY", "THEN CLOSE AGAIN"]))
        if status.sync_fill is not None:
            out = status.sync_fill()        # every transaction into the cloud upload queue first
            if out:                         # the list is the only copy of these: it stays
                return ("replace", Info(t("z_report"), ["CLOUD QUEUE FULL", "%d NOT QUEUED" % out,
                                                        "CONNECT THE CLOUD", "THEN CLOSE AGAIN"]))
        tot = totals()
        try:
            results = settle_all()
        except Exception as exc:          # payments not configured: cash-only shift
            results = [("-", str(exc)[:24])]
        failed = [a for a, r in results if r.startswith("FAILED")]
        extra = ["SETTLE %s %s" % (a, r.upper()) for a, r in results] + ["CLOSED BY " + op.name]
        msg = _print(merchant, "Z REPORT", tot, extra)
        if not failed:
            batch.clear()
            counters.close_shift()
            status.batch_count = 0
        log.info("app", "z report", net=tot["net"], count=tot["count"], failed=len(failed))
        lines = _screen(tot) + [("%s %s" % (a, r))[:28] for a, r in results] + [msg]
        return ("replace", Info(t("z_report"), lines[:9]))
    return ("push", PinPrompt(t("z_report"), "z_report", with_op))


def txn_list(merchant):
    es = batch.last(8)
    if not es:
        return ("push", Info(t("txn_list"), [t("not_found")]))
    items = []
    for e in es:
        amount = format_amount(e["amount"] + e.get("tip", 0), "", money.EXPONENT).strip()
        label = "%06d %s %s%s" % (e["inv"], _KIND_SHORT.get(e["kind"], abbreviate(e["kind"].upper(), 4)), amount,
                                  " V" if e.get("voided") else "")
        items.append((label, (lambda e=e: _reprint(merchant, e))))
    return ("push", Menu(t("txn_list"), items))


def _reprint(merchant, e):
    if e.get("tender") == "card":
        msg = card.print_both(hw.printer(), merchant, e)
    elif e.get("tender") == "cash":
        mid, tid = services.terminal_ids()
        msg = receipt.printed(lambda p: receipt.print_cash_sale(
            p, merchant, e["inv"], e["amount"], e.get("tendered", e["amount"]), CURRENCY, copy="REPRINT",
            mid=mid, tid=tid), hw.printer())
    elif e.get("tender") == "qr":
        mid, tid = services.terminal_ids()
        msg = receipt.printed(lambda p: receipt.print_qr_sale(p, merchant, e, CURRENCY, mid, tid, copy="REPRINT"),
                              hw.printer())
    else:
        msg = t("not_found")
    return ("push", Info(t("reprint"), ["%s %06d" % (t("invoice"), e["inv"]), msg]))
