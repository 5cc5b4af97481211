"""`smartpos board`: run the virtual board (REPL on a pty and a TCP port) until Ctrl-C."""
import os
import signal
import sys
import threading

from smartpos.cli import CommandError


def default_flash_dir():
    import platformdirs
    return os.path.join(platformdirs.user_data_dir("smartpos"), "flash")


def register(sub):
    p = sub.add_parser("board", help="run the virtual board: MicroPython with the board's heap, "
                                     "flash directory, REPL on a pty and a TCP port")
    p.add_argument("--heap", default="192K", help="MicroPython heap (default 192K, the NUCLEO-F429ZI's)")
    p.add_argument("--flash", metavar="DIR", default=None,
                   help="flash directory the firmware sees as /flash (default: %s)" % default_flash_dir())
    p.add_argument("--flash-size", default="1M", help="flash filesystem size (default 1M)")
    p.add_argument("--pty-link", metavar="PATH", help="make PATH a symlink to the REPL pty")
    p.add_argument("--socket", metavar="PORT", type=int, default=0,
                   help="REPL on raw TCP 127.0.0.1:PORT (default: any free port)")
    p.add_argument("--firmware", action="store_true",
                   help="copy firmware/ (sources) into the flash before booting "
                        "(normally you flash it: smartpos flash --port ...)")
    p.add_argument("--frozen", action="store_true",
                   help="firmware as a board build runs it: pos/ frozen into a ROM image at /rom "
                        "(executed in place), boot.py/main.py/config in the flash")
    p.add_argument("--console", action="store_true", help="also echo the REPL output here")
    p.set_defaults(func=run)


def run(args):
    from host_sim.board import VirtualBoard
    from host_sim.board.cpu import parse_heap
    try:
        heap = parse_heap(args.heap)
        flash_size = parse_heap(args.flash_size)
    except ValueError as exc:
        raise CommandError(str(exc))
    flash = os.path.abspath(args.flash or default_flash_dir())
    try:
        os.makedirs(flash, exist_ok=True)
    except OSError as exc:
        raise CommandError("cannot use %s as flash directory: %s" % (flash, exc.strerror))
    if args.pty_link and os.path.exists(args.pty_link) and not os.path.islink(args.pty_link):
        raise CommandError("--pty-link %s exists and is not a symlink: choose another path" % args.pty_link)
    vb = VirtualBoard(flash, heap=heap, firmware="frozen" if args.frozen else args.firmware, pty=True, pty_link=args.pty_link,
                      socket_port=args.socket, flash_size=flash_size)
    try:
        vb.start()
    except OSError as exc:
        vb.stop()
        raise CommandError("cannot start the virtual board: %s" % exc)
    if args.console:
        vb.cpu.sinks.append(lambda data: (sys.stdout.buffer.write(data), sys.stdout.flush()))
    print("smartpos board: REPL on %s%s and %s; flash %s; heap %s; models: %s"
          % (vb.pty.path, " (%s)" % args.pty_link if args.pty_link else "", vb.url, flash, args.heap,
             ", ".join(sorted(vb.devices)) or "none"), flush=True)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *a: done.set())
    try:
        while not done.wait(1):
            pass
    finally:
        vb.stop()
    return 0
