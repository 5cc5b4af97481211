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
