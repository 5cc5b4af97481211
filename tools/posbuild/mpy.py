"""The firmware compiled to .mpy: what goes onto a board's flash (sources for boot.py/main.py,
.mpy for the rest, data files as they are, generated files such as the CJK glyph subset), cached
by source hash, and installed into a virtual board's flash directory.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

from posbuild import fonts
from posbuild.toolchain import FIRMWARE_DIR, BuildError, decode_mpy, mpy_cross_binary, \
    mpy_cross_version, unix_port_mpy

MANIFEST = ".flash-manifest"
KEEP_SOURCE = ("boot.py", "main.py")

SKIP_SUFFIXES = (".pyc", ".md", ".orig", ".rej", "~", ".swp")


def firmware_files(src=FIRMWARE_DIR):
    """Relative paths of what goes onto the board: sources (.py) and data files (config/*.json...)."""
    out = []
    for root, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__pycache__")))
        for name in sorted(files):
            if not name.startswith(".") and not name.endswith(SKIP_SUFFIXES):
                out.append(os.path.relpath(os.path.join(root, name), src).replace(os.sep, "/"))
    return out


def module_name(rel):
    """'pos/app/sale.py' -> 'pos.app.sale'; a package's __init__.py -> the package's name."""
    name = rel[:-3].replace("/", ".")
    return name[:-len(".__init__")] if name.endswith(".__init__") else name


def build(out_dir, mpy=None, src=FIRMWARE_DIR):
    """Compile the firmware into out_dir; return [(board path, local file)].

    mpy: the board's sys.implementation._mpy (None: plain bytecode, no -march).
    Raises BuildError naming the first file that does not compile."""
    cross = mpy_cross_binary()
    march = None
    if mpy is not None:
        version, sub, march = decode_mpy(mpy)
        have = mpy_cross_version()
        if (version, sub) != have:
            raise BuildError("the board loads .mpy v%d.%d but mpy-cross emits v%d.%d: install the "
                             "mpy-cross matching the board's MicroPython" % (version, sub, have[0], have[1]))
    out = []
    for rel in firmware_files(src):
        path = os.path.join(src, rel)
        if not rel.endswith(".py"):
            out.append((rel, path))          # data file: copied as it is
            continue
        if rel in KEEP_SOURCE:
            # the port runs these by name: they must be sources, but they must compile too
            r = subprocess.run([cross, "-o", os.devnull, path], capture_output=True, text=True)
            if r.returncode:
                raise BuildError(_compile_error(rel, r.stderr))
            out.append((rel, path))
            continue
        dst = os.path.join(out_dir, rel[:-3] + ".mpy")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        # the source name tracebacks show is the module's dotted name: the same interned
        # string as the module's own name, where a path would be one more (RAM on a port
        # that loads .mpy files, tens of bytes per module that never go away)
        argv = [cross, "-s", module_name(rel), "-o", dst]
        if march:
            argv.append("-march=" + march)
        r = subprocess.run(argv + [path], capture_output=True, text=True)
        if r.returncode:
            raise BuildError(_compile_error(rel, r.stderr))
        out.append((rel[:-3] + ".mpy", dst))
    out.extend(_generated(out_dir, src))
    return out


def _generated(out_dir, src):
    """Files made at build time: the CJK glyph subset of the message catalogs."""
    if not os.path.exists(os.path.join(src, "pos", "ui", "messages.py")):
        return []
    try:
        return [(fonts.TARGET, fonts.build_into(src, out_dir))]
    except fonts.FontError as exc:
        print("smartpos: %s; Chinese text will show as '?'" % exc, file=sys.stderr)
        return []


def _compile_error(rel, stderr):
    lines = [l.strip() for l in stderr.strip().splitlines() if l.strip()]
    detail = "; ".join(lines[-2:]) if lines else "mpy-cross failed"
    return "firmware/%s does not compile for MicroPython (%s): fix it, nothing was copied" % (rel, detail)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def install_into_directory(flash_dir, src=FIRMWARE_DIR, exclude=()):
    """What `smartpos flash` leaves on a virtual board, done host-side into its flash directory
    (compiled for the unix port, sources for boot.py/main.py, the manifest of hashes).
    `exclude`: top-level packages left out (frozen into the ROM image instead)."""
    tmp = tempfile.mkdtemp(prefix="smartpos-build-")
    try:
        built = build_cached(tmp, unix_port_mpy(), src)
        manifest = {}
        for rel, local in built:
            if rel.split("/", 1)[0] in exclude:
                continue
            dst = os.path.join(flash_dir, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(local, dst)
            twin = dst[:-4] + ".py"
            if dst.endswith(".mpy") and os.path.exists(twin):
                os.remove(twin)
            manifest[rel] = sha256_file(local)
        with open(os.path.join(flash_dir, MANIFEST), "w") as f:
            json.dump(manifest, f, sort_keys=True, separators=(",", ":"))
        return built
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def build_cached(out_dir, mpy=None, src=FIRMWARE_DIR):
    """build(), reusing an earlier build of the very same sources for the same .mpy target."""
    h = hashlib.sha256(("%s|%s|%s|fontgen1|dotted-source-names" % (mpy_cross_binary(), mpy,
                                                                    fonts.font_path())).encode())
    for rel in firmware_files(src):
        h.update(rel.encode() + b"\0")
        with open(os.path.join(src, rel), "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    cache = os.path.join(tempfile.gettempdir(), "smartpos-mpy-cache-%d" % os.getuid(), h.hexdigest()[:20])
    if os.path.isdir(cache):
        return [(rel, os.path.join(cache, rel) if os.path.exists(os.path.join(cache, rel))
                 else os.path.join(src, rel))
                for rel in _cached_list(cache)]     # sources and data files come from src
    built = build(out_dir, mpy, src)
    _fill_cache(cache, built)
    return built


def _cached_list(cache):
    with open(os.path.join(cache, ".list")) as f:
        return [l for l in f.read().splitlines() if l]


def src_dir_of(built):
    """The firmware source tree the data files of `built` come from."""
    for rel, local in built:
        if rel.endswith(".py"):
            return os.path.abspath(local)[: -len(rel)].rstrip(os.sep)
    return FIRMWARE_DIR


def _fill_cache(cache, built):
    """Keep a compiled firmware by source hash so the next virtual board starts at once."""
    part = cache + ".part%d" % os.getpid()
    try:
        for rel, local in built:
            if rel.endswith(".mpy") or not local.startswith(os.path.abspath(src_dir_of(built)) + os.sep):
                dst = os.path.join(part, rel)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copyfile(local, dst)
        os.makedirs(part, exist_ok=True)
        with open(os.path.join(part, ".list"), "w") as f:
            f.write("\n".join(rel for rel, _ in built) + "\n")
        os.rename(part, cache)
    except OSError:
        shutil.rmtree(part, ignore_errors=True)
