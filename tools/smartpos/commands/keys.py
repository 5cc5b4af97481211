"""`smartpos keys load-kek`: the manufacturing step that gives a terminal its key-encryption key.

    smartpos keys load-kek --flash sim-flash --generate kek.hex     # new AES-256 KEK, hex to kek.hex (0600)
    smartpos keys load-kek --port /dev/ttyACM0 --key-file kek.hex   # the same KEK into a board over its REPL

The KEK (TR-31 key block protection key) is written to the terminal's flash as
pos.store.keystore.KeyStore.KBPK_FILE; every working key then reaches the terminal as a
TR-31 block under it (docs/key-injection.md). Only the key check value is printed; the key
itself is read from a file (or stdin) and written only to the terminal and to --generate's file.
"""
import os
import sys

from smartpos.cli import CommandError

KBPK_FILE = "kbpk.json"       # pos.store.keystore.KeyStore.KBPK_FILE


def register(sub):
    p = sub.add_parser("keys", help="terminal keys: load the key-encryption key (KEK) at manufacture")
    cmds = p.add_subparsers(dest="keys_command", metavar="SUBCOMMAND")
    k = cmds.add_parser("load-kek", help="load a KEK into the simulator's flash folder or a board (prints the KCV only)")
    where = k.add_mutually_exclusive_group(required=True)
    where.add_argument("--flash", metavar="DIR", help="the virtual board's flash folder")
    where.add_argument("--port", metavar="PORT",
                       help="a board's REPL: serial port, the virtual board's pty or socket://127.0.0.1:PORT")
    src = k.add_mutually_exclusive_group(required=True)
    src.add_argument("--key-file", metavar="FILE", help="the KEK in hex ('-': read it from stdin)")
    src.add_argument("--generate", metavar="FILE",
                     help="make a new random KEK, write its hex to FILE (mode 0600, never overwritten) and load it")
    k.add_argument("--algorithm", choices=("A", "T"), default="A",
                   help="A: AES (TR-31 version D, default; generated keys are AES-256), T: TDES (version B)")
    k.add_argument("--no-reset", action="store_true", help="with --port: leave the board in the REPL afterwards")
    p.set_defaults(func=run)
    k.set_defaults(func=load_kek)


def run(args):
    print("smartpos keys: say what to do: load-kek (see smartpos keys load-kek --help)", file=sys.stderr)
    return 2


def read_kek(args):
    from cloud.tms.keys import KeyInjectionError, generate_kek, kek_from_hex
    if args.generate:
        kek = generate_kek(args.algorithm)
        try:
            fd = os.open(args.generate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise CommandError("%s exists: a KEK file is never overwritten; give a new name" % args.generate)
        except OSError as exc:
            raise CommandError("cannot create %s: %s" % (args.generate, exc.strerror))
        with os.fdopen(fd, "w") as f:
            f.write(kek.key.hex().upper() + "\n")
        return kek
    try:
        if args.key_file == "-":
            text = sys.stdin.read()
        else:
            with open(args.key_file) as f:
                text = f.read()
    except OSError as exc:
        raise CommandError("cannot read %s: %s" % (args.key_file, exc.strerror))
    try:
        return kek_from_hex(text, args.algorithm)
    except KeyInjectionError as exc:
        raise CommandError("%s: %s" % (args.key_file, exc))


def write_to_flash(flash_dir, kek):
    """Write the KEK file into a virtual board's flash folder (temp file + rename, mode 0600)."""
    if not os.path.isdir(flash_dir):
        raise CommandError("no flash folder %s: give the virtual board's --flash folder" % flash_dir)
    path = os.path.join(flash_dir, KBPK_FILE)
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(kek.terminal_file())
    os.replace(tmp, path)
    return path


def write_over_repl(port, kek, reset=True):
    """Write the KEK file onto a board through its raw REPL; returns the path on the board."""
    from smartpos.flashing import Flasher, FlashError
    try:
        return Flasher(port).put_file(KBPK_FILE, kek.terminal_file().encode(), reset=reset)
    except FlashError as exc:
        raise CommandError(str(exc))


def load_kek(args):
    if args.flash and not os.path.isdir(args.flash):      # before a --generate file is made
        raise CommandError("no flash folder %s: give the virtual board's --flash folder" % args.flash)
    kek = read_kek(args)
    if args.flash:
        where = write_to_flash(args.flash, kek)
    else:
        where = "%s:%s" % (args.port, write_over_repl(args.port, kek, reset=not args.no_reset))
    print("load-kek: %s KEK loaded into %s; KCV %s" % (kek.describe(), where, kek.kcv()), flush=True)
    return 0
