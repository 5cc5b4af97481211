"""The key store at rest on real MicroPython: the key-loading file is sealed (AES + HMAC-SHA256
under the device key: KEK from OTP + the board's unique id) and removed; an altered, truncated
or foreign store, or a board without a KEK, gives KeyStoreError and loses nothing."""
import json

from hostlink import mp
from hostlink.keys import write_kld, TEST_TMK, TEST_DEK
from host_sim.board.virtual_board import TEST_KEK
from host_sim.hosts.acquirer.terminal import TEST_UID
from host_sim.hosts.wallet import terminal_key

TEST_KEY = terminal_key("TERM0001")

OTHER_UID = bytes.fromhex("FEDCBA9876543210FEDCBA98")

OPEN = """
from pos.store.keystore import KeyStore, KeyStoreError
from pos.store.devicekey import DeviceKey
def dev(uid, kek):
    return DeviceKey(bytes.fromhex(uid), bytes.fromhex(kek))
def attempt(uid, kek):
    try:
        d = dev(uid, kek)
    except ValueError as e:
        d = e
    try:
        if isinstance(d, ValueError):
            raise KeyStoreError(str(d))
        ks = KeyStore("keys.kld", ".", d)
        print("OPEN", ",".join(ks.acquirers()), "TEST=" + ",".join(ks.test_keys()),
              ks.tmk("alpha") == bytes.fromhex(%r))
    except KeyStoreError as e:
        print("KeyStoreError", e)
""" % TEST_TMK["alpha"].hex()


def _attempt(tmp_path, uid=TEST_UID, kek=TEST_KEK):
    """The outcome line (the log lines around it are the console's)."""
    out = mp.run(OPEN + "attempt(%r, %r)\n" % (uid.hex(), kek.hex()), cwd=str(tmp_path))
    return [ln for ln in out.splitlines() if ln.startswith(("OPEN", "KeyStoreError"))][-1]


def _no_clear_key(blob):
    for k in (TEST_TMK["alpha"], TEST_TMK["beta"], TEST_DEK, TEST_KEY):
        assert k.hex().encode() not in blob.lower() and k.hex().upper().encode() not in blob and k not in blob


def test_key_loading_file_is_sealed_into_the_store_and_removed(tmp_path):
    write_kld(tmp_path / "keys.kld")
    out = _attempt(tmp_path)
    assert out == "OPEN alpha,beta TEST=DEK,TMK alpha,TMK beta,wallet True"
    assert not (tmp_path / "keys.kld").exists()
    blob = (tmp_path / "keystore.bin").read_bytes()
    assert blob[:5] == b"SPKS\x01"
    _no_clear_key(blob)
    # the next boot opens the sealed store alone
    assert _attempt(tmp_path) == out


def test_a_clear_key_store_from_an_older_firmware_is_migrated(tmp_path):
    """A terminal that kept keys.kld in clear (no "test" marks: live keys) keeps working
    after the update, and the clear file is gone."""
    write_kld(tmp_path / "keys.kld")
    d = json.loads((tmp_path / "keys.kld").read_text())
    for a in d["acquirers"].values():
        a.pop("test")
    d.pop("dek_test")
    d["secrets"]["wallet"].pop("test")
    (tmp_path / "keys.kld").write_text(json.dumps(d))
    assert _attempt(tmp_path) == "OPEN alpha,beta TEST= True"
    assert not (tmp_path / "keys.kld").exists() and (tmp_path / "keystore.bin").exists()


def test_altered_store_is_refused_at_every_byte_class(tmp_path):
    write_kld(tmp_path / "keys.kld")
    _attempt(tmp_path)
    blob = (tmp_path / "keystore.bin").read_bytes()
    cases = {"iv": 6, "ciphertext": 40, "tag": len(blob) - 3}
    for what, at in cases.items():
        bad = bytearray(blob)
        bad[at] ^= 0x01
        (tmp_path / "keystore.bin").write_bytes(bytes(bad))
        out = _attempt(tmp_path)
        assert out == ("KeyStoreError keystore.bin: sealed key store does not authenticate: altered, or "
                       "sealed on another board: re-inject the keys"), what
    (tmp_path / "keystore.bin").write_bytes(blob[:40])
    assert _attempt(tmp_path) == "KeyStoreError keystore.bin: sealed key store is truncated: re-inject the keys"
    (tmp_path / "keystore.bin").write_bytes(b'{"acquirers": {}}')
    assert _attempt(tmp_path) == ("KeyStoreError keystore.bin: not a sealed key store (unknown format): "
                                  "re-inject the keys")
    (tmp_path / "keystore.bin").write_bytes(blob)
    assert _attempt(tmp_path).startswith("OPEN alpha,beta")


def test_store_copied_to_another_board_does_not_open(tmp_path):
    write_kld(tmp_path / "keys.kld")
    _attempt(tmp_path)
    out = _attempt(tmp_path, uid=OTHER_UID)
    assert out.startswith("KeyStoreError keystore.bin: sealed key store does not authenticate")
    other_kek = bytes(31) + b"\x01"
    assert _attempt(tmp_path, kek=other_kek).startswith("KeyStoreError keystore.bin: sealed key store does not")


def test_board_without_a_kek_keeps_the_clear_file_and_says_why(tmp_path):
    write_kld(tmp_path / "keys.kld")
    before = (tmp_path / "keys.kld").read_bytes()
    out = _attempt(tmp_path, kek=b"\xff" * 32)
    assert out == "KeyStoreError no key-encryption key in OTP: the board missed that manufacturing step"
    assert (tmp_path / "keys.kld").read_bytes() == before and not (tmp_path / "keystore.bin").exists()


def test_a_tampered_key_loading_file_is_refused_and_not_sealed(tmp_path):
    write_kld(tmp_path / "keys.kld")
    d = json.loads((tmp_path / "keys.kld").read_text())
    d["acquirers"]["alpha"]["tmk"] = "00" * 16
    (tmp_path / "keys.kld").write_text(json.dumps(d))
    out = _attempt(tmp_path)
    assert out == "KeyStoreError TMK of alpha: check value does not match"
    assert (tmp_path / "keys.kld").exists() and not (tmp_path / "keystore.bin").exists()


def test_power_cut_during_sealing_loses_no_key(tmp_path):
    """Sealing writes keystore.bin.tmp, renames it, then removes keys.kld: a cut after the
    write (a stale .tmp) or after the rename (both files) still boots with the keys."""
    write_kld(tmp_path / "keys.kld")
    kld = (tmp_path / "keys.kld").read_bytes()
    (tmp_path / "keystore.bin.tmp").write_bytes(b"SPKS\x01" + bytes(20))     # torn temp file
    assert _attempt(tmp_path).startswith("OPEN alpha,beta")
    (tmp_path / "keys.kld").write_bytes(kld)                                   # cut before the remove
    assert _attempt(tmp_path).startswith("OPEN alpha,beta")
    assert not (tmp_path / "keys.kld").exists()
    assert _attempt(tmp_path).startswith("OPEN alpha,beta")
