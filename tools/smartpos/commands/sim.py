"""`smartpos sim`: the whole stack on this PC, with the terminal face in a browser.

Starts the host services that exist (acquirer, wallet), a virtual board with
the firmware flashed and every device model wired, and the web face on
http://127.0.0.1:PORT; Ctrl-C shuts everything down.
"""
import argparse
import importlib
import os
import signal
import threading

from smartpos.cli import CommandError


def register(sub):
    p = sub.add_parser("sim", help="run the whole stack with the web terminal face")
    p.add_argument("--port", type=int, default=8080, help="web face port (default 8080)")
    p.add_argument("--bind", default="127.0.0.1", metavar="ADDR",
                   help="address the web face listens on (default 127.0.0.1; any other address "
                        "needs a password: --password, or one is made and printed)")
    p.add_argument("--password", help="password the face asks for when bound beyond 127.0.0.1 "
                                      "(default: $SMARTPOS_FACE_PASSWORD)")
    p.add_argument("--heap",
                   help="board heap (default 320K: the NUCLEO-F429ZI's 192K budget for the whole "
                        "terminal, on this 64-bit port's 8-byte objects; see docs/bridge.md)")
    p.add_argument("--flash", metavar="DIR", help="flash directory (default: a fresh one per run)")
    p.add_argument("--pty-link", metavar="PATH", help="also expose the REPL on a pty symlinked here")
    p.add_argument("--contact-reader", metavar="pcsc[:NAME]|trace:FILE",
                   help="put the card of a real PC/SC reader (first one, or the one whose name "
                        "contains NAME) into the terminal's contact slot instead of simulated cards; "
                        "or a recorded card (a trace made by `smartpos card record`)")
    p.add_argument("--cloud-port", type=int, default=8700,
                   help="cloud service / operator console port (default 8700; 0: any free port)")
    p.add_argument("--cloud-data", metavar="DIR",
                   help="cloud data folder (default: a fresh one per run, SQLite inside)")
    p.add_argument("--http", action="store_true",
                   help="cloud over plain HTTP, for debugging (default: HTTPS with the TEST certificate, "
                        "its TEST CA pinned on the virtual terminal; docs/tms.md, 'TLS to the cloud')")
    p.add_argument("--tls", action="store_true", help=argparse.SUPPRESS)   # the default; kept for old scripts
    p.add_argument("--unfrozen", action="store_true",
                   help="firmware compiled into the flash instead of frozen into ROM (development)")
    p.set_defaults(func=run)


# The acquirers of firmware/config/acquirers.json, on the ports it names.
ACQUIRERS = (("alpha", 8583, "iso87"), ("beta", 8584, "iso87bcd"))


def _start_hosts():
    """Start the host services; return {name: service with .stop()}."""
    from host_sim.hosts.acquirer.server import AcquirerHost
    started = {}
    try:
        for name, port, spec in ACQUIRERS:
            started["acquirer " + name] = AcquirerHost(port=port, name=name, spec=spec).start()
    except OSError as exc:
        for h in started.values():
            h.stop()
        raise CommandError("acquirer host cannot listen on 127.0.0.1:%d (%s): is another sim running?"
                           % (port, exc.strerror))
    try:
        wallet = importlib.import_module("host_sim.hosts.wallet.service")
    except ImportError:
        wallet = None
    if wallet is not None and hasattr(wallet, "start_for_sim"):
        started["wallet"] = wallet.start_for_sim()
    return started


# The operator admin of the simulator's cloud (TEST, like the terminal's TEST PINs).
SIM_ADMIN_PASSWORD = "smartpos-test"


def _start_cloud(args):
    """The cloud service beside the hosts (SQLite in a data folder: nothing to install)."""
    import tempfile
    from cloud.server import CloudServer
    from cloud.settings import Settings
    from cloud.push import EmbeddedBroker
    data = args.cloud_data or tempfile.mkdtemp(prefix="smartpos-cloud-")
    try:
        broker = EmbeddedBroker(port=0).start()     # wakes the terminal when an action is created
    except RuntimeError as exc:
        raise CommandError(str(exc))
    tls = {}
    if not getattr(args, "http", False):
        from cloud import tls as cloud_tls
        tls = {"tls_cert": cloud_tls.TEST_SERVER_CERT, "tls_key": cloud_tls.TEST_SERVER_KEY}
    try:
        srv = CloudServer(Settings(data_dir=data, port=args.cloud_port, mqtt_url=broker.url,
                                   bootstrap_admin_password=SIM_ADMIN_PASSWORD, **tls)).start()
        return srv, broker
    except OSError as exc:
        broker.stop()
        raise CommandError("cloud service cannot listen on 127.0.0.1:%d (%s): choose another --cloud-port"
                           % (args.cloud_port, exc.strerror))


def _card_profiles():
    try:
        mod = importlib.import_module("host_sim.cards.face")
    except ImportError:
        return {}
    return mod.profiles_for_face()


def run(args):
    from host_sim.board import VirtualBoard
    from host_sim.web.server import is_loopback, serve_in_thread
    from host_sim.web.terminal import Terminal

    hosts = _start_hosts()
    try:
        cloud, broker = _start_cloud(args)
    except CommandError:
        for h in hosts.values():
            h.stop()
        raise
    hosts["cloud"] = cloud
    hosts["mqtt"] = broker
    from host_sim.rig import PRODUCT_HEAP, provision
    acq = {n.split()[-1]: h for n, h in hosts.items() if n.startswith("acquirer ")}
    # the terminal's flash: acquirer addresses and the TEST key-loading file (key injection)
    from host_sim import fleet
    enrolled = {}

    def provision_and_enroll(flash_dir):
        provision(flash_dir, acq, wallet=hosts.get("wallet"))
        enrolled.update(fleet.enroll(cloud.url, SIM_ADMIN_PASSWORD, flash_dir, serial=serial,
                                     mqtt=broker.url[7:]))

    heap = args.heap or (None if args.unfrozen else PRODUCT_HEAP)    # unfrozen: the board's own default
    board = VirtualBoard(flash_dir=args.flash, heap=heap,
                         firmware=True if args.unfrozen else "frozen",
                         pty_link=args.pty_link, pty=bool(args.pty_link),
                         provision=provision_and_enroll)
    serial = "SIM-" + board.uid[:8].upper()
    try:
        board.start()
    except fleet.FleetError as exc:
        board.stop()
        for h in hosts.values():
            h.stop()
        raise CommandError("enrolling the virtual terminal in the cloud failed: %s" % exc)
    except Exception as exc:
        for h in hosts.values():
            h.stop()
        raise CommandError("virtual board did not start: %s" % exc)
    if args.contact_reader:
        kind, _, name = args.contact_reader.partition(":")
        if kind not in ("pcsc", "trace") or (kind == "trace" and not name):
            board.stop()
            for h in hosts.values():
                h.stop()
            raise CommandError("--contact-reader: only 'pcsc', 'pcsc:NAME' or 'trace:FILE' is known")
        from host_sim.cards import ProfileError, make_card
        from host_sim.cards.pcsc_card import PcscCard, PcscError
        try:
            real = PcscCard(name or None) if kind == "pcsc" else make_card(args.contact_reader)
        except (PcscError, ProfileError) as exc:
            board.stop()
            for h in hosts.values():
                h.stop()
            raise CommandError("--contact-reader %s: %s" % (kind, exc))
        board.devices["contact"].insert(real)
        if kind == "pcsc":
            print("contact slot: the card in %s (ATR %s)" % (real.reader_name, real.atr.hex().upper()))
        else:
            print("contact slot: %s" % real.profile["description"])
    term = Terminal(board, hosts=hosts, profiles=_card_profiles())
    for h in hosts.values():
        if hasattr(h, "on_message"):
            h.on_message = term.record_host_message     # the ISO 8583 pane and pcap export
    password = args.password or os.environ.get("SMARTPOS_FACE_PASSWORD")
    made = False
    if not password and not is_loopback(args.bind):
        import secrets
        password, made = secrets.token_urlsafe(12), True
    try:
        srv = serve_in_thread(term, args.port, args.bind, password if not is_loopback(args.bind) else None)
    except OSError as exc:
        board.stop()
        for h in hosts.values():
            h.stop()
        raise CommandError("cannot listen on %s:%d (%s): choose another --port" % (args.bind, args.port, exc.strerror))
    print("smartpos sim: terminal face at http://%s:%d/" % (args.bind, args.port), flush=True)
    if not is_loopback(args.bind):
        print("  the face asks for a password%s" % ((": " + password) if made else " (the one given)"), flush=True)
    print("  board REPL: %s%s" % (board.url, ("  pty: " + args.pty_link) if args.pty_link else ""), flush=True)
    for name in sorted(hosts):
        print("  %s host: 127.0.0.1:%s" % (name, getattr(hosts[name], "port", "?")), flush=True)
    print("  operator console: %s/  (TEST operator admin: admin / %s; terminal %s enrolled as %s/%s)"
          % (cloud.url, SIM_ADMIN_PASSWORD, serial, enrolled["tenant"], enrolled["controller_id"]),
          flush=True)

    print("  Ctrl-C stops everything", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        term.closing = True
        srv.shutdown()
        board.stop()
        for h in hosts.values():
            h.stop()
        if not args.cloud_data:
            import shutil
            shutil.rmtree(cloud.settings.data_dir, ignore_errors=True)
        print("smartpos sim: stopped", flush=True)
    return 0
