"""The ROM image's names module (tools/posbuild/names.py, loaded at boot by pos.names_image):
its qstr table holds every name the image's other modules intern, each once, and the module
loads on MicroPython, interning them."""
import pytest

from host_sim import mpy
from posbuild.names import MODULE, mpy_names, names_mpy
from posbuild.romfs import build_romfs, romfs_files
from posbuild.toolchain import BuildError

NAMES_PATH = MODULE.replace(".", "/") + ".mpy"


def _image_files():
    with open(build_romfs(), "rb") as f:
        return dict(romfs_files(f.read()))


def test_the_names_module_holds_every_name_of_the_image_once():
    files = _image_files()
    table = mpy_names(files[NAMES_PATH], NAMES_PATH)
    assert len(table) == len(set(table))
    used = set()
    for path, data in files.items():
        if path.endswith(".mpy") and path != NAMES_PATH:
            used.update(mpy_names(data, path))
    assert len(used) > 3000
    assert set(table) == used | {MODULE.encode()}


def test_loading_it_interns_the_names_and_the_modules_still_run(tmp_path):
    image = build_romfs()
    out = mpy.run("import vfs, sys, micropython\n"
                  "f = open(%r, 'rb'); b = f.read(); f.close()\n"
                  "vfs.mount(vfs.VfsRom(b), '/rom'); sys.path.insert(0, '/rom')\n"
                  "micropython.qstr_info()\n"
                  "import pos._names\n"
                  "micropython.qstr_info()\n"
                  "from pos.emv import tlv\n"
                  "print(tlv.__file__, bytes(tlv.tlv_find(bytes.fromhex('6F0484025A01'), 0x84) or b'').hex())\n"
                  % image, heap="4M")
    counts = [int(line.split("n_qstr=")[1].split(",")[0]) for line in out.splitlines() if "n_qstr=" in line]
    assert counts[1] - counts[0] > 3000            # the image's names, less the interpreter's own
    assert "/rom/pos/emv/tlv.mpy 5a01" in out


def test_a_file_that_is_not_plain_bytecode_is_refused(tmp_path):
    bad = tmp_path / "x.mpy"
    bad.write_bytes(b"C\x06\x00\x1f\x00\x00")
    with pytest.raises(BuildError, match="not a version 6 .mpy"):
        names_mpy([str(bad)])
    bad.write_bytes(b"M\x06\x0c\x1f\x00\x00")     # an architecture set: native code inside
    with pytest.raises(BuildError, match="native code"):
        names_mpy([str(bad)])
