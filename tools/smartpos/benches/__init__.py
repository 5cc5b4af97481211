"""Benchmarks for `smartpos bench` / `make bench`.

Each module here defines ``BENCHES``: a dict mapping a bench name to a
callable ``run() -> list of (metric, value, unit)`` rows.  Figures are
measured in the run that prints them; nothing here is asserted by tests.
"""
import importlib
import pkgutil


def all_benches():
    found = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(__name__ + "." + info.name)
        found.update(getattr(mod, "BENCHES", {}))
    return found
