"""`smartpos keys load-kek`: into the simulator's flash folder and into a board over its REPL;
only the KCV is printed; the terminal's key store reads back the same KEK."""
import json
import os
import re
import subprocess
import sys

import pytest

from cloud.tms import keys
from host_sim.board import VirtualBoard
from tests.tms.tr31_mp import run_on_flash

SMARTPOS = os.path.join(os.path.dirname(sys.executable), "smartpos")
MAIN = "import time\nprint('smartpos ready')\nwhile True:\n    time.sleep_ms(50)\n"


def smartpos(*args, stdin=None):
    return subprocess.run([SMARTPOS, "keys", "load-kek", *args], capture_output=True, text=True,
                          input=stdin, timeout=120)


def terminal_kbpk(flash):
    (flash / "keys.kld").write_text(json.dumps({"acquirers": {}}))
    return run_on_flash(flash, "answer(lambda: (lambda k: {'alg': k[1], 'len': len(k[0]), 'key': k[0].hex()})(ks.kbpk()))\n")[0]


def test_generate_into_the_flash_folder_prints_only_the_kcv(tmp_path):
    flash = tmp_path / "flash"
    flash.mkdir()
    nowhere = smartpos("--flash", str(tmp_path / "nope"), "--generate", str(tmp_path / "kek.hex"))
    assert nowhere.returncode == 2 and not os.path.exists(tmp_path / "kek.hex")
    r = smartpos("--flash", str(flash), "--generate", str(tmp_path / "kek.hex"))
    assert r.returncode == 0, r.stderr
    key = (tmp_path / "kek.hex").read_text().strip()
    assert len(key) == 64
    m = re.fullmatch(r"load-kek: AES-256 KEK loaded into (.+); KCV ([0-9A-F]{10})\n", r.stdout)
    assert m and m.group(1) == str(flash / "kbpk.json")
    assert key not in r.stdout.upper() + r.stderr.upper()
    assert os.stat(tmp_path / "kek.hex").st_mode & 0o777 == 0o600
    assert os.stat(flash / "kbpk.json").st_mode & 0o777 == 0o600
    assert json.loads((flash / "kbpk.json").read_text())["kcv"] == m.group(2)
    got = terminal_kbpk(flash)
    assert got == {"alg": "A", "len": 32, "key": key.lower()}
    # never overwritten
    again = smartpos("--flash", str(flash), "--generate", str(tmp_path / "kek.hex"))
    assert again.returncode == 2 and "never overwritten" in again.stderr
    assert (tmp_path / "kek.hex").read_text().strip() == key


def test_tdes_key_from_stdin_and_refusals(tmp_path):
    flash = tmp_path / "flash"
    flash.mkdir()
    r = smartpos("--flash", str(flash), "--key-file", "-", "--algorithm", "T",
                 stdin="0123456789ABCDEF FEDCBA9876543210\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("KCV 08D7B4") and "TDES 2-key" in r.stdout
    assert terminal_kbpk(flash)["alg"] == "T"
    for args, msg in ((("--flash", str(flash), "--key-file", "-"), "not hexadecimal"),
                      (("--flash", str(tmp_path / "nope"), "--key-file", "-"), "no flash folder"),
                      (("--flash", str(flash), "--key-file", str(tmp_path / "missing")), "cannot read")):
        bad = smartpos(*args, stdin="zz")
        assert bad.returncode == 2 and msg in bad.stderr, bad.stderr
    short = smartpos("--flash", str(flash), "--key-file", "-", stdin="00" * 20)
    assert short.returncode == 2 and "20 bytes" in short.stderr


@pytest.fixture
def board(tmp_path):
    flash = tmp_path / "board-flash"
    flash.mkdir()
    b = VirtualBoard(flash, pty=True, wiring={})
    b.start()
    (flash / "main.py").write_text(MAIN)       # a firmware that reports ready after the reset
    yield b
    b.stop()


def test_over_the_repl_writes_the_board_flash_and_resets(board, tmp_path):
    (tmp_path / "kek.hex").write_text("00112233445566778899AABBCCDDEEFF0011223344556677\n")
    r = smartpos("--port", board.url, "--key-file", str(tmp_path / "kek.hex"), "--algorithm", "T")
    assert r.returncode == 0, r.stderr
    assert re.search(r"TDES 3-key KEK loaded into socket://.+kbpk\.json; KCV [0-9A-F]{6}$", r.stdout.strip())
    assert "00112233" not in r.stdout
    on_board = json.loads(open(os.path.join(board.flash_dir, "kbpk.json")).read())
    kek = keys.kek_from_hex("00112233445566778899AABBCCDDEEFF0011223344556677", "T")
    assert on_board == json.loads(kek.terminal_file()) and on_board["kcv"] == kek.kcv()
    assert not os.path.exists(os.path.join(board.flash_dir, "kbpk.json.tmp"))
    assert board.cpu.hard_resets == 1
    assert on_board["kcv"] in r.stdout
