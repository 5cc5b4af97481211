"""Pure DES/3DES allocates nothing per block (run on MicroPython): the block is carried in
16-bit halves through IP and FP and as 24-bit halves of its expansion through the rounds
(small integers on a 32-bit port too), and a key's schedule is computed once."""
import warnings

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from host_sim import mpy


def _tdes_ecb(key, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                # two-key 3DES, as the payment keys are
        e = Cipher(TripleDES(key), modes.ECB()).encryptor()
    return e.update(data) + e.finalize()

_PROBE = r"""
import gc
from pos.crypto.des import des_encrypt, des_decrypt, des_cbc_encrypt, mac_iso9797_1
K = bytes(range(1, 17))
one = b"\x11" * 8
many = bytes(range(256))
def alloc(f, *a):
    f(*a)
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    r = f(*a)
    used = gc.mem_alloc() - before
    gc.enable()
    return used, r
a1, c1 = alloc(des_encrypt, K, one)
a32, c32 = alloc(des_encrypt, K, many)
d32, p32 = alloc(des_decrypt, K, c32)
m32, mac = alloc(mac_iso9797_1, K, many, 3, 2)
print(a1, a32, d32, m32, p32 == many, c1.hex(), c32.hex())
"""


def test_a_3des_block_allocates_only_its_result():
    a1, a32, d32, m32, round_trip, c1, c32 = mpy.run(_PROBE).split()
    assert round_trip == "True"
    assert c1 == _tdes_ecb(bytes(range(1, 17)), b"\x11" * 8).hex()
    assert c32 == _tdes_ecb(bytes(range(1, 17)), bytes(range(256))).hex()
    # 32 blocks cost what one block costs plus the longer output buffers: nothing per block
    assert int(a32) - int(a1) < 2 * 256 + 256, (a1, a32)
    assert int(d32) - int(a1) < 2 * 256 + 256, (a1, d32)
    assert int(m32) < 5 * 256, m32                # the padded copies of the data, the MAC
