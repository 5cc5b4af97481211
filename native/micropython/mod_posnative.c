// _posnative: the C core (native/src) as a MicroPython user C module, with the API of
// docs/crypto-api.md so that firmware/pos/crypto/ takes these functions over the pure
// MicroPython ones.  Errors raise ValueError("PN_ERR_...: what").
#include "py/runtime.h"
#include "py/objstr.h"
#include "posnative.h"

static void check(int rc, const char *what) {
    if (rc < 0) {
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("%s: %s"), pn_status_name(rc), what);
    }
}

static const uint8_t *buf(mp_obj_t o, size_t *len) {
    mp_buffer_info_t bi;
    mp_get_buffer_raise(o, &bi, MP_BUFFER_READ);
    *len = bi.len;
    return (const uint8_t *)bi.buf;
}

static mp_obj_t cipher(mp_obj_t key_in, mp_obj_t iv_in, mp_obj_t data_in, int aes, int cbc, int decrypt,
                       const char *what) {
    size_t kl, dl, il = 0;
    const uint8_t *k = buf(key_in, &kl), *d = buf(data_in, &dl), *iv = NULL;
    if (cbc) {
        iv = buf(iv_in, &il);
        if (il != (aes ? 16u : 8u)) {
            check(PN_ERR_DATA_LENGTH, what);
        }
    }
    vstr_t v;
    vstr_init_len(&v, dl);
    int rc;
    if (aes) {
        rc = cbc ? pn_aes_cbc(k, kl, decrypt, iv, d, dl, (uint8_t *)v.buf) : pn_aes_ecb(k, kl, decrypt, d, dl, (uint8_t *)v.buf);
    } else {
        rc = cbc ? pn_des_cbc(k, kl, decrypt, iv, d, dl, (uint8_t *)v.buf) : pn_des_ecb(k, kl, decrypt, d, dl, (uint8_t *)v.buf);
    }
    if (rc < 0) {
        vstr_clear(&v);
        check(rc, what);
    }
    return mp_obj_new_bytes_from_vstr(&v);
}

static mp_obj_t des_encrypt(mp_obj_t k, mp_obj_t d) { return cipher(k, mp_const_none, d, 0, 0, 0, "des_encrypt"); }
static MP_DEFINE_CONST_FUN_OBJ_2(des_encrypt_obj, des_encrypt);
static mp_obj_t des_decrypt(mp_obj_t k, mp_obj_t d) { return cipher(k, mp_const_none, d, 0, 0, 1, "des_decrypt"); }
static MP_DEFINE_CONST_FUN_OBJ_2(des_decrypt_obj, des_decrypt);
static mp_obj_t des_cbc_encrypt(mp_obj_t k, mp_obj_t iv, mp_obj_t d) { return cipher(k, iv, d, 0, 1, 0, "des_cbc_encrypt"); }
static MP_DEFINE_CONST_FUN_OBJ_3(des_cbc_encrypt_obj, des_cbc_encrypt);
static mp_obj_t des_cbc_decrypt(mp_obj_t k, mp_obj_t iv, mp_obj_t d) { return cipher(k, iv, d, 0, 1, 1, "des_cbc_decrypt"); }
static MP_DEFINE_CONST_FUN_OBJ_3(des_cbc_decrypt_obj, des_cbc_decrypt);
static mp_obj_t aes_encrypt(mp_obj_t k, mp_obj_t d) { return cipher(k, mp_const_none, d, 1, 0, 0, "aes_encrypt"); }
static MP_DEFINE_CONST_FUN_OBJ_2(aes_encrypt_obj, aes_encrypt);
static mp_obj_t aes_decrypt(mp_obj_t k, mp_obj_t d) { return cipher(k, mp_const_none, d, 1, 0, 1, "aes_decrypt"); }
static MP_DEFINE_CONST_FUN_OBJ_2(aes_decrypt_obj, aes_decrypt);
static mp_obj_t aes_cbc_encrypt(mp_obj_t k, mp_obj_t iv, mp_obj_t d) { return cipher(k, iv, d, 1, 1, 0, "aes_cbc_encrypt"); }
static MP_DEFINE_CONST_FUN_OBJ_3(aes_cbc_encrypt_obj, aes_cbc_encrypt);
static mp_obj_t aes_cbc_decrypt(mp_obj_t k, mp_obj_t iv, mp_obj_t d) { return cipher(k, iv, d, 1, 1, 1, "aes_cbc_decrypt"); }
static MP_DEFINE_CONST_FUN_OBJ_3(aes_cbc_decrypt_obj, aes_cbc_decrypt);

static mp_obj_t mac_iso9797_1(size_t n, const mp_obj_t *a) {
    size_t kl, dl;
    const uint8_t *k = buf(a[0], &kl), *d = buf(a[1], &dl);
    int alg = n > 2 ? mp_obj_get_int(a[2]) : 1, pad = n > 3 ? mp_obj_get_int(a[3]) : 1;
    uint8_t mac[8];
    check(pn_mac_iso9797_1(k, kl, d, dl, alg, pad, mac), "mac_iso9797_1");
    return mp_obj_new_bytes(mac, 8);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(mac_iso9797_1_obj, 2, 4, mac_iso9797_1);

static mp_obj_t aes_cmac(mp_obj_t k_in, mp_obj_t d_in) {
    size_t kl, dl;
    const uint8_t *k = buf(k_in, &kl), *d = buf(d_in, &dl);
    uint8_t mac[16];
    check(pn_aes_cmac(k, kl, d, dl, mac), "aes_cmac");
    return mp_obj_new_bytes(mac, 16);
}
static MP_DEFINE_CONST_FUN_OBJ_2(aes_cmac_obj, aes_cmac);

static mp_obj_t rsa_public(mp_obj_t m_in, mp_obj_t e_in, mp_obj_t d_in) {
    size_t ml, el, dl;
    const uint8_t *m = buf(m_in, &ml), *e = buf(e_in, &el), *d = buf(d_in, &dl);
    if (ml > PN_RSA_MAX_BYTES) {
        check(PN_ERR_KEY_LENGTH, "rsa_public");
    }
    vstr_t v;
    vstr_init_len(&v, ml);
    int rc = pn_rsa_public(m, ml, e, el, d, dl, (uint8_t *)v.buf);
    if (rc < 0) {
        vstr_clear(&v);
        check(rc, "rsa_public");
    }
    return mp_obj_new_bytes_from_vstr(&v);
}
static MP_DEFINE_CONST_FUN_OBJ_3(rsa_public_obj, rsa_public);

static mp_obj_t sha1(mp_obj_t d_in) {
    size_t dl;
    const uint8_t *d = buf(d_in, &dl);
    uint8_t out[20];
    pn_sha1(d, dl, out);
    return mp_obj_new_bytes(out, 20);
}
static MP_DEFINE_CONST_FUN_OBJ_1(sha1_obj, sha1);

static mp_obj_t sha256(mp_obj_t d_in) {
    size_t dl;
    const uint8_t *d = buf(d_in, &dl);
    uint8_t out[32];
    pn_sha256(d, dl, out);
    return mp_obj_new_bytes(out, 32);
}
static MP_DEFINE_CONST_FUN_OBJ_1(sha256_obj, sha256);

static mp_obj_t crc16_ccitt_false(mp_obj_t d_in) {
    size_t dl;
    const uint8_t *d = buf(d_in, &dl);
    return MP_OBJ_NEW_SMALL_INT(pn_crc16_ccitt_false(d, dl));
}
static MP_DEFINE_CONST_FUN_OBJ_1(crc16_ccitt_false_obj, crc16_ccitt_false);

static mp_obj_t luhn_valid(mp_obj_t d_in) {
    size_t dl;
    const uint8_t *d = buf(d_in, &dl);
    int rc = pn_luhn_valid((const char *)d, dl);
    check(rc, "luhn_valid: digits only, at least 2");
    return mp_obj_new_bool(rc == 1);
}
static MP_DEFINE_CONST_FUN_OBJ_1(luhn_valid_obj, luhn_valid);

static mp_obj_t pinblock_build(size_t n, const mp_obj_t *a) {
    size_t pl, nl = 0, fl = 0;
    const uint8_t *pin = buf(a[1], &pl), *pan = (const uint8_t *)"", *fill = (const uint8_t *)"";
    if (n > 2) {
        pan = buf(a[2], &nl);
    }
    if (n > 3) {
        fill = buf(a[3], &fl);
    }
    uint8_t out[8];
    check(pn_pinblock_build(mp_obj_get_int(a[0]), pin, pl, pan, nl, fill, fl, out), "pinblock_build");
    return mp_obj_new_bytes(out, 8);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(pinblock_build_obj, 2, 4, pinblock_build);

static mp_obj_t pinblock_parse(size_t n, const mp_obj_t *a) {
    size_t bl, nl = 0;
    const uint8_t *b = buf(a[1], &bl), *pan = (const uint8_t *)"";
    if (n > 2) {
        pan = buf(a[2], &nl);
    }
    if (bl != 8) {
        check(PN_ERR_DATA_LENGTH, "pinblock_parse: block must be 8 bytes");
    }
    uint8_t pin[12];
    int rc = pn_pinblock_parse(mp_obj_get_int(a[0]), b, pan, nl, pin);
    check(rc, "pinblock_parse");
    return mp_obj_new_bytes(pin, rc);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(pinblock_parse_obj, 2, 3, pinblock_parse);

static mp_obj_t emv_derive_icc_mk(size_t n, const mp_obj_t *a) {
    size_t il, pl, sl = 2;
    const uint8_t *imk = buf(a[0], &il), *pan = buf(a[1], &pl), *psn = (const uint8_t *)"00";
    if (n > 2 && a[2] != mp_const_none) {
        psn = buf(a[2], &sl);
    }
    if (il != 16) {
        check(PN_ERR_KEY_LENGTH, "emv_derive_icc_mk: issuer master key must be 16 bytes");
    }
    uint8_t out[16];
    check(pn_emv_icc_mk(imk, pan, pl, psn, sl, out), "emv_derive_icc_mk");
    return mp_obj_new_bytes(out, 16);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(emv_derive_icc_mk_obj, 2, 3, emv_derive_icc_mk);

static mp_obj_t emv_session_key(mp_obj_t mk_in, mp_obj_t atc_in) {
    size_t ml, al;
    const uint8_t *mk = buf(mk_in, &ml), *atc = buf(atc_in, &al);
    if (ml != 16 || al != 2) {
        check(PN_ERR_DATA_LENGTH, "emv_session_key: master key 16 bytes, ATC 2 bytes");
    }
    uint8_t out[16];
    pn_emv_session_key(mk, atc, out);
    return mp_obj_new_bytes(out, 16);
}
static MP_DEFINE_CONST_FUN_OBJ_2(emv_session_key_obj, emv_session_key);

static mp_obj_t pinblock4_encipher(size_t n, const mp_obj_t *a) {
    (void)n;
    size_t kl, pl, nl, fl;
    const uint8_t *k = buf(a[0], &kl), *pin = buf(a[1], &pl), *pan = buf(a[2], &nl), *fill = buf(a[3], &fl);
    if (fl != 8) {
        check(PN_ERR_DATA_LENGTH, "pinblock4_encipher: 8 fill bytes");
    }
    uint8_t out[16];
    check(pn_pinblock4_encipher(k, kl, pin, pl, pan, nl, fill, out), "pinblock4_encipher");
    return mp_obj_new_bytes(out, 16);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(pinblock4_encipher_obj, 4, 4, pinblock4_encipher);

static mp_obj_t pinblock4_decipher(mp_obj_t k_in, mp_obj_t b_in, mp_obj_t p_in) {
    size_t kl, bl, nl;
    const uint8_t *k = buf(k_in, &kl), *b = buf(b_in, &bl), *pan = buf(p_in, &nl);
    if (bl != 16) {
        check(PN_ERR_DATA_LENGTH, "pinblock4_decipher: block must be 16 bytes");
    }
    uint8_t pin[12];
    int rc = pn_pinblock4_decipher(k, kl, b, pan, nl, pin);
    check(rc, "pinblock4_decipher");
    return mp_obj_new_bytes(pin, rc);
}
static MP_DEFINE_CONST_FUN_OBJ_3(pinblock4_decipher_obj, pinblock4_decipher);

static mp_obj_t emv_mac(mp_obj_t k_in, mp_obj_t d_in) {
    size_t kl, dl;
    const uint8_t *k = buf(k_in, &kl), *d = buf(d_in, &dl);
    uint8_t mac[8];
    check(pn_mac_iso9797_1(k, kl, d, dl, 3, 2, mac), "emv_mac");
    return mp_obj_new_bytes(mac, 8);
}
static MP_DEFINE_CONST_FUN_OBJ_2(emv_mac_obj, emv_mac);

static mp_obj_t emv_arpc1(mp_obj_t k_in, mp_obj_t q_in, mp_obj_t c_in) {
    size_t kl, ql, cl;
    const uint8_t *k = buf(k_in, &kl), *q = buf(q_in, &ql), *c = buf(c_in, &cl);
    if (kl != 16 || ql != 8 || cl != 2) {
        check(PN_ERR_DATA_LENGTH, "emv_arpc1: key 16, ARQC 8, ARC 2 bytes");
    }
    uint8_t out[8];
    pn_emv_arpc1(k, q, c, out);
    return mp_obj_new_bytes(out, 8);
}
static MP_DEFINE_CONST_FUN_OBJ_3(emv_arpc1_obj, emv_arpc1);

static mp_obj_t emv_arpc2(size_t n, const mp_obj_t *a) {
    size_t kl, ql, cl, pl = 0;
    const uint8_t *k = buf(a[0], &kl), *q = buf(a[1], &ql), *c = buf(a[2], &cl), *p = (const uint8_t *)"";
    if (n > 3) {
        p = buf(a[3], &pl);
    }
    if (kl != 16 || ql != 8 || cl != 4) {
        check(PN_ERR_DATA_LENGTH, "emv_arpc2: key 16, ARQC 8, CSU 4 bytes");
    }
    uint8_t out[4];
    check(pn_emv_arpc2(k, q, c, p, pl, out), "emv_arpc2");
    return mp_obj_new_bytes(out, 4);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(emv_arpc2_obj, 3, 4, emv_arpc2);

static mp_obj_t tlv_result(mp_obj_t buf_in, int rc, const pn_tlv *t, const uint8_t *base) {
    if (rc == PN_ERR_NOT_FOUND) {
        return mp_const_none;
    }
    check(rc, "tlv_find");
    (void)buf_in;
    (void)base;
    return mp_obj_new_bytes(t->value, t->length);
}

static mp_obj_t tlv_find(mp_obj_t b_in, mp_obj_t tag_in) {
    size_t bl;
    const uint8_t *b = buf(b_in, &bl);
    pn_tlv t;
    int rc = pn_tlv_find(b, bl, (uint32_t)mp_obj_get_int(tag_in), &t);
    return tlv_result(b_in, rc, &t, b);
}
static MP_DEFINE_CONST_FUN_OBJ_2(tlv_find_obj, tlv_find);

static mp_obj_t tlv_find_path(mp_obj_t b_in, mp_obj_t path_in) {
    size_t bl, n, i;
    mp_obj_t *items;
    uint32_t path[PN_TLV_MAX_DEPTH];
    const uint8_t *b = buf(b_in, &bl);
    mp_obj_get_array(path_in, &n, &items);
    if (n == 0 || n > PN_TLV_MAX_DEPTH) {
        check(PN_ERR_DEPTH, "tlv_find_path: 1 to 8 tags");
    }
    for (i = 0; i < n; i++) {
        path[i] = (uint32_t)mp_obj_get_int(items[i]);
    }
    pn_tlv t;
    int rc = pn_tlv_find_path(b, bl, path, n, &t);
    return tlv_result(b_in, rc, &t, b);
}
static MP_DEFINE_CONST_FUN_OBJ_2(tlv_find_path_obj, tlv_find_path);

// qr_encode(data, min_version=1) -> (version, mask, penalty score, bytes of the modules
// as packed bits: bit y*size+x, least significant first); ValueError PN_ERR_DATA_LENGTH when
// the data does not fit a version-10 symbol at level M.
static mp_obj_t qr_encode(size_t n, const mp_obj_t *a) {
    size_t dl;
    const uint8_t *d = buf(a[0], &dl);
    int min_version = n > 1 ? (int)mp_obj_get_int(a[1]) : 1;
    uint8_t out[PN_QR_MAX_BYTES];
    int version = 0, mask = 0;
    long score = 0;
    int rc = pn_qr_encode(d, dl, min_version, out, sizeof out, &version, &mask, &score);
    check(rc, "qr_encode");
    mp_obj_t items[4] = {
        MP_OBJ_NEW_SMALL_INT(version), MP_OBJ_NEW_SMALL_INT(mask), mp_obj_new_int(score),
        mp_obj_new_bytes(out, (size_t)rc),
    };
    return mp_obj_new_tuple(4, items);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(qr_encode_obj, 1, 2, qr_encode);

static const mp_rom_map_elem_t posnative_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_qr_encode), MP_ROM_PTR(&qr_encode_obj) },
    { MP_ROM_QSTR(MP_QSTR_pinblock4_encipher), MP_ROM_PTR(&pinblock4_encipher_obj) },
    { MP_ROM_QSTR(MP_QSTR_pinblock4_decipher), MP_ROM_PTR(&pinblock4_decipher_obj) },
    { MP_ROM_QSTR(MP_QSTR_emv_mac), MP_ROM_PTR(&emv_mac_obj) },
    { MP_ROM_QSTR(MP_QSTR_emv_arpc1), MP_ROM_PTR(&emv_arpc1_obj) },
    { MP_ROM_QSTR(MP_QSTR_emv_arpc2), MP_ROM_PTR(&emv_arpc2_obj) },
    { MP_ROM_QSTR(MP_QSTR_tlv_find), MP_ROM_PTR(&tlv_find_obj) },
    { MP_ROM_QSTR(MP_QSTR_tlv_find_path), MP_ROM_PTR(&tlv_find_path_obj) },
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__posnative) },
    { MP_ROM_QSTR(MP_QSTR_des_encrypt), MP_ROM_PTR(&des_encrypt_obj) },
    { MP_ROM_QSTR(MP_QSTR_des_decrypt), MP_ROM_PTR(&des_decrypt_obj) },
    { MP_ROM_QSTR(MP_QSTR_des_cbc_encrypt), MP_ROM_PTR(&des_cbc_encrypt_obj) },
    { MP_ROM_QSTR(MP_QSTR_des_cbc_decrypt), MP_ROM_PTR(&des_cbc_decrypt_obj) },
    { MP_ROM_QSTR(MP_QSTR_aes_encrypt), MP_ROM_PTR(&aes_encrypt_obj) },
    { MP_ROM_QSTR(MP_QSTR_aes_decrypt), MP_ROM_PTR(&aes_decrypt_obj) },
    { MP_ROM_QSTR(MP_QSTR_aes_cbc_encrypt), MP_ROM_PTR(&aes_cbc_encrypt_obj) },
    { MP_ROM_QSTR(MP_QSTR_aes_cbc_decrypt), MP_ROM_PTR(&aes_cbc_decrypt_obj) },
    { MP_ROM_QSTR(MP_QSTR_aes_cmac), MP_ROM_PTR(&aes_cmac_obj) },
    { MP_ROM_QSTR(MP_QSTR_mac_iso9797_1), MP_ROM_PTR(&mac_iso9797_1_obj) },
    { MP_ROM_QSTR(MP_QSTR_rsa_public), MP_ROM_PTR(&rsa_public_obj) },
    { MP_ROM_QSTR(MP_QSTR_sha1), MP_ROM_PTR(&sha1_obj) },
    { MP_ROM_QSTR(MP_QSTR_sha256), MP_ROM_PTR(&sha256_obj) },
    { MP_ROM_QSTR(MP_QSTR_crc16_ccitt_false), MP_ROM_PTR(&crc16_ccitt_false_obj) },
    { MP_ROM_QSTR(MP_QSTR_luhn_valid), MP_ROM_PTR(&luhn_valid_obj) },
    { MP_ROM_QSTR(MP_QSTR_pinblock_build), MP_ROM_PTR(&pinblock_build_obj) },
    { MP_ROM_QSTR(MP_QSTR_pinblock_parse), MP_ROM_PTR(&pinblock_parse_obj) },
    { MP_ROM_QSTR(MP_QSTR_emv_derive_icc_mk), MP_ROM_PTR(&emv_derive_icc_mk_obj) },
    { MP_ROM_QSTR(MP_QSTR_emv_session_key), MP_ROM_PTR(&emv_session_key_obj) },
};
static MP_DEFINE_CONST_DICT(posnative_globals, posnative_globals_table);

const mp_obj_module_t posnative_user_cmodule = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&posnative_globals,
};

MP_REGISTER_MODULE(MP_QSTR__posnative, posnative_user_cmodule);
