"""`smartpos host <name>`: run one of the host simulators on loopback.

Plug-in hook: every package ``host_sim/hosts/<name>/`` that has a ``cli.py``
module becomes ``smartpos host <name>``.  That module provides

    HELP = "one line for --help"                (optional)
    def register(parser): ...                   add its options to the sub-parser
    def run(args) -> int: ...                   serve until Ctrl-C; exit status

and nothing else needs editing: ``smartpos host acquirer`` is
host_sim/hosts/acquirer/cli.py; the QR wallet host plugs in the same way as
host_sim/hosts/wallet/cli.py.  A host's module that fails to import is reported
and skipped, so one broken host does not take the others down.
"""
import importlib
import pkgutil
import sys


def _hosts():
    import host_sim.hosts as pkg
    found = {}
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if not info.ispkg or info.name.startswith("_"):
            continue
        try:
            mod = importlib.import_module("host_sim.hosts.%s.cli" % info.name)
        except ModuleNotFoundError as exc:
            if exc.name == "host_sim.hosts.%s.cli" % info.name:
                continue                     # a host without a command line
            print("smartpos host: %s skipped (%s)" % (info.name, exc), file=sys.stderr)
            continue
        except Exception as exc:             # a broken host must not hide the others
            print("smartpos host: %s skipped (%s: %s)" % (info.name, type(exc).__name__, exc), file=sys.stderr)
            continue
        found[info.name] = mod
    return found


def register(sub):
    p = sub.add_parser("host", help="run a host simulator (acquirer, wallet, ...) on 127.0.0.1")
    hs = p.add_subparsers(dest="host", metavar="NAME")
    for name, mod in _hosts().items():
        hp = hs.add_parser(name, help=getattr(mod, "HELP", "%s host simulator" % name))
        mod.register(hp)
        hp.set_defaults(func=mod.run)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
