"""The operator's parameters for an app on one terminal, as provisioning writes them: the
non-secret part (host URL, the terminal's id there, time-outs) into the app's storage
(appdata/<app>/<file>), and the app's request-signing key into the terminal's key store
(secret "app:<app id>", docs/sdk.md "Where the key lives"):

- before the terminal's first boot, or whenever a key-loading file waits on the flash, the key
  joins that file's secrets and the terminal seals it with the rest at boot;
- on a terminal whose key store is already sealed (and no key-loading file waits), a new
  key-loading file would replace every key it holds, so the key goes into the storage file
  instead and the firmware moves it into the key store at its first signed request, rewriting
  the file without it.

    write(flash_dir, "topup", "biller.json", {"url": ..., "terminal": "TERM0001"}, key)
"""
import hashlib
import json
import os

KLD = "keys.kld"


def secret_name(app_id):
    return "app:" + app_id


def add_to_kld(path, name, key):
    """Secret `name` (16 bytes) into the key-loading file at `path` (it must exist)."""
    with open(path) as f:
        d = json.load(f)
    d.setdefault("secrets", {})[name] = {"key": key.hex().upper(), "kcv": hashlib.sha256(key).digest()[:3].hex().upper()}
    with open(path, "w") as f:
        json.dump(d, f)


def write(flash_dir, app_id, file_name, params, key):
    """Provision app `app_id`: `params` (no key) into its storage file, `key` where it belongs."""
    if len(key) != 16:
        raise ValueError("an app's request-signing key is 16 bytes, not %d" % len(key))
    d = os.path.join(flash_dir, "appdata", app_id)
    os.makedirs(d, exist_ok=True)
    stored = dict(params)
    kld = os.path.join(flash_dir, KLD)
    if os.path.exists(kld) or not os.path.exists(os.path.join(flash_dir, "keystore.bin")):
        if not os.path.exists(kld):             # a bare flash: the simulator's TEST keys with it
            from host_sim.hosts.acquirer.terminal import write_kld
            write_kld(kld)
        add_to_kld(kld, secret_name(app_id), key)
    else:
        stored["key"] = key.hex()               # moved into the key store at its first use
    with open(os.path.join(d, file_name), "w") as f:
        json.dump(stored, f)
