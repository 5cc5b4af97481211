"""HSM functions through the host: PIN verification (ISO 9564 format 0 under the TPK
from the key exchange), ARQC verification and ARPC generation, PIN translate."""
from pyemv import ac as pac
from pyemv import kd as pkd

from host_sim.hosts.acquirer import hsm
from hostlink.terminal import Terminal

PAN = "4761739001010119"

PIN_SALE = """
from pos import crypto
def pin_block(pin, pan):
    p = bytes.fromhex(("0%%d%%s" %% (len(pin), pin)) + "F" * (14 - len(pin)))
    q = bytes.fromhex("0000" + pan[-13:-1])
    return crypto.des_encrypt(ks.working_key("alpha", "tpk"), bytes(a ^ b for a, b in zip(p, q)))
res = []
for pin in %r:
    req, r = sale(100, pin_block=pin_block(pin, "4761739001010119"))
    res.append(r.response_code)
out(res)
"""


def test_online_pin_verified_by_the_host(tmp_path, alpha):
    t = Terminal(tmp_path, {"alpha": alpha}, drop_missing=True)
    (codes,) = t.run(PIN_SALE % (["1234", "9999", "1234", "0000", "0000", "0000", "1234"],))
    # a good PIN resets the try counter; the third wrong one in a row blocks the PIN
    assert codes == ["00", "55", "00", "55", "55", "75", "75"]
    assert alpha.db.balance(PAN) == 500000 - 200


def _card_tags(pan, psn, amount, atc=b"\x00\x1c"):
    tags = {0x9F02: bytes.fromhex("%012d" % amount),
            0x9F03: bytes(6), 0x9F1A: bytes.fromhex("0978"), 0x95: bytes(5), 0x5F2A: bytes.fromhex("0978"),
            0x9A: bytes.fromhex("261122"), 0x9C: b"\x00", 0x9F37: bytes.fromhex("DEADBEEF"),
            0x82: bytes.fromhex("5C00"), 0x9F36: atc, 0x9F10: bytes.fromhex("06010A03A00000")}
    tags[0x9F26] = hsm.arqc_generate(hsm.TEST_IMK_AC, pan, psn, tags)
    return tags


def _f55(tags):
    out = b""
    for t, v in tags.items():
        tb = t.to_bytes(2 if t > 0xFF else 1, "big")
        out += tb + bytes((len(v),)) + v
    return out


def test_arqc_verified_and_arpc_returned(tmp_path, alpha):
    t = Terminal(tmp_path, {"alpha": alpha}, drop_missing=True)
    good = _card_tags(PAN, "01", 777)
    bad = dict(good)
    bad[0x9F26] = bytes(8)
    r1, r2 = t.run("""
import binascii
for f55 in (%r, %r):
    req, r = sale(777, entry="chip", pan_seq="01", icc_data=binascii.unhexlify(f55))
    eng.complete(req, r, r.approved)
    out(resp_dict(r))
""" % (_f55(good).hex(), _f55(bad).hex()))
    assert r1["approved"] and r1["rc"] == "00"
    icc = bytes.fromhex(r1["icc"])
    arpc = icc[2:10]
    assert icc == b"\x91\x0a" + arpc + b"00" + b"\x8a\x02" + b"00"
    mk = pkd.derive_icc_mk_a(hsm.TEST_IMK_AC, PAN, "01")
    assert arpc == pac.generate_arpc_1(mk, good[0x9F26], b"00")          # independent ARPC check
    assert not r2["approved"] and r2["rc"] == "05"
    assert alpha.db.balance(PAN) == 500000 - 777


def test_pin_translate_tpk_to_zpk():
    tpk, zpk = hsm.new_key(), hsm.new_key()
    from psec import des as pdes, pinblock as ppb
    blk = pdes.encrypt_tdes_ecb(tpk, ppb.encode_pinblock_iso_0("4321", PAN))
    out = hsm.pin_translate(tpk, zpk, PAN, blk)
    assert ppb.decode_pinblock_iso_0(pdes.decrypt_tdes_ecb(zpk, out), PAN) == "4321"
    assert hsm.pin_verify(tpk, PAN, blk, hsm.pvv(PAN, "4321"))
    assert not hsm.pin_verify(tpk, PAN, blk, hsm.pvv(PAN, "1234"))


def test_a_pin_of_another_length_is_wrong_not_a_host_fault():
    """A cashier-typed PIN of 7 digits ("111" then "4321") reached the host as a valid block; the
    host's PVV check raised and the sale ended 'System malfunction' with a reversal, where the
    customer should hear 'incorrect PIN' (55)."""
    tpk = hsm.new_key()
    from psec import des as pdes, pinblock as ppb
    for pin in ("1114321", "43210", "432100000000"):
        blk = pdes.encrypt_tdes_ecb(tpk, ppb.encode_pinblock_iso_0(pin, PAN))
        assert hsm.pin_verify(tpk, PAN, blk, hsm.pvv(PAN, "4321")) is False


def test_pin_keys_adapter_gives_the_routed_acquirers_tpk(tmp_path, alpha):
    t = Terminal(tmp_path, {"alpha": alpha}, drop_missing=True)
    (r,) = t.run("""
import binascii
pk = eng.pin_keys()
out([binascii.hexlify(pk.key("pin")).decode(), binascii.hexlify(pk.key("pin", "4761739001010119")).decode()])
""")
    tpk = alpha.terminal_keys["TERM0001"]["tpk"].hex()
    assert r == [tpk, tpk]
