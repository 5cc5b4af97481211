"""pos.stdmods on MicroPython: the built-in modules bound in sys.modules at boot, so that an
import neither searches the flash for them nor takes a file there that shadows one."""
from host_sim import mpy

SHADOW = "SHADOW = True\n"        # a json.py on the path


def test_an_import_after_bind_takes_the_built_in_and_searches_nothing(tmp_path):
    (tmp_path / "json.py").write_text(SHADOW)
    code = ("import sys\n"
            "from pos import stdmods\n"
            "path = list(sys.path)\n"
            "stdmods.bind()\n"
            "assert sys.path == path, sys.path\n"            # the search path is given back
            "import json\n"
            "print(json.dumps({'a': 1}), getattr(json, 'SHADOW', False))\n"
            "print(sorted(n for n in stdmods.NAMES if n in sys.modules))\n")
    out = mpy.run(code, extra_path=[str(tmp_path)])
    lines = out.splitlines()
    assert lines[0] == '{"a": 1} False'
    bound = set(eval(lines[1]))
    assert {"time", "json", "struct", "binascii", "hashlib", "os", "array"} <= bound


def test_without_bind_the_file_on_the_path_stands_in(tmp_path):
    # what bind() prevents: MicroPython takes a file on sys.path before an extensible built-in
    (tmp_path / "json.py").write_text(SHADOW)
    out = mpy.run("import json\nprint(getattr(json, 'SHADOW', False))\n", extra_path=[str(tmp_path)])
    assert out.strip() == "True"


def test_a_module_the_build_lacks_is_skipped():
    out = mpy.run("import sys\nfrom pos import stdmods\nstdmods.bind(('json', 'no_such_builtin'))\n"
                  "print('json' in sys.modules, 'no_such_builtin' in sys.modules)\n")
    assert out.split() == ["True", "False"]
