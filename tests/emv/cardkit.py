"""TEST keys, certificates and a small programmable EMV card for kernel tests.

Everything here is test data: a test CA, issuer and ICC RSA keys generated per
session (EMV 4.4 Book 2 formats), and MiniCard, a card that answers the EMV
commands from its fields so each test can break exactly one thing.  The keys,
certificates, signatures and TLV encoding are the card simulator's
(host_sim/cards/crypto.py, host_sim/cards/card.py); the full card simulator is
used by the integration tests, MiniCard keeps the kernel unit tests able to
break one field at a time.
"""
import hashlib
import hmac
import json
import os

from host_sim.cards.card import enc_tlv, tlv_children, tlvs  # noqa: F401  (tests import them from here)
from host_sim.cards.crypto import (RsaKey, icc_certificate, issuer_certificate, sha1,  # noqa: F401
                                   signed_dynamic_data, signed_static_data)


RID = bytes.fromhex("A000000003")
AID = bytes.fromhex("A0000000031010")
PAN = "4761739001010010"
TEST_PIN = "1234"


def with_header(ca, certificate, header):
    """`certificate` signed again by `ca` with its recovered header byte replaced (Book 2
    Table 13: a terminal must reject any header but 6A)."""
    m = bytearray(pow(int.from_bytes(certificate, "big"), ca.e, ca.n).to_bytes(ca.size, "big"))
    m[0] = header
    return ca.private(bytes(m))


class TestPki:
    __test__ = False
    """One TEST CA (index 92 under the Visa RID), issuer and ICC keys."""

    def __init__(self):
        self.ca = RsaKey(1408)
        self.issuer = RsaKey(1152)
        self.icc = RsaKey(1024)
        self.index = 0x92

    def capk_json(self, path, revoked=()):
        d = {"_comment": "TEST CA public keys for tests/emv only",
             "keys": [{"rid": RID.hex().upper(), "index": "%02X" % self.index,
                       "modulus": self.ca.modulus.hex().upper(), "exponent": "03"}],
             "revoked": [{"rid": RID.hex().upper(), "index": "%02X" % self.index, "serial": s.hex().upper()}
                         for s in revoked]}
        with open(path, "w") as f:
            json.dump(d, f)
        return path


ISSUER_KEY = b"TEST-ISSUER-MAC!"        # TEST: MiniCard's cryptogram/ARPC key


def arpc_for(arqc, arc):
    return hmac.new(ISSUER_KEY, arqc + arc, hashlib.sha1).digest()[:8]


class MiniCard:
    """A programmable TEST card: fields describe the application; handlers answer commands."""

    def __init__(self, pki, oda="CDA", pin=TEST_PIN, pin_tries=3, cvm_list=None, aip=None,
                 pdol=b"", cdol1=None, cdol2=None, pan=PAN, expiry="301231", effective="200101",
                 auc=b"\xff\x00", iac=None, issuer_cert_kw=None, icc_expiry="1230",
                 pse=True, apps=None, velocity=None, atc=5, last_online_atc=3, extra_record=b"",
                 gpo_format=2, pin_key=None, tag_list=False, ddol=True, issuer=None, ddf=None):
        self.pki = pki
        self.oda = oda
        self.pin = pin
        self.pin_tries = pin_tries
        self.pan = pan
        self.pse = pse
        self.ddf = ddf              # a DDF name: the PSE names it, its directory (SFI 3) lists the apps
        self.atc = atc
        self.last_online_atc = last_online_atc
        self.gpo_format = gpo_format
        self.apps = apps or [{"aid": AID, "label": "VISA CREDIT", "priority": 1}]
        aip0 = {"SDA": 0x40, "DDA": 0x20, "CDA": 0x01 | 0x20, None: 0x00}[oda] | 0x10 | 0x08 | 0x04
        self.aip = aip if aip is not None else bytes([aip0, 0x00])
        self.pdol = pdol
        self.cdol1 = cdol1 if cdol1 is not None else bytes.fromhex(
            "9F02069F03069F1A0295055F2A029A039C019F37049F35019F34039F4C08")
        self.cdol2 = cdol2 if cdol2 is not None else bytes.fromhex("8A02910A95059F3704")
        self.cvm_list = cvm_list if cvm_list is not None else bytes.fromhex(
            "00000000" "00000000" "4103" "4203" "1E03" "1F00")
        iac = iac or {}
        data = [(0x5A, bytes.fromhex(pan + ("F" if len(pan) % 2 else ""))),
                (0x5F24, bytes.fromhex(expiry)), (0x5F25, bytes.fromhex(effective)),
                (0x5F34, b"\x01"), (0x9F07, auc), (0x5F28, b"\x08\x40"), (0x8E, self.cvm_list),
                (0x8C, self.cdol1), (0x8D, self.cdol2), (0x9F08, b"\x00\x8c"),
                (0x57, bytes.fromhex(pan + "D" + expiry[:4] + "2010000000000000F")[:19]),
                (0x9F0D, iac.get("default", bytes.fromhex("F040008800"))),
                (0x9F0E, iac.get("denial", bytes.fromhex("0010000000"))),
                (0x9F0F, iac.get("online", bytes.fromhex("F040009800")))]
        if velocity:
            data += [(0x9F14, bytes([velocity[0]])), (0x9F23, bytes([velocity[1]]))]
        if tag_list:
            data.append((0x9F4A, b"\x82"))      # static data tag list: the AIP is signed too
        self.rec1 = tlvs(*data) + extra_record
        self.static_data = self.rec1 + (self.aip if tag_list else b"")
        self.pin_key = pin_key                   # separate ICC PIN encipherment key (9F2D)
        # issuer="hsm": cryptograms (CVN 10) and ARPC with the acquirer simulator's TEST IMK
        self.hsm = None
        if issuer == "hsm":
            from host_sim.hosts.acquirer import hsm
            self.hsm = hsm
        p = pki
        kw = {"issuer_id": "476173", "expiry_mmyy": "1230", "serial": b"\x00\x00\x01"}
        kw.update(issuer_cert_kw or {})
        header = kw.pop("header", None)
        ic, irem = issuer_certificate(p.ca, p.issuer, **kw)
        if header is not None:
            ic = with_header(p.ca, ic, header)
        cert_rec = [(0x8F, bytes([p.index])), (0x90, ic), (0x92, irem), (0x9F32, p.issuer.exponent)]
        pin_rec = []
        if oda == "SDA":
            icc_rec = [(0x93, signed_static_data(p.issuer, self.static_data))]
        else:
            cc, crem = icc_certificate(p.issuer, p.icc, pan, icc_expiry, self.static_data)
            icc_rec = [(0x9F46, cc), (0x9F48, crem), (0x9F47, p.icc.exponent)]
            if ddol:
                icc_rec.append((0x9F49, b"\x9f\x37\x04"))
        if pin_key is not None:
            pc, prem = icc_certificate(p.issuer, pin_key, pan, "1230", None)
            pin_rec = [(0x9F2D, pc), (0x9F2F, prem), (0x9F2E, pin_key.exponent)]
        # records stay within a short R-APDU (at most 254 bytes, Book 3 5.2)
        self.records = {(1, 1): enc_tlv(0x70, self.rec1), (2, 1): enc_tlv(0x70, tlvs(*cert_rec))}
        self.records[(2, 2)] = enc_tlv(0x70, tlvs(*icc_rec))
        if pin_rec:
            self.records[(2, 3)] = enc_tlv(0x70, tlvs(*pin_rec))
        assert all(len(r) <= 254 for r in self.records.values()), [len(r) for r in self.records.values()]
        self.afl = bytes([1 << 3, 1, 1, 1, 2 << 3, 1, len(self.records) - 1, 0])
        # behaviour switches a test may change
        self.gpo_sw = {}                # aid -> SW to answer GPO with (e.g. 0x6985)
        self.answer = None              # force the 1st GENERATE AC CID (0x00/0x40/0x80)
        self.answer2 = None
        self.ext_auth_sw = None
        self.script_fail_ins = None
        self.mute_at = None             # INS at which the card goes mute
        self.remove_at = None
        self.bad_cda = False
        self.log = []
        self._pdol_data = b""
        self._cdol1_data = b""
        self._selected = None
        self._arqc = None
        self._next = 0
        self.pin_verified = None

    # -- helpers
    def _ok(self, data=b""):
        return bytes(data) + b"\x90\x00"

    def _fci(self, app):
        a5 = [(0x50, app["label"].encode())]
        if app.get("priority") is not None:
            a5.append((0x87, bytes([app["priority"]])))
        if self.pdol:
            a5.append((0x9F38, self.pdol))
        return enc_tlv(0x6F, tlvs((0x84, app["aid"]), (0xA5, tlvs(*a5))))

    def transmit(self, c):
        c = bytes(c)
        self.log.append(c)
        ins = c[1]
        if self.mute_at == ins:
            return None
        if self.remove_at == ins:
            raise RuntimeError("card removed")
        h = getattr(self, "_ins_%02x" % ins, None)
        if h is None:
            return b"\x6d\x00"
        return h(c)

    def _ins_a4(self, c):                     # SELECT (starts a new card session)
        self._done1 = False
        self._arqc = None
        name = c[5:5 + c[4]]
        if name == b"1PAY.SYS.DDF01":
            if not self.pse:
                return b"\x6a\x82"
            return self._ok(enc_tlv(0x6F, tlvs((0x84, name), (0xA5, tlvs((0x88, b"\x01"))))))
        if self.ddf and name == self.ddf:
            return self._ok(enc_tlv(0x6F, tlvs((0x84, name), (0xA5, tlvs((0x88, b"\x03"))))))
        nxt = c[3] == 0x02
        matches = [a for a in self.apps if a["aid"][:len(name)] == name]
        if not nxt:
            self._next = 0
        if self._next >= len(matches):
            return b"\x6a\x82"
        app = matches[self._next]
        self._next += 1
        self._selected = app
        return self._fci(app) + (b"\x62\x83" if app.get("blocked") else b"\x90\x00")

    def _ins_b2(self, c):                     # READ RECORD
        sfi, rec = c[3] >> 3, c[2]
        if sfi == 1 and self.pse and self._selected is None and self.ddf:
            if rec != 1:
                return b"\x6a\x83"
            return self._ok(enc_tlv(0x70, enc_tlv(0x61, enc_tlv(0x9D, self.ddf))))
        if sfi in (1, 3) and self.pse and self._selected is None:
            if rec != 1:
                return b"\x6a\x83"
            entries = b"".join(enc_tlv(0x61, tlvs((0x4F, a["aid"]), (0x50, a["label"].encode()),
                                                   *([(0x87, bytes([a["priority"]]))] if a.get("priority") is not None else [])))
                               for a in self.apps)
            return self._ok(enc_tlv(0x70, entries))
        r = self.records.get((sfi, rec))
        return self._ok(r) if r is not None else b"\x6a\x83"

    def _ins_a8(self, c):                     # GET PROCESSING OPTIONS
        sw = self.gpo_sw.get(self._selected["aid"] if self._selected else None)
        if sw:
            return sw.to_bytes(2, "big")
        self._pdol_data = c[7:7 + c[6]]
        if self.gpo_format == 1:
            return self._ok(enc_tlv(0x80, self.aip + self.afl))
        return self._ok(enc_tlv(0x77, tlvs((0x82, self.aip), (0x94, self.afl))))

    def _ins_ca(self, c):                     # GET DATA
        tag = (c[2] << 8) | c[3]
        val = {0x9F17: bytes([self.pin_tries]) if self.pin_tries is not None else None,
               0x9F36: self.atc.to_bytes(2, "big"), 0x9F13: self.last_online_atc.to_bytes(2, "big")}.get(tag)
        if val is None:
            return b"\x6a\x88"
        return self._ok(enc_tlv(tag, val))

    def _ins_84(self, c):                     # GET CHALLENGE
        self._challenge = os.urandom(8)
        return self._ok(self._challenge)

    def _check_pin(self, block):
        n = block[0] & 0x0F
        pin = block[1:].hex()[:n]
        if self.pin_tries == 0:
            return b"\x69\x83"
        if pin == self.pin:
            self.pin_tries = 3
            self.pin_verified = True
            return b"\x90\x00"
        self.pin_tries -= 1
        return bytes([0x63, 0xC0 | self.pin_tries])

    def _ins_20(self, c):                     # VERIFY
        data = c[5:5 + c[4]]
        if c[3] == 0x80:
            return self._check_pin(data)
        if c[3] == 0x88:
            m = (self.pin_key or self.pki.icc).private(data)
            if m[0] != 0x7F or m[9:17] != self._challenge:
                return b"\x69\x85"
            return self._check_pin(m[1:9])
        return b"\x6a\x86"

    def _ins_88(self, c):                     # INTERNAL AUTHENTICATE
        ddol_data = c[5:5 + c[4]]
        dyn = b"\x04\x11\x22\x33\x44"
        return self._ok(enc_tlv(0x80, signed_dynamic_data(self.pki.icc, dyn, ddol_data)))

    def _ins_ae(self, c):                     # GENERATE AC
        p1 = c[2]
        data = c[5:5 + c[4]]
        first = self._arqc is None and not getattr(self, "_done1", False)
        want = p1 & 0xC0
        cid = (self.answer if first else self.answer2)
        cid = want if cid is None else cid
        self.atc += 1 if first else 0
        iad = bytes.fromhex("06010A03A00000")           # CVN 10, CVR 03A00000
        if self.hsm is not None:
            tags = self._dol_values(self.cdol1 if first else self.cdol2, data)
            tags.update({0x82: self.aip, 0x9F36: (self.atc).to_bytes(2, "big"), 0x9F10: iad})
            if not first:
                tags.update(self._dol_values(self.cdol1, self._cdol1_data))
                tags.update({0x82: self.aip, 0x9F36: (self.atc).to_bytes(2, "big"), 0x9F10: iad})
            ac = self.hsm.arqc_generate(self.hsm.TEST_IMK_AC, self.pan, "%02d" % 1, tags)
        else:
            ac = hmac.new(ISSUER_KEY, data + bytes([cid]), hashlib.sha1).digest()[:8]
        if first:
            self._done1 = True
            self._cdol1_data = data
            if cid == 0x80:
                self._arqc = ac
        atc = self.atc.to_bytes(2, "big")
        if p1 & 0x10 and cid != 0x00:
            items = [(0x9F27, bytes([cid])), (0x9F36, atc), (0x9F10, iad)]
            resp_tlvs = tlvs(*items)
            hashed = self._pdol_data + (self._cdol1_data if not first else b"") + data + resp_tlvs
            tdhc = sha1(hashed)
            idn = b"\x01\x02\x03\x04"
            dyn = bytes([len(idn)]) + idn + bytes([cid]) + ac + tdhc
            un = data[self._un_offset(first):self._un_offset(first) + 4]
            sig = signed_dynamic_data(self.pki.icc, dyn, un)
            if self.bad_cda:
                sig = bytes([sig[0] ^ 1]) + sig[1:]
            return self._ok(enc_tlv(0x77, resp_tlvs + enc_tlv(0x9F4B, sig)))
        return self._ok(enc_tlv(0x80, bytes([cid]) + atc + ac + iad))

    @staticmethod
    def _dol_values(dol, data):
        out = {}
        i = off = 0
        while i < len(dol):
            t = dol[i]
            i += 1
            if t & 0x1F == 0x1F:
                t = (t << 8) | dol[i]
                i += 1
            n = dol[i]
            i += 1
            out[t] = data[off:off + n]
            off += n
        return out

    def _un_offset(self, first):
        # offset of 9F37 in the CDOL data
        dol = self.cdol1 if first else self.cdol2
        i = off = 0
        while i < len(dol):
            t = dol[i]
            i += 1
            if t & 0x1F == 0x1F:
                t = (t << 8) | dol[i]
                i += 1
            n = dol[i]
            i += 1
            if t == 0x9F37:
                return off
            off += n
        raise AssertionError("CDOL without 9F37")

    def _ins_82(self, c):                     # EXTERNAL AUTHENTICATE
        if self.ext_auth_sw is not None:
            return self.ext_auth_sw.to_bytes(2, "big")
        data = c[5:5 + c[4]]
        if self.hsm is not None and self._arqc is not None:
            from pyemv import kd
            sk = kd.derive_icc_mk_a(self.hsm.TEST_IMK_AC, self.pan, "01")     # CVN 10: the ICC MK
            from pyemv import ac as pac
            ok = data[:8] == pac.generate_arpc_1(sk, self._arqc, data[8:10])
            return b"\x90\x00" if ok else b"\x63\x00"
        if self._arqc is not None and data[:8] == arpc_for(self._arqc, data[8:10]):
            return b"\x90\x00"
        return b"\x63\x00"

    def _ins_24(self, c):                     # CHANGE/UNBLOCK PIN (issuer script)
        return b"\x69\x85" if self.script_fail_ins == 0x24 else b"\x90\x00"

    def _ins_1e(self, c):                     # APPLICATION BLOCK (issuer script)
        return b"\x69\x85" if self.script_fail_ins == 0x1E else b"\x90\x00"

    def _ins_da(self, c):                     # PUT DATA (issuer script)
        return b"\x6a\x80" if self.script_fail_ins == 0xDA else b"\x90\x00"


class HostStub:
    """TEST authorizer for MiniCard: approves (or not) and sends ARPC/scripts."""

    def __init__(self, approve=True, arc=b"00", bad_arpc=False, scripts=b"", unable=False, raise_=None):
        self.approve = approve
        self.arc = arc
        self.bad_arpc = bad_arpc
        self.scripts = scripts
        self.unable = unable
        self.raise_ = raise_
        self.requests = []
        self.completions = []

    def authorize(self, req):
        self.requests.append(req)
        if self.raise_:
            return {"raise": self.raise_}
        if self.unable:
            return {"unable_to_go_online": True}
        f55 = bytes.fromhex(req["icc_data"])
        arqc = _find(f55, 0x9F26)
        arpc = arpc_for(arqc, self.arc)
        if self.bad_arpc:
            arpc = bytes(8)
        icc = tlvs((0x91, arpc + self.arc), (0x8A, self.arc)) + self.scripts
        return {"approved": self.approve, "response_code": self.arc.decode(), "auth_code": "A1B2C3",
                "rrn": "000000000001", "icc_data": icc.hex(), "text": "APPROVED" if self.approve else "DECLINED"}

    def complete(self, msg):
        self.completions.append(msg)


def _find(buf, tag):
    """Value of a top-level TLV of field 55, or None."""
    return dict(tlv_children(buf)).get(tag)


class HsmHost:
    """TEST local authorizer with real issuer cryptography: verifies the ARQC (CVN 10) and
    makes the ARPC (method 1) with the acquirer simulator's HSM functions and TEST IMK."""

    def __init__(self, approve=True, arc=b"00", scripts=b""):
        from host_sim.hosts.acquirer import hsm
        self.hsm = hsm
        self.approve = approve
        self.arc = arc
        self.scripts = scripts
        self.requests = []
        self.completions = []

    def authorize(self, req):
        self.requests.append(req)
        tags = dict(tlv_children(bytes.fromhex(req["icc_data"])))
        psn = (req.get("pan_seq") or "00")[-2:]
        ok, arpc = self.hsm.arqc_verify_arpc(self.hsm.TEST_IMK_AC, req["pan"], psn, tags, self.arc)
        if not ok:
            return {"approved": False, "response_code": "05", "icc_data": tlvs((0x8A, b"05")).hex(),
                    "text": "DO NOT HONOUR (ARQC does not verify)"}
        return {"approved": self.approve, "response_code": self.arc.decode(), "auth_code": "123456",
                "rrn": "000000000042", "icc_data": (tlvs((0x91, arpc + self.arc), (0x8A, self.arc))
                                                    + self.scripts).hex(),
                "text": "APPROVED" if self.approve else "DECLINED"}

    def complete(self, msg):
        self.completions.append(msg)
