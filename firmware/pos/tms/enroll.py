# Enrollment: the terminal exchanges the activation code an operator gave the merchant (typed
# on the keypad or scanned from the console's QR) for its DDI identity, with
# POST {cloud}/api/v1/enroll (docs/cloud.md, "Terminal enrollment"): tenant, controller id
# and TargetToken.  The cloud's address (and, for https, its pinned CA) come from the
# firmware configuration (config/cloud.json "url", config/cloud_ca.der).
#
# What is stored, and in which order: the TargetToken into the sealed key store (secret
# "ddi", never a configuration file), then config/cloud.json with the tenant and controller
# id (temp file + rename).  Both come only from a 200 answer that parsed whole: a refused
# code, a cloud that cannot be reached or an answer that makes no sense stores nothing.
# The management agent (pos.tms.service) is on once config/cloud.json names a controller.
#
#     identity = await enroll("123456789012")      # EnrollError with a message for the merchant
import json
import os

CONFIG = "config/cloud.json"
CODE_DIGITS = 12


class EnrollError(Exception):
    """Enrollment did not happen; the message says why, in words a merchant can act on."""


def code_digits(text):
    """The 12 digits of a typed or scanned activation code ("1234-5678-9012" or digits), or None."""
    digits = "".join(ch for ch in text.strip() if ch not in " -")
    if len(digits) != CODE_DIGITS or not all("0" <= ch <= "9" for ch in digits):
        return None
    return digits


def cloud_config():
    """config/cloud.json as a dict ({} when there is none); EnrollError if it is broken."""
    try:
        with open(CONFIG) as f:
            c = json.load(f)
    except OSError:
        return {}
    except ValueError:
        raise EnrollError("config/cloud.json is not valid JSON")
    if not isinstance(c, dict):
        raise EnrollError("config/cloud.json is not a JSON object")
    return c


def _serial():
    import machine
    return "".join("%02X" % b for b in machine.unique_id())


def _model():
    import sys
    return "smartpos " + sys.platform


# the cloud's refusals (docs/cloud.md, "Refusals") as the merchant reads them
_REFUSED = {403: "code refused: wrong, used, expired or for another terminal. Ask for a new code",
            422: "code refused: not a valid activation code",
            429: "too many wrong codes: wait a minute, then try again"}


async def enroll(code, keystore=None, serial=None):
    """Enroll with `code`; returns {"tenant", "controller_id"}.  `keystore`: a KeyStore (default:
    this terminal's)."""
    from pos.net import http
    digits = code_digits(code)
    if digits is None:
        raise EnrollError("an activation code has %d digits" % CODE_DIGITS)
    cfg = cloud_config()
    url = cfg.get("url")
    if not url:
        raise EnrollError("no cloud address configured (config/cloud.json): ask the operator")
    pin = None
    if url.startswith("https://"):
        from pos.net.tls import PinnedCA
        pin = PinnedCA()                          # config/cloud_ca.der
    body = json.dumps({"activation_code": digits, "serial": serial or _serial(), "model": _model()}).encode()
    try:
        status, _, data = await http.request("POST", http.join(url, "/api/v1/enroll"),
                                             {"Content-Type": "application/json", "Accept": "application/json"},
                                             body, timeout_ms=20000, ssl_context=pin)
    except http.CertificateRefused as e:
        raise EnrollError("cloud not trusted: %s" % e)
    except http.HttpError as e:
        raise EnrollError("cloud unreachable: %s" % e)
    if status != 200:
        raise EnrollError(_REFUSED.get(status) or "cloud answered %d: try again later" % status)
    try:
        d = json.loads(data)
        tenant, cid, token = d["tenant"], d["controller_id"], bytes.fromhex(d["target_token"])
        if not tenant or not cid or len(token) != 16:
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise EnrollError("the cloud's answer is not an enrollment: nothing stored")
    try:
        if keystore is None:
            from pos.store.keystore import KeyStore
            keystore = KeyStore("keys.kld", ".")
        keystore.store_secret("ddi", token)      # first: without config the token is unused
    except (ValueError, OSError) as e:           # KeyStoreError, ConfigError: no sealed store
        raise EnrollError("key store refused the token (%s): ask for a new code" % e)
    token = None
    cfg["tenant"], cfg["controller_id"] = tenant, cid
    with open(CONFIG + ".tmp", "w") as f:
        f.write(json.dumps(cfg))                 # one write (json.dump writes piece by piece)
    os.rename(CONFIG + ".tmp", CONFIG)
    return {"tenant": tenant, "controller_id": cid}
