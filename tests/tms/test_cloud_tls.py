"""TLS to the cloud with its CA pinned: the firmware's enrollment, DDI client and downloads
(pos.tms.enroll, pos.tms.ddi over pos.net.http + pos.net.tls) on real MicroPython with the
board's heap, against the cloud service serving HTTPS with the TEST certificate; an impostor
(a certificate from another CA), a certificate for another host name and a missing CA are
refused with a clear error and nothing stored."""
import hashlib
import json
import os

import pytest

from cloud import tls as cloud_tls
from host_sim.mpy import run

PASSWORD = "tls-test-pass-1"
IMAGE = bytes((i * 13 + (i >> 7)) & 0xFF for i in range(40000))


def _server(tmp_path, name, cert, key):
    from cloud.server import CloudServer
    from cloud.settings import Settings
    return CloudServer(Settings(data_dir=str(tmp_path / name), port=0, ddi_poll_s=42,
                                bootstrap_admin_password=PASSWORD, tls_cert=cert, tls_key=key)).start()


@pytest.fixture
def cloud(tmp_path):
    srv = _server(tmp_path, "cloud", cloud_tls.TEST_SERVER_CERT, cloud_tls.TEST_SERVER_KEY)
    from fastapi.testclient import TestClient
    api = TestClient(srv.app)
    tok = api.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}).json()["token"]
    admin = {"Authorization": "Bearer " + tok}
    reg = api.post("/api/v1/terminals", json={"serial": "TLS-1"}, headers=admin).json()
    yield {"srv": srv, "api": api, "admin": admin, "reg": reg}
    srv.stop()


def _flash(tmp_path, url, ca_der=cloud_tls.TEST_CA_DER):
    """A terminal's working directory: config/cloud.json with the cloud's address, the pinned CA."""
    d = tmp_path / "flash"
    (d / "config").mkdir(parents=True, exist_ok=True)
    (d / "config" / "cloud.json").write_text(json.dumps({"url": url}))
    if ca_der:
        with open(ca_der, "rb") as f:
            (d / "config" / "cloud_ca.der").write_bytes(f.read())
    return d


ENROLL = """
import asyncio, gc
from pos.tms import enroll
class Keys:                      # the key store's face (a board's store is sealed under its device key)
    stored = None
    def store_secret(self, name, key):
        Keys.stored = (name, bytes(key))
ks = Keys()
async def main():
    gc.collect()
    try:
        ident = await enroll.enroll(%r, keystore=ks, serial="TLS-1")
        print("ENROLLED", ident["tenant"], ident["controller_id"], Keys.stored[0], len(Keys.stored[1]))
        print("TOKEN", "".join("%%02x" %% b for b in Keys.stored[1]))
    except enroll.EnrollError as e:
        print("REFUSED", e, Keys.stored)
asyncio.run(main())
"""


def test_enroll_poll_and_download_over_pinned_tls(cloud, tmp_path):
    c = cloud
    d = _flash(tmp_path, c["srv"].url)
    assert c["srv"].url.startswith("https://127.0.0.1:")
    out = run(ENROLL % c["reg"]["activation_code"], heap="192K", cwd=str(d), timeout=120)
    assert "ENROLLED default TLS-1 ddi 16" in out, out
    token = out.split("TOKEN ")[1].split()[0]
    cfg = json.loads((d / "config" / "cloud.json").read_text())
    assert cfg == {"url": c["srv"].url, "tenant": "default", "controller_id": "TLS-1"}

    # the agent's requests and a download, over the same pinned TLS
    api, admin = c["api"], c["admin"]
    m = api.post("/api/v1/tms/modules", json={"kind": "firmware", "name": "smartpos", "version": "1.0.1"},
                 headers=admin).json()
    api.put("/api/v1/tms/modules/%d/artifacts/firmware.img" % m["id"], content=IMAGE,
            headers=dict(admin, **{"Content-Type": "application/octet-stream"}))
    a = api.post("/api/v1/tms/actions", json={"terminal_id": c["reg"]["terminal"]["id"], "module_id": m["id"]},
                 headers=admin).json()
    out = run("""
import asyncio, hashlib, binascii
from pos.net.tls import PinnedCA
from pos.tms.ddi import DdiClient
client = DdiClient(%r, "default", "TLS-1", %r, ssl_context=PinnedCA())
async def main():
    p = await client.poll()
    print("sleep", p.sleep_s, sorted(p.links))
    dep = await client.deployment(p.links["deploymentBase"])
    art = dep.chunks[0].artifact("firmware.img")
    h = hashlib.sha256()
    n = await client.download(art, h.update)
    print("downloaded", n, binascii.hexlify(h.digest()).decode() == art.sha256)
asyncio.run(main())
""" % (c["srv"].url, token), heap="192K", cwd=str(d), timeout=120)
    assert "sleep 42 ['configData', 'deploymentBase']" in out, out
    assert "downloaded %d True" % len(IMAGE) in out
    t = api.get("/api/v1/terminals/%d" % c["reg"]["terminal"]["id"], headers=admin).json()
    assert t["state"] == "enrolled" and t["last_seen_at"]
    assert hashlib.sha256(IMAGE).hexdigest()


def test_impostor_with_another_ca_is_refused_and_nothing_stored(cloud, tmp_path):
    """A working service at the address, with a certificate for 127.0.0.1 from another CA."""
    other = cloud_tls.make_test_pki(str(tmp_path / "other-pki"))
    impostor = _server(tmp_path, "impostor", other["server.pem"], other["server.key"])
    try:
        d = _flash(tmp_path, impostor.url)
        before = (d / "config" / "cloud.json").read_text()
        out = run(ENROLL % cloud["reg"]["activation_code"], heap="192K", cwd=str(d), timeout=120)
        assert "REFUSED cloud not trusted: TLS to 127.0.0.1:%d refused: server certificate not issued by " \
               "the pinned cloud CA None" % impostor.port in out, out
        assert (d / "config" / "cloud.json").read_text() == before
        assert not (d / "config" / "cloud.json.tmp").exists()
    finally:
        impostor.stop()
    # the real cloud never saw the code: it still works there
    t = cloud["api"].get("/api/v1/terminals/%d" % cloud["reg"]["terminal"]["id"], headers=cloud["admin"]).json()
    assert t["state"] == "registered"


def test_certificate_for_another_host_is_refused(cloud, tmp_path):
    """The pinned CA's own certificate, but issued for another name than the URL's host."""
    ca_key, ca_cert = cloud_tls.make_ca()
    key, cert = cloud_tls.make_server_cert(ca_key, ca_cert, ["cloud.example"])
    p = cloud_tls.write_pki(str(tmp_path / "pki"), ca_cert, key, cert)
    srv = _server(tmp_path, "named", p["server.pem"], p["server.key"])
    try:
        d = _flash(tmp_path, srv.url, ca_der=p["ca.der"])
        out = run(ENROLL % cloud["reg"]["activation_code"], heap="192K", cwd=str(d), timeout=120)
        assert "REFUSED cloud not trusted:" in out and "another host name" in out, out
    finally:
        srv.stop()


def test_https_without_a_pinned_ca_is_refused(cloud, tmp_path):
    d = _flash(tmp_path, cloud["srv"].url, ca_der=None)
    out = run(ENROLL % cloud["reg"]["activation_code"], heap="192K", cwd=str(d), timeout=120)
    assert "REFUSED cloud unreachable: no cloud CA on this terminal (config/cloud_ca.der): https is refused None" \
        in out, out


def test_cloud_tls_settings_and_test_ca_command(tmp_path):
    from cloud.settings import Settings, SettingsError
    with pytest.raises(SettingsError, match="both the certificate"):
        Settings(data_dir=str(tmp_path), tls_cert=cloud_tls.TEST_SERVER_CERT).check()
    with pytest.raises(SettingsError, match="does not exist"):
        Settings(data_dir=str(tmp_path), tls_cert=str(tmp_path / "none.pem"), tls_key=str(tmp_path / "k")).check()
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "smartpos.cli", "cloud", "test-ca", "--out", str(tmp_path / "ca"),
                          "--host", "cloud.example"], capture_output=True, text=True, timeout=60,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert out.returncode == 0, out.stderr
    from cryptography import x509
    cert = x509.load_pem_x509_certificate((tmp_path / "ca" / "TEST-server.pem").read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["cloud.example"]
    ca = x509.load_der_x509_certificate((tmp_path / "ca" / "TEST-ca.der").read_bytes())
    assert "TEST" in ca.subject.rfc4514_string() and cert.issuer == ca.subject
    assert oct(os.stat(tmp_path / "ca" / "TEST-server.key").st_mode & 0o777) == "0o600"


def test_self_signed_impostor_is_refused(cloud, tmp_path):
    """An impostor whose certificate for 127.0.0.1 signs itself."""
    import datetime
    import ipaddress
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smartpos TEST cloud CA")])   # the same name
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    (tmp_path / "self.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "self.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    srv = _server(tmp_path, "self", str(tmp_path / "self.pem"), str(tmp_path / "self.key"))
    try:
        d = _flash(tmp_path, srv.url)
        out = run(ENROLL % cloud["reg"]["activation_code"], heap="192K", cwd=str(d), timeout=120)
        assert "REFUSED cloud not trusted: TLS to 127.0.0.1:%d refused:" % srv.port in out, out
        assert "None" in out.split("REFUSED")[1]                 # nothing reached the key store
        assert json.loads((d / "config" / "cloud.json").read_text()) == {"url": srv.url}
    finally:
        srv.stop()
