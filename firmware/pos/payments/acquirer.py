# One acquirer as the terminal sees it: its message spec, connection, keys,
# terminal/merchant IDs.  exchange() sends one request and returns the
# matching reply, verified: right response MTI, same STAN (duplicates and
# stale replies are skipped, ISO 8583:1987 4.1 MTI + field 11), MAC checked
# with the session TAK (the sign-on's with the terminal master key).
import time
from pos import log
from pos.iso8583 import codec, framing, mac, spec as specs
from pos.iso8583.errors import Iso8583Error
from pos.payments.errors import BadReply, HostError, NoResponse, as_host_error
from pos.payments.transport import Endpoint, Link


def response_mti(mti):
    # ISO 8583:1987 4.1.1: message function digit 0 (request) / 2 (advice) -> +1
    return mti[:2] + chr(ord(mti[2]) + 1) + mti[3]


class Acquirer:
    def __init__(self, name, cfg, keystore):
        self.name = name
        self.cfg = cfg
        self.spec = specs.get(cfg["spec"])
        self.keystore = keystore
        eps = [Endpoint(cfg["host"], cfg["port"], cfg["tls"])]
        sec = cfg.get("secondary")
        if sec:
            eps.append(Endpoint(sec["host"], sec["port"], sec.get("tls", cfg["tls"])))
        self.link = Link(eps, cfg["connect_timeout_ms"], self.spec.header, self.spec.max_message)
        self.timeout_ms = cfg["timeout_ms"]
        self.tid = cfg["tid"]
        self.mid = cfg["mid"]
        self.nii = cfg["nii"]
        self.trace = None       # callable(direction, mti, fields) for the ISO 8583 trace pane

    def _tpdu(self):
        return framing.tpdu(self.nii, 0) if self.spec.tpdu else None

    def request(self, mti, fields, use_mac=True):
        """(frame, expected reply MTI, STAN, TAK or None) for one request."""
        f = dict(fields)
        f[41] = self.tid
        f[42] = self.mid
        tak = self.mac_key(mti, f) if use_mac else None
        try:
            body = mac.encode(self.spec, mti, f, tak) if tak else codec.encode(self.spec, mti, f)
        except Iso8583Error as e:
            raise BadReply("request cannot be encoded: %s" % e)
        if self.trace:
            self.trace(">", mti, f)
        return framing.frame(self.spec, body, self._tpdu()), response_mti(mti), f.get(11), tak

    def mac_key(self, mti, fields):
        """The session TAK; for the sign-on (0800, DE 70 = 001), which has no working
        keys yet, the terminal master key: the host refuses a sign-on it cannot
        authenticate and MACs its 0810 under the same key."""
        if mti == "0800" and fields.get(70) == "001":
            return self.keystore.tmk(self.name)
        return self.keystore.working_key(self.name, "tak")

    def accept(self, payload, want, stan, tak):
        """Reply fields when `payload` answers our request; None for a duplicate or
        stale reply (ignored); BadReply when malformed or its MAC fails."""
        try:
            _tp, rbody = framing.split(self.spec, payload)
            rmti, rf = codec.decode(self.spec, rbody)
        except Exception as e:         # Iso8583Error, or anything else the codec raises
            log.error("host", "malformed reply", acquirer=self.name, err=str(e))
            raise BadReply("malformed reply from %s: %s" % (self.name, e), sent=True)
        if rmti != want or rf.get(11) != stan:
            # a duplicate or stale reply (another STAN): ignored, keep waiting
            log.warning("host", "unexpected reply ignored", acquirer=self.name, mti=rmti,
                        stan=rf.get(11), want=want, want_stan=stan)
            return None
        if tak is not None and (64 in rf or 128 in rf or rf.get(39) == "00"):
            try:
                mac.verify(self.spec, rbody, rf, tak)
            except Exception as e:     # MacError, or the MAC code failing on this reply
                log.error("host", "reply MAC failure", acquirer=self.name, mti=rmti, stan=stan)
                raise BadReply("reply MAC failure from %s: %s" % (self.name, e), sent=True)
        if self.trace:
            self.trace("<", rmti, rf)
        return rf

    def exchange(self, mti, fields, use_mac=True):
        """Send `mti`/`fields` and return the verified reply fields.  Raises HostError only:
        any other exception on the way (a bug, the key store, the socket layer) comes out
        as BadReply(sent=True), so the caller treats the outcome as unknown."""
        try:
            return self._exchange(mti, fields, use_mac)
        except HostError:
            raise
        except Exception as e:
            self.link.close()
            log.error("host", "host path failed", acquirer=self.name, err=repr(e))
            raise as_host_error(e)

    def _exchange(self, mti, fields, use_mac):
        frame, want, stan, tak = self.request(mti, fields, use_mac)
        self.link.send(frame)
        deadline = time.ticks_add(time.ticks_ms(), self.timeout_ms)
        while True:
            left = time.ticks_diff(deadline, time.ticks_ms())
            if left <= 0:
                self.link.close()
                raise NoResponse("no %s for STAN %s within %d ms" % (want, stan, self.timeout_ms), sent=True)
            payload = self.link.receive(left)
            try:
                rf = self.accept(payload, want, stan, tak)
            except BadReply:
                self.link.close()
                raise
            if rf is not None:
                return rf
