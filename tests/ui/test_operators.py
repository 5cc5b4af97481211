"""Operator PINs on real MicroPython: salted PBKDF2-HMAC-SHA256 records, migration of the
unsalted SHA-256 entries of older firmware, and a lockout after repeated wrong PINs that a
reboot (a new MicroPython process on the same flash) does not clear."""
import hashlib
import json
import os
import shutil
import time

from host_sim import mpy

HERE = os.path.dirname(os.path.abspath(__file__))
LEGACY = os.path.join(HERE, "operators_legacy.json")        # the unsalted file of older firmware
SHIPPED = os.path.join(mpy.FIRMWARE_DIR, "config", "operators.json")

TRY = """
from pos.app import operators
def attempt(pin, action):
    try:
        op = operators.check(pin, action)
        return op if op in (None, False) else op.name
    except operators.OperatorError as e:
        return "OperatorError " + str(e)
"""


def _flash(tmp_path, src):
    (tmp_path / "config").mkdir()
    shutil.copy(src, tmp_path / "config" / "operators.json")
    return tmp_path


def _run(flash, body):
    out = mpy.run(TRY + body, cwd=str(flash))
    return [ln for ln in out.splitlines() if not ln.startswith("[")]


def test_unsalted_entries_are_migrated_and_the_pins_still_work(tmp_path):
    flash = _flash(tmp_path, LEGACY)
    legacy = [o["pin"] for o in json.load(open(LEGACY))["operators"]]
    out = _run(flash, "print(attempt('2222', 'refund')); print(attempt('1111', 'refund'));"
                      "print(attempt('3333', 'settings')); print(attempt('1111', 'sale'))")
    assert out == ["SUPERVISOR", "False", "ADMIN", "CASHIER 1"]
    text = (flash / "config" / "operators.json").read_text()
    for digest in legacy:
        assert digest not in text                      # no unsalted digest left on flash
    ops = json.loads(text)["operators"]
    for o, digest in zip(ops, legacy):
        scheme, n, salt, dk = o["pin"].split("$")
        assert scheme == "pbkdf2-sha256" and int(n) >= 1000 and len(bytes.fromhex(salt)) == 16
        # the record is PBKDF2-HMAC-SHA256 (RFC 8018) of the old digest: CPython agrees
        assert hashlib.pbkdf2_hmac("sha256", digest.encode(), bytes.fromhex(salt), int(n), 32).hex() == dk
    # a second boot finds nothing to migrate and the same PINs work
    assert _run(flash, "print(attempt('2222', 'void'))") == ["SUPERVISOR"]
    assert (flash / "config" / "operators.json").read_text() == text


def test_records_are_salted_per_operator():
    out = mpy.run("from pos.app import operators\n"
                  "a = operators.pin_record('1', '1111'); b = operators.pin_record('1', '1111')\n"
                  "c = operators.pin_record('1', '1111', salt=bytes(16))\n"
                  "print(a != b, a.split('$')[3] != b.split('$')[3]); print(c)")
    lines = out.splitlines()
    assert lines[0] == "True True"
    digest = hashlib.sha256(b"1:1111").hexdigest()
    want = hashlib.pbkdf2_hmac("sha256", digest.encode(), bytes(16), 1000, 32).hex()
    assert lines[1] == "pbkdf2-sha256$1000$%s$%s" % ("00" * 16, want)


def test_shipped_operators_are_salted_records(tmp_path):
    flash = _flash(tmp_path, SHIPPED)
    before = (flash / "config" / "operators.json").read_text()
    assert _run(flash, "print(attempt('2222', 'refund')); print(attempt('1111', 'sale'))") == \
        ["SUPERVISOR", "CASHIER 1"]
    assert (flash / "config" / "operators.json").read_text() == before


def test_lockout_after_five_wrong_pins_survives_a_reboot(tmp_path):
    flash = _flash(tmp_path, SHIPPED)
    out = _run(flash, "for p in ('0000', '1234', '9999', '4321'): print(attempt(p, 'refund'))")
    assert out == ["None"] * 4
    out = _run(flash, "print(attempt('5555', 'refund')); print(attempt('2222', 'refund'))")   # after a reboot
    assert out[0].startswith("OperatorError PIN locked: wait ")
    assert out[1].startswith("OperatorError PIN locked: wait ")        # even the right PIN
    # reboot: still locked
    assert _run(flash, "print(attempt('2222', 'refund'))")[0].startswith("OperatorError PIN locked")
    lock = json.loads((flash / "config" / "operators.lock").read_text())
    assert lock["fails"] == 5 and 0 < lock["until"] - time.time() <= 300
    # the period is over (the lock's end moved into the past, as time passing would)
    (flash / "config" / "operators.lock").write_text(json.dumps({"fails": 5, "until": int(time.time()) - 1}))
    out = _run(flash, "print(attempt('0000', 'refund'))")       # one more wrong PIN: locked again at once
    assert out[0].startswith("OperatorError PIN locked")
    (flash / "config" / "operators.lock").write_text(json.dumps({"fails": 5, "until": int(time.time()) - 1}))
    assert _run(flash, "print(attempt('2222', 'refund')); print(attempt('0000', 'refund'))") == \
        ["SUPERVISOR", "None"]                                   # a right PIN clears the count
    assert json.loads((flash / "config" / "operators.lock").read_text())["fails"] == 1


def test_a_clock_set_back_does_not_stretch_the_lock(tmp_path):
    flash = _flash(tmp_path, SHIPPED)
    (flash / "config" / "operators.lock").write_text(json.dumps({"fails": 5, "until": int(time.time()) + 10 ** 8}))
    out = _run(flash, "print(operators.locked_for())")
    assert out == ["300"]
