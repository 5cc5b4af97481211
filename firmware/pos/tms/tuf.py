# TUF metadata checks on the terminal (The Update Framework specification v1.0, section 5
# "Detailed client workflow"), for metadata made by python-tuf on the cloud side
# (cloud/tms/release.py): RSA keys, scheme "rsa-pkcs1v15-sha256" (RSASSA-PKCS1-v1_5 with
# SHA-256, RFC 8017 8.2.2) over the canonical JSON of "signed" (securesystemslib's
# OLPC canonical form).
#
#     trust = Trust(root_dict, versions, now)     # versions: {"root": n, "timestamp": n, ...}
#     target = trust.update(files, "firmware")    # files: {"timestamp.json": bytes, ...}
#
# A metadata file may also be given as Pieces (collected as it streams in, in blocks of at
# most 512 bytes): a terminal that has been running a while has its free heap in many small
# holes, and a targets.json of 2 KB in one block is then a MemoryError (seen after browsing
# the app store: 60 KB free, no hole over 3 KB).
#
# Every failure raises MetadataError with a reason naming the role and the rule.
import binascii
import gc
import hashlib
import io
import json

from pos import crypto

# DigestInfo for SHA-256 (RFC 8017 9.2 note 1)
_SHA256_INFO = b"\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20"
SCHEME = "rsa-pkcs1v15-sha256"


class MetadataError(ValueError):
    """Update metadata that may not be trusted; the message says which rule failed."""


class Pieces:
    """A metadata file as it arrives, kept in pieces of at most PIECE bytes: `take` is the sink
    of a download or an archive member, len() its size; parse() and the hash read it in place."""
    PIECE = 512

    def __init__(self, limit=16384):
        self.parts = []
        self.size = 0
        self.limit = limit

    def take(self, mv):
        if self.size + len(mv) > self.limit:
            raise MetadataError("over %d bytes" % self.limit)
        self.size += len(mv)
        for k in range(0, len(mv), self.PIECE):
            self.parts.append(bytes(mv[k:k + self.PIECE]))

    def __len__(self):
        return self.size

    def sha256(self):
        h = hashlib.sha256()
        for p in self.parts:
            h.update(p)
        return h.digest()

    def stream(self):
        return _PieceReader(self.parts)


class _PieceReader(io.IOBase):
    """Reads Pieces from the start (json.load takes any stream with readinto)."""

    def __init__(self, parts):
        self.parts = parts
        self.i = self.at = 0

    def readinto(self, buf):
        n = 0
        while n < len(buf) and self.i < len(self.parts):
            p = self.parts[self.i]
            k = min(len(buf) - n, len(p) - self.at)
            buf[n:n + k] = p[self.at:self.at + k]
            n += k
            self.at += k
            if self.at == len(p):
                self.i += 1
                self.at = 0
        return n


def load(raw):
    """The JSON of a metadata file given as bytes or as Pieces (ValueError when it is none)."""
    if isinstance(raw, Pieces):
        return json.load(raw.stream())
    return json.loads(raw)


def canonical(obj, write):
    """Feed the canonical JSON of obj to write(str) piece by piece (sorted keys, no spaces,
    only backslash and quote escaped in strings, integers only): hashed as it goes, never
    built whole in the heap."""
    if isinstance(obj, dict):
        write("{")
        first = True
        for k in sorted(obj):
            if not first:
                write(",")
            first = False
            canonical(k, write)
            write(":")
            canonical(obj[k], write)
        write("}")
    elif isinstance(obj, (list, tuple)):
        write("[")
        for i, v in enumerate(obj):
            if i:
                write(",")
            canonical(v, write)
        write("]")
    elif isinstance(obj, str):
        write('"')
        if "\\" in obj or '"' in obj:
            obj = obj.replace("\\", "\\\\").replace('"', '\\"')
        write(obj)
        write('"')
    elif obj is True:
        write("true")
    elif obj is False:
        write("false")
    elif obj is None:
        write("null")
    elif isinstance(obj, int):
        write(str(obj))
    else:
        raise MetadataError("canonical JSON has no floats")


def signed_digest(signed):
    """SHA-256 of the canonical form of `signed` (what a TUF signature covers)."""
    h = hashlib.sha256()
    canonical(signed, lambda s: h.update(s.encode()))
    return h.digest()


def _der(buf, i):
    """(tag, start of value, end of value) of the DER element at i."""
    tag = buf[i]
    n = buf[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[i:i + k], "big")
        i += k
    return tag, i, i + n


def rsa_public_key(pem):
    """(modulus, exponent) of a PEM SubjectPublicKeyInfo (RFC 5280 4.1, RFC 8017 A.1.1)."""
    body = "".join(l for l in pem.strip().split("\n") if l and not l.startswith("-----"))
    der = binascii.a2b_base64(body)
    _, i, _ = _der(der, 0)                     # SubjectPublicKeyInfo SEQUENCE
    _, a, e = _der(der, i)                     # AlgorithmIdentifier
    tag, b, e = _der(der, e)                   # BIT STRING
    if tag != 0x03:
        raise MetadataError("public key is not an RSA SubjectPublicKeyInfo")
    _, s, _ = _der(der, b + 1)                 # RSAPublicKey SEQUENCE (after unused-bits byte)
    _, n0, n1 = _der(der, s)
    _, e0, e1 = _der(der, n1)
    n = der[n0:n1]
    while n and n[0] == 0:
        n = n[1:]
    return bytes(n), bytes(der[e0:e1])


def verify_pkcs1(key, digest, sig):
    """RSASSA-PKCS1-v1_5 verification with SHA-256 (RFC 8017 8.2.2, EMSA-PKCS1-v1_5 9.2) of a
    message given by its digest."""
    n, e = key
    k = len(n)
    if len(sig) != k or sig >= n:
        return False
    gc.collect()                 # the modular exponentiation needs 514-byte blocks: make room
    em = crypto.rsa_public(n, e, sig)
    pad = k - 3 - len(_SHA256_INFO) - len(digest)
    if pad < 8 or em[0] != 0 or em[1] != 1 or em[2 + pad] != 0:
        return False
    for i in range(2, 2 + pad):
        if em[i] != 0xFF:
            return False
    return em[3 + pad:] == _SHA256_INFO + digest


def parse(name, raw):
    try:
        md = load(raw)
        return md["signed"], md["signatures"]
    except (ValueError, KeyError, TypeError):
        raise MetadataError("%s: not TUF metadata" % name)


def check_signatures(name, signed, signatures, root, role):
    """Spec 5.3.4 / 5.4.2: a threshold of the role's keys signed the canonical form."""
    r = root["roles"].get(role)
    if r is None:
        raise MetadataError("%s: root has no role %s" % (name, role))
    msg = signed_digest(signed)
    good = []
    for s in signatures:
        kid = s.get("keyid")
        if kid not in r["keyids"] or kid in good:
            continue
        k = root["keys"].get(kid)
        if k is None or k.get("keytype") != "rsa" or k.get("scheme") != SCHEME:
            continue
        try:
            ok = verify_pkcs1(rsa_public_key(k["keyval"]["public"]), msg, binascii.unhexlify(s["sig"]))
        except (ValueError, IndexError, KeyError):
            ok = False
        if ok:
            good.append(kid)
    if len(good) < r["threshold"]:
        raise MetadataError("%s: bad signature (%d of %d required %s keys)"
                            % (name, len(good), r["threshold"], role))


def expires_at(text):
    """RFC 3339 'YYYY-MM-DDThh:mm:ssZ' as the port's time.time() scale."""
    import time
    try:
        return time.mktime((int(text[0:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]),
                            int(text[14:16]), int(text[17:19]), 0, 0))
    except (ValueError, TypeError):
        raise MetadataError("expiry %r is not an RFC 3339 UTC time" % (text,))


class Target:
    def __init__(self, name, length, sha256, version):
        self.name = name
        self.length = length
        self.sha256 = sha256            # 32 bytes
        self.version = version          # firmware version (custom.version)

    def __repr__(self):
        return "Target(%r, %d, %s, %r)" % (self.name, self.length,
                                          binascii.hexlify(self.sha256).decode(), self.version)


class Trust:
    """The terminal's trusted root and the versions it has seen (they never go back)."""

    def __init__(self, root, versions, now):
        self.root = root
        self.versions = versions
        self.now = now

    def _fresh(self, name, signed, role):
        if signed.get("_type") != role:
            raise MetadataError("%s: is a %r, not %s metadata" % (name, signed.get("_type"), role))
        if expires_at(signed["expires"]) <= self.now:
            raise MetadataError("%s: expired at %s" % (name, signed["expires"]))

    def _not_older(self, name, role, version):
        if version < self.versions.get(role, 0):
            raise MetadataError("%s: version %d is older than the trusted %d (rollback attack)"
                                % (name, version, self.versions.get(role, 0)))

    def update(self, files, board):
        """Check the files (spec 5.3-5.6) and return the firmware Target for `board`.
        On success self.root and self.versions hold the new trusted state (the caller stores it)."""
        return self.target(files, "firmware", "board", board)

    def target(self, files, kind, key, value):
        """Check the files (spec 5.3-5.6) and return the one Target whose `custom` says
        {"kind": kind, key: value} (a firmware for a board, a parameter bundle for a terminal).
        On success self.root and self.versions hold the new trusted state (the caller stores it)."""
        # 5.3 root rotation: N+1.root.json signed by the old and by the new root
        while True:
            nxt = "%d.root.json" % (self.root["version"] + 1)
            if nxt not in files:
                break
            signed, sigs = parse(nxt, files[nxt])
            check_signatures(nxt, signed, sigs, self.root, "root")
            check_signatures(nxt, signed, sigs, signed, "root")
            if signed.get("version") != self.root["version"] + 1 or signed.get("_type") != "root":
                raise MetadataError("%s: version %r is not %d" % (nxt, signed.get("version"),
                                                                   self.root["version"] + 1))
            self.root = signed
        if expires_at(self.root["expires"]) <= self.now:
            raise MetadataError("root.json: expired at %s" % self.root["expires"])
        self.versions["root"] = self.root["version"]
        # 5.4 timestamp
        for name in ("timestamp.json", "snapshot.json", "targets.json"):
            if name not in files:
                raise MetadataError("%s: missing" % name)
        ts, sigs = parse("timestamp.json", files["timestamp.json"])
        check_signatures("timestamp.json", ts, sigs, self.root, "timestamp")
        self._not_older("timestamp.json", "timestamp", ts["version"])
        self._fresh("timestamp.json", ts, "timestamp")
        snap_meta = ts["meta"]["snapshot.json"]
        # 5.5 snapshot: hashes and length from the timestamp, then signatures, version
        raw = files["snapshot.json"]
        self._hashes("snapshot.json", raw, snap_meta)
        snap, sigs = parse("snapshot.json", raw)
        check_signatures("snapshot.json", snap, sigs, self.root, "snapshot")
        if snap["version"] != snap_meta["version"]:
            raise MetadataError("snapshot.json: version %d, the timestamp says %d"
                                % (snap["version"], snap_meta["version"]))
        self._not_older("snapshot.json", "snapshot", snap["version"])
        self._fresh("snapshot.json", snap, "snapshot")
        tmeta = snap["meta"]["targets.json"]
        self._not_older("targets.json", "targets", tmeta["version"])
        # 5.6 targets
        raw = files["targets.json"]
        self._hashes("targets.json", raw, tmeta)
        tg, sigs = parse("targets.json", raw)
        check_signatures("targets.json", tg, sigs, self.root, "targets")
        if tg["version"] != tmeta["version"]:
            raise MetadataError("targets.json: version %d, the snapshot says %d"
                                % (tg["version"], tmeta["version"]))
        self._fresh("targets.json", tg, "targets")
        found = None
        for name in tg["targets"]:
            t = tg["targets"][name]
            custom = t.get("custom") or {}
            if custom.get(key) == value and custom.get("kind") == kind:
                if found is not None:
                    raise MetadataError("targets.json: more than one %s for %s %s" % (kind, key, value))
                found = Target(name, t["length"], binascii.unhexlify(t["hashes"]["sha256"]),
                               custom.get("version", ""))
        if found is None:
            raise MetadataError("targets.json: wrong target: no %s for %s %s" % (kind, key, value))
        self.versions["timestamp"] = ts["version"]
        self.versions["snapshot"] = snap["version"]
        self.versions["targets"] = tg["version"]
        return found

    @staticmethod
    def _hashes(name, raw, meta):
        if "length" in meta and len(raw) != meta["length"]:
            raise MetadataError("%s: length %d, expected %d" % (name, len(raw), meta["length"]))
        h = (meta.get("hashes") or {}).get("sha256")
        digest = raw.sha256() if isinstance(raw, Pieces) else crypto.sha256(raw)
        if h is not None and binascii.hexlify(digest).decode() != h:
            raise MetadataError("%s: hash mismatch" % name)
