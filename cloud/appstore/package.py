"""App packages and their trust chain.

A package (``<id>-<version>.app``) is a cpio "newc" archive (the container pos.tms.swu reads):
``sw-description``, the manifest ``app.json`` (its ``entry`` now names the compiled module) and
the app's modules compiled to ``.mpy`` by the project's mpy-cross (bytecode only, no
architecture: the same package runs on every board of the same MicroPython).

Trust is TUF's (the same roots and keys as firmware releases, cloud/tms/release.py):

* the developer signs a *delegated targets* role ``dev-<developer>`` naming the package by
  length and SHA-256 (``smartpos app sign``: :func:`developer_sign`);
* the store, on publishing, signs top-level ``targets.json`` that delegates ``<id>-*`` to the
  developer's key and lists the same package with what the review granted (``custom``: kind
  "app", id, version, permissions, developer), then ``snapshot.json`` (naming both targets
  roles) and ``timestamp.json`` (:func:`countersign`).

The terminal (firmware pos.platform.install) installs a package only when both signatures hold
and both name the same bytes, and only with permissions the store granted.
"""
import datetime
import hashlib
import json
import os
import subprocess
import tempfile

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from securesystemslib.signer import CryptoSigner, SSlibKey
from tuf.api.metadata import (DelegatedRole, Delegations, Metadata, MetaFile, Snapshot, TargetFile,
                              Targets, Timestamp)
from tuf.api.serialization.json import JSONSerializer

from cloud.tms import swu
from cloud.tms.release import SCHEME

PERMISSIONS = ("payments", "printer", "storage", "network", "members", "events", "nfc", "scanner")
ID_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-.")
MAX_PACKAGE = 65536             # what a terminal accepts (pos.platform.install.MAX_PACKAGE)


class PackageError(ValueError):
    """A package, a key or a signature that cannot be used; the message says what to fix."""


def _compact(md):
    return md.to_bytes(JSONSerializer(compact=True))


def check_manifest(m):
    """The manifest's fields a store and a terminal rely on (the terminal checks them all again)."""
    if not isinstance(m, dict):
        raise PackageError("app.json: not an object")
    for k in ("id", "name", "version", "sdk", "entry"):
        if k not in m:
            raise PackageError("app.json: no %s" % k)
    if not isinstance(m["id"], str) or not 0 < len(m["id"]) <= 32 or not set(m["id"]) <= ID_CHARS \
            or m["id"][0] == ".":
        raise PackageError("app.json: bad id %r (1-32 of a-z 0-9 _ - .)" % (m["id"],))
    parts = str(m["version"]).split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise PackageError("app.json: version %r is not MAJOR.MINOR.PATCH" % (m["version"],))
    for p in m.get("permissions", ()):
        if p not in PERMISSIONS:
            raise PackageError("app.json: unknown permission %r" % (p,))
    return m


def version_tuple(v):
    return tuple(int(p) for p in str(v).split("."))


def package_name(m):
    return "%s-%s.app" % (m["id"], m["version"])


def build(app_dir, out_dir):
    """Compile the app in `app_dir` (app.json and its .py modules) and write the package into
    `out_dir`; returns its path."""
    from posbuild.toolchain import BuildError, mpy_cross_binary
    try:
        with open(os.path.join(app_dir, "app.json"), encoding="utf-8") as f:
            m = check_manifest(json.load(f))
    except (OSError, ValueError) as exc:
        raise PackageError("%s/app.json: %s" % (app_dir, exc))
    if not m["entry"].endswith(".py") or not os.path.exists(os.path.join(app_dir, m["entry"])):
        raise PackageError("app.json: entry %r is not a .py file of the app" % m["entry"])
    try:
        cross = mpy_cross_binary()
    except BuildError as exc:
        raise PackageError(str(exc))
    files = []
    with tempfile.TemporaryDirectory(prefix="smartpos-app-") as tmp:
        for name in sorted(os.listdir(app_dir)):
            src = os.path.join(app_dir, name)
            if name.endswith(".py"):
                out = os.path.join(tmp, name[:-3] + ".mpy")
                r = subprocess.run([cross, "-o", out, "-s", name, src], capture_output=True, text=True)
                if r.returncode:
                    raise PackageError("mpy-cross %s: %s" % (name, (r.stderr or r.stdout).strip()))
                with open(out, "rb") as f:
                    files.append((name[:-3] + ".mpy", f.read()))
            elif name.endswith(".pbm"):
                with open(src, "rb") as f:
                    files.append((name, f.read()))
    m = dict(m, entry=m["entry"][:-3] + ".mpy")
    manifest = json.dumps(m, ensure_ascii=False, sort_keys=True).encode()
    raw = swu.pack(swu.sw_description(m["version"], "smartpos app %s" % m["id"]), [("app.json", manifest)] + files)
    if len(raw) > MAX_PACKAGE:
        raise PackageError("package of %d bytes is over the terminal's %d" % (len(raw), MAX_PACKAGE))
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, package_name(m))
    with open(path, "wb") as f:
        f.write(raw)
    return path


def members(raw):
    """[(name, bytes)] of a package (or any cpio newc archive swu.pack writes)."""
    out, i = [], 0
    while True:
        if raw[i:i + 6] not in (b"070701", b"070702") or len(raw) < i + 110:
            raise PackageError("not a package: malformed archive at byte %d" % i)
        size = int(raw[i + 54:i + 62], 16)
        namesize = int(raw[i + 94:i + 102], 16)
        name = raw[i + 110:i + 110 + namesize - 1].decode()
        i += 110 + namesize
        i += -i % 4
        if name == swu.TRAILER:
            return out
        out.append((name, bytes(raw[i:i + size])))
        i += size
        i += -i % 4


def read_manifest(raw):
    """The checked manifest of a package."""
    for name, data in members(raw):
        if name == "app.json":
            try:
                return check_manifest(json.loads(data))
            except ValueError as exc:
                raise PackageError("app.json: %s" % exc)
    raise PackageError("package has no app.json")


def new_key(path):
    """A developer's signing key (RSA 2048, PEM, unencrypted) at `path`; its public PEM."""
    priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with open(path, "wb") as f:
        f.write(priv.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    os.chmod(path, 0o600)
    return public_pem(priv)


def public_pem(priv):
    return priv.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _signer(key_path):
    try:
        with open(key_path, "rb") as f:
            priv = serialization.load_pem_private_key(f.read(), password=None)
    except (OSError, ValueError) as exc:
        raise PackageError("signing key %s: %s" % (key_path, exc))
    return CryptoSigner(priv, SSlibKey.from_crypto(priv.public_key(), scheme=SCHEME))


def public_key(pem_text):
    """The developer's registered public key (PEM) as a TUF key."""
    try:
        pub = serialization.load_pem_public_key(pem_text.encode())
    except ValueError as exc:
        raise PackageError("public key is not PEM: %s" % exc)
    if not isinstance(pub, rsa.RSAPublicKey) or pub.key_size < 2048:
        raise PackageError("public key must be RSA of 2048 bits or more (terminals verify RSA PKCS#1 v1.5)")
    return SSlibKey.from_crypto(pub, scheme=SCHEME)


def role_name(developer):
    if not developer or not set(developer) <= ID_CHARS or len(developer) > 32:
        raise PackageError("developer name %r: 1-32 of a-z 0-9 _ - ." % (developer,))
    return "dev-" + developer


def _target(raw, name, m):
    tf = TargetFile.from_data(name, raw, ["sha256"])
    tf.unrecognized_fields["custom"] = {"kind": "app", "id": m["id"], "version": m["version"]}
    return tf


def developer_sign(raw, developer, key_path, expires_days=365, now=None):
    """The developer's delegated targets metadata (bytes) for the package `raw`."""
    m = read_manifest(raw)
    now = now or datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    name = package_name(m)
    md = Metadata(Targets(version=1, expires=now + datetime.timedelta(days=expires_days),
                          targets={name: _target(raw, name, m)}))
    md.sign(_signer(key_path))
    role_name(developer)
    return _compact(md)


def developer_key(metadata_raw):
    """The keyid the developer's metadata is signed with."""
    try:
        return json.loads(metadata_raw)["signatures"][0]["keyid"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise PackageError("developer metadata is not signed TUF metadata")


def check_developer(raw, metadata_raw, public_pem_text):
    """Raise PackageError unless `metadata_raw` is the developer's valid signature over `raw`."""
    key = public_key(public_pem_text)
    try:
        md = Metadata.from_bytes(metadata_raw)
    except Exception as exc:
        raise PackageError("developer metadata unreadable: %s" % exc)
    sig = md.signatures.get(key.keyid)
    if sig is None:
        raise PackageError("developer metadata is not signed with the registered key")
    try:
        key.verify_signature(sig, md.signed_bytes)
    except Exception:
        raise PackageError("developer signature does not verify: the metadata or the key is wrong")
    m = read_manifest(raw)
    tf = md.signed.targets.get(package_name(m))
    if tf is None:
        raise PackageError("developer metadata does not name %s" % package_name(m))
    try:
        tf.verify_length_and_hashes(raw)
    except Exception:
        raise PackageError("package bytes differ from what the developer signed")
    return m


def countersign(raw, developer, public_pem_text, developer_metadata, granted, meta_version, signers,
                expires_days=30, now=None):
    """The store's metadata over a reviewed package: {file name: bytes} of targets.json
    (delegating `<id>-*` to the developer's key, the package with `granted` permissions),
    <role>.json (the developer's), snapshot.json and timestamp.json.  PackageError unless the
    developer's signature holds and the package asks for no more than `granted`."""
    m = check_developer(raw, developer_metadata, public_pem_text)
    wanted = set(m.get("permissions", ()))
    if not wanted <= set(granted):
        raise PackageError("the package asks for %s, not granted" % ", ".join(sorted(wanted - set(granted))))
    return store_metadata(raw, developer, public_pem_text, developer_metadata, granted, meta_version, signers,
                          expires_days, now)


def store_metadata(raw, developer, public_pem_text, developer_metadata, granted, meta_version, signers,
                   expires_days=30, now=None):
    """The signing step of countersign() alone, without its checks (what the terminal must
    refuse on its own is made with it in tests)."""
    m = read_manifest(raw)
    now = now or datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    expires = now + datetime.timedelta(days=expires_days)
    role = role_name(developer)
    key = public_key(public_pem_text)
    name = package_name(m)
    tf = _target(raw, name, m)
    tf.unrecognized_fields["custom"].update(permissions=sorted(granted), developer=role)
    deleg = Delegations(keys={key.keyid: key}, roles={role: DelegatedRole(
        name=role, keyids=[key.keyid], threshold=1, terminating=True, paths=[m["id"] + "-*"])})
    targets = Metadata(Targets(version=meta_version, expires=expires, targets={name: tf}, delegations=deleg))
    targets.sign(signers["targets"])
    dev_version = Metadata.from_bytes(developer_metadata).signed.version
    snapshot = Metadata(Snapshot(version=meta_version, expires=expires, meta={
        "targets.json": MetaFile(version=meta_version), role + ".json": MetaFile(version=dev_version)}))
    snapshot.sign(signers["snapshot"])
    snapshot_raw = _compact(snapshot)
    timestamp = Metadata(Timestamp(version=meta_version, expires=expires, snapshot_meta=MetaFile(
        version=meta_version, length=len(snapshot_raw), hashes={"sha256": hashlib.sha256(snapshot_raw).hexdigest()})))
    timestamp.sign(signers["timestamp"])
    return {"timestamp.json": _compact(timestamp), "snapshot.json": snapshot_raw,
            "targets.json": _compact(targets), role + ".json": developer_metadata}


def delivery(raw, metadata):
    """What a terminal downloads: one archive of the metadata (in the order it checks them) and
    the package last, under its signed name."""
    m = read_manifest(raw)
    order = ["timestamp.json", "snapshot.json", "targets.json"]
    files = [(n, metadata[n]) for n in order] + [(n, metadata[n]) for n in sorted(metadata) if n not in order]
    files.append((package_name(m), raw))
    return swu.pack(swu.sw_description(m["version"], "smartpos app %s" % m["id"]), files)
