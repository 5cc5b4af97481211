"""QR demos: the merchant-presented EMVCo QR on the terminal's display.

    smartpos demo --scenario qr-merchant --save-display /tmp/qr.png

The firmware (frozen, on the virtual board) builds a dynamic EMVCo MPM payload for the sale
and draws it as a QR code (its own encoder, level M); the demo decodes the display model's
PNG with a real QR decoder (zbarimg) and checks it is the payload, CRC included; then the
customer's app pays the order on the wallet host and the terminal, polling, shows it paid.
"""
import os
import shutil
import subprocess
import tempfile


def qr_merchant(args):
    from host_sim.rig import Rig
    zbar = shutil.which("zbarimg")
    if zbar is None:
        return False, "zbarimg not installed (apt install zbar-tools)"
    with Rig() as rig:
        rig.home()
        rig.show_merchant_qr(1250)
        path = getattr(args, "save_display", None) or os.path.join(tempfile.mkdtemp(), "qr.png")
        rig.display.image().save(path)
        r = subprocess.run([zbar, "--raw", "-q", path], capture_output=True, text=True)
        payload = r.stdout.strip()
        print("display saved to %s" % path)
        print("zbarimg: %s" % payload)
        import binascii
        crc_ok = len(payload) > 8 and payload[-8:-4] == "6304" and \
            "%04X" % binascii.crc_hqx(payload[:-4].encode(), 0xFFFF) == payload[-4:]
        ok = crc_ok and "540512.50" in payload and payload.startswith("000201010212")
        # the customer's wallet app reads the order from the payload (62/05) and pays it
        import re
        import urllib.request
        order = re.search(r"0107(W\d{6})", payload)          # 62 / 01 bill number = the order
        if not order:
            return False, "no wallet order reference in the payload: %s" % payload
        req = urllib.request.Request("http://127.0.0.1:%d/sim/pay/%s" % (rig.wallet.port, order.group(1)),
                                     data=b"", method="POST")
        urllib.request.urlopen(req, timeout=5).read()
        rig.wait_text("PAID BY WALLET", 15)                        # the terminal polled the wallet host
        e = rig.batch()[-1]
        ok = ok and e["tender"] == "qr" and e["amount"] == 1250
        rig.keys(["ENTER"])
        return ok, "PAID USD 12.50 by wallet (order %s, EMVCo MPM CRC %s, %d characters)" % (
            order.group(1), "ok" if crc_ok else "BAD", len(payload))


def qr_customer(args):
    """The customer shows a wallet code; the terminal's scanner reads it; the wallet host
    charges it (signed, idempotent)."""
    from host_sim.rig import Rig
    with Rig() as rig:
        rig.home()
        rig.keys(list("875") + ["ENTER"])
        rig.wait_text("3 QR")
        rig.keys(["3"])
        rig.wait_text("2 Scan customer code")
        rig.keys(["2"])
        rig.wait_text("SCAN CUSTOMER CODE")
        rig.board.devices["scanner"].scan("WALLET-NOFUNDS-0001")
        t1 = rig.wait_text("DECLINED", 15)
        print("first code: %s" % [l for l in t1.split("\n") if "DECLINED" in l][0])
        rig.board.devices["scanner"].scan("WALLET-OK-7F3A9C")
        rig.wait_text("PAID BY WALLET", 15)
        if getattr(args, "save_display", None):
            rig.display.image().save(args.save_display)
        e = rig.batch()[-1]
        ok = e["tender"] == "qr" and e["amount"] == 875 and len(rig.wallet.payments) == 1
        rig.keys(["ENTER"])
        return ok, "APPROVED wallet code USD 8.75 (txn %s; the first code declined: no funds)" % e.get("wallet")


SCENARIOS = {"qr-merchant": qr_merchant, "qr-customer": qr_customer}
