# A firmware release that travels as one SWUpdate image (.swu), for DDI servers that carry
# nothing else (goosebit: one artifact per chunk, part "os", SHA-1 only).  The release tooling
# (cloud.tms.release.release_swu) puts sw-description first, then the TUF metadata (versioned
# roots of a rotation, timestamp.json, snapshot.json, targets.json), then the ROMFS image as
# the last member under its signed target name.  The archive is a cpio "newc" stream that
# stores each member's data unaltered, so the image is a byte range of the .swu: the installer
# (pos.tms.osupdate) reads the head here, then ranges over the image exactly as over the
# smartpos cloud's separate image artifact.  Nothing in the container is trusted: the metadata
# it holds is checked as any other (pos.tms.update.Installer.verify_metadata), and the image
# against the signed target's length and SHA-256.
#
#     art = carrier(chunk)                        # the .swu, or None for separate artifacts
#     if await names_release(client, art): ...    # the "os" handler: firmware, else a parameter bundle
#     head = await read_head(client, art)         # UpdateError when it is no release
#     head.files -> {"timestamp.json": bytes, ...}; head.image -> (name, offset, size)
#
# Loaded by the "os" handler in the running counter too (names_release): the installer's
# modules are imported only where an install needs them.
from pos.tms import swu

HEAD_WINDOW = 4096                # bytes per ranged request while the head is read
MAX_META = 16384                  # one metadata member (as for a separate artifact)
MAX_HEAD = 65536                  # where the image member must have begun


def carrier(chunk):
    """The .swu artifact of a chunk that carries a whole release, or None when the chunk has
    the metadata and the image as artifacts of their own (the smartpos cloud)."""
    if chunk.artifact("timestamp.json") is not None:
        return None
    for a in chunk.artifacts:
        if a.filename.endswith(".swu"):
            return a
    return None


DESCRIBED_AS = b'description = "smartpos firmware '     # what release_swu writes in sw-description
PEEK = 1024


async def names_release(client, art):
    """True when the .swu's sw-description says it is a firmware release, False for anything
    else (a signed parameter bundle).  One small ranged read; only a routing decision: each
    path then trusts nothing but the signed metadata, whose target names its kind."""
    if not art.size:
        return False
    desc = bytearray()
    reader = swu.Reader(lambda name, size: desc.extend if name == swu.FIRST and size <= PEEK else None)
    try:
        await client.download(art, reader.feed, 0, min(art.size, PEEK) - 1)
    except swu.SwuError:
        return False
    return DESCRIBED_AS in desc


def _metadata_name(name):
    if name in ("timestamp.json", "snapshot.json", "targets.json"):
        return True
    return name.endswith(".root.json") and name[:-10].isdigit()


class Head:
    """The metadata members collected as they stream in, and where the image member lies."""

    def __init__(self):
        self.files = {}
        self.image = None                 # (member name, offset of its data in the .swu, size)
        self.reader = swu.Reader(self._accept)

    def _accept(self, name, size):
        if self.image is not None or name == swu.FIRST:
            return None
        from pos.tms.update import UpdateError
        if _metadata_name(name):
            if size > MAX_META:
                raise UpdateError("%s of %d bytes in the .swu is over %d" % (name, size, MAX_META))
            from pos.tms.tuf import Pieces      # in small blocks: the heap has holes, not room
            buf = self.files[name] = Pieces(size)
            return buf.take
        self.image = (name, self.reader.pos, size)
        return None


async def read_head(client, art):
    """Read the .swu from its start in ranged windows until the image member's header: the
    metadata and the image's place.  Raises UpdateError for an archive that holds no release."""
    from pos.tms.update import UpdateError
    head = Head()
    at = 0

    def sink(mv):
        if head.image is None:
            head.reader.feed(mv)
    try:
        while head.image is None:
            if at >= art.size or at >= MAX_HEAD:
                raise UpdateError("%s holds no firmware image after its metadata (members: %s)"
                                  % (art.filename, ", ".join(head.reader.members) or "none"))
            at = await client.download(art, sink, at, min(art.size, at + HEAD_WINDOW) - 1)
    except swu.SwuError as e:
        raise UpdateError("%s: %s" % (art.filename, e))
    name, off, size = head.image
    if off + size > art.size:
        raise UpdateError("%s: image member %s of %d bytes at %d runs past the archive's %d bytes"
                          % (art.filename, name, size, off, art.size))
    return head
