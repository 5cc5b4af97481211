# SWUpdate images (.swu) read as they stream in: the container that DDI servers made for
# SWUpdate devices carry (goosebit accepts nothing else), and the one the smartpos cloud uses
# for signed parameter bundles.  A .swu is a cpio archive in the "new ASCII" format (magic
# 070701, or 070702 with a byte-sum checksum: cpio(5), "New ASCII Format"); SWUpdate wants
# `sw-description` as its first member.  The archive is only a carrier: what the terminal
# trusts comes from the TUF metadata inside it (pos.tms.tuf), never from the container.
#
#     reader = Reader(accept)          # accept(name, size) -> sink(memoryview) or None to skip
#     unpack("params.staged", reader)  # or reader.feed(memoryview) as bytes arrive
from micropython import const

_HEADER = const(110)            # magic (6) + 13 fields of 8 hex digits
_FILESIZE = const(54)
_NAMESIZE = const(94)
MAX_NAME = 64
TRAILER = "TRAILER!!!"
FIRST = "sw-description"


class SwuError(Exception):
    """An archive this terminal cannot read; the message says what is wrong with it."""


def _hex(buf, at):
    try:
        return int(bytes(buf[at:at + 8]).decode(), 16)
    except (ValueError, UnicodeError):
        raise SwuError("malformed cpio header")


class Reader:
    """Splits a cpio "newc" stream into its members as bytes arrive, in any piece sizes."""

    def __init__(self, accept):
        self.accept = accept
        self.head = bytearray(_HEADER + MAX_NAME + 4)
        self.have = 0           # bytes of the current header (and name) collected
        self.need = _HEADER     # how many the header step wants
        self.namesize = 0
        self.size = 0           # data size of the current member
        self.left = 0           # its data bytes still to come
        self.pad = 0            # padding bytes still to skip
        self.sink = None
        self.members = []       # names, in archive order
        self.done = False
        self.pos = 0            # bytes of the archive consumed: in accept(), where the member's data starts

    def feed(self, mv):
        i, n = 0, len(mv)
        while i < n:
            if self.done:
                return          # cpio pads the archive after its trailer (512-byte blocks)
            if self.pad:
                k = min(self.pad, n - i)
                self.pad -= k
                i += k
                self.pos += k
            elif self.left:
                k = min(self.left, n - i)
                if self.sink is not None:
                    self.sink(mv[i:i + k])
                self.left -= k
                i += k
                self.pos += k
                if not self.left:
                    self.pad = -self.size & 3
            else:
                k = min(self.need - self.have, n - i)
                self.head[self.have:self.have + k] = mv[i:i + k]
                self.have += k
                i += k
                self.pos += k
                if self.have == self.need:
                    self._header()

    def _header(self):
        h = self.head
        if self.need == _HEADER:
            if h[0:6] != b"070701" and h[0:6] != b"070702":
                raise SwuError("not a cpio newc archive (SWUpdate .swu)")
            self.namesize = _hex(h, _NAMESIZE)
            self.size = _hex(h, _FILESIZE)
            if not 1 < self.namesize <= MAX_NAME + 1:
                raise SwuError("member name of %d bytes" % self.namesize)
            self.need = _HEADER + self.namesize + (-(_HEADER + self.namesize) & 3)
            return
        name = bytes(h[_HEADER:_HEADER + self.namesize - 1]).decode()
        self.have, self.need = 0, _HEADER
        if name == TRAILER:
            self.done = True
            return
        if not self.members and name != FIRST:
            raise SwuError("%s is not the first member (SWUpdate wants it first)" % FIRST)
        if name in self.members:
            raise SwuError("%s is in the archive twice" % name)
        self.members.append(name)
        self.sink = self.accept(name, self.size)
        self.left = self.size
        if not self.size:
            self.pad = 0


def unpack(path, reader, piece=512):
    """Feed the archive at `path` (on flash) through `reader` in small pieces."""
    buf = bytearray(piece)
    mv = memoryview(buf)
    with open(path, "rb") as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            reader.feed(mv[:n])
    if not reader.done:
        raise SwuError("%s ends before the cpio trailer (truncated)" % path)
