"""`smartpos demo`: run end-to-end scenarios and report RESULT lines."""
import sys
import time

from smartpos.demos import all_scenarios


def register(sub):
    p = sub.add_parser("demo", help="run demo scenarios end to end on the virtual board")
    p.add_argument("--scenario", action="append", help="scenario name (repeatable)")
    p.add_argument("--all", action="store_true", help="run every scenario")
    p.add_argument("--list", action="store_true", help="list scenarios and exit")
    p.add_argument("--save-display", metavar="PNG", help="save the display as PNG at the end")
    p.set_defaults(func=run)


def run(args):
    scenarios = all_scenarios()
    if args.list:
        for name in sorted(scenarios):
            print(name)
        return 0
    names = sorted(scenarios) if args.all else (args.scenario or [])
    if not names:
        print("smartpos demo: name a --scenario or use --all (--list shows them)", file=sys.stderr)
        return 2
    unknown = [n for n in names if n not in scenarios]
    if unknown:
        print("smartpos demo: unknown scenario %s; --list shows the known ones" % ", ".join(unknown),
              file=sys.stderr)
        return 2
    failed = []
    for name in names:
        if len(names) > 1:
            print("=== %s" % name, flush=True)
        t0 = time.monotonic()
        try:
            ok, outcome = scenarios[name](args)
        except Exception as exc:  # a scenario that crashes is a failed scenario
            ok, outcome = False, "ERROR %s: %s" % (type(exc).__name__, exc)
            _board_tail()
        print("RESULT: %s" % outcome, flush=True)
        if len(names) > 1:
            print("=== %s %s (%.1f s)" % (name, "ok" if ok else "FAILED", time.monotonic() - t0),
                  flush=True)
        if not ok:
            failed.append(name)
    if len(names) > 1:
        print("%d passed, %d failed" % (len(names) - len(failed), len(failed)))
    return 1 if failed else 0


def _board_tail(lines=30):
    """The last lines the board printed before the scenario stopped (why, often)."""
    try:
        from host_sim.rig import Rig
    except ImportError:
        return
    text, Rig.last_console = Rig.last_console, ""
    tail = [ln for ln in text.splitlines() if ln.strip()][-lines:]
    if tail:
        print("the board's console, last %d lines:\n  %s" % (len(tail), "\n  ".join(tail)), flush=True)
