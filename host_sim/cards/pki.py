"""TEST PKI of the card simulator: the TEST certification authorities (committed in
pki/test_ca.json, public halves in firmware/config/capk_test.json) and the issuer / ICC
keys, generated once per process and profile (certificates are made from them when a
card is personalised)."""
import functools
import json
import os

from host_sim.cards.crypto import RsaKey

HERE = os.path.dirname(os.path.abspath(__file__))
CA_FILE = os.path.join(HERE, "pki", "test_ca.json")


class PkiError(ValueError):
    pass


@functools.lru_cache(maxsize=None)
def _cas():
    with open(CA_FILE) as f:
        d = json.load(f)
    out = {}
    for k in d["keys"]:
        out[(k["rid"].upper(), k["index"].upper())] = RsaKey(n=int(k["modulus"], 16), e=int(k["exponent"], 16),
                                                            d=int(k["d"], 16))
    return out


def ca_key(rid, index):
    try:
        return _cas()[(rid.upper(), index.upper())]
    except KeyError:
        raise PkiError("no TEST CA key %s/%s in %s (have: %s)" % (rid, index, CA_FILE,
                       ", ".join("%s/%s" % k for k in sorted(_cas()))))


def capk_entries():
    """The terminal-side CA public key list (what firmware/config/capk_test.json holds)."""
    return [{"rid": r, "index": i, "modulus": k.modulus.hex().upper(), "exponent": k.exponent.hex().upper()}
            for (r, i), k in sorted(_cas().items())]


@functools.lru_cache(maxsize=None)
def issuer_keys(profile_name, ca_size, pin_key=False):
    """(issuer key, ICC key, ICC PIN encipherment key or None) for a profile."""
    issuer_bits = min(1152, (ca_size - 8) * 8)
    return RsaKey(issuer_bits), RsaKey(1024), (RsaKey(768) if pin_key else None)
