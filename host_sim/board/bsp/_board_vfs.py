# `vfs` as firmware on the virtual board sees it: no VfsPosix (the stm32 port
# has none; it would reach the host's files).  Installed as sys.modules["vfs"].
import vfs as _vfs


def __getattr__(name):
    if name == "VfsPosix":
        raise AttributeError("module 'vfs' has no attribute 'VfsPosix'")
    return getattr(_vfs, name)
