"""Firmware releases: the ROMFS image of the firmware and its TUF metadata (python-tuf).

    rel = build_release("1.0.1", out_dir)           # image + metadata/ + release.json + .swu
    md = make_metadata(image, "1.0.1", "firmware-1.0.1.romfs", TEST_KEYS)

The terminal checks the metadata with firmware/pos/tms/tuf.py against the root it ships in
config/tuf_root.json (for the simulator: the TEST root made from cloud/tms/test_keys/).
For DDI servers that carry only SWUpdate images (goosebit) the release also travels as one
.swu (`release_swu`): sw-description, the metadata, then the image as the last member, so the
terminal reads the metadata from the archive's head and ranges over the image where it lies.
Keys are RSA 2048 with the scheme "rsa-pkcs1v15-sha256" (RSASSA-PKCS1-v1_5, SHA-256), one key
per role, threshold 1.  Metadata versions follow the firmware version (1.0.1 -> 1000001) so
that a later release always carries later timestamp/snapshot/targets versions.
"""
import datetime
import hashlib
import json
import os
import shutil
import tempfile

from cryptography.hazmat.primitives import serialization
from securesystemslib.signer import CryptoSigner, SSlibKey
from tuf.api.metadata import (Metadata, MetaFile, Root, Snapshot, TargetFile, Targets, Timestamp)
from tuf.api.serialization.json import JSONSerializer

from cloud.tms import swu

ROLES = ("root", "targets", "snapshot", "timestamp")
SCHEME = "rsa-pkcs1v15-sha256"
TEST_KEY_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_keys")
ROOT_EXPIRES = datetime.datetime(2036, 1, 1, tzinfo=datetime.timezone.utc)
BOARD = "sim"                    # pos.board BOARD.NAME of the virtual board


class ReleaseError(Exception):
    """A release that cannot be made; the message says what to fix."""


def load_keys(key_dir=TEST_KEY_DIR):
    """{role: CryptoSigner} from <key_dir>/TEST-<role>.pem."""
    signers = {}
    for role in ROLES:
        path = os.path.join(key_dir, "TEST-%s.pem" % role)
        try:
            with open(path, "rb") as f:
                priv = serialization.load_pem_private_key(f.read(), password=None)
        except OSError as exc:
            raise ReleaseError("signing key for %s missing: %s" % (role, exc))
        pub = SSlibKey.from_crypto(priv.public_key(), scheme=SCHEME)
        signers[role] = CryptoSigner(priv, pub)
    return signers


def metadata_version(version):
    """'1.0.1' -> 1000001: metadata versions that grow with the firmware version."""
    try:
        parts = [int(p) for p in version.split(".")]
    except ValueError:
        parts = []
    if len(parts) != 3 or any(p < 0 or p > 999 for p in parts):
        raise ReleaseError("version %r: want MAJOR.MINOR.PATCH, each 0-999" % version)
    return max(1, parts[0] * 1000000 + parts[1] * 1000 + parts[2])


def _serialize(md, compact=False):
    return md.to_bytes(JSONSerializer(compact=compact))


def make_root(signers):
    """The root metadata (version 1) for these keys: what the firmware ships as trusted."""
    root = Root(expires=ROOT_EXPIRES)
    for role in ROLES:
        root.add_key(signers[role].public_key, role)
    md = Metadata(root)
    md.sign(signers["root"])
    return md


def make_metadata(image, version, target_name, signers, board=BOARD, expires=None,
                  meta_version=None, now=None):
    """{file name: bytes} of root.json, 1.root.json, targets.json, snapshot.json,
    timestamp.json for one firmware image."""
    now = now or datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    expires = expires or (now + datetime.timedelta(days=30))
    mv = meta_version if meta_version is not None else metadata_version(version)
    root = make_root(signers)
    tf = TargetFile.from_data(target_name, image, ["sha256"])
    tf.unrecognized_fields["custom"] = {"kind": "firmware", "board": board, "version": version}
    targets = Metadata(Targets(version=mv, expires=expires, targets={target_name: tf}))
    targets.sign(signers["targets"])
    targets_raw = _serialize(targets)
    snapshot = Metadata(Snapshot(version=mv, expires=expires,
                                 meta={"targets.json": MetaFile(version=mv)}))
    snapshot.sign(signers["snapshot"])
    snapshot_raw = _serialize(snapshot)
    timestamp = Metadata(Timestamp(version=mv, expires=expires, snapshot_meta=MetaFile(
        version=mv, length=len(snapshot_raw), hashes={"sha256": hashlib.sha256(snapshot_raw).hexdigest()})))
    timestamp.sign(signers["timestamp"])
    root_raw = _serialize(root)
    return {"root.json": root_raw, "1.root.json": root_raw, "targets.json": targets_raw,
            "snapshot.json": snapshot_raw, "timestamp.json": _serialize(timestamp)}


def sign_target(data, target_name, custom, meta_version, signers, expires=None, now=None):
    """{file name: bytes} of targets.json, snapshot.json, timestamp.json for one target that is
    not a firmware image (a parameter bundle): the same roles and keys as a release, `custom`
    naming its kind and whom it is for, every metadata version `meta_version`; compact JSON
    (the terminal holds these in its heap while it checks them)."""
    now = now or datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    expires = expires or (now + datetime.timedelta(days=7))
    tf = TargetFile.from_data(target_name, data, ["sha256"])
    tf.unrecognized_fields["custom"] = dict(custom)
    targets = Metadata(Targets(version=meta_version, expires=expires, targets={target_name: tf}))
    targets.sign(signers["targets"])
    snapshot = Metadata(Snapshot(version=meta_version, expires=expires,
                                 meta={"targets.json": MetaFile(version=meta_version)}))
    snapshot.sign(signers["snapshot"])
    snapshot_raw = _serialize(snapshot, True)
    timestamp = Metadata(Timestamp(version=meta_version, expires=expires, snapshot_meta=MetaFile(
        version=meta_version, length=len(snapshot_raw),
        hashes={"sha256": hashlib.sha256(snapshot_raw).hexdigest()})))
    timestamp.sign(signers["timestamp"])
    return {"targets.json": _serialize(targets, True), "snapshot.json": snapshot_raw,
            "timestamp.json": _serialize(timestamp, True)}


def firmware_image(version, src=None, fault=None):
    """The ROMFS image (bytes) of the firmware with pos.VERSION = version; `fault` makes a
    deliberately broken release whose trial-boot self-test fails with that reason."""
    from host_sim.mpy import FIRMWARE_DIR
    from posbuild.romfs import build_romfs
    src = src or FIRMWARE_DIR
    tmp = tempfile.mkdtemp(prefix="smartpos-release-")
    try:
        tree = os.path.join(tmp, "firmware")
        shutil.copytree(src, tree, ignore=shutil.ignore_patterns("__pycache__", ".*"))
        init = os.path.join(tree, "pos", "__init__.py")
        lines = open(init).read().splitlines()
        lines = [('VERSION = "%s"' % version) if line.startswith("VERSION") else line for line in lines]
        with open(init, "w") as f:
            f.write("\n".join(lines) + "\n")
        if fault:
            st = os.path.join(tree, "pos", "tms", "selftest.py")
            text = open(st).read().replace("INJECTED_FAULT = None", "INJECTED_FAULT = %r" % fault)
            with open(st, "w") as f:
                f.write(text)
        with open(build_romfs(tree), "rb") as f:
            return f.read()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def build_release(version, out_dir, src=None, fault=None, expires_days=30, key_dir=TEST_KEY_DIR,
                  meta_version=None):
    """A release folder: firmware-<version>.romfs, metadata/*.json, firmware-<version>.swu
    (the same release as one SWUpdate image), release.json."""
    metadata_version(version)
    signers = load_keys(key_dir)
    image = firmware_image(version, src, fault)
    name = "firmware-%s.romfs" % version
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    md = make_metadata(image, version, name, signers, now=now,
                       expires=now + datetime.timedelta(days=expires_days), meta_version=meta_version)
    os.makedirs(os.path.join(out_dir, "metadata"), exist_ok=True)
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(image)
    for fname, raw in md.items():
        with open(os.path.join(out_dir, "metadata", fname), "wb") as f:
            f.write(raw)
    swu_name = "firmware-%s.swu" % version
    with open(os.path.join(out_dir, swu_name), "wb") as f:
        f.write(release_swu(version, name, image, md))
    info = {"version": version, "image": name, "length": len(image),
            "sha256": hashlib.sha256(image).hexdigest(), "board": BOARD, "fault": fault,
            "metadata": sorted(md), "swu": swu_name}
    with open(os.path.join(out_dir, "release.json"), "w") as f:
        json.dump(info, f, indent=2)
    return info


def release_swu(version, image_name, image, metadata, board=BOARD):
    """The release as one SWUpdate image (bytes): sw-description naming the firmware version
    (what goosebit records as the software's version), the versioned roots of a rotation and
    timestamp, snapshot and targets (what the terminal checks, in the order it checks them),
    then the image itself, last, under its signed target name."""
    roots = sorted((n for n in metadata if n.endswith(".root.json") and n[:-10].isdigit()),
                   key=lambda n: int(n[:-10]))
    files = [(n, metadata[n]) for n in roots + ["timestamp.json", "snapshot.json", "targets.json"]]
    files.append((image_name, image))
    return swu.pack(swu.sw_description(version, "smartpos firmware %s for board %s" % (version, board)), files)


def trusted_root_json(key_dir=TEST_KEY_DIR):
    """The root metadata the firmware ships (firmware/config/tuf_root.json)."""
    return _serialize(make_root(load_keys(key_dir)))
