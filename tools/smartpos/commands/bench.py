"""`smartpos bench`: heap, time, sizes and ratios, measured in one run."""
import os
import sys

from smartpos.benches import all_benches


def register(sub):
    p = sub.add_parser("bench", help="run benchmarks (heap, time, sizes, ratios)")
    p.add_argument("names", nargs="*", help="bench names (default: all)")
    p.add_argument("--board", metavar="PORT", help="mcu-estimates: time the workloads on the board at "
                   "PORT (serial device or mpremote URL, firmware flashed) instead of estimating them")
    p.set_defaults(func=run)


def run(args):
    if args.board:
        os.environ["SMARTPOS_BENCH_BOARD"] = args.board
    benches = all_benches()
    names = args.names or sorted(benches)
    unknown = [n for n in names if n not in benches]
    if unknown:
        print("smartpos bench: unknown bench %s (known: %s)" % (", ".join(unknown), ", ".join(sorted(benches))),
              file=sys.stderr)
        return 2
    for name in names:
        print("== %s" % name, flush=True)
        for metric, value, unit in benches[name]():
            if isinstance(value, float):
                value = "%.4g" % value
            print("  %-48s %12s %s" % (metric, value, unit), flush=True)
    return 0
