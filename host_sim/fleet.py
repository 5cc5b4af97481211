"""The virtual terminal in the cloud service: what an operator and a technician do for a new
terminal, done for `smartpos sim`.

``enroll(cloud_url, admin_password, flash_dir)`` signs in as the operator admin, creates the
TEST merchant and store (MID and TID from the terminal's acquirer configuration) and registers
the terminal by serial, which gives an activation code; then enrolls with that code as the
terminal does and writes ``config/cloud.json`` (cloud URL, DDI tenant, controller id) to the
terminal's flash, and the TargetToken into its key-loading file (sealed into the key store at
boot).
"""
import json
import os
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIM_SERIAL = "SIM-0001"
SIM_MODEL = "smartpos virtual board"


class FleetError(Exception):
    """The cloud refused a step of the enrollment; the message says which and why."""


def _tls_context(ca=None):
    """Client context trusting `ca` (PEM or DER file; default: the TEST CA) and nothing else."""
    import ssl
    from cloud.tls import TEST_CA_PEM
    ca = ca or TEST_CA_PEM
    with open(ca, "rb") as f:
        data = f.read()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)         # hostname checked, certificate required
    ctx.load_verify_locations(cadata=data.decode() if data.startswith(b"-----") else data)
    return ctx


def _open(req, ca=None):
    """The answer's bytes; https checked against `ca` (default: the TEST CA)."""
    ctx = _tls_context(ca) if req.full_url.startswith("https://") else None
    with urllib.request.urlopen(req, timeout=30, context=ctx) as r:
        return r.read()


def _call(base, method, path, body=None, token=None, ca=None, headers=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    ctx = _tls_context(ca) if base.startswith("https://") else None
    try:
        with urllib.request.urlopen(req, timeout=30, context=ctx) as r:
            data = r.read()
    except urllib.error.HTTPError as exc:
        raise FleetError("%s %s: %d %s" % (method, path, exc.code, exc.read().decode(errors="replace")[:200]))
    except OSError as exc:
        raise FleetError("%s %s: cloud unreachable (%s)" % (method, path, exc))
    return json.loads(data) if data else None


def _acquirer():
    with open(os.path.join(REPO, "firmware", "config", "acquirers.json")) as f:
        cfg = json.load(f)
    first = sorted(cfg["acquirers"])[0]
    # the merchant's currency is the terminal's one currency (EMV 5F2A of config/emv.json,
    # firmware pos.app.money): the cloud refuses uploads in a currency the store does not use
    with open(os.path.join(REPO, "firmware", "config", "emv.json")) as f:
        code = json.load(f)["terminal"]["currency_code"]
    return cfg["acquirers"][first], cfg.get("currency", "%03d" % int(code))


def register(cloud_url, admin_password, serial=SIM_SERIAL, admin="admin"):
    """What an operator does for a new terminal: the TEST merchant and store (MID and TID from
    the terminal's acquirer configuration) and the terminal registered by serial (a fresh
    activation code if it is known already).  Returns the answer: activation_code, activation_qr."""
    acq, currency = _acquirer()
    token = _call(cloud_url, "POST", "/api/v1/auth/login", {"username": admin, "password": admin_password})["token"]
    merchants = {m["name"]: m for m in _call(cloud_url, "GET", "/api/v1/merchants", token=token)}
    m = merchants.get("TEST Merchant") or _call(cloud_url, "POST", "/api/v1/merchants",
                                                {"name": "TEST Merchant", "mid": acq["mid"], "currency": currency},
                                                token=token)
    stores = {s["name"]: s for s in _call(cloud_url, "GET", "/api/v1/stores?merchant_id=%d" % m["id"], token=token)}
    s = stores.get("Counter 1") or _call(cloud_url, "POST", "/api/v1/stores",
                                         {"merchant_id": m["id"], "name": "Counter 1"}, token=token)
    known = _call(cloud_url, "GET", "/api/v1/terminals?q=" + serial, token=token)
    if known:
        return _call(cloud_url, "POST", "/api/v1/terminals/%d/activation" % known[0]["id"], token=token)
    return _call(cloud_url, "POST", "/api/v1/terminals",
                 {"serial": serial, "model": SIM_MODEL, "tid": acq["tid"], "store_id": s["id"]}, token=token)


def write_cloud_config(flash_dir, cloud_url, mqtt=None, identity=None, ca_der=None):
    """config/cloud.json (and, for https, the pinned CA as config/cloud_ca.der: default the
    TEST CA) on the terminal's flash: the cloud's address before enrollment, plus the DDI
    identity once enrolled."""
    os.makedirs(os.path.join(flash_dir, "config"), exist_ok=True)
    cfg = {"url": cloud_url}
    if identity:
        cfg.update(tenant=identity["tenant"], controller_id=identity["controller_id"])
    if mqtt:
        cfg["mqtt"] = mqtt              # "host:port" of the broker that wakes the terminal
    with open(os.path.join(flash_dir, "config", "cloud.json"), "w") as f:
        json.dump(cfg, f)
    if cloud_url.startswith("https://"):
        from cloud.tls import TEST_CA_DER
        with open(ca_der or TEST_CA_DER, "rb") as src, \
                open(os.path.join(flash_dir, "config", "cloud_ca.der"), "wb") as dst:
            dst.write(src.read())


def enroll(cloud_url, admin_password, flash_dir, admin="admin", serial=SIM_SERIAL, mqtt=None, terminal_url=None):
    """Register and enroll from the host side (the technician's shortcut of `make sim`); returns
    the enrollment answer (tenant, controller_id, target_token, ddi_path).  `terminal_url`: the
    address the terminal uses for the cloud, when it is not `cloud_url` (a relay between them)."""
    code = register(cloud_url, admin_password, serial, admin)
    identity = _call(cloud_url, "POST", "/api/v1/enroll",
                     {"activation_code": code["activation_code"], "serial": serial, "model": SIM_MODEL})
    write_cloud_config(flash_dir, terminal_url or cloud_url, mqtt, identity)
    add_token_to_kld(os.path.join(flash_dir, "keys.kld"), identity["target_token"])
    return identity


def add_token_to_kld(path, token):
    """The TargetToken goes into the key-loading file the terminal seals into its key store at
    boot (secret "ddi"), never into a configuration file."""
    import hashlib
    if not os.path.exists(path):
        # keys already sealed on this flash: a new key-loading file replaces them all, so it
        # carries the simulator's TEST keys again (a key-injection station does the same)
        from host_sim.hosts.acquirer.terminal import write_kld
        write_kld(path)
    with open(path) as f:
        d = json.load(f)
    key = bytes.fromhex(token)
    d.setdefault("secrets", {})["ddi"] = {"key": key.hex().upper(),
                                          "kcv": hashlib.sha256(key).digest()[:3].hex().upper()}
    with open(path, "w") as f:
        json.dump(d, f)


class ManagedTerminal:
    """A cloud service and one virtual terminal enrolled in it, for tests and demos:

        with ManagedTerminal() as mt:
            mt.api("PUT", "/api/v1/tms/parameters/operator/0", {"files": {...}})
            state = mt.wait_action(action_id)          # the terminal polls every `poll_s`
    """

    def __init__(self, poll_s=2, heap=None, admin_password="managed-terminal-1", serial="SIM-MANAGED",
                 before_boot=None, mqtt_url=None, slots=False, relay=False, tls=None, rig=False,
                 power_cuts=False, env=None, tls_heap=False):
        self.poll_s, self.heap, self.password, self.serial = poll_s, heap, admin_password, serial
        # the cloud over HTTPS (TEST certificate), its CA pinned; False: plain HTTP (debugging).
        # Through a relay the default is plain HTTP: the relay cuts links by reading request lines
        self.tls = (not relay) if tls is None else tls
        self.tls_heap = tls_heap            # mbedTLS on the board's GC heap (VirtualBoard tls_heap)
        self.before_boot = before_boot      # fn(flash_dir): manufacture steps (e.g. load a KEK)
        self.mqtt_url = mqtt_url            # mqtt://host:port: the cloud wakes the terminal through it
        self.slots = slots                  # two ROMFS slots and the bootloader (firmware updates)
        self.relay = relay                  # the terminal reaches the cloud through a Relay (link faults)
        # rig=True: the whole counter (host_sim.rig: acquirer and wallet hosts, the cashier's
        # hands as self.rig) instead of a board with no payment hosts; power_cuts (with rig):
        # flash operations numbered for power-cut test points (VirtualBoard.arm_power_cut)
        self.rig = rig
        self.power_cuts = power_cuts
        self.env = env                      # extra environment of the board's CPU (measurement probes)
        if rig and tls_heap:
            raise ValueError("tls_heap is a board option: not with rig=True")
        self.cloud = self.board = self._tmp = None
        self.identity = {}

    def __enter__(self):
        import tempfile
        from cloud.server import CloudServer
        from cloud.settings import Settings
        from host_sim.board import VirtualBoard
        from host_sim.rig import PRODUCT_HEAP, provision
        self._tmp = tempfile.mkdtemp(prefix="smartpos-managed-")
        tls = {}
        if self.tls:
            from cloud import tls as cloud_tls
            tls = {"tls_cert": cloud_tls.TEST_SERVER_CERT, "tls_key": cloud_tls.TEST_SERVER_KEY}
        self.cloud = CloudServer(Settings(data_dir=os.path.join(self._tmp, "cloud"), port=0,
                                          ddi_poll_s=self.poll_s, bootstrap_admin_password=self.password,
                                          mqtt_url=self.mqtt_url or "", **tls)).start()
        broker = self.mqtt_url[7:] if self.mqtt_url else None
        terminal_url = None
        if self.relay:
            from host_sim.relay import Relay
            self.relay = Relay(self.cloud.port).start()
            terminal_url = "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.relay.port)

        def prov(flash_dir):
            provision(flash_dir, {})
            self._enroll(flash_dir, broker, terminal_url)
        try:
            if self.rig:
                from host_sim.rig import Rig
                self.rig = Rig(heap=self.heap or PRODUCT_HEAP, slots=self.slots, power_cuts=self.power_cuts,
                               cpu_env=self.env,
                               before_boot=lambda r: self._enroll(r.flash_dir, broker, terminal_url))
                self.rig.start()
                self.board = self.rig.board
            else:
                self.board = VirtualBoard(heap=self.heap or PRODUCT_HEAP, firmware="frozen", provision=prov,
                                          pty=False, slots=self.slots, env=self.env, tls_heap=self.tls_heap)
                self.board.start()
                self.board.wait_for("smartpos ready", 60)
        except Exception:
            self.__exit__()
            raise
        self._token = _call(self.cloud.url, "POST", "/api/v1/auth/login",
                            {"username": "admin", "password": self.password})["token"]
        self.terminal = _call(self.cloud.url, "GET", "/api/v1/terminals?q=" + self.serial, token=self._token)[0]
        return self

    def _enroll(self, flash_dir, broker, terminal_url):
        if self.before_boot is not None:
            self.before_boot(flash_dir)
        self.identity.update(enroll(self.cloud.url, self.password, flash_dir, serial=self.serial, mqtt=broker,
                                    terminal_url=terminal_url))

    def __exit__(self, *exc):
        import shutil
        if self.rig:
            self.rig.stop()
        elif self.board is not None:
            self.board.stop()
        if self.cloud is not None:
            self.cloud.stop()
        if self.relay:
            self.relay.stop()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def api(self, method, path, body=None, headers=None):
        """`method` `path` as the operator's admin (`headers`: more, e.g. a developer's token)."""
        return _call(self.cloud.url, method, path, body, token=self._token, headers=headers)

    def api_text(self, path):
        """GET `path` as the operator's admin: the body as text (a ledger, a CSV export)."""
        req = urllib.request.Request(self.cloud.url + path)
        req.add_header("Authorization", "Bearer " + self._token)
        ctx = _tls_context() if self.cloud.url.startswith("https://") else None
        try:
            with urllib.request.urlopen(req, timeout=60, context=ctx) as r:
                return r.read().decode()
        except urllib.error.HTTPError as exc:
            raise FleetError("GET %s: %d %s" % (path, exc.code, exc.read().decode(errors="replace")[:200]))

    def wait_action(self, action_id, timeout=60, until=("success", "failed", "cancelled")):
        """The action once it reaches one of `until` (the terminal polls on its own)."""
        import time
        deadline = time.monotonic() + timeout
        while True:
            a = self.api("GET", "/api/v1/tms/actions/%d" % action_id)
            if a["state"] in until or time.monotonic() > deadline:
                return a
            time.sleep(0.5)

    def attributes(self):
        """The terminal's DDI attributes as the cloud last received them."""
        import sqlite3
        db = sqlite3.connect(os.path.join(self._tmp, "cloud", "cloud.db"))
        try:
            return json.loads(db.execute("SELECT attributes FROM terminals WHERE id = ?",
                                         (self.terminal["id"],)).fetchone()[0])
        finally:
            db.close()

    def stored_key_blocks(self, acquirer):
        """{slot: [block, key version, KCV]} the terminal stored for `acquirer` (TR-31 injection)."""
        try:
            return self.flash_json("tr31_%s.json" % acquirer)
        except FileNotFoundError:
            return {}

    def deploy_key_blocks(self, acquirer, blocks):
        """Deploy key blocks made elsewhere (an operator's HSM) as a keys module; the closed action."""
        m = self.api("POST", "/api/v1/tms/modules", {"kind": "keys", "name": "hsm-keys",
                                                     "version": "%d" % (len(self.api("GET", "/api/v1/tms/modules?kind=keys")) + 1)})
        body = json.dumps({"acquirer": acquirer, "blocks": blocks}).encode()
        req = urllib.request.Request(self.cloud.url + "/api/v1/tms/modules/%d/artifacts/keys.json" % m["id"],
                                     data=body, method="PUT",
                                     headers={"Authorization": "Bearer " + self._token,
                                              "Content-Type": "application/octet-stream"})
        _open(req)
        a = self.api("POST", "/api/v1/tms/actions", {"terminal_id": self.terminal["id"], "module_id": m["id"]})
        return self.wait_action(a["id"])

    def flash_json(self, rel):
        with open(os.path.join(self.board.flash_dir, rel)) as f:
            return json.load(f)

    # ------------------------------------------------------------ firmware updates (slots=True)
    def publish_release(self, release_dir, image=None, metadata=None, name="smartpos"):
        """A firmware module made of a release folder (cloud/tms/release.py): its image and its
        TUF metadata as artifacts.  `image` / `metadata` ({file: bytes}) replace what the
        folder holds (tampered deliveries for tests).  Returns the module."""
        with open(os.path.join(release_dir, "release.json")) as f:
            info = json.load(f)
        m = self.api("POST", "/api/v1/tms/modules", {"kind": "firmware", "name": name, "version": info["version"]})
        files = {}
        for fname in sorted(os.listdir(os.path.join(release_dir, "metadata"))):
            if fname == "root.json":
                continue            # a TUF client reads versioned roots (N.root.json) only
            with open(os.path.join(release_dir, "metadata", fname), "rb") as f:
                files[fname] = f.read()
        files.update(metadata or {})
        if image is None:
            with open(os.path.join(release_dir, info["image"]), "rb") as f:
                image = f.read()
        files[info["image"]] = image
        for fname, data in files.items():
            self.put_artifact(m["id"], fname, data)
        return self.api("GET", "/api/v1/tms/modules/%d" % m["id"])

    def put_artifact(self, module_id, filename, data):
        req = urllib.request.Request(self.cloud.url + "/api/v1/tms/modules/%d/artifacts/%s" % (module_id, filename),
                                     data=data, method="PUT",
                                     headers={"Authorization": "Bearer " + self._token,
                                              "Content-Type": "application/octet-stream"})
        _open(req)

    def roll_out(self, module, name=None, forced=False):
        """A rollout of `module` to a static group holding this terminal; (rollout, action id)."""
        groups = {g["name"]: g for g in self.api("GET", "/api/v1/tms/groups")}
        g = groups.get("managed terminal") or self.api("POST", "/api/v1/tms/groups",
                                                       {"name": "managed terminal", "kind": "static"})
        self.api("PUT", "/api/v1/tms/groups/%d/members" % g["id"], {"terminal_ids": [self.terminal["id"]]})
        r = self.api("POST", "/api/v1/tms/rollouts", {"name": name or "%s %s" % (module["name"], module["version"]),
                                                      "module_id": module["id"], "group_id": g["id"],
                                                      "stages": [100], "error_threshold": 0, "forced": forced})
        return r, r["targets"][0]["action_id"]

    def boot_record(self):
        """The boot-control record as the bootloader reads it (bootloader.BootRecord.as_dict)."""
        rec, _ = self.board.slot_store.record()
        return rec.as_dict()

    def booted(self):
        """(slot, trial?, version) the bootloader chose at the last power-on or reset."""
        c = self.board.cpu.boot_choice
        return c.slot, c.trial, c.version
