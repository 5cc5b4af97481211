"""QR demos: the merchant-presented EMVCo QR on the terminal's display.

    smartpos demo --scenario qr-merchant --save-display /tmp/qr.png

The firmware (frozen, on the virtual board) builds a dynamic EMVCo MPM payload for the sale
and draws it as a QR code (its own encoder, level M); the demo decodes the display model's
PNG with a real QR decoder (zbarimg) and checks it is the payload, CRC included.  The
wallet host that would confirm the payment is not built yet.
"""
import os
import shutil
import subprocess
import tempfile


def qr_merchant(args):
    from host_sim.rig import Rig
    from host_sim.board import VirtualBoard  # noqa: F401
    zbar = shutil.which("zbarimg")
    if zbar is None:
        return False, "zbarimg not installed (apt install zbar-tools)"
    with Rig() as rig:
        rig.home()
        rig.keys(list("1250") + ["ENTER"])
        rig.wait_text("3 QR")
        rig.keys(["3"])
        rig.wait_text("Scan with your wallet app", 30)
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
        rig.keys(["CANCEL"])
        return ok, "QR SHOWN: EMVCo MPM dynamic, USD 12.50, CRC %s, %d characters" % (
            "ok" if crc_ok else "BAD", len(payload))


SCENARIOS = {"qr-merchant": qr_merchant}
