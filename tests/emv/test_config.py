"""Terminal EMV configuration: firmware/config/emv.json validated on MicroPython."""
import json
import os

import pytest

from harness import CONFIG, ConfigFailure, Harness
from host_sim import mpy
from cardkit import MiniCard


def load_on_mpy(cfg_path, capk_path=None):
    code = ("from pos.emv import config\n"
            "try:\n"
            "    c = config.load(%r, %r)\n"
            "    print('OK', len(c.schemes), len(c.ca_keys), c.terminal.capabilities.hex())\n"
            "except config.ConfigError as e:\n"
            "    print('ERR', e.key, '|', e)\n" % (cfg_path, capk_path))
    return mpy.run(code).strip()


def write(tmp_path, d, name="emv.json"):
    p = tmp_path / name
    p.write_text(json.dumps(d))
    return str(p)


def base():
    with open(CONFIG) as f:
        return json.load(f)


def test_default_config_loads(capk):
    out = load_on_mpy(CONFIG, capk)
    assert out == "OK 6 1 e0f8c8"
    names = sorted(base()["schemes"])
    assert names == ["amex", "discover", "jcb", "mastercard", "unionpay", "visa"]


@pytest.mark.parametrize("mutate,key", [
    (lambda d: d["schemes"]["visa"].__setitem__("tac_online", "DC40"), "schemes.visa.tac_online"),
    (lambda d: d["schemes"]["visa"].__setitem__("tac_denial", "ZZ00000000"), "schemes.visa.tac_denial"),
    (lambda d: d["terminal"].pop("capabilities"), "terminal.capabilities"),
    (lambda d: d["terminal"].__setitem__("country_code", "84"), "terminal.country_code"),
    (lambda d: d["schemes"]["amex"]["aids"][0].__setitem__("aid", "A0000000031010"), "schemes.amex.aids[0].aid"),
    (lambda d: d["schemes"]["jcb"].__setitem__("floor_limit", "100"), "schemes.jcb.floor_limit"),
    (lambda d: d["schemes"]["jcb"].__setitem__("random_target_percent", 80), "schemes.jcb.random_target_percent"),
    (lambda d: d.__setitem__("schemes", {}), "schemes"),
    (lambda d: d["terminal"].__setitem__("online_capable", "yes"), "terminal.online_capable"),
])
def test_bad_config_names_the_key(tmp_path, mutate, key):
    d = base()
    mutate(d)
    d.pop("capk_file")
    out = load_on_mpy(write(tmp_path, d))
    assert out.startswith("ERR %s |" % key), out


def test_bad_capk_names_the_key(tmp_path):
    d = base()
    capk = {"keys": [{"rid": "A000000003", "index": "92", "modulus": "AB" * 128, "exponent": "05"}]}
    out = load_on_mpy(write(tmp_path, d), write(tmp_path, capk, "capk.json"))
    assert out.startswith("ERR capk_file.keys[0].exponent |"), out


def test_not_json(tmp_path):
    p = tmp_path / "emv.json"
    p.write_text("{terminal: ")
    out = load_on_mpy(str(p))
    assert out.startswith("ERR emv.json |") and "not valid JSON" in out


def test_capk_file_named_in_config_is_used(tmp_path, pki):
    d = base()
    d["capk_file"] = "my_capk.json"
    pki.capk_json(str(tmp_path / "my_capk.json"))
    out = load_on_mpy(write(tmp_path, d))
    assert out.startswith("OK 6 1")


def test_harness_reports_config_error(tmp_path, pki):
    d = base()
    d["terminal"]["terminal_type"] = "2"
    with pytest.raises(ConfigFailure) as e:
        Harness(MiniCard(pki), config=write(tmp_path, d)).run(1000)
    assert e.value.key == "terminal.terminal_type"
