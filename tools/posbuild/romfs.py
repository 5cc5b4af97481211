"""The firmware packages as a ROMFS image (MicroPython's VfsRom format, .mpy inside): what a board
build freezes into flash and what a firmware release carries.  Also the measured RAM a ROM image's
qstrs cost on the unix port, which a frozen board build keeps in flash instead.
"""
import hashlib
import os
import re
import shutil
import subprocess
import tempfile

from posbuild.mpy import build_cached
from posbuild.names import MODULE as NAMES_MODULE, names_mpy, read_uint
from posbuild.toolchain import FIRMWARE_DIR, gc_geometry, micropython_binary

FROZEN_PACKAGES = ("pos",)


def build_romfs(src=FIRMWARE_DIR, packages=FROZEN_PACKAGES):
    """The firmware packages as a ROMFS image (MicroPython's VfsRom format, .mpy inside): what a
    board build freezes into flash.  Cached by content; returns the image path."""
    from mpremote.romfs import VfsRomWriter
    tmp = tempfile.mkdtemp(prefix="smartpos-rom-")
    try:
        built = [(rel, local) for rel, local in build_cached(tmp, None, src)
                 if rel.split("/", 1)[0] in packages and (rel.endswith(".mpy") or rel.endswith(".bin"))]
        h = hashlib.sha256(b"names module 2")
        for rel, local in built:
            h.update(rel.encode() + b"\0" + open(local, "rb").read())
        cache = os.path.join(tempfile.gettempdir(), "smartpos-mpy-cache-%d" % os.getuid())
        path = os.path.join(cache, "firmware-%s.romfs" % h.hexdigest()[:20])
        if os.path.exists(path) and os.path.exists(qstr_file(path)):
            return path
        if "pos" in packages:          # every name of the image in one module (pos.names_image)
            names = os.path.join(tmp, "names.mpy")
            with open(names, "wb") as f:
                f.write(names_mpy([local for rel, local in built if rel.endswith(".mpy")]))
            built.append((NAMES_MODULE.replace(".", "/") + ".mpy", names))
        tree = {}
        for rel, local in built:
            node = tree
            parts = rel.split("/")
            for d in parts[:-1]:
                node = node.setdefault(d + "/", {})
            node[parts[-1]] = local
        w = VfsRomWriter()

        def put(node):
            for name in sorted(node):
                if name.endswith("/"):
                    w.opendir(name[:-1])
                    put(node[name])
                    w.closedir()
                else:
                    with open(node[name], "rb") as f:
                        w.mkfile(name, f.read())
        put(tree)
        os.makedirs(cache, exist_ok=True)
        part = path + ".%d.part" % os.getpid()
        with open(part, "wb") as f:
            f.write(w.finalise())
        mods = [rel[:-4].replace("/", ".").replace(".__init__", "") for rel, _ in built if rel.endswith(".mpy")]
        qstr = measure_rom_qstrs(part, mods)
        with open(qstr_file(path), "w") as f:
            f.write("%d\n" % qstr)
        os.replace(part, path)
        return path
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def measure_rom_qstrs(image, modules):
    """Bytes of qstr pool the unix port interns in RAM when every module of the ROM image is
    imported; a frozen board build keeps these in flash."""
    code = ("import vfs, sys, micropython\n"
            "f = open(%r, 'rb'); b = f.read(); f.close()\n"
            "vfs.mount(vfs.VfsRom(b), '/rom'); sys.path.insert(0, '/rom')\n"
            "micropython.qstr_info()\n"
            "for m in %r:\n"
            "    try:\n"
            "        __import__(m)\n"
            "    except Exception:\n"
            "        pass\n"
            "micropython.qstr_info()\n" % (image, modules))
    env = dict(os.environ, MICROPYPATH=".frozen")
    r = subprocess.run([micropython_binary(), "-X", "heapsize=4M", "-c", code], capture_output=True,
                       text=True, timeout=120, env=env)
    totals = [int(x) for x in re.findall(r"n_total_bytes=(\d+)", r.stdout)]
    if len(totals) != 2:
        return 0
    return max(0, totals[1] - totals[0])


def image_qstr_bytes(image):
    """rom_qstr_bytes() for a ROMFS image given as bytes (e.g. what a board's slot holds),
    measured once per image content (every module found in the image is imported)."""
    h = hashlib.sha256(image).hexdigest()[:20]
    cache = os.path.join(tempfile.gettempdir(), "smartpos-mpy-cache-%d" % os.getuid())
    path = os.path.join(cache, "image-%s.romfs" % h)
    known = rom_qstr_bytes(path)
    if known or os.path.exists(qstr_file(path)):
        return known
    os.makedirs(cache, exist_ok=True)
    part = path + ".%d.part" % os.getpid()
    with open(part, "wb") as f:
        f.write(image)
    os.replace(part, path)
    mods = romfs_modules(image)
    qstr = measure_rom_qstrs(path, mods)
    with open(qstr_file(path), "w") as f:
        f.write("%d\n" % qstr)
    return qstr


def romfs_files(image):
    """[(path, payload)] of the files inside a ROMFS image (MicroPython's VfsRom format:
    records of kind, varuint length, payload; see mpremote.romfs), paths as 'pos/emv/tlv.mpy'."""
    out = []

    def walk(buf, prefix):
        i = 0
        while i < len(buf):
            kind, i = read_uint(buf, i)
            n, i = read_uint(buf, i)
            body = buf[i:i + n]
            i += n
            if kind in (4, 5):                  # directory / file: name length, name, payload
                ln, j = read_uint(body, 0)
                name = body[j:j + ln].decode()
                rest = body[j + ln:]
                if kind == 4:
                    walk(rest, prefix + name + "/")
                else:
                    out.append((prefix + name, data(rest)))

    def data(rest):                             # the file's data record (build_romfs writes them verbatim)
        j = 0
        while j < len(rest):
            kind, j = read_uint(rest, j)
            n, j = read_uint(rest, j)
            if kind == 2:
                return rest[j:j + n]
            j += n
        return b""

    kind, i = read_uint(image, 0)
    n, i = read_uint(image, i)
    walk(image[i:i + n], "")
    return out


def romfs_modules(image):
    """Dotted names of the .mpy modules inside a ROMFS image."""
    out = []
    for path, _ in romfs_files(image):
        if path.endswith(".mpy"):
            mod = path[:-4].replace("/", ".")
            out.append(mod[:-len(".__init__")] if mod.endswith(".__init__") else mod)
    return out


def qstr_file(image):
    """Where the measured qstr cost of `image` is kept: image + ".qstr" for the 64-bit unix
    port, ".qstr-32" for a 32-bit build (its pools take about half the bytes)."""
    return image + ".qstr" + gc_geometry().arch_tag


def rom_qstr_bytes(image):
    """The measured qstr cost of a ROM image built by build_romfs (0 if unknown), on the
    virtual board's MicroPython (toolchain.micropython_binary())."""
    try:
        with open(qstr_file(image)) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return 0


