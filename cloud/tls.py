"""TLS for the cloud service: the certificate authority terminals pin, and the server certificate.

A terminal trusts one CA, whose DER certificate is in its firmware configuration
(``config/cloud_ca.der``); the service presents a certificate that CA issued for the names the
terminals use in their cloud URL (DNS names and IP addresses, as subjectAltName).

The simulator and the tests use a **TEST** CA and server certificate made by
``smartpos cloud test-ca`` and shipped in ``cloud/test_tls/`` (their private keys are public:
never use them for a real fleet).  A fleet's CA is made and kept by its operator; the service
only needs the server certificate chain and key (``smartpos cloud --tls-cert --tls-key``).

    paths = make_test_pki("cloud/test_tls")      # TEST-ca.pem/.der, TEST-server.pem/.key
"""
import datetime
import ipaddress
import os

TEST_TLS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_tls")
TEST_CA_DER = os.path.join(TEST_TLS_DIR, "TEST-ca.der")
TEST_CA_PEM = os.path.join(TEST_TLS_DIR, "TEST-ca.pem")
TEST_SERVER_CERT = os.path.join(TEST_TLS_DIR, "TEST-server.pem")
TEST_SERVER_KEY = os.path.join(TEST_TLS_DIR, "TEST-server.key")
TEST_HOSTS = ("127.0.0.1", "localhost", "::1")


class TlsSetupError(ValueError):
    """A certificate or key the service cannot use; the message names the file."""


def _name(cn):
    from cryptography.x509 import Name, NameAttribute
    from cryptography.x509.oid import NameOID
    return Name([NameAttribute(NameOID.ORGANIZATION_NAME, "smartpos TEST"), NameAttribute(NameOID.COMMON_NAME, cn)])


def _san(hosts):
    from cryptography import x509
    names = []
    for h in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            names.append(x509.DNSName(h))
    return x509.SubjectAlternativeName(names)


def make_ca(cn="smartpos TEST cloud CA", days=3650):
    """(private key, certificate) of a new CA: ECDSA P-256 (the cheapest verify for mbedTLS)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_server_cert(ca_key, ca_cert, hosts, days=825, cn=None):
    """(private key, certificate) for the service at `hosts` (DNS names and IP addresses)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(cn or hosts[0])).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(_san(hosts), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def write_pki(out_dir, ca_cert, server_key, server_cert, prefix="TEST-"):
    """Write <prefix>ca.pem, <prefix>ca.der (what a terminal pins), <prefix>server.pem (chain)
    and <prefix>server.key (mode 0600); returns their paths."""
    from cryptography.hazmat.primitives import serialization as ser
    os.makedirs(out_dir, exist_ok=True)
    p = {k: os.path.join(out_dir, prefix + k) for k in ("ca.pem", "ca.der", "server.pem", "server.key")}
    with open(p["ca.pem"], "wb") as f:
        f.write(ca_cert.public_bytes(ser.Encoding.PEM))
    with open(p["ca.der"], "wb") as f:
        f.write(ca_cert.public_bytes(ser.Encoding.DER))
    with open(p["server.pem"], "wb") as f:
        f.write(server_cert.public_bytes(ser.Encoding.PEM) + ca_cert.public_bytes(ser.Encoding.PEM))
    fd = os.open(p["server.key"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(server_key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption()))
    return p


def make_test_pki(out_dir=TEST_TLS_DIR, hosts=TEST_HOSTS):
    """A fresh TEST CA and a server certificate for `hosts`, written to `out_dir`."""
    ca_key, ca_cert = make_ca()
    key, cert = make_server_cert(ca_key, ca_cert, list(hosts))
    return write_pki(out_dir, ca_cert, key, cert)


def check_server_files(cert_path, key_path):
    """Refuse early, naming the file, what uvicorn would refuse later with a bare ssl error."""
    import ssl
    for p in (cert_path, key_path):
        if not os.path.isfile(p):
            raise TlsSetupError("TLS file %s does not exist" % p)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.load_cert_chain(cert_path, key_path)
    except (ssl.SSLError, ValueError) as exc:
        raise TlsSetupError("TLS certificate %s with key %s: %s" % (cert_path, key_path, exc))
