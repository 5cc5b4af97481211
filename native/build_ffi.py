"""cffi (API mode, out of line) build of the C core as `posnative._native`; pip / `make venv`
run it through setup.py's cffi_modules.  Tests, fuzzing and host tools import `posnative`."""
import os

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = ["posnative.c", "pn_crypto.c", "pn_rsa.c", "pn_qr.c"]

ffibuilder = FFI()
ffibuilder.cdef("""
typedef struct { uint32_t tag; int constructed; const uint8_t *value; size_t length; } pn_tlv;
typedef struct { const uint8_t *data; size_t len; size_t pos; } pn_tlv_iter;
const char *pn_status_name(int status);
void pn_tlv_iter_init(pn_tlv_iter *it, const uint8_t *data, size_t len);
int pn_tlv_next(pn_tlv_iter *it, pn_tlv *out);
int pn_tlv_find(const uint8_t *data, size_t len, uint32_t tag, pn_tlv *out);
int pn_tlv_encode(uint32_t tag, const uint8_t *value, size_t vlen, uint8_t *out, size_t cap);
uint16_t pn_crc16_ccitt_false(const uint8_t *data, size_t len);
int pn_luhn_valid(const char *digits, size_t len);
int pn_des_ecb(const uint8_t *key, size_t klen, int decrypt, const uint8_t *in, size_t len, uint8_t *out);
int pn_des_cbc(const uint8_t *key, size_t klen, int decrypt, const uint8_t *iv, const uint8_t *in,
               size_t len, uint8_t *out);
int pn_mac_iso9797_1(const uint8_t *key, size_t klen, const uint8_t *data, size_t len, int alg, int pad,
                     uint8_t *mac);
int pn_aes_ecb(const uint8_t *key, size_t klen, int decrypt, const uint8_t *in, size_t len, uint8_t *out);
int pn_aes_cbc(const uint8_t *key, size_t klen, int decrypt, const uint8_t *iv, const uint8_t *in,
               size_t len, uint8_t *out);
int pn_aes_cmac(const uint8_t *key, size_t klen, const uint8_t *data, size_t len, uint8_t *mac);
int pn_pinblock_build(int fmt, const uint8_t *pin, size_t plen, const uint8_t *pan, size_t panlen,
                      const uint8_t *fill, size_t flen, uint8_t *out);
int pn_pinblock_parse(int fmt, const uint8_t *block, const uint8_t *pan, size_t panlen, uint8_t *pin_out);
int pn_pinblock4_encipher(const uint8_t *key, size_t klen, const uint8_t *pin, size_t plen, const uint8_t *pan,
                          size_t panlen, const uint8_t *fill, uint8_t *out);
int pn_pinblock4_decipher(const uint8_t *key, size_t klen, const uint8_t *block, const uint8_t *pan,
                          size_t panlen, uint8_t *pin_out);
int pn_tlv_find_path(const uint8_t *data, size_t len, const uint32_t *path, size_t n, pn_tlv *out);
int pn_emv_icc_mk(const uint8_t *imk, const uint8_t *pan, size_t panlen, const uint8_t *psn, size_t psnlen,
                  uint8_t *out);
int pn_emv_session_key(const uint8_t *mk, const uint8_t *atc, uint8_t *out);
int pn_emv_arpc1(const uint8_t *key, const uint8_t *arqc, const uint8_t *arc, uint8_t *out);
int pn_emv_arpc2(const uint8_t *key, const uint8_t *arqc, const uint8_t *csu, const uint8_t *prop,
                 size_t plen, uint8_t *out);
void pn_sha1(const uint8_t *data, size_t len, uint8_t *out);
void pn_sha256(const uint8_t *data, size_t len, uint8_t *out);
int pn_rsa_public(const uint8_t *mod, size_t mlen, const uint8_t *exp, size_t elen, const uint8_t *data,
                  size_t dlen, uint8_t *out);
int pn_dol_next(const uint8_t *dol, size_t len, size_t *pos, uint32_t *tag, size_t *dlen);
int pn_dol_fit(const uint8_t *value, size_t vlen, int fmt, uint8_t *out, size_t outlen);
#define PN_QR_MAX_BYTES 407
int pn_qr_encode(const uint8_t *data, size_t len, int min_version, uint8_t *out, size_t cap,
                 int *version, int *mask, long *score);
""")
ffibuilder.set_source(
    "posnative._native", '#include "posnative.h"',
    sources=[os.path.relpath(os.path.join(HERE, "src", s)) for s in SOURCES],
    include_dirs=[os.path.relpath(os.path.join(HERE, "include"))],
    extra_compile_args=["-std=c99", "-O2"])

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
