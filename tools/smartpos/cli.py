"""The `smartpos` command line.

Each subcommand lives in its own module under ``smartpos.commands`` and
exposes ``register(subparsers)``; the parser it adds must set ``func`` (a
callable taking the parsed args and returning an exit code).  Adding a
command means adding a module, not editing this file.
"""
import argparse
import importlib
import pkgutil
import sys

from smartpos import commands


class CommandError(Exception):
    """An error the user can act on: printed as one line, exit status 2."""


def build_parser():
    parser = argparse.ArgumentParser(
        prog="smartpos",
        description="smartpos: virtual board, flashing, demos, card and host simulators",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module("smartpos.commands." + info.name)
        mod.register(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args) or 0
    except CommandError as exc:
        print("smartpos %s: error: %s" % (args.command, exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
