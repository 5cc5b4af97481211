"""Demo scenarios for `smartpos demo`.

Each module in this package defines ``SCENARIOS``: a dict mapping a scenario
name to a callable ``run(args) -> (ok: bool, outcome: str)``.  The scenario
prints whatever it wants on the way (receipt transcripts, traces); the
runner prints ``RESULT: <outcome>`` and exits 0 only when ``ok`` is true.
Scenarios may read optional attributes of ``args`` (e.g. ``save_display``).
"""
import importlib
import pkgutil


def all_scenarios():
    found = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(__name__ + "." + info.name)
        for name, fn in getattr(mod, "SCENARIOS", {}).items():
            if name in found:
                raise RuntimeError("demo scenario %r defined twice" % name)
            found[name] = fn
    return found
