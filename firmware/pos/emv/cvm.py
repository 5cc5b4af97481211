# Cardholder verification, EMV 4.4 Book 3 section 10.5 with Book 4 6.3.4
# (PIN entry) and Book 2 section 7 (offline PIN encipherment).
from micropython import const

from pos import crypto
from pos.emv import oda
from pos.emv import tvr as T

# CVM codes, Book 3 Annex C3 Table 39 (b6-b1 of the first CV Rule byte)
FAIL = const(0x00)
PLAIN_PIN = const(0x01)
ONLINE_PIN = const(0x02)
PLAIN_PIN_SIG = const(0x03)
ENC_PIN = const(0x04)
ENC_PIN_SIG = const(0x05)
SIGNATURE = const(0x1E)
NO_CVM = const(0x1F)
_APPLY_NEXT = const(0x40)

RESULT_UNKNOWN = const(0)
RESULT_FAILED = const(1)
RESULT_OK = const(2)

# 9F33 byte 2 bit needed for each method (Book 4 Annex A2)
_CAPS = {PLAIN_PIN: 0x80, ONLINE_PIN: 0x40, PLAIN_PIN_SIG: 0xA0, ENC_PIN: 0x10,
         ENC_PIN_SIG: 0x30, SIGNATURE: 0x20, NO_CVM: 0x08, FAIL: 0x00}

NAMES = {FAIL: "fail CVM", PLAIN_PIN: "offline plaintext PIN", ONLINE_PIN: "online PIN",
         PLAIN_PIN_SIG: "offline plaintext PIN and signature", ENC_PIN: "offline enciphered PIN",
         ENC_PIN_SIG: "offline enciphered PIN and signature", SIGNATURE: "signature",
         NO_CVM: "no CVM required"}


def condition_met(tx, cond, method):
    """Book 3 Annex C3 Table 40: CVM condition codes."""
    t = tx.tx_type
    unattended = not tx.cfg.terminal.attended
    if cond == 0x00:
        return True
    if cond == 0x01:
        return unattended and t == 0x01
    if cond == 0x02:
        return not (t == 0x01) and t != 0x09
    if cond == 0x03:
        need = _CAPS.get(method)
        return need is not None and tx.cfg.terminal.capabilities[1] & need == need
    if cond == 0x04:
        return t == 0x01 and not unattended
    if cond == 0x05:
        return t == 0x09
    if 0x06 <= cond <= 0x09:
        cur = tx.data.get(0x9F42)
        if cur is None or cur != tx.cfg.terminal.currency_code:
            return False
        lim = tx.cvm_x if cond <= 0x07 else tx.cvm_y
        return tx.amount < lim if cond in (0x06, 0x08) else tx.amount > lim
    return False        # RFU or proprietary conditions are not satisfied


def _pin_block2(pin):
    # ISO 9564 format 2 for VERIFY (Book 3 6.5.12): 2N PPPP..FF
    b = bytearray(b"\xff" * 8)
    b[0] = 0x20 | len(pin)
    for i, ch in enumerate(pin):
        d = ord(ch) - 48
        j = 1 + i // 2
        if i & 1:
            b[j] = (b[j] & 0xF0) | d
        else:
            b[j] = (d << 4) | 0x0F
    return b


class Verifier:
    def __init__(self, tx):
        self.tx = tx
        self.signature = False
        self.pin_block = None       # enciphered online PIN block for the authorizer

    def run(self):
        """Perform CVM processing; returns the CVM Results (9F34) bytes."""
        tx = self.tx
        if not tx.aip[0] & 0x10:            # AIP b5: cardholder verification supported
            tx.trace("CVM: card does not support cardholder verification")
            return b"\x3f\x00\x00"
        cvm = tx.data.get(0x8E)
        if cvm is None or len(cvm) < 10:
            # Book 3 10.5: no CVM list -> ICC data missing, CV not performed
            tx.tvr.set(T.ICC_DATA_MISSING)
            tx.trace("CVM: no CVM list")
            return b"\x3f\x00\x00"
        if len(cvm) % 2:
            tx.tvr.set(T.ICC_DATA_MISSING)
            return b"\x3f\x00\x00"
        tx.tsi.set(T.TSI_CV_PERFORMED)
        tx.cvm_x = int.from_bytes(cvm[0:4], "big")     # Amount X, binary (Book 3 C3)
        tx.cvm_y = int.from_bytes(cvm[4:8], "big")
        last = None
        for i in range(8, len(cvm), 2):
            code, cond = cvm[i], cvm[i + 1]
            method = code & 0x3F
            if not condition_met(tx, cond, method):
                continue
            result = self._perform(method, code)
            last = (code, cond, result)
            if result != RESULT_FAILED:
                tx.trace("CVM: %s done" % NAMES.get(method, "%02X" % method))
                return bytes((code, cond, result))
            if not code & _APPLY_NEXT:
                break
        tx.tvr.set(T.CV_NOT_SUCCESSFUL)
        tx.trace("CVM: cardholder verification failed")
        if last is None:
            return b"\x3f\x00\x01"
        return bytes((last[0], last[1], RESULT_FAILED))

    def _perform(self, method, code):
        tx = self.tx
        if method not in NAMES:
            tx.tvr.set(T.UNRECOGNISED_CVM)
            tx.trace("CVM: unrecognised CVM %02X" % code)
            return RESULT_FAILED
        need = _CAPS[method]
        if tx.cfg.terminal.capabilities[1] & need != need:
            tx.trace("CVM: %s not supported by the terminal" % NAMES[method])
            return RESULT_FAILED
        if method == FAIL:
            return RESULT_FAILED
        if method == NO_CVM:
            return RESULT_OK
        if method == SIGNATURE:
            self.signature = True
            return RESULT_UNKNOWN
        if method == ONLINE_PIN:
            return self._online_pin()
        r = self._offline_pin(method in (ENC_PIN, ENC_PIN_SIG))
        if r == RESULT_OK and method in (PLAIN_PIN_SIG, ENC_PIN_SIG):
            self.signature = True
            return RESULT_UNKNOWN
        return r

    def _ask_pin(self, online, tries):
        tx = self.tx
        if not tx.cfg.terminal.pin_pad or tx.ui is None or not hasattr(tx.ui, "enter_pin"):
            tx.tvr.set(T.PIN_PAD_MISSING)
            tx.trace("CVM: PIN required but no PIN pad")
            return None
        pin = tx.ui.enter_pin(online, tries)
        if not pin:
            tx.tvr.set(T.PIN_NOT_ENTERED)     # PIN bypass (Book 4 6.3.4.3)
            tx.trace("CVM: PIN entry bypassed")
            return None
        if not 4 <= len(pin) <= 12 or not all("0" <= c <= "9" for c in pin):
            tx.tvr.set(T.PIN_NOT_ENTERED)
            tx.trace("CVM: PIN entry invalid")
            return None
        return pin

    def _online_pin(self):
        tx = self.tx
        if tx.keystore is None:
            tx.tvr.set(T.PIN_PAD_MISSING)     # no PIN encryption key: PIN pad not working
            tx.trace("CVM: online PIN needs a PIN key in the key store")
            return RESULT_FAILED
        pin = self._ask_pin(True, None)
        if pin is None:
            return RESULT_FAILED
        clear = crypto.pinblock_build(tx.cfg.terminal.pin_block_format, pin.encode(), tx.pan.encode())
        key = tx.keystore.key("pin", tx.pan)     # the routed acquirer's PIN key (pos.payments)
        self.pin_block = crypto.des_encrypt(key, clear)
        pin = clear = None
        tx.tvr.set(T.ONLINE_PIN_ENTERED)
        return RESULT_UNKNOWN

    def _pin_try_counter(self):
        data, sw = self.tx.card.get_data(0x9F17)
        if sw == 0x9000 and len(data) >= 4 and data[0] == 0x9F and data[1] == 0x17:
            return data[3]
        return None

    def _encipherment_key(self):
        tx = self.tx
        if tx.pin_key is None:
            issuer = tx.issuer_key
            if issuer is None:
                issuer = oda.issuer_key(tx.cfg, tx.aid[:5], tx.data, tx.today)
            if tx.data.get(0x9F2D) is not None:
                # Book 2 7.1: ICC PIN Encipherment Public Key certificate, no static data
                tx.pin_key = oda.icc_key(issuer, tx.data, None, tx.today, 0x9F2D, 0x9F2E, 0x9F2F)
            else:
                tx.pin_key = tx.icc_key or oda.icc_key(issuer, tx.data, tx.static_data, tx.today)
        return tx.pin_key

    def _offline_pin(self, enciphered):
        tx = self.tx
        tries = self._pin_try_counter()
        if tries == 0:
            tx.tvr.set(T.PIN_TRY_LIMIT_EXCEEDED)   # Book 3 10.5.1: do not ask for the PIN
            tx.trace("CVM: PIN try limit exceeded (9F17 = 0)")
            return RESULT_FAILED
        key = None
        if enciphered:
            try:
                key = self._encipherment_key()
            except oda.OdaFailure as exc:
                tx.trace("CVM: no PIN encipherment key: %s" % exc)
                return RESULT_FAILED
        while True:
            pin = self._ask_pin(False, tries)
            if pin is None:
                return RESULT_FAILED
            block = _pin_block2(pin)
            pin = None
            if enciphered:
                ch, sw = tx.card.get_challenge()
                if sw != 0x9000 or len(ch) != 8:
                    tx.trace("CVM: GET CHALLENGE failed (SW %04X)" % sw)
                    return RESULT_FAILED
                n = len(key[0])
                msg = bytearray(n)
                msg[0] = 0x7F                          # Book 2 Table 25
                msg[1:9] = block
                msg[9:17] = ch
                msg[17:] = tx.random(n - 17)
                data, sw = tx.card.verify(0x88, crypto.rsa_public(key[0], key[1], msg))
                for i in range(n):
                    msg[i] = 0
            else:
                data, sw = tx.card.verify(0x80, block)
            for i in range(8):
                block[i] = 0
            if sw == 0x9000:
                tx.ui_message("PIN OK")
                return RESULT_OK
            if sw & 0xFFF0 == 0x63C0 and sw & 0x0F:
                tries = sw & 0x0F
                tx.ui_message("INCORRECT PIN" if tries > 1 else "LAST PIN TRY")
                continue
            if sw in (0x6983, 0x6984) or sw == 0x63C0:
                tx.tvr.set(T.PIN_TRY_LIMIT_EXCEEDED)
                tx.trace("CVM: PIN try limit exceeded (SW %04X)" % sw)
                return RESULT_FAILED
            tx.trace("CVM: VERIFY failed (SW %04X)" % sw)
            return RESULT_FAILED
