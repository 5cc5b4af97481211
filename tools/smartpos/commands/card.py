"""`smartpos card`: the EMV card simulator's profiles, and a simulated card on PC/SC.

    smartpos card list
    smartpos card show visa-credit
    smartpos card vpcd --profile visa-credit      # pcscd + vsmartcard-vpcd: PC/SC tools see it
    smartpos card record --out card.trace.json    # a session with the card in a PC/SC reader
    smartpos card vpcd --profile trace:card.trace.json     # ... replayed (docs/adding-a-card-profile.md)
"""
import getpass
import signal
import sys

from smartpos.cli import CommandError


def register(sub):
    p = sub.add_parser("card", help="EMV card simulator: list/show profiles, expose a card on PC/SC (vpcd)")
    s = p.add_subparsers(dest="card_cmd", metavar="{list,show,vpcd,read,record}")
    s.required = True
    ls = s.add_parser("list", help="the card profiles")
    ls.set_defaults(func=run_list)
    sh = s.add_parser("show", help="one profile's applications and settings (PAN masked)")
    sh.add_argument("name")
    sh.set_defaults(func=run_show)
    v = s.add_parser("vpcd", help="connect a simulated card to pcscd through vsmartcard-vpcd")
    v.add_argument("--profile", required=True, help="profile name or path to a profile JSON")
    v.add_argument("--host", default="127.0.0.1")
    v.add_argument("--port", type=int, default=35963, help="vpcd port (35963 = reader 'Virtual PCD 00 00')")
    v.add_argument("--quiet", action="store_true", help="do not print each APDU header and SW")
    v.set_defaults(func=run_vpcd)
    rd = s.add_parser("read", help="read the applications of the card in a PC/SC reader (PSE directory)")
    rd.add_argument("--reader", default=None, help="part of the reader's name (default: the first with a card)")
    rd.set_defaults(func=run_read)
    rc = s.add_parser("record", help="record an EMV session with the card in a PC/SC reader into a trace file")
    rc.add_argument("--reader", default=None, help="part of the reader's name (default: the first reader)")
    rc.add_argument("--out", required=True, metavar="FILE",
                    help="trace file; '-' writes to standard output (only with --mask)")
    rc.add_argument("--mask", action="store_true",
                    help="mask the PAN (first 6 and last 4 kept), track data and cardholder name")
    rc.add_argument("--amount", type=int, default=1000, help="amount in minor units for the DOL data (default 1000)")
    rc.add_argument("--currency", default="0840", help="transaction currency code 5F2A, 4 digits (default 0840)")
    rc.add_argument("--country", default="0840", help="terminal country code 9F1A, 4 digits (default 0840)")
    rc.add_argument("--aid", help="select this AID instead of reading the PSE directory")
    rc.add_argument("--verify-pin", action="store_true",
                    help="also VERIFY an offline PIN (asked for; read from standard input when it is not a "
                         "terminal); the PIN is never stored, and a wrong one costs the card a try")
    rc.set_defaults(func=run_record)


def _mask(pan):
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]


def run_list(args):
    from host_sim.cards import list_profiles, load_profile, ProfileError
    for name in list_profiles():
        try:
            p = load_profile(name)
            print("%-20s %s" % (name, p.get("description", "")))
        except ProfileError as exc:
            print("%-20s BROKEN: %s" % (name, exc))
    return 0


def run_show(args):
    from host_sim.cards import load_profile, ProfileError
    try:
        p = load_profile(args.name)
    except ProfileError as exc:
        raise CommandError(str(exc))
    print("%s: %s" % (p["name"], p.get("description", "")))
    print("  scheme %s  PAN %s  expiry %s  CVN %s  ODA %s  protocol %s" % (
        p["scheme"], _mask(p["pan"]), p["expiry"], p.get("cvn", 18), p.get("oda", "CDA"), p.get("protocol", "T=0")))
    print("  CA %s/%s  PSE %s  CVM list %s" % (p["rid"], p["ca_index"], "yes" if p.get("pse", True) else "no",
                                             p.get("cvm_list", "(default)")))
    for a in p["applications"]:
        print("  application %s %-16s priority %s%s" % (a["aid"], a["label"], a.get("priority", "-"),
                                                       "  BLOCKED" if a.get("blocked") else ""))
    if p.get("faults"):
        print("  faults: %s" % ", ".join(sorted(p["faults"])))
    return 0


def run_vpcd(args):
    from host_sim.cards import make_card, ProfileError
    from host_sim.cards.vpcd import serve_forever, VpcdError
    try:
        card = make_card(args.profile)
    except ProfileError as exc:
        raise CommandError(str(exc))

    def stop(*_):
        print("card removed from vpcd", flush=True)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    log = (lambda m: None) if args.quiet else (lambda m: print(m, flush=True))
    try:
        serve_forever(card, args.host, args.port, log=log)
    except VpcdError as exc:
        raise CommandError(str(exc))
    except KeyboardInterrupt:
        stop()
    return 0


def run_read(args):
    """A small PC/SC tool: ATR, then the PSE directory's applications (EMV Book 1 12.3.2)."""
    from host_sim.cards.card import tlv_children as _children
    from host_sim.cards.pcsc_card import PcscCard, PcscError
    try:
        card = PcscCard(args.reader)
    except PcscError as exc:
        raise CommandError(str(exc))

    def tx(apdu):
        r = card.transmit(apdu)
        if r[-2] == 0x61:                                    # T=0: fetch the response
            r = card.transmit(bytes([0x00, 0xC0, 0x00, 0x00, r[-1]]))
        elif r[-2] == 0x6C:
            r = card.transmit(apdu[:4] + bytes([r[-1]]))
        return r[:-2], (r[-2] << 8) | r[-1]
    print("reader %s" % card.reader_name)
    print("ATR %s" % card.atr.hex().upper())
    pse = b"1PAY.SYS.DDF01"
    fci, sw = tx(bytes([0x00, 0xA4, 0x04, 0x00, len(pse)]) + pse + b"\x00")
    if sw != 0x9000:
        raise CommandError("no PSE on this card (SW %04X): select the AIDs directly" % sw)
    sfi = 1
    for t, v in _children(fci):
        for t2, v2 in _children(v) if t == 0x6F else ():
            for t3, v3 in _children(v2) if t2 == 0xA5 else ():
                if t3 == 0x88:
                    sfi = v3[0]
    rec = 1
    while True:
        data, sw = tx(bytes([0x00, 0xB2, rec, (sfi << 3) | 4, 0x00]))
        if sw == 0x6A83:
            break
        if sw != 0x9000:
            raise CommandError("READ RECORD %d: SW %04X" % (rec, sw))
        for t, v in _children(data):
            for t2, entry in _children(v):
                if t2 != 0x61:
                    continue
                d = dict(_children(entry))
                print("application %s  %-16s priority %s" % (
                    d.get(0x4F, b"").hex().upper(), d.get(0x50, b"").decode("ascii", "replace"),
                    d[0x87][0] if 0x87 in d else "-"))
        rec += 1
    return 0


def run_record(args):
    """Record a terminal's contact session with a PC/SC card (host_sim/cards/trace.py)."""
    import json
    import re
    from host_sim.cards.pcsc_card import PcscCard, PcscError
    from host_sim.cards.trace import TraceError, masked, record_session, save_trace
    if args.out == "-" and not args.mask:
        raise CommandError("a trace with the full PAN and track data goes only to a file (--out FILE); "
                           "use --mask to write it to standard output")
    for opt in ("currency", "country"):
        if not re.fullmatch(r"[0-9]{4}", getattr(args, opt)):
            raise CommandError("--%s must be 4 digits (ISO 4217 / ISO 3166 numeric, e.g. 0840)" % opt)
    if args.aid is not None and not re.fullmatch(r"(?:[0-9A-Fa-f]{2}){5,16}", args.aid):
        raise CommandError("--aid must be 5-16 bytes of hex")
    if not 0 <= args.amount <= 999999999999:
        raise CommandError("--amount must be 0 to 999999999999 minor units")
    pin = None
    if args.verify_pin:
        pin = getpass.getpass("card PIN: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
        if not (pin.isdigit() and 4 <= len(pin) <= 12):
            raise CommandError("the PIN must be 4-12 digits")
    try:
        card = PcscCard(args.reader)
    except PcscError as exc:
        raise CommandError(str(exc))
    log = (lambda m: print(m, file=sys.stderr, flush=True))
    log("reader %s, ATR %s" % (card.reader_name, card.atr.hex().upper()))
    try:
        trace = record_session(card, amount=args.amount, pin=pin, aid=args.aid, currency=args.currency,
                               country=args.country, log=log)
    except TraceError as exc:
        raise CommandError(str(exc))
    except Exception as exc:                       # the card or the reader went away mid-session
        raise CommandError("the session stopped: %s (%s); nothing was written" % (exc, type(exc).__name__))
    trace["reader"] = card.reader_name
    if args.mask:
        trace = masked(trace)
    if args.out == "-":
        print(json.dumps(trace, indent=1))
        return 0
    try:
        save_trace(trace, args.out)
    except OSError as exc:
        raise CommandError("cannot write %s (%s)" % (args.out, exc.strerror or exc))
    log("%d exchanges recorded into %s" % (len(trace["exchanges"]), args.out))
    if not args.mask:
        log("warning: %s holds the card's full PAN and track data; it was written readable by you only "
            "(mode 0600). Keep it private, or record with --mask to share a trace." % args.out)
    return 0
