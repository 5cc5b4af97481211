"""`smartpos device`: a device model alone on a raw TCP port, without the virtual board.

    smartpos device list
    smartpos device serve pn532 --tcp 7532 --card visa-credit     # PN532 HSU frames
    smartpos device serve pn532 --tcp 7532 --tag ntag215          # a membership tag in the field
    smartpos device serve printer --tcp 9100 --png roll.png       # ESC/POS (python-escpos Network)
    smartpos device serve scanner --tcp 7533 --scan 'hello'       # sends 'hello' CR to each client
    smartpos device serve msr --tcp 7534 --swipe visa-credit      # swipes that card's stripe
    smartpos device serve contact --tcp 7535 --card visa-credit   # ISO 7816-3 T=0/T=1 card side
    smartpos device serve pn532 --connect 127.0.0.1:3457          # to Renode's USART2 server socket

The TCP client is the other end of the chip's UART: a PC-side driver, a Renode UART
server socket (with --connect, the model is the client), or any program.  One client at a time.  The contact
reader has no pins on a TCP line, so a client connecting is a cold reset (the card is
powered, RST released, and the ATR is sent) and a client leaving powers the card off.
The model serves until the process is killed (SIGTERM or Ctrl-C).
"""
import signal
import threading

from smartpos.cli import CommandError

# NAME (as host_sim/board/wiring.py names the model) -> what the client speaks
MODELS = {
    "pn532": "PN532 HSU frames (UM0701), 115200 8N1",
    "printer": "ESC/POS, 58 mm / 384 dots",
    "scanner": "decoded codes, each ended by CR",
    "msr": "STX track frames ETX BCC (ISO 7811 tracks)",
    "contact": "ISO 7816-3 card side: ATR, then T=0 or T=1 as the ATR says",
}
ALIASES = {"contact-reader": "contact", "escpos": "printer", "nfc": "pn532"}
TAGS = ("ntag213", "ntag215", "ntag216", "mifare1k")


def register(sub):
    p = sub.add_parser("device", help="serve a device model (pn532, printer, scanner, msr, contact) on TCP")
    s = p.add_subparsers(dest="device_cmd", metavar="{list,serve}")
    s.required = True
    ls = s.add_parser("list", help="the device models that can be served")
    ls.set_defaults(func=run_list)
    sv = s.add_parser("serve", help="serve one model on a raw TCP port until killed")
    sv.add_argument("name", metavar="NAME", help="pn532, printer, scanner, msr or contact (contact-reader)")
    where = sv.add_mutually_exclusive_group(required=True)
    where.add_argument("--tcp", type=int, metavar="PORT",
                       help="TCP port to listen on (0: any free port, printed at start)")
    where.add_argument("--connect", metavar="HOST:PORT",
                       help="connect to a TCP server instead (a Renode UART server socket) and "
                            "connect again whenever it goes away")
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sv.add_argument("--card", metavar="PROFILE",
                    help="pn532: a contactless card of this profile in the field; contact: this card "
                         "in the slot (a profile name, a profile JSON path, or trace:FILE)")
    sv.add_argument("--tag", choices=TAGS, help="pn532: a membership tag in the field")
    sv.add_argument("--ndef-text", default="MEMBER 0001", help="the NTAG's NDEF Text record (default %(default)s)")
    sv.add_argument("--scan", action="append", metavar="CODE", help="scanner: a code sent to each client "
                    "when it connects (repeatable)")
    sv.add_argument("--swipe", metavar="PROFILE", help="msr: swipe this profile's stripe for each client")
    sv.add_argument("--png", metavar="FILE", help="printer: save the roll as PNG after every cut")
    sv.add_argument("--fault", action="append", metavar="NAME", help="inject one of the model's faults "
                    "(repeatable; see `smartpos device list`)")
    sv.add_argument("--quiet", action="store_true", help="do not print the model's events")
    sv.set_defaults(func=run_serve)


def _model_class(name):
    """The model class the virtual board wires for NAME."""
    import importlib
    from host_sim.board.wiring import WIRING
    module, _, cls = WIRING[name]["model"].partition(":")
    return getattr(importlib.import_module(module), cls)


def run_list(args):
    for name in sorted(MODELS):
        cls = _model_class(name)
        print("%-8s %s; faults: %s" % (name, MODELS[name], ", ".join(cls.FAULTS) or "-"))
    return 0


def _tag(kind, text):
    from host_sim.devices.nfc_tags import MifareClassic1K, Ntag21x
    if kind == "mifare1k":
        return MifareClassic1K()
    return Ntag21x(int(kind[4:]), ndef_text=text)


def _check_options(name, args):
    allowed = {"pn532": ("card", "tag"), "contact": ("card",), "scanner": ("scan",), "msr": ("swipe",),
               "printer": ("png",)}[name]
    for opt in ("card", "tag", "scan", "swipe", "png"):
        if getattr(args, opt) and opt not in allowed:
            raise CommandError("--%s does not apply to the %s model" % (opt, name))


def _setup(name, dev, args):
    """Put the chosen card, tag or codes in place; return (what is there, on_connect, on_disconnect)."""
    from host_sim.cards import ProfileError
    on_connect = on_disconnect = None
    there = "nothing"
    try:
        if name == "pn532":
            field = []
            if args.card:
                from host_sim.cards.contactless import make_card
                field.append(make_card(args.card))
            if args.tag:
                field.append(_tag(args.tag, args.ndef_text))
            if field:
                dev.tap(*field)
            there = "field: %s" % (" + ".join(filter(None, (args.card, args.tag))) or "empty")
        elif name == "contact":
            if args.card:
                from host_sim.cards import make_card
                dev.insert(make_card(args.card))
                there = "slot: %s" % args.card
            else:
                there = "slot: empty"

            def on_connect():                 # the client activates the card (ISO 7816-3 6.2)
                dev.pin_changed("rst", 0)
                dev.pin_changed("vcc", 0)     # CMDVCC is active low
                dev.pin_changed("rst", 1)     # cold reset: the ATR follows

            def on_disconnect():
                dev.pin_changed("vcc", 1)
                dev.pin_changed("rst", 0)
        elif name == "scanner":
            codes = list(args.scan or ())
            there = "%d code(s) per client" % len(codes)

            def on_connect():
                for code in codes:
                    dev.scan(code)
        elif name == "msr":
            if args.swipe:
                from host_sim.cards import load_profile
                p = load_profile(args.swipe)
                card = {"pan": p["pan"], "expiry": p["expiry"][:4], "name": p.get("cardholder", "TEST/CARDHOLDER"),
                        "service_code": p.get("service_code", "201")}
                there = "swipe of %s per client" % args.swipe

                def on_connect():
                    dev.swipe(card=card)
        elif name == "printer":
            there = "roll: %s" % (args.png or "transcript only")
    except ProfileError as exc:
        raise CommandError(str(exc))
    except ValueError as exc:
        raise CommandError(str(exc))
    return there, on_connect, on_disconnect


def _printer_events(dev, png, say):
    def on_event(ev):
        if ev.get("event") != "cut":
            return
        receipt = dev.receipts()[-1] if dev.receipts() else ""
        say("printer: cut %d\n%s" % (dev.cuts, receipt))
        if png:
            dev.save_png(png)
    return on_event


def run_serve(args):
    name = ALIASES.get(args.name, args.name)
    if name not in MODELS:
        raise CommandError("no device model %r (known: %s)" % (args.name, ", ".join(sorted(MODELS))))
    _check_options(name, args)
    dev = _model_class(name)()
    for fault in args.fault or ():
        try:
            dev.inject(fault)
        except Exception as exc:
            raise CommandError(str(exc))
    there, on_connect, on_disconnect = _setup(name, dev, args)

    lock = threading.Lock()

    def say(msg):
        with lock:
            print(msg, flush=True)
    if not args.quiet:
        if name == "printer":
            dev.listeners.append(_printer_events(dev, args.png, say))
        else:
            # events carry no card data: INS and SW of APDUs, tags' UIDs, track numbers
            dev.listeners.append(lambda ev: say("%s: %s" % (name, " ".join(
                "%s=%s" % (k, v) for k, v in ev.items() if k != "device"))))
    elif name == "printer" and args.png:
        dev.listeners.append(lambda ev: ev.get("event") == "cut" and dev.save_png(args.png))

    def connected():
        say("%s: client connected" % name)
        if on_connect is not None:
            on_connect()

    def left():
        if on_disconnect is not None:
            on_disconnect()
        say("%s: client left" % name)
    if args.connect:
        host, _, port = args.connect.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise CommandError("--connect wants HOST:PORT, e.g. 127.0.0.1:3457, not %r" % args.connect)
        dev.connect_tcp(host, int(port), on_connect=connected, on_disconnect=left)
        say("smartpos device: %s model connecting to %s:%s (%s; %s)" % (name, host, port, MODELS[name], there))
    else:
        try:
            port = dev.serve_tcp(args.tcp, args.host, on_connect=connected, on_disconnect=left)
        except OSError as exc:
            raise CommandError("cannot listen on %s:%d (%s): choose another --tcp port"
                               % (args.host, args.tcp, exc.strerror or exc))
        say("smartpos device: %s model on %s:%d (%s; %s)" % (name, args.host, port, MODELS[name], there))
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    try:
        while not done.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        dev.stop_tcp()
        say("smartpos device: %s stopped" % name)
    return 0
