# Terminal parameters from terminal management: a bundle of configuration files (EMV AIDs,
# CAPKs with expiry and revocation, TACs, floor and contactless limits, acquirer routing and
# hosts, receipt and idle-screen content, currency, language, tips, bank card-linked offers),
# validated as a whole before anything is written, then swapped in at once: a bad bundle is refused with a reason
# and the old parameters stay; a power cut during the swap finishes or undoes it at boot.
#
#     files = validate(bundle, today="261127")      # ParamsError naming the file and key
#     apply(files, bundle["version"])               # config.new/ -> config/, atomically
#     recover()                                     # at boot, before anything reads config/
#
# Every bundle is signed through the TUF roles of the firmware releases (pos.tms.tuf): the
# timestamp, snapshot and targets metadata name params.json with its length and SHA-256 and
# `custom` {"kind": "params", "terminal": <controller id>, "version": N}.  check_signed()
# refuses an unsigned, tampered, expired or older bundle before anything looks inside it.
import json
import os

from pos.tms import PARAMS_VERSION, installed_params_version

ROOT = "config"
STAGE = "config.new"
OLD = "config.old"
VERSION_FILE = PARAMS_VERSION[len(ROOT) + 1:]   # inside ROOT, and inside STAGE while staged
COMPLETE = ".complete"
PART = "params.download"            # a bundle as it arrives: on flash, not in the heap
APPLYING = "params.applying"        # {"version", "files"}: a staged bundle's swap has begun
FILES = ("emv.json", "capk.json", "contactless.json", "acquirers.json", "terminal.json", "offers.json")
# CA public key modulus lengths in use (bytes): 1024, 1152, 1408, 1984 bits (EMV Book 2 5.1, Annex A)
CAPK_LENGTHS = (128, 144, 176, 248)
CONTACTLESS_KERNELS = (2, 3, 4, 5, 6, 7)
MAX_BUNDLE = 32768
METADATA = ("timestamp.json", "snapshot.json", "targets.json")
MAX_METADATA = 8192                 # one role's metadata (one RSA-2048 signature, one target)
TRUSTED_ROOTS = ("tms/root.json", "config/tuf_root.json")   # a rotated root (pos.tms.update) first


class ParamsError(Exception):
    """A parameter bundle the terminal refuses; the message says which file, key and why."""


def _fail(where, why):
    raise ParamsError("%s: %s" % (where, why))


def _hexstr(v, where, n=None):
    if not isinstance(v, str) or len(v) % 2 or (n is not None and len(v) != 2 * n):
        _fail(where, "want %s hex" % ("%d bytes of" % n if n else "an even number of"))
    try:
        int(v, 16)
    except ValueError:
        _fail(where, "not hex")
    return v.upper()


def _check_capk(d, today):
    if not isinstance(d, dict) or not isinstance(d.get("keys"), list):
        _fail("capk.json", "want an object with a list 'keys'")
    seen = set()
    for i, k in enumerate(d["keys"]):
        w = "capk.json: keys[%d]" % i
        if not isinstance(k, dict):
            _fail(w, "want an object")
        rid, idx = _hexstr(k.get("rid"), w + ".rid", 5), _hexstr(k.get("index"), w + ".index", 1)
        mod = _hexstr(k.get("modulus"), w + ".modulus")
        if len(mod) // 2 not in CAPK_LENGTHS:
            _fail(w + ".modulus", "%d bytes: a CA key modulus is %s bytes" % (
                len(mod) // 2, "/".join(str(n) for n in CAPK_LENGTHS)))
        if (rid, idx) in seen:
            _fail(w, "RID %s index %s given twice" % (rid, idx))
        seen.add((rid, idx))
        exp = k.get("expiry")
        if exp is not None:
            _hexstr(exp, w + ".expiry", 3)
            if today is not None and exp < today:
                _fail(w + ".expiry", "key %s/%s expired on %s" % (rid, idx, exp))


def _aids_of(emv):
    out = []
    for name in emv.get("schemes", {}):
        for a in emv["schemes"][name].get("aids", ()):
            out.append(a.get("aid", "").upper())
    return out


def _check_contactless(d, aids):
    if not isinstance(d, dict) or not isinstance(d.get("aids"), dict):
        _fail("contactless.json", "want an object with 'aids'")
    _hexstr(d.get("ttq", ""), "contactless.json: ttq", 4)
    for aid, a in d["aids"].items():
        w = "contactless.json: aids.%s" % aid
        _hexstr(aid, w)
        if not any(aid.upper().startswith(k) or k.startswith(aid.upper()) for k in aids):
            _fail(w, "unknown AID: not among the EMV configuration's applications")
        if not isinstance(a, dict) or a.get("kernel") not in CONTACTLESS_KERNELS:
            _fail(w + ".kernel", "want one of %s" % (CONTACTLESS_KERNELS,))
        for lim in ("rctl", "cvm_limit", "floor"):
            v = a.get(lim)
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 99999999:
                _fail(w + "." + lim, "want an amount in minor units")
        if not a["floor"] <= a["rctl"] or not a["cvm_limit"] <= a["rctl"]:
            _fail(w, "floor and CVM limit must not exceed the transaction limit")


def _check_terminal(d):
    if not isinstance(d, dict):
        _fail("terminal.json", "want an object")
    if d.get("language", "en") not in ("en", "zh"):
        _fail("terminal.json: language", "want 'en' or 'zh'")
    if d.get("developer_mode", False) not in (True, False):
        _fail("terminal.json: developer_mode", "want true or false")
    v = d.get("catalog_refresh_s", 900)        # pos.app.pull: the catalog pulled at Ready every v s
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 604800:
        _fail("terminal.json: catalog_refresh_s", "want seconds from 0 (never) to 604800 (a week)")
    for k in ("receipt_header", "receipt_footer", "promotions"):
        v = d.get(k, [])
        if not isinstance(v, list) or len(v) > 8 or not all(isinstance(x, str) and len(x) <= 48 for x in v):
            _fail("terminal.json: " + k, "want up to 8 lines of at most 48 characters")


def _check_acquirers(d, currency):
    if not isinstance(d, dict) or not isinstance(d.get("acquirers"), dict) or not d["acquirers"]:
        _fail("acquirers.json", "want an object with a non-empty 'acquirers'")
    for name, a in d["acquirers"].items():
        w = "acquirers.json: acquirers.%s" % name
        if not isinstance(a, dict) or not isinstance(a.get("host"), str) or not a["host"]:
            _fail(w + ".host", "want a host name")
        p = a.get("port")
        if not isinstance(p, int) or isinstance(p, bool) or not 0 < p < 65536:
            _fail(w + ".port", "want a TCP port")
    names = d["acquirers"]
    for i, r in enumerate(d.get("routes", ())):
        if not isinstance(r, dict) or r.get("acquirer") not in names:
            _fail("acquirers.json: routes[%d]" % i, "names no configured acquirer")
    cur = d.get("currency")
    if cur is not None and currency is not None and cur.lstrip("0") != currency.lstrip("0"):
        _fail("acquirers.json: currency", "%s differs from the EMV configuration's %s: one currency per terminal"
              % (cur, currency))


def merge_patch(target, patch):
    """RFC 7386 JSON Merge Patch: objects merged key by key, null removes a key, anything else
    replaces."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k in patch:
        v = patch[k]
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def _read(name):
    try:
        with open(ROOT + "/" + name) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def validate(bundle, current_version=0, today=None):
    """Check a whole bundle; returns {file name: new content} to apply.  Each file of the bundle
    is a merge patch (RFC 7386) over the terminal's current file; files it leaves out stay as
    they are, and the rules across files are checked against the result."""
    if not isinstance(bundle, dict) or not isinstance(bundle.get("files"), dict):
        _fail("bundle", "want an object with 'version' and 'files'")
    v = bundle.get("version")
    if not isinstance(v, int) or isinstance(v, bool) or v <= current_version:
        _fail("bundle.version", "%r is not newer than the installed %d" % (v, current_version))
    patches = bundle["files"]
    for name in patches:
        if name not in FILES:
            _fail(name, "not a parameter file (allowed: %s)" % ", ".join(FILES))
        if not isinstance(patches[name], dict):
            _fail(name, "want an object")
    emv = merge_patch(_read("emv.json"), patches.get("emv.json", {}))
    if not emv:
        _fail("emv.json", "missing")
    capk_name = emv.get("capk_file") or "capk.json"
    files = {}
    for name in patches:
        on_flash = capk_name if name == "capk.json" else name
        files[on_flash] = emv if name == "emv.json" else merge_patch(_read(on_flash), patches[name])

    def current(name):
        return files[name] if name in files else _read(name)
    from pos.emv import config as emv_config          # loaded only while a bundle is checked
    from pos.emv.errors import ConfigError
    try:
        cfg = emv_config.Config(emv)
    except ConfigError as e:
        _fail("emv.json", str(e))
    if capk_name in files:
        _check_capk(files[capk_name], today)
        try:
            cfg.load_ca_keys(files[capk_name], "capk.json")
        except ConfigError as e:
            _fail("capk.json", str(e))
    cl = current("contactless.json")
    if cl is not None:
        _check_contactless(cl, _aids_of(emv))
    if "terminal.json" in files:
        _check_terminal(files["terminal.json"])
    if "offers.json" in files:
        # card-linked offers of issuing banks (docs/bank-offers.md): loaded only while checked
        from pos.offers import campaign as offer_campaign
        try:
            offer_campaign.check(files["offers.json"])
        except offer_campaign.OfferError as e:
            raise ParamsError(str(e))
    acq = current("acquirers.json")
    if acq is not None and ("acquirers.json" in files or "emv.json" in files):
        _check_acquirers(acq, emv.get("terminal", {}).get("currency_code"))
    return files


def installed_version():
    return installed_params_version()


def _exists(p):
    try:
        os.stat(p)
        return True
    except OSError:
        return False


def _rmtree(p):
    if not _exists(p):
        return
    for name in os.listdir(p):
        os.remove(p + "/" + name)
    os.rmdir(p)


def apply(files, version):
    """Stage the new files beside config/ and swap the folders; every step survives a power cut
    (see recover)."""
    _rmtree(STAGE)
    os.mkdir(STAGE)
    buf = bytearray(256)                       # copied in small pieces: the heap may be fragmented
    for name in os.listdir(ROOT):
        if name not in files and name != VERSION_FILE:
            with open(ROOT + "/" + name, "rb") as src, open(STAGE + "/" + name, "wb") as dst:
                while True:
                    n = src.readinto(buf)
                    if not n:
                        break
                    dst.write(memoryview(buf)[:n])
    for name in files:
        with open(STAGE + "/" + name, "w") as f:
            json.dump(files[name], f)
    with open(STAGE + "/" + VERSION_FILE, "w") as f:
        f.write(str(version))
    with open(STAGE + "/" + COMPLETE, "w") as f:
        f.write("1")
    _swap()


def _swap():
    _rmtree(OLD)
    os.rename(ROOT, OLD)
    os.rename(STAGE, ROOT)
    os.remove(ROOT + "/" + COMPLETE)
    _rmtree(OLD)


def recover():
    """At boot: finish a swap that a power cut interrupted, or drop a half-staged bundle."""
    _remove(PART)                            # a download that a power cut interrupted
    staged_complete = _exists(STAGE + "/" + COMPLETE)
    if _exists(STAGE) and not staged_complete:
        _rmtree(STAGE)                       # cut while staging: the old parameters stay
        return "dropped"
    if staged_complete:
        if not _exists(ROOT) and _exists(OLD):
            os.rename(STAGE, ROOT)           # cut between the two renames
            os.remove(ROOT + "/" + COMPLETE)
            _rmtree(OLD)
            return "finished"
        _swap()                              # cut before the first rename
        return "finished"
    if _exists(ROOT + "/" + COMPLETE):
        os.remove(ROOT + "/" + COMPLETE)     # cut after the renames
    if _exists(OLD) and _exists(ROOT):
        _rmtree(OLD)
    return None


def _trusted_root():
    for path in TRUSTED_ROOTS:
        try:
            with open(path) as f:
                root = json.load(f)
        except (OSError, ValueError):
            continue
        return root.get("signed", root)
    _fail("signature", "no trusted root metadata on this terminal (%s)" % TRUSTED_ROOTS[-1])


def check_signed(metadata, length, sha256, controller_id, now):
    """TUF checks of a bundle (The Update Framework specification 5.4-5.6): `metadata` maps
    timestamp.json, snapshot.json and targets.json to their bytes; params.json, as received,
    had `length` bytes and the digest `sha256`.  Signatures by the root's timestamp, snapshot
    and targets keys, expiry against `now`, metadata versions never below the installed
    bundle's, the target made for this terminal, its length and SHA-256.  Returns the bundle
    version the targets metadata signs."""
    from pos.tms.tuf import MetadataError, Trust      # loaded only while a bundle is checked
    for name in METADATA:
        if name not in metadata:
            _fail("signature", "unsigned bundle: %s missing" % name)
    floor = installed_version()
    trust = Trust(_trusted_root(), {"timestamp": floor, "snapshot": floor, "targets": floor}, now)
    try:
        target = trust.target(metadata, "params", "terminal", controller_id)
    except (MetadataError, KeyError, TypeError, ValueError) as e:
        _fail("signature", str(e) or type(e).__name__)
    if target.name != "params.json":
        _fail("signature", "the signed target is %r, not params.json" % target.name)
    if length != target.length or sha256 != target.sha256:
        _fail("signature", "params.json does not match the signed length and SHA-256 (tampered)")
    if not isinstance(target.version, int) or isinstance(target.version, bool):
        _fail("signature", "the signed target carries no bundle version")
    return target.version


def install(metadata, length, sha256, controller_id, now, today=None, on_apply=None):
    """Check the bundle received into PART (signature first, then its content) and apply it;
    `metadata` maps the TUF files to their bytes (emptied on the way).  PART is removed.
    Returns (ok, details, (version, files) or None); a refusal leaves the old parameters."""
    import gc
    try:
        try:
            signed_version = check_signed(metadata, length, sha256, controller_id, now)
        finally:
            metadata.clear()
            gc.collect()
        try:
            with open(PART) as f:
                bundle = json.load(f)            # parsed from flash, never held whole in the heap
        except (OSError, ValueError):
            _fail("params.json", "not JSON")
        if not isinstance(bundle, dict) or bundle.get("version") != signed_version:
            _fail("bundle.version", "%r, the signed metadata says %d" % (
                bundle.get("version") if isinstance(bundle, dict) else None, signed_version))
        files = validate(bundle, installed_version(), today)
    except ParamsError as e:
        return False, ["refused: %s" % e], None
    finally:
        _remove(PART)
    if on_apply is not None:
        on_apply(bundle["version"], sorted(files))
    apply(files, bundle["version"])
    return True, [applied_text(bundle["version"], sorted(files))], (bundle["version"], sorted(files))


def applied_text(version, names):
    return "parameters version %d applied (%s)" % (version, ", ".join(names))


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


class _Members:
    """The members of a bundle archive this module reads: the metadata in small pieces (tuf.Pieces),
    params.json onto flash (PART) through a SHA-256."""

    def __init__(self):
        self.metadata = {}
        self.file = None
        self.hash = None
        self.length = 0

    def accept(self, name, size):
        if name == "params.json":
            if size > MAX_BUNDLE:
                _fail(name, "%d bytes is over %d" % (size, MAX_BUNDLE))
            import hashlib
            self.hash = hashlib.sha256()
            self.file = open(PART, "wb")
            return self._payload
        if name not in METADATA:
            return None                          # sw-description: the container's, not ours
        if size > MAX_METADATA:
            _fail(name, "%d bytes is over %d" % (size, MAX_METADATA))
        from pos.tms.tuf import Pieces          # in small blocks: the heap has holes, not room
        buf = self.metadata[name] = Pieces(size)
        return buf.take

    def _payload(self, mv):
        self.file.write(mv)
        self.hash.update(mv)
        self.length += len(mv)

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None


def _check_staged(controller_id, now):
    """(ok, details) of the archive staged on flash: read, checked, applied."""
    import gc
    import time
    from pos.tms import staging, swu
    members = _Members()
    try:
        try:
            swu.unpack(staging.STAGED, swu.Reader(members.accept))
        finally:
            members.close()
        if members.hash is None:
            _fail("bundle", "no params.json in the archive")
    except (swu.SwuError, ParamsError, OSError) as e:
        return False, ["refused: %s" % e]
    gc.collect()

    def mark(version, names):                  # a power cut after the swap still reports success
        with open(APPLYING, "w") as f:
            json.dump({"version": version, "files": names}, f)
    ok, details, _ = install(members.metadata, members.length, members.hash.digest(), controller_id,
                             now if now is not None else time.time(), on_apply=mark)
    return ok, details


def finish_staged(now=None, reset=None):
    """At boot, before the counter loads (the heap whole): check and apply the bundle that
    pos.tms.staging downloaded, record the result for the next poll, then restart the board
    (the checks' modules and names leave the heap with the restart; the new parameters load
    with it).  Every step survives a power cut: a cut before the result is recorded runs it
    again, and a bundle whose swap had finished is reported applied.  Returns the result when
    `reset` returns."""
    from pos.tms import staging
    recover()
    try:
        with open(staging.TICKET) as f:
            ticket = json.load(f)
        action, controller_id = ticket["action"], ticket["controller"]
    except (OSError, ValueError, KeyError, TypeError):
        action = None
    if action is not None:
        try:
            with open(APPLYING) as f:
                done = json.load(f)
        except (OSError, ValueError):
            done = None
        if done is not None and done.get("version") == installed_version():
            result = (True, [applied_text(done["version"], done["files"])])
        else:
            result = _check_staged(controller_id, now)
        _remove(PART)
        staging.record(action, result[0], result[1])
    else:
        result = None
    _remove(APPLYING)
    _remove(staging.STAGED)
    _remove(staging.TICKET)
    if result is None:
        return None
    if reset is None:
        import machine
        reset = machine.reset
    reset()
    return result
