"""EMV contact chip demos: the kernel (firmware/pos/emv) on real MicroPython with the
192 KB heap, talking APDUs to a simulated card.

    smartpos demo --scenario contact-offline-pin

Each scenario prints the APDU exchange summary, the outcome and
``RESULT: <outcome>`` (printed by the runner) and is ok only when the outcome is
the expected one.  The card is the TEST card of tests/emv (cardkit.MiniCard);
the run goes through the EMV test harness (tests/emv/harness.py) because the
virtual board's contact reader model is not wired yet (see docs/emv-kernel.md).
"""
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
TESTS = os.path.join(REPO, "tests", "emv")

_INS = {0xA4: "SELECT", 0xB2: "READ RECORD", 0xA8: "GET PROCESSING OPTIONS", 0xCA: "GET DATA",
        0x20: "VERIFY", 0x84: "GET CHALLENGE", 0x88: "INTERNAL AUTHENTICATE", 0xAE: "GENERATE AC",
        0x82: "EXTERNAL AUTHENTICATE", 0xC0: "GET RESPONSE"}


def _kit():
    if TESTS not in sys.path:
        sys.path.insert(0, TESTS)
    import cardkit
    import harness
    return cardkit, harness


_pki = {}


def _setup():
    cardkit, harness = _kit()
    if not _pki:
        pki = cardkit.TestPki()
        d = tempfile.mkdtemp(prefix="contact-demo-")
        _pki["pki"] = pki
        _pki["capk"] = pki.capk_json(os.path.join(d, "capk_test.json"))
    return cardkit, harness, _pki["pki"], _pki["capk"]


class DecliningOnOdaFailure:
    """Demo issuer rule: decline ('05') when the TVR says offline data authentication failed."""

    def __init__(self, host):
        self.host = host

    def authorize(self, req):
        f55 = bytes.fromhex(req["icc_data"])
        i = f55.find(b"\x95\x05")
        if i >= 0 and f55[i + 2] & 0x4C:
            return {"approved": False, "response_code": "05", "text": "DO NOT HONOUR (card authentication failed)",
                    "icc_data": "8A023035"}       # 8A = "05"
        return self.host.authorize(req)

    def complete(self, msg):
        pass


def _run(card_kw, amount, expect, pins=("1234",), online=False, issuer=None, tweak=None):
    """Run one transaction; `online` hosts are the TEST local issuer (cardkit.HsmHost): the
    ARQC is verified and the ARPC made with the acquirer simulator's HSM and TEST IMK."""
    cardkit, harness, pki, capk = _setup()
    card = cardkit.MiniCard(pki, issuer="hsm", **card_kw)
    if tweak:
        tweak(card)
    host = cardkit.HsmHost()
    if issuer:
        host = issuer(host)
    r = harness.Harness(card, capk=capk, pins=list(pins), authorizer=host if online else None).run(amount)
    for c, resp in r.apdus:
        name = _INS.get(c[1], "%02X" % c[1])
        sw = resp[-2:].hex().upper() if resp else "(no answer)"
        print("  > %-24s %s  < SW %s" % (name, c[:4].hex().upper(), sw))
    for m in r.messages:
        print("  display: %s" % m)
    print("  AID %s (%s)  PAN %s  TVR %s  TSI %s  CVM %s  %s %s" % (
        r.aid, r.label, r.masked_pan, r.tvr, r.tsi, r.cvm_results, r.cryptogram_type, r.cryptogram))
    print("  terminal-side time %.1f ms (card and host latency excluded)" % (r.terminal_us / 1000.0))
    outcome = r.summary + (" TVR=%s" % r.tvr)
    return expect(r), outcome


def offline_approve(args):
    return _run({"oda": "CDA", "cvm_list": bytes(8) + bytes.fromhex("1F00")}, 1000,
                lambda r: r.result == "approved" and not r.online and r.cryptogram_type == "TC", pins=())


def online_approve(args):
    return _run({"oda": "CDA"}, 6000,
                lambda r: r.result == "approved" and r.online and r.issuer_auth == "ok"
                and r.cryptogram_type == "TC", online=True)


def decline(args):
    # expired application: the issuer's IAC-denial has the 'expired application' bit -> AAC
    return _run({"oda": "CDA", "expiry": "251031", "iac": {"denial": bytes.fromhex("0040000000")}}, 1000,
                lambda r: r.result == "declined" and r.cryptogram_type == "AAC" and not r.online, online=True)


def offline_pin(args):
    return _run({"oda": "CDA", "cvm_list": bytes(8) + bytes.fromhex("0100")}, 1500,
                lambda r: r.result == "approved" and not r.online and r.cvm_results == "010002",
                pins=("1234",))


def bad_cert(args):
    # the issuer certificate's hash is wrong: CDA fails, the terminal goes online (TAC-online),
    # the issuer declines on the TVR
    return _run({"oda": "CDA", "issuer_cert_kw": {"tamper_hash": True}}, 1000,
                lambda r: r.result == "declined" and bytes.fromhex(r.tvr)[0] & 0x04 and r.online,
                online=True, issuer=DecliningOnOdaFailure)


SCENARIOS = {
    "contact-offline-approve": offline_approve,
    "contact-online-approve": online_approve,
    "contact-decline": decline,
    "contact-offline-pin": offline_pin,
    "contact-bad-cert": bad_cert,
}
