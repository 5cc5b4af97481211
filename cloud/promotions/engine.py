"""The promotions engine of the terminal, loaded from its firmware file unchanged, so the cloud
and every terminal compute the same discounts for the same basket (docs/promotions.md,
"Determinism").  The file imports nothing, so CPython runs it as MicroPython does.

    from cloud.promotions import engine
    progs = engine.compile_programs(programs)
    out = engine.apply(engine.Basket(lines), progs, now=t)
"""
import importlib.util
import os

SOURCE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                      "firmware", "pos", "promo", "engine.py")


def _load():
    spec = importlib.util.spec_from_file_location("cloud.promotions.terminal_engine", SOURCE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_engine = _load()
PromoError = _engine.PromoError
compile_programs = _engine.compile_programs
apply = _engine.apply
half_up = _engine.half_up


class Basket:
    """A basket as the engine reads it, from lines (sku, category, pieces, amount) as an upload
    or a test gives them; `allotted[i]` collects line i's share of the item rewards."""

    def __init__(self, lines):
        self.lines = [(str(s), int(c), int(p), int(a)) for s, c, p, a in lines]
        self.n = len(self.lines)
        self.allotted = [0] * self.n

    def entry(self, i):
        return self.lines[i][1:]

    def sku(self, i):
        return self.lines[i][0]

    def allot(self, i, minor):
        self.allotted[i] += minor
