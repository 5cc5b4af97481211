# Running a package's compiled entry module (.mpy, docs/app-store.md) inside the sandbox of
# pos.platform.runtime.  The module loads through the interpreter's own import, from the app's
# directory only, and is dropped from sys.modules at once.  A module's globals are its own (the
# runtime cannot hand it a globals dict as it does to source), so what an app may not use is
# replaced in builtins -- open, exec, eval, compile, ...: the app's version while app code runs,
# the real one for the firmware -- until the runtime's leave() puts the real ones back.
import gc

CODE_BUDGET = 32768             # bytes loading may take: code, globals, names it interns
GUARDED = ("open", "exec", "eval", "compile", "execfile", "input", "help")


def _guard(app_fn, real, in_app):
    """A builtin that is `app_fn` while app code runs and `real` otherwise."""
    def g(*args, **kw):
        if in_app() is not None:
            return app_fn(*args, **kw)
        return real(*args, **kw)
    return g


def load(h, sdk, app_dir, module, real, real_import, in_app):
    """Run `module`.mpy of `app_dir` for the runtime's Host `h`; its globals.  `real` (the
    runtime's dict) keeps the builtins replaced here for leave()."""
    import builtins
    import sys
    for name in GUARDED:
        if name not in real:
            try:
                real[name] = getattr(builtins, name)
            except AttributeError:
                continue
        app_fn = sdk.opener(h) if name == "open" else sdk.refused(name)
        setattr(builtins, name, _guard(app_fn, real[name], in_app))
    path = sys.path[:]
    clash = sys.modules.pop(module, None)
    sys.path[:] = [app_dir]
    gc.collect()
    h.base = gc.mem_alloc()             # the guards above are the firmware's, not the app's heap
    # loading takes the code, its globals and the names it interns (the interpreter may grow
    # its name pool by a block here): measured against CODE_BUDGET; what the app allocates
    # after that is measured against its heap budget from the new base
    budget, h.budget = h.budget, CODE_BUDGET
    try:
        mod = h.run(real_import, module)
    finally:
        h.budget = budget
        sys.path[:] = path
        sys.modules.pop(module, None)
        if clash is not None:
            sys.modules[module] = clash
    gc.collect()
    h.base = gc.mem_alloc()
    h.charged = 0                       # the code was measured against CODE_BUDGET above
    return mod.__dict__
