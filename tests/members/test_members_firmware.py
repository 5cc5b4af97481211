"""pos.members on MicroPython with the board's heap: the member QR checked against the
programme's public key (good, expired, signed by another key, another merchant's, damaged),
the points rule, and the terminal's member copy (card, phone, number; provisional points that
count until a copy from the cloud holds them)."""
import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from host_sim import members, mpy

MERCHANT = 7
NOW = 1_800_000_000


@pytest.fixture(scope="module")
def keys():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048), \
        rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _qr(key, number, expires, merchant=MERCHANT):
    sig = key.sign(("SPM1.%d.%s.%d" % (merchant, number, expires)).encode(), padding.PKCS1v15(), hashes.SHA256())
    return "SPM1.%s.%d.%s" % (number, expires, base64.urlsafe_b64encode(sig).rstrip(b"=").decode())


def _flash(tmp_path, key, copy_inv=0):
    pub = key.public_key().public_numbers()
    members.write_programme(str(tmp_path), {"merchant_id": MERCHANT, "spend_unit": 100, "points_per_unit": 2,
                                            "reward_points": 500, "reward_text": "5.00 OFF",
                                            "offline_stored_value": 2000, "qr_key_n": "%X" % pub.n,
                                            "qr_key_e": "%X" % pub.e, "version": 3})
    pd = hashlib.sha256(("%d:8613800001234" % MERCHANT).encode()).hexdigest()[:16].upper()
    members.write_copy(str(tmp_path), {"version": 3, "terminal_invoice": copy_inv, "members": [
        {"n": "8000000001", "nm": "L* W**", "ph": "*********1234", "pd": pd, "t": "GOLD", "p": 120, "sv": 5000,
         "c": ["DEADBEEF"]},
        {"n": "8000000002", "nm": "C*** J***", "ph": "*******5678", "pd": "0" * 16, "t": "BASIC", "p": 0, "sv": 0,
         "c": ["04112233445566"]}]})


def _run(tmp_path, body):
    code = ("from pos.members import MemberError, programme, qr, book, points\n"
            "prog = programme.load()\n"
            "def check(text, now):\n"
            "    try:\n"
            "        print('OK', qr.member_number(text, prog, now))\n"
            "    except MemberError as e:\n"
            "        print('REFUSED', e)\n") + body
    return mpy.run(code, cwd=str(tmp_path)).strip().splitlines()


def test_member_qr_good_expired_other_key_other_merchant_and_damaged(tmp_path, keys):
    mine, other = keys
    _flash(tmp_path, mine)
    good = _qr(mine, "8000000001", NOW + 300)
    cases = [good, _qr(mine, "8000000001", NOW - 1), _qr(other, "8000000001", NOW + 300),
             _qr(mine, "8000000001", NOW + 300, merchant=MERCHANT + 1), good[:-6] + "AAAAAA",
             good.replace("8000000001", "8000000002"), "SPM1.x.y", "4006381333931"]
    out = _run(tmp_path, "".join("check(%r, %d)\n" % (c, NOW) for c in cases))
    assert out == ["OK 8000000001", "REFUSED member QR expired, refresh",
                   "REFUSED QR not signed by this shop", "REFUSED QR not signed by this shop",
                   "REFUSED QR not signed by this shop", "REFUSED QR not signed by this shop",
                   "REFUSED not a member QR code", "REFUSED not a member QR code"]


def test_points_rule_and_next_reward(tmp_path, keys):
    _flash(tmp_path, keys[0])
    out = _run(tmp_path, "print([points.points_for(a, prog) for a in (0, 99, 100, 1540, 3965)])\n"
                         "print([points.next_reward(p, prog) for p in (0, 30, 499, 500, 501)])\n")
    assert out == ["[0, 0, 2, 30, 78]", "[500, 470, 1, 500, 499]"]


def test_copy_lookup_by_card_phone_number_and_provisional_points_until_the_cloud_holds_them(tmp_path, keys):
    _flash(tmp_path, keys[0], copy_inv=10)
    body = ("def show(m):\n"
            "    print(None if m is None else (m.number, m.name, m.phone, m.tier, m.points, m.pending, m.stored_value))\n"
            "show(book.find(card='deadbeef', merchant_id=7))\n"
            "show(book.find(card='04112233445566', merchant_id=7))\n"
            "show(book.find(card='01020304', merchant_id=7))\n"
            "show(book.find(phone='+8613800001234', merchant_id=7))\n"
            "show(book.find(phone='8613800001234', merchant_id=8))\n"
            "show(book.find(number='8000000002', merchant_id=7))\n"
            "book.provisional(9, '8000000001', 50)\n"        # booked already (the copy holds invoice 10)
            "book.provisional(11, '8000000001', 30)\n"
            "book.provisional(12, '8000000002', 4)\n"
            "show(book.find(card='DEADBEEF', merchant_id=7))\n")
    out = _run(tmp_path, body)
    assert out[:6] == [
        "('8000000001', 'L* W**', '*********1234', 'GOLD', 120, 0, 5000)",
        "('8000000002', 'C*** J***', '*******5678', 'BASIC', 0, 0, 0)",
        "None",
        "('8000000001', 'L* W**', '*********1234', 'GOLD', 120, 0, 5000)",
        "None",
        "('8000000002', 'C*** J***', '*******5678', 'BASIC', 0, 0, 0)"]
    assert out[6] == "('8000000001', 'L* W**', '*********1234', 'GOLD', 150, 30, 5000)"
    # the cloud's next copy holds invoices up to 12 (its balance 150): nothing counts twice
    members.write_copy(str(tmp_path), {"version": 4, "terminal_invoice": 12, "members": [
        {"n": "8000000001", "nm": "L* W**", "ph": "*********1234", "pd": "", "t": "GOLD", "p": 150, "sv": 5000,
         "c": ["DEADBEEF"]}]})
    out = _run(tmp_path, "m = book.find(card='DEADBEEF', merchant_id=7)\nprint(m.points, m.pending)\n")
    assert out == ["150 0"]


def test_unloading_a_module_whose_package_was_loaded_again_since():
    # the basket lets go of pos.members.points after the sync's member copy reloaded the
    # package: MicroPython's delattr raises KeyError for the name the new package lacks
    out = mpy.run("import sys\nfrom pos import modules\nimport pos.members.points\n"
                  "sys.modules.pop('pos.members')\nimport pos.members\n"
                  "modules.unload(('pos.members.points', 'pos.members'))\n"
                  "print('pos.members.points' in sys.modules, 'pos.members' in sys.modules)\n")
    assert out.strip() == "False False"
