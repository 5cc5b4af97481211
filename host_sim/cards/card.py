"""CardSimulator: a programmable EMV contact card (ICC) answering APDUs from a profile.

    card = CardSimulator(load_profile("visa-credit"))
    card.atr                       # for the reader model / vpcd
    card.transmit(bytes.fromhex("00A404000E315041592E5359532E444446303100"))

Commands (EMV 4.4 Book 1 11, Book 3 6): SELECT (PSE directory, by AID, partial AID with
next occurrence), READ RECORD, GET PROCESSING OPTIONS (formats 1/2, 6985), GET DATA (9F36,
9F13, 9F17, 9F4F), VERIFY (plaintext 80, enciphered 88), GET CHALLENGE, INTERNAL
AUTHENTICATE, GENERATE AC (ARQC/TC/AAC, CDA), EXTERNAL AUTHENTICATE, and issuer script
commands APPLICATION BLOCK / UNBLOCK, PIN CHANGE/UNBLOCK, PUT DATA (secure messaging MAC
checked when the profile has an MK-SMI).  Card risk management keeps a CVR in the IAD.
The ATC and PIN try counter persist across resets, as on a real card; session state
(selected application, ARQC) does not.
"""
import os

from host_sim.cards import crypto as C
from host_sim.cards.pki import issuer_keys, ca_key

# Card Verification Results kept in the IAD (4 bytes, Visa-style): byte 1 length (03);
# byte 2: b8-b7 2nd GENERATE AC (00 AAC, 01 TC, 10 not requested), b6-b5 1st GENERATE AC
# (00 AAC, 01 TC, 10 ARQC), b3 issuer authentication failed; byte 3: b3 offline PIN
# performed, b2 offline PIN failed; byte 4: b1 PIN try limit exceeded.
CVR_2ND_TC, CVR_1ST_ARQC, CVR_1ST_TC = 0x40, 0x20, 0x10
CVR_ISSUER_AUTH_FAILED = 0x04


def enc_tlv(tag, value):
    tb = tag.to_bytes((tag.bit_length() + 7) // 8 or 1, "big")
    n = len(value)
    lb = bytes([n]) if n < 0x80 else (bytes([0x81, n]) if n < 0x100 else bytes([0x82, n >> 8, n & 0xFF]))
    return tb + lb + bytes(value)


def tlvs(*pairs):
    return b"".join(enc_tlv(t, v) for t, v in pairs)


def tlv_children(b):
    """[(tag, value)] of one level of BER-TLV (host side: tools and tests); ValueError when a
    length runs past the end."""
    i, out = 0, []
    while i < len(b):
        t = b[i]
        i += 1
        if t & 0x1F == 0x1F:
            while True:
                t = (t << 8) | b[i]
                i += 1
                if not b[i - 1] & 0x80:
                    break
        n = b[i]
        i += 1
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(b[i:i + k], "big")
            i += k
        if i + n > len(b):
            raise ValueError("TLV length past the end")
        out.append((t, bytes(b[i:i + n])))
        i += n
    return out


def dol_values(dol, data):
    """{tag: value} of data built from a DOL (tag, length pairs)."""
    out = {}
    i = off = 0
    while i < len(dol):
        t = dol[i]
        i += 1
        if t & 0x1F == 0x1F:
            while True:
                t = (t << 8) | dol[i]
                i += 1
                if not dol[i - 1] & 0x80:
                    break
        n = dol[i]
        i += 1
        out[t] = bytes(data[off:off + n])
        off += n
    return out


def _sw(n):
    return n.to_bytes(2, "big")


class CardMute(Exception):
    """The card does not answer (the reader model turns this into silence)."""
    reason = "mute"


class CardSimulator:
    def __init__(self, profile, imk_ac=None):
        from host_sim.hosts.acquirer import hsm
        p = self.profile = profile
        self.name = p["name"]
        self.protocol = 1 if p.get("protocol") == "T=1" else 0
        self.atr = bytes.fromhex(p["atr"]) if p.get("atr") else _default_atr(self.protocol)
        self.pan = p["pan"]
        self.psn = p.get("psn", "01")
        self.pin = p.get("pin", "1234")
        self.pin_tries = p.get("pin_tries", 3)
        self.pin_try_limit = p.get("pin_try_limit", 3)
        self.atc = p.get("atc", 1)
        self.last_online_atc = p.get("last_online_atc", 0)
        self.faults = dict(p.get("faults", {}))
        self.apps = [dict(a, aid=bytes.fromhex(a["aid"])) for a in p["applications"]]
        self.blocked = {a["aid"] for a in self.apps if a.get("blocked")}
        self.crypto = C.Cryptograms(p.get("cvn", 18), imk_ac or hsm.TEST_IMK_AC, self.pan, self.psn,
                                    imk_smi=bytes.fromhex(p["imk_smi"]) if p.get("imk_smi") else None)
        self.log = []                       # command APDUs (tests)
        self._build_records()
        self.reset()

    # -- personalisation ------------------------------------------------
    def _build_records(self):
        p = self.profile
        oda = p.get("oda", "CDA")
        aip0 = {"SDA": 0x40, "DDA": 0x20, "CDA": 0x21, None: 0x00}[oda] | 0x10 | 0x08 | 0x04
        self.aip = bytes.fromhex(p["aip"]) if p.get("aip") else bytes([aip0, 0x00])
        self.pdol = bytes.fromhex(p.get("pdol", ""))
        self.cdol1 = bytes.fromhex(p.get("cdol1", "9F02069F03069F1A0295055F2A029A039C019F37049F35019F34039F4C08"))
        self.cdol2 = bytes.fromhex(p.get("cdol2", "8A02910A95059F3704"))
        cvm = bytes.fromhex(p.get("cvm_list", "0000000000000000" "4103" "4203" "1E03" "1F00"))
        iac = p.get("iac", {})
        exp = p.get("expiry", "281231")
        pan_hex = self.pan + ("F" if len(self.pan) % 2 else "")
        track2 = (self.pan + "D" + exp[:4] + p.get("service_code", "201") + "0000000000000")
        track2 = track2 + ("F" if len(track2) % 2 else "")
        data = [(0x5A, bytes.fromhex(pan_hex)), (0x5F24, bytes.fromhex(exp)),
                (0x5F25, bytes.fromhex(p.get("effective", "200101"))), (0x5F34, bytes.fromhex(self.psn)),
                (0x9F07, bytes.fromhex(p.get("auc", "FF00"))), (0x5F28, bytes.fromhex(p.get("country", "0840"))),
                (0x8E, cvm), (0x8C, self.cdol1), (0x8D, self.cdol2),
                (0x9F08, bytes.fromhex(p.get("app_version", "008C"))),
                (0x57, bytes.fromhex(track2)),
                (0x5F20, p.get("cardholder", "TEST/CARDHOLDER").encode()),
                (0x9F0D, bytes.fromhex(iac.get("default", "F040008800"))),
                (0x9F0E, bytes.fromhex(iac.get("denial", "0010000000"))),
                (0x9F0F, bytes.fromhex(iac.get("online", "F040009800")))]
        if p.get("velocity"):
            data += [(0x9F14, bytes([p["velocity"][0]])), (0x9F23, bytes([p["velocity"][1]]))]
        rec1 = tlvs(*data)
        if self.faults.get("malformed_record"):
            rec1 = rec1[:-8] + bytes.fromhex("9F0F09F040")   # IAC-online says 9 bytes, 2 follow
        self.static_data = rec1
        ca = ca_key(p["rid"], p["ca_index"])
        iss, icc, pin_key = issuer_keys(self.name, ca.size, p.get("pin_key", False))
        self.icc_key, self.pin_key = icc, pin_key
        cert_exp = p.get("cert_expiry", "1230")
        ic, irem = C.issuer_certificate(ca, iss, self.pan[:6], cert_exp, bytes.fromhex(p.get("cert_serial", "000001")),
                                        tamper=bool(self.faults.get("bad_issuer_cert")))
        cert_rec = [(0x8F, bytes.fromhex(p["ca_index"])), (0x90, ic), (0x92, irem), (0x9F32, iss.exponent)]
        if oda == "SDA":
            icc_rec = [(0x93, C.signed_static_data(iss, self.static_data))]
        else:
            cc, crem = C.icc_certificate(iss, icc, self.pan, p.get("icc_cert_expiry", cert_exp), self.static_data)
            icc_rec = [(0x9F46, cc), (0x9F48, crem), (0x9F47, icc.exponent), (0x9F49, b"\x9f\x37\x04")]
        self.records = {(1, 1): enc_tlv(0x70, rec1), (2, 1): enc_tlv(0x70, tlvs(*cert_rec)),
                        (2, 2): enc_tlv(0x70, tlvs(*icc_rec))}
        if pin_key is not None:
            pc, prem = C.icc_certificate(iss, pin_key, self.pan, cert_exp, None)
            self.records[(2, 3)] = enc_tlv(0x70, tlvs((0x9F2D, pc), (0x9F2F, prem), (0x9F2E, pin_key.exponent)))
        self.afl = bytes([1 << 3, 1, 1, 1, 2 << 3, 1, len(self.records) - 1, 0])
        self.gpo_format = p.get("gpo_format", 2)

    def reset(self):
        """Power cycle / warm reset: session state goes, counters stay."""
        self.selected = None
        self._next = 0
        self._arqc = None
        self._first_done = False
        self._pdol_data = b""
        self._cdol1_data = b""
        self._challenge = None
        self.cvr = bytearray(b"\x03\x00\x00\x00")
        self.issuer_auth = None

    # -- APDU level -------------------------------------------------------
    def transmit(self, apdu):
        c = bytes(apdu)
        self.log.append(c)
        if self.faults.get("mute"):
            raise CardMute("card is mute")
        if len(c) < 4:
            return _sw(0x6700)
        h = getattr(self, "_ins_%02x" % c[1], None)
        if h is None:
            return _sw(0x6D00)
        if c[0] not in (0x00, 0x80, 0x84, 0x8C):
            return _sw(0x6E00)
        return h(c)

    @staticmethod
    def _data(c):
        return c[5:5 + c[4]] if len(c) > 5 else b""

    def _fci(self, app):
        a5 = [(0x50, app["label"].encode())]
        if app.get("priority") is not None:
            a5.append((0x87, bytes([app["priority"]])))
        if app.get("preferred_name"):
            a5 += [(0x9F12, app["preferred_name"].encode()), (0x9F11, b"\x01")]
        if self.pdol:
            a5.append((0x9F38, self.pdol))
        a5.append((0x5F2D, b"enzh"))
        return enc_tlv(0x6F, tlvs((0x84, app["aid"]), (0xA5, tlvs(*a5))))

    def _ins_a4(self, c):                         # SELECT
        self._arqc = None
        self._first_done = False
        name = self._data(c)
        if name == b"1PAY.SYS.DDF01":
            if not self.profile.get("pse", True):
                return _sw(0x6A82)
            self.selected = "PSE"
            return enc_tlv(0x6F, tlvs((0x84, name), (0xA5, tlvs((0x88, b"\x01"), (0x5F2D, b"enzh"))))) + _sw(0x9000)
        nxt = (c[3] & 0x03) == 0x02
        matches = [a for a in self.apps if a["aid"].startswith(name)] if name else []
        if not nxt:
            self._next = 0
        if self._next >= len(matches):
            return _sw(0x6A82)
        app = matches[self._next]
        self._next += 1
        self.selected = app
        return self._fci(app) + _sw(0x6283 if app["aid"] in self.blocked else 0x9000)

    def _ins_b2(self, c):                         # READ RECORD
        if c[3] & 0x07 != 0x04:
            return _sw(0x6A86)
        sfi, rec = c[3] >> 3, c[2]
        if self.selected == "PSE":
            if sfi != 1:
                return _sw(0x6A82)
            if rec != 1:
                return _sw(0x6A83)
            entries = b""
            for a in self.apps:
                items = [(0x4F, a["aid"]), (0x50, a["label"].encode())]
                if a.get("priority") is not None:
                    items.append((0x87, bytes([a["priority"]])))
                entries += enc_tlv(0x61, tlvs(*items))
            return enc_tlv(0x70, entries) + _sw(0x9000)
        if not isinstance(self.selected, dict):
            return _sw(0x6985)
        r = self.records.get((sfi, rec))
        return r + _sw(0x9000) if r is not None else _sw(0x6A83)

    def _ins_a8(self, c):                         # GET PROCESSING OPTIONS
        if not isinstance(self.selected, dict):
            return _sw(0x6985)
        if self.selected.get("gpo_sw"):
            return _sw(int(self.selected["gpo_sw"], 16))
        data = self._data(c)
        if not data or data[0] != 0x83:
            return _sw(0x6A80)
        self._pdol_data = data[2:2 + data[1]]
        if self.gpo_format == 1:
            return enc_tlv(0x80, self.aip + self.afl) + _sw(0x9000)
        return enc_tlv(0x77, tlvs((0x82, self.aip), (0x94, self.afl))) + _sw(0x9000)

    def _ins_ca(self, c):                         # GET DATA
        tag = (c[2] << 8) | c[3]
        val = {0x9F17: bytes([self.pin_tries]), 0x9F36: self.atc.to_bytes(2, "big"),
               0x9F13: self.last_online_atc.to_bytes(2, "big"),
               0x9F4F: bytes.fromhex("9A039F21035F2A029F02069F4E149C019F3602")}.get(tag)
        if val is None:
            return _sw(0x6A88)
        return enc_tlv(tag, val) + _sw(0x9000)

    def _ins_84(self, c):                         # GET CHALLENGE
        self._challenge = os.urandom(8)
        return self._challenge + _sw(0x9000)

    def _check_pin(self, block):
        if self.pin_tries == 0:
            self.cvr[3] |= 0x01                   # PIN try limit exceeded
            return _sw(0x6983)
        if block[0] >> 4 != 0x2:
            return _sw(0x6A80)
        n = block[0] & 0x0F
        pin = block[1:].hex()[:n]
        if pin == self.pin:
            self.pin_tries = self.pin_try_limit
            self.cvr[2] |= 0x04                   # offline PIN verification performed (ok)
            return _sw(0x9000)
        self.pin_tries -= 1
        self.cvr[2] |= 0x02                       # offline PIN verification failed
        if self.pin_tries == 0:
            self.cvr[3] |= 0x01
            return _sw(0x6983)
        return _sw(0x63C0 | self.pin_tries)

    def _ins_20(self, c):                         # VERIFY
        if c[2] != 0x00:
            return _sw(0x6A86)
        data = self._data(c)
        if c[3] == 0x80:
            return self._check_pin(data)
        if c[3] == 0x88:                          # enciphered PIN (Book 2 7.2)
            key = self.pin_key or self.icc_key
            if self._challenge is None or len(data) != key.size:
                return _sw(0x6985)
            m = key.private(data)
            chal, self._challenge = self._challenge, None
            if m[0] != 0x7F or m[9:17] != chal:
                return _sw(0x6985)
            return self._check_pin(m[1:9])
        return _sw(0x6A86)

    def _ins_88(self, c):                         # INTERNAL AUTHENTICATE (DDA)
        un = self._data(c)
        dyn = self.atc.to_bytes(2, "big") + b"\x11\x22"
        return enc_tlv(0x80, C.signed_dynamic_data(self.icc_key, bytes([len(dyn)]) + dyn, un)) + _sw(0x9000)

    def _ins_ae(self, c):                         # GENERATE AC
        if not isinstance(self.selected, dict):
            return _sw(0x6985)
        p1 = c[2]
        want = p1 & 0xC0
        if want == 0xC0:
            return _sw(0x6A86)
        data = self._data(c)
        first = not self._first_done
        if not first and self._arqc is None:
            return _sw(0x6985)                    # no second GENERATE AC after TC/AAC
        dol = self.cdol1 if first else self.cdol2
        vals = dol_values(dol, data)
        cid = self._card_decision(want, first, vals)
        if first:
            self.atc = (self.atc + 1) & 0xFFFF
            self._cdol1_data = data
        values = dict(dol_values(self.cdol1, self._cdol1_data))
        values.update(vals)
        atc = self.atc.to_bytes(2, "big")
        values.update({0x82: self.aip, 0x9F36: atc})
        self._cvr_ac(first, cid)
        iad = self.crypto.iad(bytes(self.cvr))
        ac = self.crypto.generate(values, iad)
        if first:
            self._first_done = True
            self._arqc = ac if cid == 0x80 else None
            self._arqc_atc = atc
        else:
            self._arqc = None
            if cid == 0x40:
                self.last_online_atc = self.atc
        if p1 & 0x10 and cid != 0x00:             # CDA (Book 2 6.6)
            resp = tlvs((0x9F27, bytes([cid])), (0x9F36, atc), (0x9F10, iad))
            hashed = self._pdol_data + (self._cdol1_data if not first else b"") + data + resp
            idn = atc + b"\x33\x44"
            dyn = bytes([len(idn)]) + idn + bytes([cid]) + ac + C.sha1(hashed)
            un = vals.get(0x9F37, bytes(4))
            sig = C.signed_dynamic_data(self.icc_key, dyn, un)
            if self.faults.get("bad_cda"):
                sig = bytes([sig[0] ^ 1]) + sig[1:]
            return enc_tlv(0x77, resp + enc_tlv(0x9F4B, sig)) + _sw(0x9000)
        return enc_tlv(0x80, bytes([cid]) + atc + ac + iad) + _sw(0x9000)

    def _card_decision(self, want, first, vals):
        """Card risk management (Book 3 10.8, simplified): never more than asked; AAC when the
        PIN try limit is exceeded or the issuer authentication failed and the card needs it."""
        if first:
            if self.pin_tries == 0 and self.profile.get("decline_if_pin_blocked", True) and want:
                return 0x00
            if want == 0x40 and self.profile.get("always_online"):
                return 0x80
            return want
        if self.issuer_auth is False and self.profile.get("decline_if_issuer_auth_failed", True):
            return 0x00
        arc = vals.get(0x8A, b"")
        if want == 0x40 and 0x91 in vals and self.issuer_auth is None:
            self.issuer_auth = self.crypto.check_arpc(self._arqc or bytes(8), self._arqc_atc, vals[0x91][:len(vals[0x91])])
            if self.issuer_auth is False:
                self.cvr[1] |= CVR_ISSUER_AUTH_FAILED
                return 0x00
        if arc in (b"00", b"Y3", b"10", b"11") and want == 0x40:
            return 0x40
        return 0x00 if want != 0x40 else 0x40

    def _cvr_ac(self, first, cid):
        b = self.cvr[1] & 0x0F
        if first:
            b |= {0x80: CVR_1ST_ARQC, 0x40: CVR_1ST_TC, 0x00: 0x00}[cid]
        else:
            b |= (self.cvr[1] & 0x30) | {0x40: CVR_2ND_TC, 0x00: 0x80}[cid]
        self.cvr[1] = b

    def _ins_82(self, c):                         # EXTERNAL AUTHENTICATE
        data = self._data(c)
        if self._arqc is None:
            return _sw(0x6985)
        ok = self.crypto.check_arpc(self._arqc, self._arqc_atc, data)
        self.issuer_auth = ok
        if not ok:
            self.cvr[1] |= CVR_ISSUER_AUTH_FAILED
            return _sw(0x6300)
        return _sw(0x9000)

    # -- issuer scripts (Book 3 10.10; secure messaging Book 2 9) ------------------
    def _script(self, c, action):
        data = self._data(c)
        if c[0] & 0x04:                           # secure messaging: last 4..8 bytes are the MAC
            body, mac = data[:-8], data[-8:]
            header = bytes(c[:4]) + bytes([c[4]])
            if not self.crypto.script_mac_ok(header, body, mac, self.atc.to_bytes(2, "big"), self._arqc):
                return _sw(0x6988)
        else:
            body = data
        return action(body)

    def _ins_1e(self, c):                         # APPLICATION BLOCK
        def act(_):
            if isinstance(self.selected, dict):
                self.blocked.add(self.selected["aid"])
            return _sw(0x9000)
        return self._script(c, act)

    def _ins_18(self, c):                         # APPLICATION UNBLOCK
        def act(_):
            if isinstance(self.selected, dict):
                self.blocked.discard(self.selected["aid"])
            return _sw(0x9000)
        return self._script(c, act)

    def _ins_24(self, c):                         # PIN CHANGE / UNBLOCK
        def act(body):
            self.pin_tries = self.pin_try_limit
            if c[3] == 0x02 and len(body) >= 8:   # new PIN enciphered by the issuer (not modelled)
                pass
            return _sw(0x9000)
        return self._script(c, act)

    def _ins_da(self, c):                         # PUT DATA
        def act(body):
            tag = (c[2] << 8) | c[3]
            if tag in (0x9F14, 0x9F23) and body:
                return _sw(0x9000)
            return _sw(0x6A80)
        return self._script(c, act)


def _default_atr(protocol):
    if protocol == 1:
        body = bytes([0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45])
        x = 0
        for b in body:
            x ^= b
        return b"\x3b" + body + bytes([x])
    # 3B 65: TB1 = 00 (no programming voltage), TC1 = FF (minimum guard time), 5 historical bytes
    return bytes.fromhex("3B6500FF") + b"SPOS1"
