# Installing, replacing and removing app packages on flash (docs/app-store.md).
#
# What a terminal receives for an app is one archive (cpio newc, pos.tms.swu): the store's TUF
# metadata (timestamp, snapshot, targets), the developer's delegated targets role
# (dev-<developer>.json) and the package (<id>-<version>.app: app.json and .mpy modules).  It is
# installed only when
#   - the store's chain holds (The Update Framework specification 5.4-5.6: pos.tms.tuf, the
#     same root and keys as firmware updates) and its targets list the package for kind "app";
#   - the delegated role the store names (spec 5.6.7 "delegated roles": the delegation's keys,
#     threshold and path pattern, its version from the snapshot) signs the same length and
#     SHA-256, so the store cannot ship a package its developer did not sign and the developer
#     cannot ship one the store did not publish;
#   - the package's bytes have that length and digest, and its app.json asks for no permission
#     the store's review did not grant.
# The new version goes to appsnew/<id>, the installed one moves to appsprev/<id> and stays
# there until the new one has started once (started()); a new version that fails to start is
# replaced by the previous one again (revert()).
#
#     info = install.install("app.staged", time.time())   # {"id", "version", "permissions", ...}
#     install.uninstall("payer")                          # its files and its storage
import gc
import json
import os

from micropython import const

APPS = "apps"
NEW = "appsnew"
PREV = "appsprev"
DATA = "appdata"
PACKAGE = "app.pkg"             # the package as it comes out of the archive
TRUST = "config/app_trust.json"     # {app id: metadata versions seen} (they never go back)
ROOTS = ("tms/root.json", "config/tuf_root.json")
MAX_PACKAGE = const(65536)
MAX_METADATA = const(4096)
_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_-."


class InstallError(Exception):
    """A package that is not installed; the message says why (and nothing was changed)."""


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


def _mkdir(p):
    try:
        os.mkdir(p)
    except OSError:
        pass


def _load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _version(v):
    try:
        return tuple(int(p) for p in str(v).split("."))
    except ValueError:
        raise InstallError("version %r is not MAJOR.MINOR.PATCH" % (v,))


def installed_version(app_id):
    m = _load(APPS + "/" + app_id + "/app.json")
    return m.get("version") if isinstance(m, dict) else None


class _Members:
    """Archive members: metadata in small pieces (tuf.Pieces), the package onto flash through SHA-256."""

    def __init__(self):
        self.metadata = {}
        self.name = None
        self.file = None
        self.hash = None
        self.length = 0

    def accept(self, name, size):
        if name.endswith(".app"):
            if self.name is not None:
                raise InstallError("more than one package in the delivery")
            if size > MAX_PACKAGE:
                raise InstallError("package of %d bytes is over %d" % (size, MAX_PACKAGE))
            import hashlib
            self.name = name
            self.hash = hashlib.sha256()
            self.file = open(PACKAGE, "wb")
            return self._payload
        if not name.endswith(".json"):
            return None                 # sw-description: the container's
        if size > MAX_METADATA:
            raise InstallError("%s of %d bytes is over %d" % (name, size, MAX_METADATA))
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


def _root():
    for path in ROOTS:
        r = _load(path)
        if r is not None:
            return r.get("signed", r)
    raise InstallError("no trusted root metadata on this terminal (%s)" % ROOTS[-1])


def _delegated(tuf, files, store_targets, snapshot, target, custom, now):
    """The developer's delegated role (spec 5.6.7): signed by the keys the store's delegation
    names, at the version the snapshot names, unexpired, listing the same package bytes."""
    role = custom.get("developer", "")
    roles = (store_targets.get("delegations") or {}).get("roles") or ()
    d = None
    for r in roles:
        if r.get("name") == role:
            d = r
    if d is None:
        raise InstallError("targets.json: no delegation to %r" % role)
    ok = False
    for pattern in d.get("paths", ()):
        if pattern.endswith("*") and target.name.startswith(pattern[:-1]) or pattern == target.name:
            ok = True
    if not ok:
        raise InstallError("%s: %s is outside the developer's paths" % (role, target.name))
    fname = role + ".json"
    if fname not in files:
        raise InstallError("%s: missing (the developer's signature)" % fname)
    signed, sigs = tuf.parse(fname, files[fname])
    keys = {"roles": {role: {"keyids": d["keyids"], "threshold": d["threshold"]}},
            "keys": store_targets["delegations"]["keys"]}
    tuf.check_signatures(fname, signed, sigs, keys, role)
    meta = snapshot["meta"].get(fname)
    if meta is None or signed.get("version") != meta.get("version"):
        raise InstallError("%s: version %r, the snapshot says %r" % (fname, signed.get("version"),
                                                                     meta and meta.get("version")))
    if signed.get("_type") != "targets":
        raise InstallError("%s: not targets metadata" % fname)
    if tuf.expires_at(signed["expires"]) <= now:
        raise InstallError("%s: expired at %s" % (fname, signed["expires"]))
    t = signed["targets"].get(target.name)
    if t is None:
        raise InstallError("%s: the developer did not sign %s" % (fname, target.name))
    import binascii
    if t["length"] != target.length or binascii.unhexlify(t["hashes"]["sha256"]) != target.sha256:
        raise InstallError("%s: the developer signed other bytes than the store for %s" % (fname, target.name))


def check(path, now):
    """Read the delivery archive at `path`, check its metadata and the package's bytes; the
    package is left at PACKAGE.  Returns the store's custom fields of the target (id, version,
    permissions granted, developer) and the metadata versions to keep once it is installed."""
    from pos.tms import swu
    from pos.tms import tuf
    gc.collect()
    members = _Members()
    try:
        try:
            swu.unpack(path, swu.Reader(members.accept))
        finally:
            members.close()
    except (swu.SwuError, OSError) as e:
        raise InstallError("delivery unreadable: %s" % e)
    if members.name is None:
        raise InstallError("no package in the delivery")
    gc.collect()
    # metadata versions are the store's per app (each app's publications count up): the
    # rollback state is kept per app, chosen by the name the delivery gives (checked below)
    app_key = members.name.rsplit("-", 1)[0]
    seen = _load(TRUST) or {}
    trust = tuf.Trust(_root(), dict(seen.get(app_key) or {}), now)
    files = members.metadata
    try:
        target = trust.target(files, "app", "kind", "app")
        store_targets = tuf.load(files["targets.json"])["signed"]
        snapshot = tuf.load(files["snapshot.json"])["signed"]
        custom = store_targets["targets"][target.name]["custom"]
        _delegated(tuf, files, store_targets, snapshot, target, custom, now)
    except tuf.MetadataError as e:
        raise InstallError("refused: %s" % e)
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise InstallError("refused: metadata malformed (%r)" % (e,))
    if target.name != members.name or custom.get("id") != app_key:
        raise InstallError("refused: the delivery carries %s, the store signed %s" % (members.name, target.name))
    if members.length != target.length or members.hash.digest() != target.sha256:
        raise InstallError("refused: %s does not match its signed length and SHA-256 (tampered)" % target.name)
    members.metadata = files = None
    seen[app_key] = trust.versions
    return custom, seen


def unpack(custom, source=PACKAGE):
    """The checked package into NEW/<id>, its app.json checked against what the store signed."""
    from pos.tms import swu
    app_id = custom["id"]
    d = NEW + "/" + app_id
    _mkdir(NEW)
    _rmtree(d)
    os.mkdir(d)
    files = []

    def accept(name, size):
        if name == "sw-description":
            return None
        if not (name == "app.json" or name.endswith(".mpy") or name.endswith(".pbm")) or \
                [c for c in name if c not in _NAME_CHARS] or name[0] == ".":
            raise InstallError("package member %r is not an app file" % name)
        f = open(d + "/" + name, "wb")
        files.append(f)
        return f.write
    try:
        try:
            swu.unpack(source, swu.Reader(accept))
        finally:
            for f in files:
                f.close()
        m = _load(d + "/app.json")
        if not isinstance(m, dict):
            raise InstallError("package has no readable app.json")
        if m.get("id") != app_id or m.get("version") != custom["version"]:
            raise InstallError("app.json says %s %s, the store signed %s %s" % (
                m.get("id"), m.get("version"), app_id, custom["version"]))
        granted = custom.get("permissions") or ()
        for p in m.get("permissions", ()):
            if p not in granted:
                raise InstallError("app.json asks for permission %s, which the store did not grant" % p)
        if not _exists(d + "/" + str(m.get("entry"))):
            raise InstallError("app.json: entry %s is not in the package" % m.get("entry"))
    except BaseException:
        _rmtree(d)
        raise
    return m


def swap(app_id):
    """NEW/<id> becomes the installed app; the installed one is kept in PREV/<id>."""
    _mkdir(APPS)
    _mkdir(PREV)
    cur = APPS + "/" + app_id
    if _exists(cur):
        _rmtree(PREV + "/" + app_id)
        os.rename(cur, PREV + "/" + app_id)
    os.rename(NEW + "/" + app_id, cur)


def install(path, now):
    """Check and install the delivery at `path`: the manifest of the installed app.
    InstallError (nothing changed on flash) when it may not be installed."""
    try:
        custom, versions = check(path, now)
        have = installed_version(custom["id"])
        if have is not None and _version(custom["version"]) <= _version(have):
            raise InstallError("%s %s is not newer than the installed %s" % (custom["id"], custom["version"], have))
        m = unpack(custom)
        swap(custom["id"])
        with open(TRUST + ".tmp", "w") as f:
            json.dump(versions, f)
        os.rename(TRUST + ".tmp", TRUST)
        return m
    finally:
        try:
            os.remove(PACKAGE)
        except OSError:
            pass


def started(app_id):
    """The installed version has started: the previous one is no longer kept."""
    _rmtree(PREV + "/" + app_id)


def pending(app_id):
    """True while the previous version is kept (the new one has not started yet)."""
    return _exists(PREV + "/" + app_id)


def revert(app_id):
    """Back to the previous version (the new one did not start); False when there is none."""
    if not pending(app_id):
        return False
    _rmtree(APPS + "/" + app_id)
    os.rename(PREV + "/" + app_id, APPS + "/" + app_id)
    return True


def uninstall(app_id):
    """The app's files, any kept previous version and its storage, gone."""
    for d in (APPS, PREV, NEW, DATA):
        _rmtree(d + "/" + app_id)
