"""`smartpos flash`: compile the firmware with mpy-cross and copy what changed onto a board."""
import os

from smartpos.cli import CommandError


def register(sub):
    p = sub.add_parser("flash", help="compile firmware/ for the board and copy what changed, then reset")
    p.add_argument("--port", metavar="PORT",
                   help="serial port (/dev/ttyACM0), the virtual board's pty, or socket://127.0.0.1:PORT "
                        "(default: $SMARTPOS_PORT)")
    p.add_argument("--no-reset", action="store_true", help="do not reset the board afterwards")
    p.add_argument("--timeout", type=float, default=30, help="seconds to wait for 'smartpos ready' (30)")
    p.add_argument("--source", default=None, help=argparse_default_source())
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=run)


def argparse_default_source():
    return "firmware tree to flash (default: the repository's firmware/)"


def run(args):
    from smartpos.flashing import Flasher, FlashError
    from host_sim.mpy import FIRMWARE_DIR
    port = args.port or os.environ.get("SMARTPOS_PORT")
    if not port:
        raise CommandError("say which board: --port /dev/ttyACM0, the virtual board's pty or socket://127.0.0.1:PORT")
    src = os.path.abspath(args.source or FIRMWARE_DIR)
    if not os.path.isdir(src):
        raise CommandError("no firmware tree at %s" % src)

    def progress(msg):
        if not args.quiet:
            print("flash: " + msg, flush=True)

    try:
        r = Flasher(port, progress, ready_timeout=args.timeout).flash(src, reset=not args.no_reset)
    except FlashError as exc:
        raise CommandError(str(exc))
    print("flash: done in %.1f s: %d files (%d KB as .mpy), %d copied (%d bytes), %d removed%s"
          % (r["seconds"], r["files"], r["mpy_bytes"] // 1024, r["changed"], r["bytes_copied"], r["removed"],
             "; board ready" if r.get("ready") else ""), flush=True)
    return 0
