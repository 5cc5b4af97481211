"""SWUpdate images (.swu): the container a signed parameter bundle travels in, to the smartpos
cloud's terminals and through any DDI server made for SWUpdate devices (goosebit accepts only
.swu and RAUC bundles).  A .swu is a cpio archive in the "new ASCII" format with checksums
(magic 070702, cpio(5)); SWUpdate wants ``sw-description`` (libconfig) first, then the files.
The terminal reads it as it streams in (firmware ``pos.tms.swu``) and trusts only the TUF
metadata inside.

    raw = pack(sw_description("3", "parameters for SIM-0001"), [("targets.json", b"..."), ...])
"""
import json

MAGIC = b"070702"
TRAILER = "TRAILER!!!"
FILE_MODE = 0o100644


class SwuError(ValueError):
    """An archive that cannot be made; the message says why."""


def member(name, data):
    """One cpio newc (070702) member: header, name, data, each padded to 4 bytes."""
    name_b = name.encode() + b"\x00"
    check = sum(data) & 0xFFFFFFFF
    fields = (0, FILE_MODE if name != TRAILER else 0, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), check)
    head = MAGIC + b"".join(b"%08X" % f for f in fields) + name_b
    return head + b"\x00" * (-len(head) % 4) + data + b"\x00" * (-len(data) % 4)


def pack(description, files):
    """The archive: sw-description, then `files` ([(name, bytes)]) in that order, the trailer."""
    out = [member("sw-description", description)]
    for name, data in files:
        if name in ("sw-description", TRAILER) or not 0 < len(name.encode()) <= 64 or "/" in name:
            raise SwuError("member name %r is not allowed" % name)
        out.append(member(name, data))
    out.append(member(TRAILER, b""))
    return b"".join(out)


def _libconfig_string(text):
    return json.dumps(text)              # a libconfig string: double quotes, backslash escapes


def sw_description(version, description, board=None, revisions=()):
    """A libconfig sw-description (SWUpdate's "software" block) naming the version and, when
    `board` is given, the hardware revisions it is made for (hardware-compatibility)."""
    lines = ["software =", "{", "  version = %s;" % _libconfig_string(str(version)),
             "  description = %s;" % _libconfig_string(description)]
    if board:
        lines += ["  %s = {" % board,
                  "    hardware-compatibility = [%s];" % ", ".join(_libconfig_string(r) for r in revisions),
                  "  };"]
    lines.append("};")
    return ("\n".join(lines) + "\n").encode()
