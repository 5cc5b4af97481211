# Boot markers (a measurement probe, SMARTPOS_BOOT_MARKS=1; `smartpos bench mcu-estimates`):
# calls micropython.stack_use() at the boot's phase boundaries, which nothing else in the
# firmware calls, so callgrind (--dump-before=mp_micropython_stack_use) dumps its count there.
# Marks: boot.py starts; main.py (its own import statements) imports pos.app.services (payment services); main.py imports
# asyncio (the UI and the event loop); main() imports pos.app.batch (drivers initialised);
# "smartpos ready" printed (the Ready screen drawn).  The firmware is not changed: the marks
# come from a wrapped __import__ and print, put back once the last mark is passed.
import builtins
import micropython

_import = builtins.__import__
_print = builtins.print
_AT = (("pos.app", "services"), ("asyncio", None), ("pos.app", "batch"))
_next = [0]


def _mark_import(name, globals=None, locals=None, fromlist=None, level=0):
    i = _next[0]
    if i < len(_AT):
        want, item = _AT[i]
        if (name == want and (item is None or (fromlist and item in fromlist))
                and globals is not None and globals.get("__name__") == "__main__"):   # main.py's own
            _next[0] = i + 1
            micropython.stack_use()
            if i + 1 == len(_AT):
                builtins.__import__ = _import
    return _import(name, globals, locals, fromlist, level)


def _mark_print(*args, **kw):
    if args and args[0] == "smartpos ready":
        builtins.print = _print
        micropython.stack_use()
    _print(*args, **kw)


def start():
    builtins.__import__ = _mark_import
    builtins.print = _mark_print
    micropython.stack_use()
