"""Contactless EMV cards (ISO 14443-4 type A) built from the same profiles: a Visa-like qVSDC
card that answers the PPSE and GET PROCESSING OPTIONS with an online cryptogram (ARQC) in one
exchange, as the Visa contactless kernel (EMV Book C-3) expects for online transactions.

    card = make_card("visa-credit")        # uid, atqa, sak, ats, transmit(apdu)

The ARQC covers the amount, currency, country, date, type and unpredictable number the
terminal sent in the PDOL data (with TTQ 9F66 first), the AIP and ATC: the acquirer's HSM
verifies it like a contact ARQC.  Profile extras: "cl_phone": true marks a phone wallet
(CTQ says consumer device CVM performed; the PAN is a token PAN from "token_pan");
"cl_contact_only": true makes GPO answer 6985 (the terminal must switch to contact).

Faults of the profile hold on this interface too: "mute" (no answer to any command: the
PN532 reports a time-out) and "malformed_record", which breaks record 1 (read on the
offline fDDA path) and the online GPO answer (a last data object, 5F24, claims more bytes
than follow), so the online qVSDC path, which reads no record, meets it too.
"""
import hashlib

from host_sim.cards import load_profile
from host_sim.cards.card import CardSimulator, dol_values, enc_tlv, tlvs

PPSE = b"2PAY.SYS.DDF01"
PDOL = bytes.fromhex("9F66049F02069F03069F1A0295055F2A029A039C019F3704")


class ContactlessCard(CardSimulator):
    type = "A"
    atqa = bytes.fromhex("0044")
    sak = 0x20                                   # ISO 14443-4 compliant

    def __init__(self, profile, imk_ac=None):
        p = dict(profile)
        if p.get("cl_phone") and p.get("token_pan"):
            p["pan"] = p["token_pan"]
        self.qvsdc = p.get("scheme") != "mastercard"     # Mastercard-like: M/Chip flow (GPO, records, GENERATE AC)
        if self.qvsdc:
            p["pdol"] = PDOL.hex()
        super().__init__(p, imk_ac)
        self.uid = bytes.fromhex("08") + hashlib.sha256(p["name"].encode()).digest()[:3]   # random-UID style
        self.ats = bytes.fromhex("7577810280")
        self.phone = bool(p.get("cl_phone"))

    def _ins_a4(self, c):
        name = self._data(c)
        if name == PPSE:
            entries = b""
            for a in self.apps:
                items = [(0x4F, a["aid"]), (0x50, a["label"].encode()), (0x87, bytes([a.get("priority", 1)]))]
                entries += enc_tlv(0x61, tlvs(*items))
            self.selected = "PPSE"
            return enc_tlv(0x6F, tlvs((0x84, PPSE), (0xA5, enc_tlv(0xBF0C, entries)))) + b"\x90\x00"
        return super()._ins_a4(c)

    def _ins_a8(self, c):                         # qVSDC GPO: online cryptogram at once
        if self.profile.get("cl_contact_only"):
            return b"\x69\x85"                    # conditions of use: the issuer wants the chip
        if not self.qvsdc:
            return super()._ins_a8(c)
        if not isinstance(self.selected, dict):
            return b"\x69\x85"
        data = self._data(c)
        if not data or data[0] != 0x83:
            return b"\x6a\x80"
        pdol_data = data[2:2 + data[1]]
        v = dol_values(PDOL, pdol_data)
        ttq = v.get(0x9F66, bytes(4))
        if not ttq[0] & 0x20:                     # the reader does not support qVSDC
            return b"\x69\x85"                    # -> conditions of use: try another interface
        self.atc = (self.atc + 1) & 0xFFFF
        atc = self.atc.to_bytes(2, "big")
        offline = not ttq[1] & 0x80 and self.profile.get("oda", "CDA") is not None
        if offline:                               # fDDA + TC: the reader may approve offline
            return self._offline_tc(v, atc)
        aip = bytes([0x00, 0x80])                 # contactless (EMV mode), no offline data authentication
        self.cvr[1] = 0x20                        # 1st AC: ARQC
        iad = self.crypto.iad(bytes(self.cvr))
        values = {0x9F02: v.get(0x9F02), 0x9F03: v.get(0x9F03), 0x9F1A: v.get(0x9F1A), 0x95: v.get(0x95),
                  0x5F2A: v.get(0x5F2A), 0x9A: v.get(0x9A), 0x9C: v.get(0x9C), 0x9F37: v.get(0x9F37),
                  0x82: aip, 0x9F36: atc}
        ac = self.crypto.generate(values, iad)
        # CTQ: online PIN not required; CDCVM performed on a phone (Book C-3 Annex A)
        ctq = bytes([0x00, 0x80 if self.phone else 0x00])
        exp = self.profile.get("expiry", "281231")
        t2 = self.pan + "D" + exp[:4] + self.profile.get("service_code", "201") + "0000000000000"
        t2 = t2 + ("F" if len(t2) % 2 else "")
        body = tlvs((0x82, aip), (0x9F36, atc), (0x9F26, ac), (0x9F27, b"\x80"), (0x9F10, iad),
                    (0x57, bytes.fromhex(t2)), (0x5F34, bytes.fromhex(self.psn)), (0x9F6C, ctq),
                    (0x5F24, bytes.fromhex(exp)))
        return enc_tlv(0x77, self._faulty(body)) + b"\x90\x00"

    def _faulty(self, body):
        """A GPO answer's data objects as the profile's faults make them."""
        if self.faults.get("malformed_record"):
            return body + bytes.fromhex("5F2409281231")   # an expiry that announces 9 bytes, 3 follow
        return body


    def _offline_tc(self, v, atc):
        """qVSDC offline: TC with fDDA (Book C-3): SDAD 9F4B over the reader's unpredictable
        number, amount, currency and the card authentication related data 9F69."""
        from host_sim.cards import crypto as C
        aip = bytes([0x20, 0x80])                 # DDA supported (fDDA), EMV mode
        self.cvr[1] = 0x10                        # 1st AC: TC
        iad = self.crypto.iad(bytes(self.cvr))
        values = {t: v.get(t) for t in (0x9F02, 0x9F03, 0x9F1A, 0x95, 0x5F2A, 0x9A, 0x9C, 0x9F37)}
        values.update({0x82: aip, 0x9F36: atc})
        ac = self.crypto.generate(values, iad)
        card_un = hashlib.sha256(atc + bytes(v.get(0x9F37) or b"")).digest()[:4]
        ctq = bytes([0x00, 0x80 if self.phone else 0x00])
        auth = b"\x01" + card_un + ctq                 # 9F69: version 01, card UN, CTQ
        sdad = C.signed_dynamic_data(self.icc_key, bytes([2]) + atc,
                                     bytes(v.get(0x9F37)) + bytes(v.get(0x9F02)) + bytes(v.get(0x5F2A)) + auth)
        exp = self.profile.get("expiry", "281231")
        t2 = self.pan + "D" + exp[:4] + self.profile.get("service_code", "201") + "0000000000000"
        t2 = t2 + ("F" if len(t2) % 2 else "")
        body = tlvs((0x82, aip), (0x94, self.afl), (0x9F36, atc), (0x9F26, ac), (0x9F27, b"\x40"),
                    (0x9F10, iad), (0x57, bytes.fromhex(t2)), (0x5F34, bytes.fromhex(self.psn)),
                    (0x9F6C, ctq), (0x9F69, auth), (0x9F4B, sdad))
        return enc_tlv(0x77, body) + b"\x90\x00"          # a malformed_record card breaks in record 1


def make_card(name):
    return ContactlessCard(load_profile(name))
