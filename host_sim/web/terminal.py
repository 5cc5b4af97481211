"""What the web face can see and do on a running virtual board.

`Terminal` adapts the device models of a VirtualBoard (and the host services
started beside it) to the face's controls.  A model that is not wired (its
module not built yet) makes its control answer a clear error instead of
failing the whole page.
"""
import io
import json
import struct
import threading
import time

from host_sim.web.server import ControlError, png_bytes

try:
    from PIL import Image
except ImportError:  # pragma: no cover
    Image = None

DEFAULT_PROFILE = "visa-credit"      # approves: offline PIN (TEST PIN 1234), then online
# APDU instruction names for the trace pane (ISO 7816-4, EMV Book 3 6.5)
INS_NAMES = {0xA4: "SELECT", 0xB2: "READ RECORD", 0xA8: "GET PROCESSING OPTIONS", 0xAE: "GENERATE AC",
             0x20: "VERIFY", 0xCA: "GET DATA", 0x84: "GET CHALLENGE", 0x88: "INTERNAL AUTHENTICATE",
             0x82: "EXTERNAL AUTHENTICATE", 0xC0: "GET RESPONSE", 0x1E: "APPLICATION BLOCK",
             0x18: "APPLICATION UNBLOCK", 0x24: "PIN CHANGE/UNBLOCK", 0x2A: "COMPUTE CRYPTOGRAPHIC CHECKSUM"}


def apdu_lines(ev):
    """(command line, response line) for a model's apdu event: the header, the command's
    name and data length, the AID of a SELECT; the response's length and status word.  No
    other data: records (PAN, track), VERIFY (PIN block) stay out of the pane."""
    ins = ev.get("ins", 0) or 0
    header = (ev.get("header") or "").upper()
    head = " ".join(header[i:i + 2] for i in range(0, len(header), 2))
    cmd = "%s %s" % (head or "%02X" % ins, INS_NAMES.get(ins, "INS %02X" % ins))
    if ev.get("aid"):
        cmd += " " + ev["aid"].upper()
    elif ev.get("lc"):
        cmd += " [%d bytes]" % ev["lc"]
    sw = (ev.get("sw") or "").upper()
    resp = "%s %s" % (sw[:2], sw[2:]) if sw else "(no answer)"
    if ev.get("rlen"):
        resp += " [%d bytes]" % ev["rlen"]
    return cmd, resp


def _asks_pin(p):
    """Does the profile's CVM list name a PIN method (Book 3 C3: 01-05 offline/online)?"""
    cvm = p.get("cvm_list", "")
    rules = cvm[16:]
    return any(int(rules[i:i + 2], 16) & 0x3F in (1, 2, 3, 4, 5) for i in range(0, len(rules) - 1, 4)) \
        if cvm else "pin" in p


def read_qr(png):
    """The text of the QR code in a PNG image (zbarimg, as a phone's camera app), or None."""
    import shutil
    import subprocess
    import tempfile
    zbar = shutil.which("zbarimg")
    if zbar is None:
        raise ControlError("zbarimg is not installed (apt install zbar-tools)")
    with tempfile.NamedTemporaryFile(suffix=".png") as f:
        f.write(png)
        f.flush()
        r = subprocess.run([zbar, "--raw", "-q", f.name], capture_output=True, text=True, timeout=20)
    text = r.stdout.strip()
    return text or None


def mpm_fields(payload):
    """EMVCo MPM ID/length/value fields; template 62 (additional data) split into its
    sub-fields.  ControlError for a payload that does not parse or fails its CRC (ID 63)."""
    import binascii
    if len(payload) < 8 or payload[-8:-4] != "6304" or \
            "%04X" % binascii.crc_hqx(payload[:-4].encode(), 0xFFFF) != payload[-4:].upper():
        raise ControlError("the QR code on the display is not an EMVCo payload with a valid CRC")

    def walk(s):
        out = {}
        i = 0
        while i + 4 <= len(s):
            tag, n = s[i:i + 2], int(s[i + 2:i + 4])
            out[tag] = s[i + 4:i + 4 + n]
            i += 4 + n
        return out
    try:
        f = walk(payload)
        if "62" in f:
            f["62"] = walk(f["62"])
    except ValueError:
        raise ControlError("the QR code on the display does not parse as EMVCo MPM")
    return f


KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "00", "0", ".",
        "CANCEL", "CLEAR", "ENTER", "F1", "F2", "F3", "F4", "MENU", "UP", "DOWN")


class Trace:
    """A bounded, masked event list for the APDU and ISO 8583 panes."""

    def __init__(self, limit=2000):
        self.limit = limit
        self.items = []
        self.seq = 0
        self.lock = threading.Lock()

    def add(self, **item):
        with self.lock:
            self.seq += 1
            item["seq"] = self.seq
            item.setdefault("t", time.time())
            self.items.append(item)
            if len(self.items) > self.limit:
                del self.items[: len(self.items) - self.limit]

    def since(self, seq):
        with self.lock:
            return [i for i in self.items if i["seq"] > seq]


class Terminal:
    def __init__(self, board, hosts=None, profiles=None):
        self.board = board
        self.hosts = hosts or {}
        self._profiles = profiles or {}
        self.closing = False
        self.traces = {"apdu": Trace(), "iso8583": Trace()}
        self.host_packets = []        # (time, src_port, dst_port, payload) for pcap export
        self.powered = True
        self.drawer_open = False
        self._hook_models()

    # ------------------------------------------------------------- models
    def _dev(self, role):
        dev = self.board.devices.get(role) if self.board else None
        if dev is None:
            raise ControlError("the %s is not fitted on this virtual board yet" % role)
        return dev

    def _hook_models(self):
        if not self.board:
            return
        for dev in self.board.devices.values():
            dev.listeners.append(self._on_event)

    def _on_event(self, ev):
        kind = ev.get("event")
        if kind == "apdu":
            cmd, resp = apdu_lines(ev)
            dev = ev.get("device")
            self.traces["apdu"].add(dir="out", data=cmd, device=dev)
            self.traces["apdu"].add(dir="in", data=resp, device=dev)
        elif kind == "drawer":
            self.drawer_open = True

    def record_host_message(self, direction, summary, raw=b"", ports=(40000, 5000)):
        """Called by host services: a masked ISO 8583 summary and the raw bytes for pcap."""
        self.traces["iso8583"].add(dir=direction, data=summary)
        src, dst = ports if direction == "out" else (ports[1], ports[0])
        self.host_packets.append((time.time(), src, dst, bytes(raw)))

    # ----------------------------------------------------------- rendering
    def display_png(self):
        dev = self._dev("display")
        if hasattr(dev, "image"):
            return png_bytes(dev.image())
        buf = io.BytesIO()
        dev.save_png(buf)
        return buf.getvalue()

    def printer_png(self):
        dev = self._dev("printer")
        return png_bytes(dev.image())

    def printer_text(self):
        return self._dev("printer").transcript()

    def state(self):
        st = {"powered": self.powered, "drawer_open": self.drawer_open, "devices": {}}
        if self.board:
            for role, dev in self.board.devices.items():
                try:
                    st["devices"][role] = dev.status()
                except Exception as exc:  # a model's status must not break the page
                    st["devices"][role] = {"error": str(exc)}
            disp = self.board.devices.get("display")
            if disp is not None:
                st["display_version"] = getattr(disp, "version", None) or getattr(disp, "frame_count", None)
        st["trace_seq"] = {k: v.seq for k, v in self.traces.items()}
        return st

    def profiles(self):
        """The card list for the face: [{name, description, pin}], an approving card first."""
        names = sorted(self._profiles) if isinstance(self._profiles, dict) else list(self._profiles)
        out = []
        for name in names:
            try:
                from host_sim.cards import load_profile
                p = load_profile(name)
            except Exception:                    # a file-less or broken profile: still listed
                p = {}
            out.append({"name": name, "description": p.get("description", ""),
                        "pin": p.get("pin", "") if _asks_pin(p) else ""})
        out.sort(key=lambda x: x["name"] != DEFAULT_PROFILE)
        return out

    def pay_with_wallet(self):
        """The customer's phone: read the merchant QR on the display (a real QR decoder on the
        display's image), take the order from the EMVCo payload (template 62, bill number)
        and pay it on the wallet host as the wallet app would."""
        wallet = self.hosts.get("wallet")
        if wallet is None:
            raise ControlError("no wallet host runs beside this terminal")
        payload = read_qr(self.display_png())
        if payload is None:
            raise ControlError("no QR code on the display: choose QR > Show QR on the terminal first")
        fields = mpm_fields(payload)
        order = fields.get("62", {}).get("01") if isinstance(fields.get("62"), dict) else None
        if not order:
            raise ControlError("the QR code on the display is not a merchant payment code")
        import urllib.request
        import urllib.error
        req = urllib.request.Request("http://127.0.0.1:%d/sim/pay/%s" % (wallet.port, order), data=b"",
                                     method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                body = json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise ControlError("wallet: %s" % (json.loads(exc.read() or b"{}").get("error", exc.code)))
        except OSError as exc:
            raise ControlError("wallet host not answering: %s" % exc)
        return {"order": order, "amount": fields.get("54", ""), "txn": body.get("txn", "")}

    def trace(self, kind, since=0):
        if kind not in self.traces:
            raise ControlError("unknown trace %r (apdu, iso8583)" % kind)
        return self.traces[kind].since(since)

    # ------------------------------------------------------------ controls
    def press_key(self, key):
        key = key.upper()
        if key not in KEYS:
            raise ControlError("unknown key %r" % key)
        if not self.powered:
            raise ControlError("the terminal is off: power it on first")
        dev = self._dev("keypad")
        dev.tap(key)

    def card(self, action, profile=None):
        if action in ("insert", "remove"):
            dev = self._dev("contact")
            if action == "insert":
                dev.insert(self._card_for(profile, "contact"))
            else:
                dev.remove()
        elif action in ("tap", "hold", "lift"):
            dev = self._dev("pn532")
            if action in ("tap", "hold"):
                dev.tap(self._card_for(profile, "contactless"))
            else:
                dev.remove()
        else:
            raise ControlError("unknown card action %r (insert, remove, tap, lift)" % action)

    def _card_for(self, profile, interface):
        if not profile:
            raise ControlError("choose a card profile first")
        factory = self._profiles.get(profile) if isinstance(self._profiles, dict) else None
        if factory is None:
            raise ControlError("unknown card profile %r" % profile)
        try:
            return factory(interface)
        except Exception as exc:
            raise ControlError(str(exc))

    def swipe(self, profile):
        dev = self._dev("msr")
        card = self._card_for(profile, "magstripe")
        dev.swipe(card=card)

    def scan(self, code):
        if not code:
            raise ControlError("nothing to scan: type or paste a code")
        if len(code) > 4096:
            raise ControlError("code too long for the scanner (%d characters)" % len(code))
        self._dev("scanner").scan(code)

    def drawer(self, action):
        if action == "close":
            self.drawer_open = False
        else:
            raise ControlError("the drawer opens only when the terminal kicks it")

    def printer_control(self, action):
        dev = self._dev("printer")
        if action == "paper_out":
            dev.inject("paper_out")
        elif action == "load_paper":
            dev.load_paper()
        elif action == "open_cover":
            dev.inject("cover_open")
        elif action == "close_cover":
            dev.close_cover()
        elif action == "tear_off":
            dev.tear_off()
        else:
            raise ControlError("unknown printer action %r" % action)

    def power(self, action):
        if action == "cut":
            if not self.powered:
                raise ControlError("the terminal is already off")
            self.board.power_cut()
            self.powered = False
        elif action == "on":
            if self.powered:
                raise ControlError("the terminal is already on")
            self.board.power_on()
            self.powered = True
        else:
            raise ControlError("unknown power action %r (cut, on)" % action)

    # ---------------------------------------------------------------- pcap
    def pcap(self):
        """The host traffic as a classic pcap file (LINKTYPE_RAW IPv4/TCP on loopback)."""
        out = io.BytesIO()
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        seqs = {}
        for ts, src, dst, payload in list(self.host_packets):
            seq = seqs.get((src, dst), 1)
            seqs[(src, dst)] = seq + len(payload)
            tcp = struct.pack("!HHIIBBHHH", src, dst, seq, 0, 5 << 4, 0x18, 65535, 0, 0)
            total = 20 + len(tcp) + len(payload)
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, 6, 0,
                             bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
            ip = ip[:10] + struct.pack("!H", _ip_checksum(ip)) + ip[12:]
            pkt = ip + tcp + payload
            sec = int(ts)
            out.write(struct.pack("<IIII", sec, int((ts - sec) * 1e6), len(pkt), len(pkt)))
            out.write(pkt)
        return out.getvalue()


def _ip_checksum(hdr):
    s = 0
    for i in range(0, len(hdr), 2):
        s += (hdr[i] << 8) | hdr[i + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF
