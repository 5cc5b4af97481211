# `os` as firmware on the virtual board sees it: the unix port's os without
# what a microcontroller port does not have and what would reach the host
# (os.system, VfsPosix, environment writes).  Installed as sys.modules["os"].
import os as _os

_HIDDEN = ("system", "VfsPosix", "putenv", "unsetenv", "getenv")


def __getattr__(name):
    if name in _HIDDEN:
        raise AttributeError("module 'os' has no attribute '%s'" % name)
    return getattr(_os, name)
