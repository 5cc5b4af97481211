"""Merchant application scenarios on the virtual board (keys in, receipt out)."""
import time

from host_sim.board import VirtualBoard


def _wait(display, needle, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if needle in display.text():
            return True
        time.sleep(0.1)
    return False


def sale_cash(args):
    """USD 12.50 paid with USD 20.00 cash: change 7.50, drawer open, receipt."""
    with VirtualBoard(firmware=True, pty=False) as vb:
        vb.wait_for("smartpos ready", 30)
        kp, disp, printer = vb.devices["keypad"], vb.devices["display"], vb.devices["printer"]
        presses = ["1", "2", "5", "0", "ENTER", "1", "2", "0", "00", "ENTER"]
        t0 = time.monotonic()
        for k in presses:
            kp.tap(k)
            time.sleep(0.03)
        if not _wait(disp, "Receipt printed"):
            return False, "no receipt; display shows: %s" % disp.text().replace("\n", " | ")
        printer.wait_for_cuts(1)
        elapsed = time.monotonic() - t0
        if getattr(args, "save_display", None):
            disp.save_png(args.save_display)
        receipt = printer.receipts()[0]
        print(receipt)
        ok = ("CHANGE                  USD 7.50" in receipt and len(printer.drawer_kicks) == 1)
        return ok, "cash sale USD 12.50, change USD 7.50, drawer kicked, receipt printed " \
                   "(%d keypresses, %.1f s from idle)" % (len(presses), elapsed)


SCENARIOS = {"sale-cash": sale_cash}


# ---------------------------------------------------------------------------------------
# The whole terminal (host_sim.rig): card tenders, referenced transactions, reports.
# Operator PINs are the TEST ones of firmware/config/operators.json (supervisor 2222).

SUPERVISOR = "2222"


def _save(rig, args):
    if getattr(args, "save_display", None):
        rig.display.image().save(args.save_display)


def _print_new(rig, n0, title):
    for r in rig.receipts()[n0:]:
        print("--- %s ---" % title)
        print(r)


def _card_sale(rig, minor, profile="visa-cvn10", pin="1234"):
    text = rig.sale_by_card(minor, profile, pin=pin)
    rig.keys(["ENTER"])
    rig.remove()
    rig.wait_text("READY")
    return text, rig.batch()[-1]


def _menu(rig, item, wait):
    rig.home()
    rig.keys(["MENU", item])
    rig.wait_text(wait)


def _supervisor(rig):
    rig.wait_text("Supervisor PIN")
    rig.keys(list(SUPERVISOR) + ["ENTER"])


def split_tender(args):
    """USD 50.00: 20.00 in cash, the remaining 30.00 by chip card."""
    from host_sim.rig import Rig
    with Rig() as rig:
        n0 = len(rig.receipts())
        rig.home()
        rig.keys(list("5000") + ["ENTER"])
        rig.wait_text("4 Split tender")
        rig.keys(["4"])
        rig.wait_text("Split tender")
        rig.keys(list("2000") + ["ENTER"])
        rig.wait_text("1 Cash")
        rig.keys(["1"])                                   # 20.00 cash
        rig.wait_text("Sale USD 30.00")
        rig.keys(["2"])                                   # the rest by card
        rig.wait_text("INSERT")
        rig.insert("visa-cvn10")
        rig.finish_card("1234", done=("Paid", "DECLINED", "NOT COMPLETED"))
        text = rig.wait_text("Paid")
        rig.printer.wait_for_cuts(n0 + 3, timeout=10)
        _print_new(rig, n0, "receipt")
        _save(rig, args)
        b = rig.batch()
        ok = ([(e["tender"], e["amount"]) for e in b[-2:]] == [("cash", 2000), ("card", 3000)]
              and "SPLIT TENDER" in rig.receipts()[-1])
        return ok, "SPLIT TENDER USD 50.00 = cash USD 20.00 + card USD 30.00 (%s)" % b[-1].get("result")


def refund(args):
    """A card sale of USD 40.00, then a supervisor refunds USD 15.00 of it."""
    from host_sim.rig import Rig
    with Rig() as rig:
        _, sale = _card_sale(rig, 4000)
        n0 = len(rig.receipts())
        _menu(rig, "2", "Supervisor PIN")
        _supervisor(rig)
        rig.wait_text("Original invoice")
        rig.keys(list(str(sale["inv"])) + ["ENTER"])
        rig.wait_text("Enter amount")
        rig.keys(list("1500") + ["ENTER"])
        which, text = rig.wait_any(["APPROVED", "DECLINED"], 20)
        rig.printer.wait_for_cuts(n0 + 2, timeout=10)
        _print_new(rig, n0, "refund receipt")
        _save(rig, args)
        e = rig.batch()[-1]
        t = rig.hosts["alpha"].db.txn("TERM0001", e.get("stan", ""))
        ok = which == "APPROVED" and e["kind"] == "refund" and t is not None and t["pcode"].startswith("20")
        return ok, "REFUND %s USD 15.00 of invoice %06d (host pcode %s)" % (which, sale["inv"], t and t["pcode"])


def void(args):
    """A card sale, then a supervisor voids it in the same batch: the host gives it back."""
    from host_sim.rig import Rig
    with Rig() as rig:
        _, sale = _card_sale(rig, 150000, "visa-credit")
        before = rig.hosts["alpha"].db.balance("4761739001010119")
        n0 = len(rig.receipts())
        _menu(rig, "3", "Supervisor PIN")
        _supervisor(rig)
        rig.wait_text("Original invoice")
        rig.keys(list(str(sale["inv"])) + ["ENTER"])
        which, text = rig.wait_any(["APPROVED", "DECLINED"], 20)
        rig.printer.wait_for_cuts(n0 + 2, timeout=10)
        _print_new(rig, n0, "void receipt")
        _save(rig, args)
        after = rig.hosts["alpha"].db.balance("4761739001010119")
        voided = [e for e in rig.batch() if e["inv"] == sale["inv"]][0].get("voided")
        ok = which == "APPROVED" and voided and after - before == 150000
        return ok, "VOID %s invoice %06d USD 1500.00, account credited back %d" % (which, sale["inv"], after - before)


def preauth_completion(args):
    """Pre-authorization of USD 100.00 by chip, completed later for USD 80.00."""
    from host_sim.rig import Rig
    with Rig() as rig:
        _menu(rig, "4", "Enter amount")
        rig.keys(list("10000") + ["ENTER"])
        rig.wait_text("INSERT")
        rig.insert("visa-credit")
        text = rig.finish_card("1234")
        pre = rig.batch()[-1]
        rig.keys(["ENTER"])
        rig.remove()
        n0 = len(rig.receipts())
        _menu(rig, "5", "Original invoice")
        rig.keys(list(str(pre["inv"])) + ["ENTER"])
        rig.wait_text("Enter amount")
        rig.keys(list("8000") + ["ENTER"])
        which, _ = rig.wait_any(["APPROVED", "DECLINED"], 20)
        rig.printer.wait_for_cuts(n0 + 2, timeout=10)
        _print_new(rig, n0, "completion receipt")
        _save(rig, args)
        comp = rig.batch()[-1]
        host_pre = rig.hosts["alpha"].db.txn("TERM0001", pre["stan"])
        ok = ("APPROVED" in text and pre["kind"] == "preauth" and which == "APPROVED"
              and comp["kind"] == "completion" and comp["amount"] == 8000
              and host_pre is not None and host_pre["mti"] == "0100")
        return ok, "PRE-AUTH USD 100.00 %s (0100), COMPLETION USD 80.00 %s (0200)" % (
            pre["result"], which)


def tip_adjust(args):
    """A card sale of USD 40.00, a tip of USD 6.00 added before the batch closes; the Z
    report's settlement carries the new total (batch upload on the mismatch)."""
    from host_sim.rig import Rig
    with Rig() as rig:
        _, sale = _card_sale(rig, 4000)
        n0 = len(rig.receipts())
        _menu(rig, "6", "Original invoice")
        rig.keys(list(str(sale["inv"])) + ["ENTER"])
        rig.wait_text("Enter amount")
        rig.keys(list("600") + ["ENTER"])
        text = rig.wait_text("Tip USD 6.00")
        rig.printer.wait_for_cuts(n0 + 2, timeout=10)
        _print_new(rig, n0, "receipt with tip")
        # close the batch: the host learns the adjusted amount
        _menu(rig, "7", "2 Z report")
        rig.keys(["2"])
        _supervisor(rig)
        z = rig.wait_text("alpha")
        host = rig.hosts["alpha"].db.txn("TERM0001", sale["stan"])
        _save(rig, args)
        ok = ("Total USD 46.00" in text and host is not None and host["amount"] == 4600
              and "uploaded" in z)
        return ok, "TIP USD 6.00 on invoice %06d: total USD 46.00; settlement %s" % (
            sale["inv"], "uploaded (host now has 46.00)" if host and host["amount"] == 4600 else z)


def z_report(args):
    """Cash and card sales, then the Z report: totals printed, the batch settled (0500), the
    shift closed."""
    from host_sim.rig import Rig
    with Rig() as rig:
        rig.home()
        rig.keys(list("1250") + ["ENTER"])
        rig.wait_text("1 Cash")
        rig.keys(["1"])
        rig.wait_text("Cash tendered")
        rig.keys(list("2000") + ["ENTER"])
        rig.wait_text("Change")
        rig.keys(["ENTER"])
        _card_sale(rig, 3000)
        _card_sale(rig, 150000, "visa-credit")
        n0 = len(rig.receipts())
        _menu(rig, "7", "2 Z report")
        rig.keys(["2"])
        _supervisor(rig)
        z = rig.wait_text("alpha")
        rig.printer.wait_for_cuts(n0 + 1, timeout=10)
        _print_new(rig, n0, "Z report")
        _save(rig, args)
        r = rig.receipts()[-1]
        ok = ("Z REPORT" in r and "balanced" in z and rig.batch() == []
              and "NET (3)" in r and "USD 1542.50" in r)
        return ok, "Z REPORT: 3 sales NET USD 1542.50; alpha %s; shift closed" % (
            "balanced" if "balanced" in z else z.replace("\n", " | "))


SCENARIOS.update({
    "split-tender": split_tender,
    "refund": refund,
    "void": void,
    "preauth-completion": preauth_completion,
    "tip-adjust": tip_adjust,
    "z-report": z_report,
})
