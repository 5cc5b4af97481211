# QR Code encoder (ISO/IEC 18004): byte mode, versions 1-10, error correction level M.
# Output: a QRCode with .size (modules per side), .version, .mask and .get(x, y) -> 0/1, kept
# as one packed bit matrix.  Written for the board: the symbol is built in work buffers
# allocated once, as bit chunks of 20 modules per row and per column (small integers on a
# 32-bit port), so a mask is applied and scored 20 modules at a time with shifts and ANDs;
# Reed-Solomon runs on the GF(256) log/antilog tables and the level-M generators below
# (bytes constants: flash when frozen), up to three codewords divided out per pass, and a
# mask's scoring stops as soon as it can no longer win.  An encode allocates the returned
# symbol and three memoryviews of its generator, nothing per module.
from array import array

from micropython import const

EC_M = const(0)          # format bits for level M are 00
MAX_VERSION = const(10)
_MAX_SIZE = const(57)    # 17 + 4 * MAX_VERSION
_MAX_CODEWORDS = const(346)

# Version -> (EC codewords per block, its generator's offset in _GENERATORS,
#             ((blocks, data codewords per block), ...)) for level M
# (ISO/IEC 18004 Table 9)
_BLOCKS = (
    None,
    (10, 0, ((1, 16),)), (16, 10, ((1, 28),)), (26, 90, ((1, 44),)), (18, 26, ((2, 32),)),
    (24, 66, ((2, 43),)), (16, 10, ((4, 27),)), (18, 26, ((4, 31),)), (22, 44, ((2, 38), (2, 39))),
    (22, 44, ((3, 36), (2, 37))), (26, 90, ((4, 43), (1, 44))),
)
# data codewords per version at level M (the sums of the table above)
_CAPACITY = b"\x00\x10\x1c\x2c\x40\x56\x6c\x7c\x9a\xb6\xd8"
# alignment pattern centre coordinates (Annex E)
_ALIGN = (None, (), (6, 18), (6, 22), (6, 26), (6, 30), (6, 34), (6, 22, 38), (6, 24, 42),
          (6, 26, 46), (6, 28, 50))

# GF(256) with the primitive polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D, ISO/IEC 18004 7.5.2):
# _EXP[i] = alpha^i for i < 510 (the period written twice, so a sum of two logs needs no
# reduction), _LOG[alpha^i] = i (_LOG[0] is unused).
_EXP = (
    b"\x01\x02\x04\x08\x10\x20\x40\x80\x1d\x3a\x74\xe8\xcd\x87\x13\x26\x4c\x98\x2d\x5a"
    b"\xb4\x75\xea\xc9\x8f\x03\x06\x0c\x18\x30\x60\xc0\x9d\x27\x4e\x9c\x25\x4a\x94\x35"
    b"\x6a\xd4\xb5\x77\xee\xc1\x9f\x23\x46\x8c\x05\x0a\x14\x28\x50\xa0\x5d\xba\x69\xd2"
    b"\xb9\x6f\xde\xa1\x5f\xbe\x61\xc2\x99\x2f\x5e\xbc\x65\xca\x89\x0f\x1e\x3c\x78\xf0"
    b"\xfd\xe7\xd3\xbb\x6b\xd6\xb1\x7f\xfe\xe1\xdf\xa3\x5b\xb6\x71\xe2\xd9\xaf\x43\x86"
    b"\x11\x22\x44\x88\x0d\x1a\x34\x68\xd0\xbd\x67\xce\x81\x1f\x3e\x7c\xf8\xed\xc7\x93"
    b"\x3b\x76\xec\xc5\x97\x33\x66\xcc\x85\x17\x2e\x5c\xb8\x6d\xda\xa9\x4f\x9e\x21\x42"
    b"\x84\x15\x2a\x54\xa8\x4d\x9a\x29\x52\xa4\x55\xaa\x49\x92\x39\x72\xe4\xd5\xb7\x73"
    b"\xe6\xd1\xbf\x63\xc6\x91\x3f\x7e\xfc\xe5\xd7\xb3\x7b\xf6\xf1\xff\xe3\xdb\xab\x4b"
    b"\x96\x31\x62\xc4\x95\x37\x6e\xdc\xa5\x57\xae\x41\x82\x19\x32\x64\xc8\x8d\x07\x0e"
    b"\x1c\x38\x70\xe0\xdd\xa7\x53\xa6\x51\xa2\x59\xb2\x79\xf2\xf9\xef\xc3\x9b\x2b\x56"
    b"\xac\x45\x8a\x09\x12\x24\x48\x90\x3d\x7a\xf4\xf5\xf7\xf3\xfb\xeb\xcb\x8b\x0b\x16"
    b"\x2c\x58\xb0\x7d\xfa\xe9\xcf\x83\x1b\x36\x6c\xd8\xad\x47\x8e\x01\x02\x04\x08\x10"
    b"\x20\x40\x80\x1d\x3a\x74\xe8\xcd\x87\x13\x26\x4c\x98\x2d\x5a\xb4\x75\xea\xc9\x8f"
    b"\x03\x06\x0c\x18\x30\x60\xc0\x9d\x27\x4e\x9c\x25\x4a\x94\x35\x6a\xd4\xb5\x77\xee"
    b"\xc1\x9f\x23\x46\x8c\x05\x0a\x14\x28\x50\xa0\x5d\xba\x69\xd2\xb9\x6f\xde\xa1\x5f"
    b"\xbe\x61\xc2\x99\x2f\x5e\xbc\x65\xca\x89\x0f\x1e\x3c\x78\xf0\xfd\xe7\xd3\xbb\x6b"
    b"\xd6\xb1\x7f\xfe\xe1\xdf\xa3\x5b\xb6\x71\xe2\xd9\xaf\x43\x86\x11\x22\x44\x88\x0d"
    b"\x1a\x34\x68\xd0\xbd\x67\xce\x81\x1f\x3e\x7c\xf8\xed\xc7\x93\x3b\x76\xec\xc5\x97"
    b"\x33\x66\xcc\x85\x17\x2e\x5c\xb8\x6d\xda\xa9\x4f\x9e\x21\x42\x84\x15\x2a\x54\xa8"
    b"\x4d\x9a\x29\x52\xa4\x55\xaa\x49\x92\x39\x72\xe4\xd5\xb7\x73\xe6\xd1\xbf\x63\xc6"
    b"\x91\x3f\x7e\xfc\xe5\xd7\xb3\x7b\xf6\xf1\xff\xe3\xdb\xab\x4b\x96\x31\x62\xc4\x95"
    b"\x37\x6e\xdc\xa5\x57\xae\x41\x82\x19\x32\x64\xc8\x8d\x07\x0e\x1c\x38\x70\xe0\xdd"
    b"\xa7\x53\xa6\x51\xa2\x59\xb2\x79\xf2\xf9\xef\xc3\x9b\x2b\x56\xac\x45\x8a\x09\x12"
    b"\x24\x48\x90\x3d\x7a\xf4\xf5\xf7\xf3\xfb\xeb\xcb\x8b\x0b\x16\x2c\x58\xb0\x7d\xfa"
    b"\xe9\xcf\x83\x1b\x36\x6c\xd8\xad\x47\x8e")
_LOG = (
    b"\x00\x00\x01\x19\x02\x32\x1a\xc6\x03\xdf\x33\xee\x1b\x68\xc7\x4b\x04\x64\xe0\x0e"
    b"\x34\x8d\xef\x81\x1c\xc1\x69\xf8\xc8\x08\x4c\x71\x05\x8a\x65\x2f\xe1\x24\x0f\x21"
    b"\x35\x93\x8e\xda\xf0\x12\x82\x45\x1d\xb5\xc2\x7d\x6a\x27\xf9\xb9\xc9\x9a\x09\x78"
    b"\x4d\xe4\x72\xa6\x06\xbf\x8b\x62\x66\xdd\x30\xfd\xe2\x98\x25\xb3\x10\x91\x22\x88"
    b"\x36\xd0\x94\xce\x8f\x96\xdb\xbd\xf1\xd2\x13\x5c\x83\x38\x46\x40\x1e\x42\xb6\xa3"
    b"\xc3\x48\x7e\x6e\x6b\x3a\x28\x54\xfa\x85\xba\x3d\xca\x5e\x9b\x9f\x0a\x15\x79\x2b"
    b"\x4e\xd4\xe5\xac\x73\xf3\xa7\x57\x07\x70\xc0\xf7\x8c\x80\x63\x0d\x67\x4a\xde\xed"
    b"\x31\xc5\xfe\x18\xe3\xa5\x99\x77\x26\xb8\xb4\x7c\x11\x44\x92\xd9\x23\x20\x89\x2e"
    b"\x37\x3f\xd1\x5b\x95\xbc\xcf\xcd\x90\x87\x97\xb2\xdc\xfc\xbe\x61\xf2\x56\xd3\xab"
    b"\x14\x2a\x5d\x9e\x84\x3c\x39\x53\x47\x6d\x41\xa2\x1f\x2d\x43\xd8\xb7\x7b\xa4\x76"
    b"\xc4\x17\x49\xec\x7f\x0c\x6f\xf6\x6c\xa1\x3b\x52\x29\x9d\x55\xaa\xfb\x60\x86\xb1"
    b"\xbb\xcc\x3e\x5a\xcb\x59\x5f\xb0\x9c\xa9\xa0\x51\x0b\xf5\x16\xeb\x7a\x75\x2c\xd7"
    b"\x4f\xae\xd5\xe9\xe6\xe7\xad\xe8\x74\xd6\xf4\xea\xa8\x50\x58\xaf")


class QRError(ValueError):
    pass


def _bch(value, poly, bits):
    """value followed by its BCH remainder (`bits` bits) for generator `poly`."""
    top = 1 << bits                           # poly's leading term
    v = value << bits
    for shift in range(15, -1, -1):
        if v & (top << shift):
            v ^= poly << shift
    return (value << bits) | v


try:
    from _posnative import qr_encode as _c_encode   # the C core, when the firmware has it built in
except ImportError:
    _c_encode = None
BACKEND = "pure" if _c_encode is None else "native"

# -- work buffers of the pure encoder, sized for the largest version.  The symbol is kept as
# bit chunks: a row (or column) of up to 57 modules is three chunks of 20 modules, chunk k
# holding modules 20k..20k+19 at bits 0..19, so every value stays a small integer on a 32-bit
# port (under 2^30) and a mask is applied and scored 20 modules at a time ---------------------
_CHUNK = const(20)                            # modules per chunk
_NCH = const(3)                               # chunks per line, for up to 57 modules
_OWN = const(0xFFFFF)                         # a chunk's 20 bits
if _c_encode is None:
    _rv = array("I", bytes(4 * _NCH * _MAX_SIZE))   # row y, chunk k at y * 3 + k: dark modules
    _rd = array("I", bytes(4 * _NCH * _MAX_SIZE))   # row y: the data modules (masked ones)
    _cv = array("I", bytes(4 * _NCH * _MAX_SIZE))   # column x, chunk k at x * 3 + k: dark modules
    _cd = array("I", bytes(4 * _NCH * _MAX_SIZE))   # column x: the data modules
    _pat = array("I", bytes(4 * 18 * _NCH))   # a mask's chunks: rows by y % 12, then columns by x % 6
    _line = array("I", bytes(4))              # the rows' dark modules, as the row penalty counts them
    _low = array("I", bytes(4 * 8))           # each mask's rows' penalty with N4: its lower bound
    _codewords = bytearray(_MAX_CODEWORDS)        # the data codewords
    _stream = bytearray(_MAX_CODEWORDS + 1)       # data and EC codewords, interleaved, and the
                                                  # remainder bits
    _ec = bytearray(5 * 26)                       # EC codewords of every block (at most 5 x 26)
    _work = bytearray(44 + 26)                    # a block and its EC codewords (7.5.2)

# Mask patterns (7.8.2, Table 10): every mask repeats every 6 columns and every 12 rows.
# _MASKS[12 m + y % 12]: bit x set where mask m inverts module (x, y), x < 6; then from 96,
# _MASKS[96 + 2 (6 m + x % 6)...]: 16 bits little-endian, bit y set where mask m inverts (x, y), y < 12.
_MASKS = (
    b"\x15\x2a\x15\x2a\x15\x2a\x15\x2a\x15\x2a\x15\x2a\x3f\x00\x3f\x00\x3f\x00\x3f\x00"
    b"\x3f\x00\x3f\x00\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x24\x12\x09"
    b"\x24\x12\x09\x24\x12\x09\x24\x12\x07\x07\x38\x38\x07\x07\x38\x38\x07\x07\x38\x38"
    b"\x3f\x01\x09\x15\x09\x01\x3f\x01\x09\x15\x09\x01\x3f\x07\x1b\x15\x2d\x31\x3f\x07"
    b"\x1b\x15\x2d\x31\x15\x38\x31\x2a\x07\x0e\x15\x38\x31\x2a\x07\x0e"
    b"\x55\x05\xaa\x0a\x55\x05\xaa\x0a\x55\x05\xaa\x0a\x55\x05\x55\x05\x55\x05\x55\x05"
    b"\x55\x05\x55\x05\xff\x0f\x00\x00\x00\x00\xff\x0f\x00\x00\x00\x00\x49\x02\x24\x09"
    b"\x92\x04\x49\x02\x24\x09\x92\x04\x33\x03\x33\x03\x33\x03\xcc\x0c\xcc\x0c\xcc\x0c"
    b"\xff\x0f\x41\x00\x49\x02\x55\x05\x49\x02\x41\x00\xff\x0f\xc7\x01\xdb\x06\x55\x05"
    b"\x6d\x0b\x71\x0c\x55\x05\x38\x0e\x71\x0c\xaa\x0a\xc7\x01\x8e\x03")
# bits set in a 10-bit value
_POP = (
    b"\x00\x01\x01\x02\x01\x02\x02\x03\x01\x02\x02\x03\x02\x03\x03\x04\x01\x02\x02\x03\x02\x03\x03\x04\x02\x03\x03\x04\x03\x04\x04\x05\x01\x02\x02\x03\x02\x03\x03\x04"
    b"\x02\x03\x03\x04\x03\x04\x04\x05\x02\x03\x03\x04\x03\x04\x04\x05\x03\x04\x04\x05\x04\x05\x05\x06\x01\x02\x02\x03\x02\x03\x03\x04\x02\x03\x03\x04\x03\x04\x04\x05"
    b"\x02\x03\x03\x04\x03\x04\x04\x05\x03\x04\x04\x05\x04\x05\x05\x06\x02\x03\x03\x04\x03\x04\x04\x05\x03\x04\x04\x05\x04\x05\x05\x06\x03\x04\x04\x05\x04\x05\x05\x06"
    b"\x04\x05\x05\x06\x05\x06\x06\x07\x01\x02\x02\x03\x02\x03\x03\x04\x02\x03\x03\x04\x03\x04\x04\x05\x02\x03\x03\x04\x03\x04\x04\x05\x03\x04\x04\x05\x04\x05\x05\x06"
    b"\x02\x03\x03\x04\x03\x04\x04\x05\x03\x04\x04\x05\x04\x05\x05\x06\x03\x04\x04\x05\x04\x05\x05\x06\x04\x05\x05\x06\x05\x06\x06\x07\x02\x03\x03\x04\x03\x04\x04\x05"
    b"\x03\x04\x04\x05\x04\x05\x05\x06\x03\x04\x04\x05\x04\x05\x05\x06\x04\x05\x05\x06\x05\x06\x06\x07\x03\x04\x04\x05\x04\x05\x05\x06\x04\x05\x05\x06\x05\x06\x06\x07"
    b"\x04\x05\x05\x06\x05\x06\x06\x07\x05\x06\x06\x07\x06\x07\x07\x08\x01\x02\x02\x03\x02\x03\x03\x04\x02\x03\x03\x04\x03\x04\x04\x05\x02\x03\x03\x04\x03\x04\x04\x05"
    b"\x03\x04\x04\x05\x04\x05\x05\x06\x02\x03\x03\x04\x03\x04\x04\x05\x03\x04\x04\x05\x04\x05\x05\x06\x03\x04\x04\x05\x04\x05\x05\x06\x04\x05\x05\x06\x05\x06\x06\x07"
    b"\x02\x03\x03\x04\x03\x04\x04\x05\x03\x04\x04\x05\x04\x05\x05\x06\x03\x04\x04\x05\x04\x05\x05\x06\x04\x05\x05\x06\x05\x06\x06\x07\x03\x04\x04\x05\x04\x05\x05\x06"
    b"\x04\x05\x05\x06\x05\x06\x06\x07\x04\x05\x05\x06\x05\x06\x06\x07\x05\x06\x06\x07\x06\x07\x07\x08\x02\x03\x03\x04\x03\x04\x04\x05\x03\x04\x04\x05\x04\x05\x05\x06"
    b"\x03\x04\x04\x05\x04\x05\x05\x06\x04\x05\x05\x06\x05\x06\x06\x07\x03\x04\x04\x05\x04\x05\x05\x06\x04\x05\x05\x06\x05\x06\x06\x07\x04\x05\x05\x06\x05\x06\x06\x07"
    b"\x05\x06\x06\x07\x06\x07\x07\x08\x03\x04\x04\x05\x04\x05\x05\x06\x04\x05\x05\x06\x05\x06\x06\x07\x04\x05\x05\x06\x05\x06\x06\x07\x05\x06\x06\x07\x06\x07\x07\x08"
    b"\x04\x05\x05\x06\x05\x06\x06\x07\x05\x06\x06\x07\x06\x07\x07\x08\x05\x06\x06\x07\x06\x07\x07\x08\x06\x07\x07\x08\x07\x08\x08\x09\x01\x02\x02\x03\x02\x03\x03\x04"
    b"\x02\x03\x03\x04\x03\x04\x04\x05\x02\x03\x03\x04\x03\x04\x04\x05\x03\x04\x04\x05\x04\x05\x05\x06\x02\x03\x03\x04\x03\x04\x04\x05\x03\x04\x04\x05\x04\x05\x05\x06"
    b"\x03\x04\x04\x05\x04\x05\x05\x06\x04\x05\x05\x06\x05\x06\x06\x07\x02\x03\x03\x04\x03\x04\x04\x05\x03\x04\x04\x05\x04\x05\x05\x06\x03\x04\x04\x05\x04\x05\x05\x06"
    b"\x04\x05\x05\x06\x05\x06\x06\x07\x03\x04\x04\x05\x04\x05\x05\x06\x04\x05\x05\x06\x05\x06\x06\x07\x04\x05\x05\x06\x05\x06\x06\x07\x05\x06\x06\x07\x06\x07\x07\x08"
    b"\x02\x03\x03\x04\x03\x04\x04\x05\x03\x04\x04\x05\x04\x05\x05\x06\x03\x04\x04\x05\x04\x05\x05\x06\x04\x05\x05\x06\x05\x06\x06\x07\x03\x04\x04\x05\x04\x05\x05\x06"
    b"\x04\x05\x05\x06\x05\x06\x06\x07\x04\x05\x05\x06\x05\x06\x06\x07\x05\x06\x06\x07\x06\x07\x07\x08\x03\x04\x04\x05\x04\x05\x05\x06\x04\x05\x05\x06\x05\x06\x06\x07"
    b"\x04\x05\x05\x06\x05\x06\x06\x07\x05\x06\x06\x07\x06\x07\x07\x08\x04\x05\x05\x06\x05\x06\x06\x07\x05\x06\x06\x07\x06\x07\x07\x08\x05\x06\x06\x07\x06\x07\x07\x08"
    b"\x06\x07\x07\x08\x07\x08\x08\x09\x02\x03\x03\x04\x03\x04\x04\x05\x03\x04\x04\x05\x04\x05\x05\x06\x03\x04\x04\x05\x04\x05\x05\x06\x04\x05\x05\x06\x05\x06\x06\x07"
    b"\x03\x04\x04\x05\x04\x05\x05\x06\x04\x05\x05\x06\x05\x06\x06\x07\x04\x05\x05\x06\x05\x06\x06\x07\x05\x06\x06\x07\x06\x07\x07\x08\x03\x04\x04\x05\x04\x05\x05\x06"
    b"\x04\x05\x05\x06\x05\x06\x06\x07\x04\x05\x05\x06\x05\x06\x06\x07\x05\x06\x06\x07\x06\x07\x07\x08\x04\x05\x05\x06\x05\x06\x06\x07\x05\x06\x06\x07\x06\x07\x07\x08"
    b"\x05\x06\x06\x07\x06\x07\x07\x08\x06\x07\x07\x08\x07\x08\x08\x09\x03\x04\x04\x05\x04\x05\x05\x06\x04\x05\x05\x06\x05\x06\x06\x07\x04\x05\x05\x06\x05\x06\x06\x07"
    b"\x05\x06\x06\x07\x06\x07\x07\x08\x04\x05\x05\x06\x05\x06\x06\x07\x05\x06\x06\x07\x06\x07\x07\x08\x05\x06\x06\x07\x06\x07\x07\x08\x06\x07\x07\x08\x07\x08\x08\x09"
    b"\x04\x05\x05\x06\x05\x06\x06\x07\x05\x06\x06\x07\x06\x07\x07\x08\x05\x06\x06\x07\x06\x07\x07\x08\x06\x07\x07\x08\x07\x08\x08\x09\x05\x06\x06\x07\x06\x07\x07\x08"
    b"\x06\x07\x07\x08\x07\x08\x08\x09\x06\x07\x07\x08\x07\x08\x08\x09\x07\x08\x08\x09\x08\x09\x09\x0a")


# The generator polynomials prod(x - alpha^i), i < n (ISO/IEC 18004 7.5.2, Annex A), for the
# EC codeword counts of level M, as the logs of their coefficients x^(n-1)..x^0 (the leading
# coefficient, 1, implied; none is 0): n = 10 at 0, 16 at 10, 18 at 26, 22 at 44, 24 at 66,
# 26 at 90 (_BLOCKS gives each version's offset).
_GENERATORS = (
    b"\xfb\x43\x2e\x3d\x76\x46\x40\x5e\x20\x2d\x78\x68\x6b\x6d\x66\xa1\x4c\x03\x5b\xbf"
    b"\x93\xa9\xb6\xc2\xe1\x78\xd7\xea\x9e\x5e\xb8\x61\x76\xaa\x4f\xbb\x98\x94\xfc\xb3"
    b"\x05\x62\x60\x99\xd2\xab\xf7\xf2\x5d\xe6\x0e\x6d\xdd\x35\xc8\x4a\x08\xac\x62\x50"
    b"\xdb\x86\xa0\x69\xa5\xe7\xe5\x79\x87\x30\xd3\x75\xfb\x7e\x9f\xb4\xa9\x98\xc0\xe2"
    b"\xe4\xda\x6f\x00\x75\xe8\x57\x60\xe3\x15\xad\x7d\x9e\x02\x67\xb6\x76\x11\x91\xc9"
    b"\x6f\x1c\xa5\x35\xa1\x15\xf5\x8e\x0d\x66\x30\xe3\x99\x91\xda\x46")


def _rs_remainder(data, start, count, whole, rest, rest2, n, rem, to):
    """rem[to:to+n] = the EC codewords of data[start:start+count] (ISO/IEC 18004 7.5.2): the
    block times x^n divided by the generator, by long division in _work.  `whole` is a
    memoryview of the generator's n coefficient logs (x^(n-1) first), `rest` and `rest2` the
    same without the first one and two.  Three codewords are
    divided out per pass where none is zero (else two, else one): each remaining codeword
    then takes all their terms in one update."""
    w = _work
    exp = _EXP
    log = _LOG
    for i in range(count):
        w[i] = data[start + i]
    for i in range(count, count + n):
        w[i] = 0
    g0 = whole[0]
    g1 = whole[1]
    p = 0
    while p < count:
        f = w[p]
        if not f:
            p += 1
            continue
        a = log[f]
        if p + 1 < count:
            f = w[p + 1] ^ exp[a + g0]        # the next codeword, after this one's term
            if f:
                b = log[f]
                if p + 2 < count:
                    f = w[p + 2] ^ exp[a + g1] ^ exp[b + g0]
                    if f:
                        c = log[f]
                        k = p + 3
                        h1 = g1
                        h0 = g0
                        for g in rest2:
                            w[k] ^= exp[a + g] ^ exp[b + h1] ^ exp[c + h0]
                            h0 = h1
                            h1 = g
                            k += 1
                        w[k] ^= exp[b + h1] ^ exp[c + h0]
                        w[k + 1] ^= exp[c + h1]
                        p += 3
                        continue
                k = p + 2
                h0 = g0
                for g in rest:
                    w[k] ^= exp[a + g] ^ exp[b + h0]
                    h0 = g
                    k += 1
                w[k] ^= exp[b + h0]
                p += 2
                continue
        k = p + 1                             # this codeword alone
        for g in whole:
            w[k] ^= exp[a + g]
            k += 1
        p += 1
    for i in range(n):
        rem[to + i] = w[count + i]


def _codeword_stream(data, version):
    """The final codeword sequence (data and EC, interleaved) in _stream; its length."""
    cap = _CAPACITY[version]
    out = _codewords
    n = len(data)
    # mode 0100 (byte), the count (8 bits, 16 from version 10), the bytes: nibble-shifted
    if version < 10:
        out[0] = 0x40 | (n >> 4)
        prev = n & 0x0F
        k = 1
    else:
        out[0] = 0x40 | (n >> 12)
        out[1] = (n >> 4) & 0xFF
        prev = n & 0x0F
        k = 2
    for b in data:
        out[k] = (prev << 4) | (b >> 4)
        prev = b & 0x0F
        k += 1
    out[k] = prev << 4                        # the last nibble, then the 4-bit terminator
    k += 1
    pad = 0xEC
    while k < cap:
        out[k] = pad
        pad ^= 0xEC ^ 0x11
        k += 1
    ec, at, groups = _BLOCKS[version]
    whole = memoryview(_GENERATORS)[at:at + ec]
    rest = whole[1:]
    rest2 = whole[2:]
    nblocks = 0
    k = 0
    longest = 0
    for count, size in groups:
        for _ in range(count):
            _rs_remainder(out, k, size, whole, rest, rest2, ec, _ec, nblocks * ec)
            k += size
            nblocks += 1
        longest = size
    res = _stream
    p = 0
    for i in range(longest):                  # data codewords, block by block (7.6)
        k = 0
        for count, size in groups:
            for _ in range(count):
                if i < size:
                    res[p] = out[k + i]
                    p += 1
                k += size
    for i in range(ec):
        for b in range(nblocks):
            res[p] = _ec[b * ec + i]
            p += 1
    return p


class QRCode:
    def __init__(self, version, mask, score, bits=None):
        self.version = version
        self.size = s = 17 + 4 * version
        self.mask = mask
        self.mask_score = score
        # bit y*size+x, least significant first
        self.bits = bytearray((s * s + 7) // 8) if bits is None else bits

    def get(self, x, y):
        i = y * self.size + x
        return (self.bits[i >> 3] >> (i & 7)) & 1


# -- function patterns (6.3) -------------------------------------------------------------
def _row_modules(y, x, n, bits):
    """Modules x..x+n-1 of row y become function modules, dark where `bits` has a 1 (bit 0 for
    module x); n is at most 20."""
    i = y * _NCH
    while n > 0:
        k = x // _CHUNK
        o = x - k * _CHUNK
        m = _CHUNK - o if n > _CHUNK - o else n
        mask = ((1 << m) - 1) << o
        _rv[i + k] = (_rv[i + k] & ~mask) | ((bits & ((1 << m) - 1)) << o)
        _rd[i + k] &= ~mask
        bits >>= m
        x += m
        n -= m


def _finder(s, cx, cy):
    for dy in range(-4, 5):
        y = cy + dy
        if 0 <= y < s:
            # the finder pattern and its separator, 9 modules from cx - 4, by distance from
            # the centre row (6.3.3)
            bits = b"\xba\xba\x82\xfe\x00"[abs(dy)]
            x = cx - 4
            n = 9
            if x < 0:
                bits >>= -x
                n += x
                x = 0
            if x + n > s:
                n = s - x
            _row_modules(y, x, n, bits)


# The format information (6.9: level M and the mask, BCH(15,5), XOR 101010000010010) of each
# mask, as where it lies: 6 bytes per mask, P (2 bytes), Q, R (2 bytes), S.  In the rows:
# row 8's modules x = 0..8 are P's bits 0..8, its modules from x = s - 8 are Q's bits 0..7, bit 8
# (x = 8) of rows 0..8 is R's bit y and of rows s - 8..s - 1 S's bit y - (s - 8).  In the
# columns, the same with P and R and with Q and S swapped.  Bit 6 of P and R is the timing
# module there (dark); bit 0 of S the dark module at (8, s - 8).
_FORMAT = (b"\x55\x00\x48\x52\x00\xa9\xc5\x00\xa4\x65\x00\xa3\x7d\x00\x3e\xfc\x00\xbd\xed\x00"
           b"\xd2\xcb\x00\xb7\xd1\x01\x9f\xf9\x01\x8b\x41\x01\x73\xce\x01\x81\xf9\x01\xe9\x57"
           b"\x01\x9f\x69\x01\x05\x60\x01\x95")


def _format(s, mask, cols):
    """Mask's format information into the rows, or with `cols` into the columns."""
    t = _FORMAT
    j = 6 * mask
    p = t[j] | (t[j + 1] << 8)
    q = t[j + 2]
    r = t[j + 3] | (t[j + 4] << 8)
    e = t[j + 5]
    if cols:
        lines = _cv
        p, r = r, p
        q, e = e, q
    else:
        lines = _rv
    i = 8 * _NCH
    lines[i] = (lines[i] & ~0x1FF) | p        # line 8 from 0
    x = s - 8                                 # line 8 from s - 8, 8 modules
    k = x // _CHUNK
    o = x - k * _CHUNK
    i += k
    lines[i] = (lines[i] & ~(0xFF << o) & _OWN) | ((q << o) & _OWN)
    if o > _CHUNK - 8:
        lines[i + 1] = (lines[i + 1] & ~(0xFF >> (_CHUNK - o))) | (q >> (_CHUNK - o))
    i = 0
    for _ in range(9):                        # bit 8 of lines 0..8
        lines[i] = (lines[i] & ~0x100) | ((r & 1) << 8)
        r >>= 1
        i += _NCH
    i = x * _NCH
    for _ in range(8):                        # bit 8 of lines s - 8..s - 1
        lines[i] = (lines[i] & ~0x100) | ((e & 1) << 8)
        e >>= 1
        i += _NCH


def _function_patterns(version, s):
    """The function patterns (6.3) and the format and version areas, built row by row; every
    one of them is symmetric about the diagonal in where it lies (and, but for the format
    information, which _format writes into both, in its modules), so the columns are then a
    copy of the rows."""
    c1 = 0 if s <= _CHUNK else _OWN if s > 2 * _CHUNK else (1 << (s - _CHUNK)) - 1
    c2 = (1 << (s - 2 * _CHUNK)) - 1 if s > 2 * _CHUNK else 0
    t = 0x40                                  # every module a light data module, but for
    for i in range(0, s * _NCH, _NCH):        # column 6's timing pattern: dark at even y
        _rv[i] = t
        _rv[i + 1] = _rv[i + 2] = 0
        _rd[i] = _OWN & ~0x40
        _rd[i + 1] = c1
        _rd[i + 2] = c2
        t ^= 0x40
    for x in range(0, s, _CHUNK):             # row 6's timing pattern
        _row_modules(6, x, s - x if s - x < _CHUNK else _CHUNK, 0x55555)
    _finder(s, 3, 3)
    _finder(s, s - 4, 3)
    _finder(s, 3, s - 4)
    pos = _ALIGN[version]
    for a in pos:
        for b in pos:
            if (a == 6 and b == 6) or (a == 6 and b == pos[-1]) or (a == pos[-1] and b == 6):
                continue
            for dy in range(-2, 3):           # 5 modules from a - 2, by distance from b (6.3.6)
                _row_modules(b + dy, a - 2, 5, b"\x15\x11\x1f"[abs(dy)])
    for y in range(9):                        # the format areas: column 8 and row 8
        if y != 6:
            _row_modules(y, 8, 1, 0)
    for y in range(s - 8, s):
        _row_modules(y, 8, 1, 0)
    _row_modules(8, 0, 6, 0)
    _row_modules(8, 7, 1, 0)
    _row_modules(8, s - 8, 8, 0)
    if version >= 7:                          # version information (6.10): 6 x 3 by each finder
        bits = _bch(version, 0x1F25, 12)
        for c in range(6):                    # bit 3c + j at (s - 11 + j, c) and (c, s - 11 + j)
            _row_modules(c, s - 11, 3, (bits >> (3 * c)) & 7)
        for j in range(3):
            b = 0
            for c in range(6):
                b |= ((bits >> (3 * c + j)) & 1) << c
            _row_modules(s - 11 + j, 0, 6, b)
    _cv[:] = _rv
    _cd[:] = _rd


def _place(s, total):
    """The codewords' bits into the data modules, two columns at a time, upwards then
    downwards from the bottom right (6.7.3); remainder bits are 0 (light)."""
    cw = _stream
    cw[total] = 0                             # the remainder bits (at most 7)
    rv = _rv
    rd = _rd
    cv = _cv
    byte = cw[0]                              # the codeword being placed, and its next bit
    bit = 0x80
    ci = 1
    right = s - 1
    while right >= 1:
        if right == 6:
            right = 5
        kr = right // _CHUNK                  # the right module's chunk and bit in a row
        br = 1 << (right - kr * _CHUNK)
        kl = (right - 1) // _CHUNK            # the left one's
        bl = 1 << (right - 1 - kl * _CHUNK)
        cr = right * _NCH                     # their columns
        cl = cr - _NCH
        if ((right + 1) & 2) == 0:            # upwards
            y = s - 1
            step = -1
        else:
            y = 0
            step = 1
        r = y * _NCH
        rstep = step * _NCH
        for _ in range(s):
            if rd[r + kr] & br:
                if byte & bit:
                    rv[r + kr] |= br
                    cv[cr + y // _CHUNK] |= 1 << (y % _CHUNK)
                bit >>= 1
                if not bit:
                    byte = cw[ci]
                    ci += 1
                    bit = 0x80
            if rd[r + kl] & bl:
                if byte & bit:
                    rv[r + kl] |= bl
                    cv[cl + y // _CHUNK] |= 1 << (y % _CHUNK)
                bit >>= 1
                if not bit:
                    byte = cw[ci]
                    ci += 1
                    bit = 0x80
            y += step
            r += rstep
        right -= 2


def _mask_patterns(m, cols):
    """Mask m's chunks into _pat: [12 row residues x 3 chunks] (bit x - 20k where the mask
    inverts (x, y), y % 12 = the residue), or with `cols` from 36 [6 column residues x 3
    chunks] (bit y - 20k, x % 6).  Chunk c starts 20c = 2c (mod 6) columns into a row's 6-column
    period and 20c = 8c (mod 12) rows into a column's 12-row period; the period is repeated
    by a multiplication."""
    p = _pat
    t = _MASKS
    if not cols:
        i = 12 * m
        for k in range(0, 12 * _NCH, _NCH):
            q = t[i]                          # 6 columns from x = 0
            q |= q << 6
            p[k] = ((q & 0x3F) * 0x41041) & _OWN
            p[k + 1] = (((q >> 2) & 0x3F) * 0x41041) & _OWN
            p[k + 2] = (((q >> 4) & 0x3F) * 0x41041) & _OWN
            i += 1
        return
    i = 96 + 12 * m
    for k in range(12 * _NCH, 18 * _NCH, _NCH):
        q = t[i] | (t[i + 1] << 8)            # 12 rows from y = 0
        q |= q << 12
        p[k] = ((q & 0xFFF) * 0x1001) & _OWN
        p[k + 1] = (((q >> 8) & 0xFFF) * 0x1001) & _OWN
        p[k + 2] = (((q >> 4) & 0xFFF) * 0x1001) & _OWN
        i += 2


# -- mask penalty (7.8.3) ------------------------------------------------------------------
# A line (row or column) is scored as three segments: segment k is its chunk k and the first 10
# modules of chunk k+1 (30 bits, under 2^30), and a pattern is counted in the segment where it
# starts (in chunk k), so the 11 modules of an N3 pattern are always in one segment.
# N1, runs of 5 or more alike: 3 + the excess = (windows of 5 alike in the run) + 2, the 2
#     counted at the run's last window of 5;
# N2, every 2x2 block of one colour: 3 (rows only);
# N3, 1011101 with 4 light modules on a side, within the line: 40 (found from the same-colour
#     bits N1 has: a change of colour after modules 0, 1, 4 and 5, none after 2 and 3, module 0
#     dark, module 6 in the line);
# N4, each 5 % of dark modules away from 50 %: 10.
# Popcounts by a 10-bit table: two look-ups per chunk.  Every term is positive: the rows' score
# with N4 is a lower bound of a mask's penalty, and a mask's columns stop as soon as it can no
# longer win (_choose_mask).
def _row_penalty(s, f0, f1, f2):
    """N1, N2 and N3 of the rows under the mask in _pat, and their dark modules in _line[0]
    (every mask's rows are scored whole: with N4 they are its lower bound)."""
    val = _rv
    dat = _rd
    pat = _pat
    pop = _POP
    h0 = f0 >> 1
    h1 = f1 >> 1
    h2 = f2 >> 1
    g0 = f0 >> 6
    g1 = f1 >> 6
    g2 = f2 >> 6
    score = 0
    dark = 0
    v0 = v1 = v2 = 0
    d0 = d1 = d2 = 0                          # the row above: no 2x2 block with it
    pr = 0
    i = 0
    for _ in range(s):
        c0 = val[i] ^ (pat[pr] & dat[i])
        c1 = val[i + 1] ^ (pat[pr + 1] & dat[i + 1])
        c2 = val[i + 2] ^ (pat[pr + 2] & dat[i + 2])
        dark += pop[c0 & 0x3FF] + pop[c0 >> 10] + pop[c1 & 0x3FF] + pop[c1 >> 10] + pop[c2 & 0x3FF] + pop[c2 >> 10]
        v = c0 | ((c1 & 0x3FF) << _CHUNK)
        d = ~(v ^ (v >> 1)) & h0
        z = d & (d >> 1)
        e = z & (z >> 2)
        if e:
            t = e & _OWN
            if t:
                score += pop[t & 0x3FF] + pop[t >> 10]
                t &= ~(e >> 1)
                score += 2 * (pop[t & 0x3FF] + pop[t >> 10])
        x = ~d
        x &= x >> 1
        c = v & x & (x >> 4) & (z >> 2) & g0
        if c:
            nv = ~v & f0
            l4 = nv & (nv >> 1)
            l4 &= l4 >> 2
            t = ((c & (l4 >> 7)) | (l4 & (c >> 4))) & _OWN
            if t:
                score += 40 * (pop[t & 0x3FF] + pop[t >> 10])
        t = d & d0 & ~(v ^ v0) & _OWN
        if t:
            score += 3 * (pop[t & 0x3FF] + pop[t >> 10])
        v0 = v
        d0 = d
        v = c1 | ((c2 & 0x3FF) << _CHUNK)
        d = ~(v ^ (v >> 1)) & h1
        z = d & (d >> 1)
        e = z & (z >> 2)
        if e:
            t = e & _OWN
            if t:
                score += pop[t & 0x3FF] + pop[t >> 10]
                t &= ~(e >> 1)
                score += 2 * (pop[t & 0x3FF] + pop[t >> 10])
        x = ~d
        x &= x >> 1
        c = v & x & (x >> 4) & (z >> 2) & g1
        if c:
            nv = ~v & f1
            l4 = nv & (nv >> 1)
            l4 &= l4 >> 2
            t = ((c & (l4 >> 7)) | (l4 & (c >> 4))) & _OWN
            if t:
                score += 40 * (pop[t & 0x3FF] + pop[t >> 10])
        t = d & d1 & ~(v ^ v1) & _OWN
        if t:
            score += 3 * (pop[t & 0x3FF] + pop[t >> 10])
        v1 = v
        d1 = d
        v = c2
        d = ~(v ^ (v >> 1)) & h2
        z = d & (d >> 1)
        e = z & (z >> 2)
        if e:
            t = e & _OWN
            if t:
                score += pop[t & 0x3FF] + pop[t >> 10]
                t &= ~(e >> 1)
                score += 2 * (pop[t & 0x3FF] + pop[t >> 10])
        x = ~d
        x &= x >> 1
        c = v & x & (x >> 4) & (z >> 2) & g2
        if c:
            nv = ~v & f2
            l4 = nv & (nv >> 1)
            l4 &= l4 >> 2
            t = ((c & (l4 >> 7)) | (l4 & (c >> 4))) & _OWN
            if t:
                score += 40 * (pop[t & 0x3FF] + pop[t >> 10])
        t = d & d2 & ~(v ^ v2) & _OWN
        if t:
            score += 3 * (pop[t & 0x3FF] + pop[t >> 10])
        v2 = v
        d2 = d
        i += _NCH
        pr += _NCH
        if pr == 12 * _NCH:
            pr = 0
    _line[0] = dark
    return score


def _column_penalty(s, f0, f1, f2, score, best):
    """score plus N1 and N3 of the columns under the mask in _pat, or a value >= best as soon
    as it reaches best."""
    val = _cv
    dat = _cd
    pat = _pat
    pop = _POP
    h0 = f0 >> 1
    h1 = f1 >> 1
    h2 = f2 >> 1
    g0 = f0 >> 6
    g1 = f1 >> 6
    g2 = f2 >> 6
    pr = 12 * _NCH
    i = 0
    for _ in range(s):
        c0 = val[i] ^ (pat[pr] & dat[i])
        c1 = val[i + 1] ^ (pat[pr + 1] & dat[i + 1])
        c2 = val[i + 2] ^ (pat[pr + 2] & dat[i + 2])
        v = c0 | ((c1 & 0x3FF) << _CHUNK)
        d = ~(v ^ (v >> 1)) & h0
        z = d & (d >> 1)
        e = z & (z >> 2)
        if e:
            t = e & _OWN
            if t:
                score += pop[t & 0x3FF] + pop[t >> 10]
                t &= ~(e >> 1)
                score += 2 * (pop[t & 0x3FF] + pop[t >> 10])
        x = ~d
        x &= x >> 1
        c = v & x & (x >> 4) & (z >> 2) & g0
        if c:
            nv = ~v & f0
            l4 = nv & (nv >> 1)
            l4 &= l4 >> 2
            t = ((c & (l4 >> 7)) | (l4 & (c >> 4))) & _OWN
            if t:
                score += 40 * (pop[t & 0x3FF] + pop[t >> 10])
        v = c1 | ((c2 & 0x3FF) << _CHUNK)
        d = ~(v ^ (v >> 1)) & h1
        z = d & (d >> 1)
        e = z & (z >> 2)
        if e:
            t = e & _OWN
            if t:
                score += pop[t & 0x3FF] + pop[t >> 10]
                t &= ~(e >> 1)
                score += 2 * (pop[t & 0x3FF] + pop[t >> 10])
        x = ~d
        x &= x >> 1
        c = v & x & (x >> 4) & (z >> 2) & g1
        if c:
            nv = ~v & f1
            l4 = nv & (nv >> 1)
            l4 &= l4 >> 2
            t = ((c & (l4 >> 7)) | (l4 & (c >> 4))) & _OWN
            if t:
                score += 40 * (pop[t & 0x3FF] + pop[t >> 10])
        v = c2
        d = ~(v ^ (v >> 1)) & h2
        z = d & (d >> 1)
        e = z & (z >> 2)
        if e:
            t = e & _OWN
            if t:
                score += pop[t & 0x3FF] + pop[t >> 10]
                t &= ~(e >> 1)
                score += 2 * (pop[t & 0x3FF] + pop[t >> 10])
        x = ~d
        x &= x >> 1
        c = v & x & (x >> 4) & (z >> 2) & g2
        if c:
            nv = ~v & f2
            l4 = nv & (nv >> 1)
            l4 &= l4 >> 2
            t = ((c & (l4 >> 7)) | (l4 & (c >> 4))) & _OWN
            if t:
                score += 40 * (pop[t & 0x3FF] + pop[t >> 10])
        if score >= best:
            return score
        i += _NCH
        pr += _NCH
        if pr == 18 * _NCH:
            pr = 12 * _NCH
    return score


def _choose_mask(s):
    """The mask with the lowest penalty (the lowest number among equals) and its penalty.
    Every mask's rows are scored first, with N4 (a lower bound of its penalty); then the
    columns, lowest bound first, each stopping as soon as that mask can no longer win."""
    # segment k's modules: from 20k, up to 30 of them (s is 21 to 57)
    f0 = (1 << s) - 1 if s < 30 else 0x3FFFFFFF
    f1 = (1 << (s - _CHUNK)) - 1 if s < _CHUNK + 30 else 0x3FFFFFFF
    f2 = (1 << (s - 2 * _CHUNK)) - 1 if s > 2 * _CHUNK else 0
    low = _low
    for m in range(8):
        _format(s, m, False)
        _mask_patterns(m, False)
        score = _row_penalty(s, f0, f1, f2)
        dark = _line[0]
        low[m] = score + abs(dark * 20 - s * s * 10) // (s * s) * 10
    best = -1
    best_score = 1 << 29
    for _ in range(8):
        m = 0                                 # the next mask by bound, then number
        for i in range(1, 8):
            if low[i] < low[m]:
                m = i
        bound = best_score + 1 if m < best else best_score
        if low[m] < bound:
            _format(s, m, True)
            _mask_patterns(m, True)
            score = _column_penalty(s, f0, f1, f2, low[m], bound)
            if score < bound:
                best = m
                best_score = score
        low[m] = 0x3FFFFFFF                   # taken (above any bound)
    return best, best_score


def encode(data, min_version=1):
    """The QRCode of `data` (bytes or str) in byte mode, level M, smallest version >= min_version."""
    n = len(data)                             # a str is no longer than its UTF-8 bytes
    limit = _CAPACITY[MAX_VERSION] - 3
    if n <= limit and isinstance(data, str):
        data = data.encode()
        n = len(data)
    version = 0
    if n <= limit:
        for v in range(max(1, min_version), MAX_VERSION + 1):
            head = 4 + (8 if v < 10 else 16)
            if head + 8 * n <= _CAPACITY[v] * 8:
                version = v
                break
    if not version:
        raise QRError("%d bytes do not fit a version-%d QR code at level M (at most %d)"
                      % (n, MAX_VERSION, limit))
    if _c_encode is not None:                 # the same symbol, held equal by tests/native
        version, mask, score, bits = _c_encode(data, min_version)
        return QRCode(version, mask, score, bits)
    s = 17 + 4 * version
    total = _codeword_stream(data, version)
    _function_patterns(version, s)
    _place(s, total)
    best, best_score = _choose_mask(s)
    _format(s, best, False)
    _mask_patterns(best, False)
    q = QRCode(version, best, best_score)
    bits = q.bits
    last = s - 2 * _CHUNK                     # modules in a row's last chunk (s > 40)
    nch = 3
    if last <= 0:
        last += _CHUNK
        nch = 2
    acc = 0                                   # modules not yet written, bit 0 the first
    n = 0
    j = 0
    i = 0
    r = 0
    for _ in range(s):                        # the masked rows, chunk by chunk, into bit y*s + x
        for k in range(nch):
            acc |= (_rv[i + k] ^ (_pat[r + k] & _rd[i + k])) << n
            n += _CHUNK if k < nch - 1 else last
            while n >= 8:
                bits[j] = acc & 0xFF
                acc >>= 8
                n -= 8
                j += 1
        i += _NCH
        r += _NCH
        if r == 12 * _NCH:
            r = 0
    if n:
        bits[j] = acc
    return q


def draw(qr, fb, x0, y0, scale, ink=1, paper=0, quiet=4):
    """Draw on a framebuf: `quiet` modules of light margin, each module scale x scale pixels."""
    total = (qr.size + 2 * quiet) * scale
    fb.fill_rect(x0, y0, total, total, paper)
    s = qr.size
    for y in range(s):
        for x in range(s):
            if qr.get(x, y):
                fb.fill_rect(x0 + (quiet + x) * scale, y0 + (quiet + y) * scale, scale, scale, ink)
    return total
