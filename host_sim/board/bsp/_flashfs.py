# The virtual board's flash: a host directory that firmware sees at /flash and
# cannot leave.  The unix port's VfsPosix(root) joins paths to `root` without
# resolving "..", so every path is normalised here first (and clamped at the
# flash root) and only then joined to the host directory.  (VfsPosix(root) is
# not used for the joining: its rename() builds both paths in one buffer.)  Writes are limited to the flash
# capacity (SMARTPOS_FLASH_SIZE): past it, write() raises OSError(ENOSPC) as
# littlefs/FAT do on the real board.
import io
import vfs
import _powercut

_BLOCK = 512


class _Budget(io.IOBase):
    """A file opened for writing, charged against the free space."""

    def __init__(self, f, free, fs=None, path=""):
        self._f = f
        self._free = free
        self._fs = fs
        self._path = path

    def write(self, buf):
        n = len(buf)
        if self._fs is not None and self._fs._ctl:
            how = self._fs._flash_op("write", self._path, n)
            if how is not None:
                if how == "torn" and n > 1:
                    self._f.write(memoryview(buf)[:n // 2])     # the power goes mid-write
                elif how == "whole":
                    self._f.write(buf)
                _powercut.cut()
        if n > self._free:
            if self._free > 0:
                self._f.write(memoryview(buf)[:self._free])
            self._free = 0
            raise OSError(28)  # ENOSPC
        self._free -= n
        return _powercut.write(self._f, buf)

    def read(self, *a):
        return self._f.read(*a)

    def readinto(self, *a):
        return self._f.readinto(*a)

    def readline(self, *a):
        return self._f.readline(*a)

    def seek(self, *a):
        return self._f.seek(*a)

    def tell(self):
        return self._f.tell()

    def flush(self):
        return self._f.flush()

    def close(self):
        return self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self._f.close()


class FlashFS:
    def __init__(self, root, capacity, ctl=None):
        self._fs = vfs.VfsPosix()
        self._root = root.rstrip("/")
        self._cwd = "/"
        self._cap = capacity
        # power-cut test points (host directory, tests only): every flash operation is
        # numbered, logged and maybe cut by _powercut.point (SMARTPOS_FLASH_CTL)
        self._ctl = ctl

    def _flash_op(self, kind, path, n=0):
        return _powercut.point(kind, path[len(self._root):], n)

    def _abs(self, path):
        if not path.startswith("/"):
            path = self._cwd + "/" + path
        parts = []
        for p in path.split("/"):
            if p == "" or p == ".":
                continue
            if p == "..":
                if parts:
                    parts.pop()
            else:
                parts.append(p)
        return self._root + "/" + "/".join(parts)

    def _used(self, path=None):
        if path is None:
            path = self._root
        n = 0
        for e in self._fs.ilistdir(path):
            full = path + "/" + e[0]
            if e[1] == 0x4000:
                n += _BLOCK + self._used(full)
            else:
                n += (self._fs.stat(full)[6] + _BLOCK - 1) // _BLOCK * _BLOCK
        return n

    def mount(self, readonly, mkfs):
        pass

    def umount(self):
        pass

    def open(self, path, mode):
        f = self._fs.open(self._abs(path), mode)
        if "r" in mode and "+" not in mode:
            return f
        return _Budget(f, self._cap - self._used(), self, self._abs(path))

    def ilistdir(self, path):
        # (name, type, inode, size) as littlefs/FAT on the board report it
        base = self._abs(path).rstrip("/") + "/"
        for e in self._fs.ilistdir(base):
            yield (e[0], e[1], 0, 0 if e[1] == 0x4000 else self._fs.stat(base + e[0])[6])

    def stat(self, path):
        return self._fs.stat(self._abs(path))

    def statvfs(self, path):
        free = max(0, self._cap - self._used()) // _BLOCK
        return (_BLOCK, _BLOCK, self._cap // _BLOCK, free, free, 0, 0, 0, 0, 255)

    def mkdir(self, path):
        self._fs.mkdir(self._abs(path))

    def rmdir(self, path):
        self._fs.rmdir(self._abs(path))

    def remove(self, path):
        if self._ctl and self._flash_op("remove", self._abs(path)) is not None:
            _powercut.cut()
        self._fs.remove(self._abs(path))

    def rename(self, old, new):
        if self._ctl and self._flash_op("rename", self._abs(new)) is not None:
            _powercut.cut()
        self._fs.rename(self._abs(old), self._abs(new))

    def chdir(self, path):
        p = self._abs(path)
        if self._fs.stat(p)[0] & 0x4000 == 0:
            raise OSError(20)  # ENOTDIR
        self._cwd = p[len(self._root):] or "/"

    def getcwd(self):
        return self._cwd

    def __repr__(self):
        return "<VfsFlash %d bytes>" % self._cap
