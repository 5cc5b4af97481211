"""The virtual board's bootloader (host_sim/board/bootloader.py): trial boots once, revert
unless confirmed, a slot not matching its record never boots, and a power cut at every
boot-control write (erase, half-programmed copy) leaves a record that boots a verified slot."""
import hashlib

import pytest

from host_sim.board.bootloader import (STATE_ARMED, BootError, BootRecord, Bootloader, SlotStore)


def _image(tag, n=40000):
    return (b"\xd2\xcd\x31" + tag * (n // len(tag)))[:n]


OLD, NEW = _image(b"old-"), _image(b"new-", 52000)


def _board(tmp_path):
    store = SlotStore(tmp_path / "rom")
    bl = Bootloader(store)
    bl.factory_program(OLD, "1.0.0")
    return store, bl


def _arm(store, image, version):
    """What the firmware's Installer.finish does: the image in slot 1, the record ARMED."""
    rec, _ = store.record()
    store.program_slot(1, image)
    rec.slots[1] = (len(image), hashlib.sha256(image).digest(), version)
    rec.trial, rec.state = 1, STATE_ARMED
    store.write_record(rec)


def test_factory_boot(tmp_path):
    store, bl = _board(tmp_path)
    c = bl.boot()
    assert (c.slot, c.version, c.trial, c.length) == (0, "1.0.0", False, len(OLD))
    assert bl.boot().slot == 0                        # and again: nothing changes


def test_trial_boots_once_then_reverts_with_the_failure_recorded(tmp_path):
    store, bl = _board(tmp_path)
    _arm(store, NEW, "1.0.1")
    c = bl.boot()
    assert (c.slot, c.version, c.trial) == (1, "1.0.1", True)
    c = bl.boot()                                     # not confirmed: back to the old slot
    assert (c.slot, c.version, c.trial) == (0, "1.0.0", False)
    rec, _ = store.record()
    assert rec.as_dict()["result"] == "reverted"
    assert (rec.result_version, rec.result_reason) == ("1.0.1", "trial boot not confirmed")
    assert bl.boot().slot == 0


def test_confirmed_trial_stays(tmp_path):
    store, bl = _board(tmp_path)
    _arm(store, NEW, "1.0.1")
    assert bl.boot().slot == 1
    rec, _ = store.record()
    rec.confirmed, rec.trial, rec.state = 1, 0xFF, 0          # Installer.confirm()
    store.write_record(rec)
    assert [bl.boot().version for _ in range(3)] == ["1.0.1"] * 3


def test_a_trial_not_matching_its_record_is_never_booted(tmp_path):
    store, bl = _board(tmp_path)
    _arm(store, NEW, "1.0.1")
    with open(store.slot_path(1), "r+b") as f:        # one byte flipped after arming
        f.seek(1000)
        b = f.read(1)
        f.seek(1000)
        f.write(bytes([b[0] ^ 1]))
    c = bl.boot()
    assert (c.slot, c.version) == (0, "1.0.0")
    rec, _ = store.record()
    assert rec.as_dict()["result"] == "refused" and rec.result_version == "1.0.1"


def test_damaged_confirmed_slot_falls_back_or_stops(tmp_path):
    store, bl = _board(tmp_path)
    _arm(store, NEW, "1.0.1")
    assert bl.boot().slot == 1
    rec, _ = store.record()
    rec.confirmed, rec.trial, rec.state = 1, 0xFF, 0
    store.write_record(rec)
    with open(store.slot_path(1), "r+b") as f:
        f.write(b"\0\0\0\0")
    assert bl.boot().version == "1.0.0"               # the other slot still matches its record
    with open(store.slot_path(0), "r+b") as f:
        f.write(b"\0\0\0\0")
    with pytest.raises(BootError, match="no slot"):
        bl.boot()


class Cut(Exception):
    pass


@pytest.mark.parametrize("scenario", ["arm-then-boot", "revert", "confirm"])
def test_power_cut_at_every_boot_control_write(tmp_path, scenario):
    """Each record write has three cut points (after the erase, half programmed, programmed);
    after any of them the next boot picks a slot whose bytes match the record, and never a
    trial that was not armed completely."""
    n_points = 0
    for point in range(1, 20):
        store, bl = _board(tmp_path / ("%s-%d" % (scenario, point)))
        if scenario in ("revert", "confirm"):
            _arm(store, NEW, "1.0.1")
            assert bl.boot().slot == 1                # the trial is running
        seen = [0]

        def on_write(what):
            seen[0] += 1
            if seen[0] == point:
                raise Cut(what)
        store.on_write = on_write
        try:
            if scenario == "arm-then-boot":
                _arm(store, NEW, "1.0.1")
                bl.boot()
            elif scenario == "revert":
                bl.boot()                             # the reset after an unconfirmed trial
            else:
                rec, _ = store.record()
                rec.confirmed, rec.trial, rec.state = 1, 0xFF, 0
                store.write_record(rec)
        except Cut:
            n_points += 1
        else:
            break                                     # every write of the scenario was cut once
        store.on_write = None
        rec, _ = store.record()
        assert rec is not None, "a cut destroyed both copies"
        c = bl.boot()
        assert store.slot_matches(store.record()[0], c.slot)
        if scenario == "revert":
            assert c.version == "1.0.0"               # the trial never boots a second time
        if scenario == "confirm":
            # before the confirm record landed: the trial is reverted; after: it stays
            assert c.version in ("1.0.0", "1.0.1")
            assert bl.boot().version == c.version
    assert n_points >= 3


def test_record_codec_round_trip_and_torn_copy():
    rec = BootRecord(seq=7, confirmed=1, trial=0, state=2, result=2,
                     slots=[(10, b"\1" * 32, "1.0.1"), (20, b"\2" * 32, "1.0.2")],
                     result_version="1.0.2", result_reason="self-test printer: no answer")
    raw = rec.encode()
    assert BootRecord.decode(raw).as_dict() == rec.as_dict()
    assert BootRecord.decode(raw[:len(raw) // 2] + b"\xff" * (len(raw) - len(raw) // 2)) is None
    bad = bytearray(raw)
    bad[20] ^= 0x40
    assert BootRecord.decode(bytes(bad)) is None
