# Exception injection points of the virtual board (tests only, outside the firmware): the
# host names firmware functions in SMARTPOS_FAULT_POINTS ("module:attr" or
# "module:Class.attr", comma separated); each is wrapped whenever its module is imported
# (the firmware loads and unloads flow modules all day, so an import hook re-wraps them).
# The host arms one of them by writing "point ErrorName [after]" to the file
# SMARTPOS_FAULT_CTL; the next call of that point raises ErrorName("injected at point") --
# before the call, or with "after" once the call has done its work -- and the file then
# says "fired point", so the test knows the point was reached.  Nothing else changes.
import builtins
import sys
import vfs

_ERRORS = {"ValueError": ValueError, "KeyError": KeyError, "IndexError": IndexError,
           "TypeError": TypeError, "OSError": OSError, "MemoryError": MemoryError,
           "RuntimeError": RuntimeError, "AttributeError": AttributeError}
_host = vfs.VfsPosix()
_ctl = None
_points = []             # [(module, owner class or None, attr, point name)]
_wrapped = {}            # point -> the wrapper installed last
_import = builtins.__import__


def _armed(point):
    """(error class, after) when `point` is armed; the file then says it fired."""
    try:
        with _host.open(_ctl, "r") as f:
            words = f.read().split()
    except OSError:
        return None
    if len(words) < 2 or words[0] != point or words[1] not in _ERRORS:
        return None
    with _host.open(_ctl, "w") as f:
        f.write("fired " + point)
    return _ERRORS[words[1]], len(words) > 2 and words[2] == "after"


def _wrap(fn, point, method):
    if method:
        def w(self, *a, **k):
            arm = _armed(point)
            if arm is not None and not arm[1]:
                raise arm[0]("injected at " + point)
            r = fn(self, *a, **k)
            if arm is not None:
                raise arm[0]("injected after " + point)
            return r
    else:
        def w(*a, **k):
            arm = _armed(point)
            if arm is not None and not arm[1]:
                raise arm[0]("injected at " + point)
            r = fn(*a, **k)
            if arm is not None:
                raise arm[0]("injected after " + point)
            return r
    return w


def _patch():
    for mod, cls, attr, point in _points:
        m = sys.modules.get(mod)
        if m is None:
            continue
        owner = m
        if cls:
            owner = getattr(m, cls, None)
            if owner is None:
                continue
        cur = getattr(owner, attr, None)
        if cur is None or cur is _wrapped.get(point):
            continue
        w = _wrap(cur, point, bool(cls))
        setattr(owner, attr, w)
        _wrapped[point] = w


def _hook(name, *a):
    m = _import(name, *a)
    _patch()
    return m


def start(points, ctl):
    global _ctl
    _ctl = ctl
    for p in points.split(","):
        mod, _, rest = p.strip().partition(":")
        cls, _, attr = rest.rpartition(".")
        _points.append((mod, cls or None, attr, p.strip()))
    builtins.__import__ = _hook


def grow_name_pool():
    """Make the interned-name pool's large parts now, while the heap is whole.  The wrappers
    add names of their own beside the firmware's, and the next part of the pool (thousands of
    entries, one block) made in the middle of a sale no longer finds room: every sale after
    the first would fail on it, for a reason of the instrumentation, not of the firmware.
    Placeholder names are interned until a part of 5,120 entries exists (the heap is grown by
    host_sim.board.cpu.FAULTS_HEAP_ALLOWANCE for this and the wrappers)."""
    import gc
    i = 0
    while i < 20000:
        a = gc.mem_alloc()
        getattr(None, "~%x" % i, None)          # getattr interns the name
        i += 1
        if gc.mem_alloc() - a > 40000:           # the part of 5,120 entries (56 KB on x64)
            break
        if not i & 63:
            gc.collect()                         # the names' text in one compact run
    gc.collect()

