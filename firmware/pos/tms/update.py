# Firmware updates into the inactive ROMFS slot, verified by TUF metadata, booted on trial.
#
#     inst = Installer.from_board(activity=engine)       # engine: pos.payments PaymentEngine
#     target = inst.verify_metadata(files)                # raises UpdateError(reason)
#     off = inst.resume_offset(target)                    # 0, or where a cut download resumes
#     inst.write(off, chunk); ...                         # sequential, into the inactive slot
#     inst.finish(target)                                 # SHA-256 over the slot, arms the trial
#     machine.reset()                                     # the bootloader boots the trial once
#     ... after the reset: inst.pending_trial() -> "1.0.1"; selftest, then inst.confirm()
#
# The slot is written through vfs.rom_ioctl (MicroPython's ROMFS partition API); progress is
# kept on flash (tms/progress.json) after every write, so a power cut resumes at the last
# erase block written; nothing is armed until the whole image matches the target.  The trust
# state lives in tms/trust.json (versions seen) and tms/root.json (a rotated root); the shipped TEST root is
# config/tuf_root.json.  Policy (config/update.json): maintenance window, open-batch limit.
import gc
import json
import os
import time
import binascii
import hashlib

import vfs

from pos.tms import bootctl
from pos.tms.policy import PaymentsActivity, in_window

STATE_DIR = "tms"
TRUST = "tms/trust.json"            # versions seen per role (never go back)
ROTATED_ROOT = "tms/root.json"      # the trusted root once a new one was accepted
PROGRESS = "tms/progress.json"
ROOT = "config/tuf_root.json"
POLICY = "config/update.json"
_ROM_PREPARE, _ROM_WRITE, _ROM_COMPLETE, _ROM_PARTITION, _ROM_BLOCK = 3, 4, 5, 2, 6
_HASH_CHUNK = 512


# An update needs a few contiguous blocks (the signature checks' big-number temporaries are
# 514 bytes each) that a running application's heap no longer has: main.py reserves this much
# at boot while the heap is in one piece; an update session frees it (Installer.from_board)
# and gives it back (Installer.close).
RESERVE = 8 * 1024
_reserve = None


def reserve_heap():
    """At boot, before the application fragments the heap."""
    global _reserve
    if _reserve is None:
        try:
            _reserve = bytearray(RESERVE)
        except MemoryError:
            pass


def _release_heap():
    global _reserve
    _reserve = None
    gc.collect()


class UpdateError(Exception):
    """An update refused or failed; str() is the reason for the DDI feedback."""


class UpdateDeferred(UpdateError):
    """The update may not be applied now (busy, outside the maintenance window); try later."""


def _version_tuple(v):
    out = []
    for p in v.split("."):
        try:
            out.append(int(p))
        except ValueError:
            out.append(0)
    return tuple(out)


def _save(path, obj, stream=False):
    """Write-then-rename; one write for small state, streamed for a large one (a root)."""
    tmp = path + ".new"
    with open(tmp, "w") as f:
        if stream:
            json.dump(obj, f)        # no copy of the whole text in the heap
        else:
            f.write(json.dumps(obj))
    os.rename(tmp, path)


def _load(path):
    try:
        with open(path) as f:
            return json.load(f)      # parsed from the stream, never read whole
    except (OSError, ValueError):
        return None


class Installer:
    def __init__(self, boot, rom_ioctl, root, policy, activity=None, clock=time.time):
        self.boot = boot                  # bootctl.BootControl
        self.rom_ioctl = rom_ioctl
        self.policy = policy
        self.activity = activity
        self.clock = clock
        self.root = root
        self.versions = _load(TRUST) or {}
        self._progress = _load(PROGRESS)

    @classmethod
    def from_board(cls, activity=None, clock=time.time):
        """The installer of this board (one update session: it uses the heap reserved at boot)."""
        _release_heap()
        from pos.board import BOARD
        try:
            os.mkdir(STATE_DIR)
        except OSError:
            pass
        root = _load(ROTATED_ROOT) or _load(ROOT)
        if root is None:
            raise UpdateError("no trusted root metadata (%s)" % ROOT)
        policy = _load(POLICY) or {}
        return cls(bootctl.BootControl(BOARD.boot_control()), vfs.rom_ioctl,
                   root.get("signed", root), policy,
                   PaymentsActivity(activity) if activity is not None else None, clock)

    def close(self):
        """End of the update session: take the heap reserve back for the next one."""
        gc.collect()
        reserve_heap()

    # ------------------------------------------------------------ state
    def _record(self):
        rec = self.boot.read()
        if rec is None:
            raise UpdateError("no boot-control record: the board was never programmed")
        return rec

    def record_sequence(self):
        """The boot-control record's sequence number: it grows with every record written, so a
        caller that notes it can tell later whether anything was written since (the trial armed)."""
        return self._record().seq

    def installed_version(self):
        rec = self._record()
        return rec.slots[rec.booted()][2]

    def booted_slot(self):
        return self._record().booted()

    def inactive_slot(self):
        return 1 - self._record().booted()

    def busy(self):
        """None, or why an update must wait (transaction in progress, batch open past the limit)."""
        if self.activity is None:
            return None
        return self.activity.busy(self.policy.get("batch_limit", 0))

    def in_window(self):
        """True inside the maintenance window (config/update.json "window": [from, to] minutes
        after midnight, terminal clock); no window configured means always."""
        return in_window(self.policy, self.clock())

    # ------------------------------------------------------------ metadata
    def verify_metadata(self, files):
        """Check the TUF metadata (signatures, thresholds, expiry, versions, hashes) and return
        the firmware Target; the new trust state is stored.  Raises UpdateError."""
        gc.collect()
        from pos.tms.tuf import MetadataError, Trust    # here: settling a trial needs none of it
        trust = Trust(self.root, dict(self.versions), self.clock())
        from pos.board import BOARD
        try:
            target = trust.update(files, BOARD.NAME)
        except MetadataError as e:
            raise UpdateError(str(e))
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise UpdateError("metadata malformed: %r" % (e,))
        rec = self._record()
        have = rec.slots[rec.booted()][2]
        if _version_tuple(target.version) <= _version_tuple(have):
            raise UpdateError("version %s is not newer than the installed %s (rollback refused)"
                              % (target.version, have))
        if target.length > len(self.rom_ioctl(_ROM_PARTITION, 1 - rec.booted())):
            raise UpdateError("image of %d bytes does not fit the slot" % target.length)
        if trust.root is not self.root:
            _save(ROTATED_ROOT, trust.root, stream=True)
            self.root = trust.root
        self.versions = trust.versions
        _save(TRUST, self.versions)
        gc.collect()
        return target

    # ------------------------------------------------------------ image
    def _check(self, r, what):
        if isinstance(r, int) and r < 0:
            raise UpdateError("slot %s failed (errno %d)" % (what, -r))
        return r

    def resume_offset(self, target):
        """Where the download (re)starts: 0 for a new target, else the last erase block
        boundary written before a cut.  Erases the slot from there on."""
        slot = self.inactive_slot()
        p = self._progress
        sha = binascii.hexlify(target.sha256).decode()
        off = 0
        if p and p.get("sha256") == sha and p.get("slot") == slot:
            blk = self._check(self.rom_ioctl(_ROM_BLOCK, slot), "block size")
            off = p["offset"] // blk * blk
        self._check(self.rom_ioctl(_ROM_PREPARE, slot, off, max(target.length - off, 1)), "erase")
        self._progress = {"sha256": sha, "length": target.length, "slot": slot, "offset": off}
        _save(PROGRESS, self._progress)
        return off

    def write(self, off, chunk):
        """Write the next chunk of the image at `off` (== the offset written so far)."""
        p = self._progress
        if p is None:
            raise UpdateError("write before resume_offset()")
        if off != p["offset"]:
            raise UpdateError("chunk at %d, expected %d" % (off, p["offset"]))
        if off + len(chunk) > p["length"]:
            raise UpdateError("download longer than the target's %d bytes" % p["length"])
        self._check(self.rom_ioctl(_ROM_WRITE, p["slot"], off, chunk), "write")
        p["offset"] = off + len(chunk)
        _save(PROGRESS, p)

    def _slot_sha256(self, slot, length):
        part = self.rom_ioctl(_ROM_PARTITION, slot)
        h = hashlib.sha256()
        at = 0
        while at < length:
            n = min(_HASH_CHUNK, length - at)
            h.update(part[at:at + n])
            at += n
        return h.digest()

    def finish(self, target, force=False):
        """Verify the whole slot against the target and arm the trial boot (reset next).
        Raises UpdateDeferred while busy or outside the maintenance window (unless force),
        UpdateError if the image is incomplete or does not match (the progress is dropped,
        so the download starts again)."""
        p = self._progress
        if p is None or p["offset"] != target.length:
            raise UpdateError("download incomplete: %d of %d bytes"
                              % (p["offset"] if p else 0, target.length))
        if not force:
            why = self.busy()
            if why:
                raise UpdateDeferred(why)
            if not self.policy.get("force") and not self.in_window():
                raise UpdateDeferred("outside the maintenance window")
        slot = p["slot"]
        self._check(self.rom_ioctl(_ROM_COMPLETE, slot), "complete")
        gc.collect()
        if self._slot_sha256(slot, target.length) != target.sha256:
            self._progress = None
            try:
                os.remove(PROGRESS)
            except OSError:
                pass
            raise UpdateError("image hash mismatch: the download is discarded")
        # the progress goes first: a power cut once the record is armed leaves nothing of the
        # download behind (one between the two costs a fresh download, never a stale record)
        self._progress = None
        os.remove(PROGRESS)
        rec = self._record()
        rec.slots[slot] = (target.length, target.sha256, target.version)
        rec.trial = slot
        rec.state = bootctl.ARMED
        rec.result = bootctl.RESULT_NONE
        rec.result_version = target.version
        rec.result_reason = ""
        self.boot.write(rec)

    # ------------------------------------------------------------ trial boot
    def pending_trial(self):
        """The version booted on trial and not confirmed yet, or None."""
        rec = self._record()
        if rec.state == bootctl.TRYING and rec.trial != bootctl.NO_SLOT:
            return rec.slots[rec.trial][2]
        return None

    def confirm(self):
        """The trial passed its self-test: it becomes the confirmed slot."""
        rec = self._record()
        if rec.state != bootctl.TRYING:
            raise UpdateError("no trial boot to confirm")
        rec.confirmed = rec.trial
        rec.trial = bootctl.NO_SLOT
        rec.state = bootctl.NONE
        rec.result = bootctl.CONFIRMED
        rec.result_version = rec.slots[rec.confirmed][2]
        rec.result_reason = ""
        self.boot.write(rec)

    def revert(self, reason):
        """The trial failed (self-test): record why; the next reset boots the confirmed slot."""
        rec = self._record()
        if rec.state != bootctl.TRYING:
            raise UpdateError("no trial boot to revert")
        rec.result = bootctl.REVERTED
        rec.result_version = rec.slots[rec.trial][2]
        rec.result_reason = reason[:48]
        rec.trial = bootctl.NO_SLOT
        rec.state = bootctl.NONE
        self.boot.write(rec)

    def last_result(self):
        """{"result": "confirmed"|"reverted"|"refused"|"none", "version", "reason"} of the
        last update, for the DDI feedback."""
        rec = self._record()
        return {"result": bootctl.RESULT_NAMES[rec.result] if rec.result < 4 else str(rec.result),
                "version": rec.result_version, "reason": rec.result_reason,
                "installed": rec.slots[rec.booted()][2]}


__all__ = ("Installer", "UpdateError", "UpdateDeferred", "PaymentsActivity")
