"""EMV card simulator (contact ICC) with profiles: see docs/adding-a-card-profile.md.

    from host_sim.cards import load_profile, list_profiles, CardSimulator
    card = CardSimulator(load_profile("visa-credit"))
    card = make_card("trace:card.trace.json")      # a recorded card (host_sim/cards/trace.py)
"""
import json
import os
import re

PROFILE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "profiles")
REQUIRED = ("name", "scheme", "rid", "ca_index", "pan", "expiry", "applications")
_HEX_FIELDS = ("rid", "ca_index", "psn", "expiry", "effective", "cvm_list", "pdol", "cdol1", "cdol2",
               "auc", "aip", "atr", "country", "app_version", "imk_smi")


class ProfileError(ValueError):
    """A profile file that cannot make a card: names the file and the field."""


def list_profiles(directory=PROFILE_DIR):
    return sorted(f[:-5] for f in os.listdir(directory) if f.endswith(".json"))


def _luhn_ok(pan):
    from host_sim.hosts.acquirer.issuer import luhn_ok      # one Luhn on the host side
    return luhn_ok(pan)


def validate(p, source="profile"):
    for k in REQUIRED:
        if k not in p:
            raise ProfileError("%s: missing field %r" % (source, k))
    for k in _HEX_FIELDS:
        v = p.get(k)
        if v is not None and (not isinstance(v, str) or len(v) % 2 or not re.fullmatch(r"[0-9A-Fa-f]*", v)):
            raise ProfileError("%s: %s must be an even-length hex string, got %r" % (source, k, v))
    pan = p["pan"]
    if not (isinstance(pan, str) and pan.isdigit() and 12 <= len(pan) <= 19):
        raise ProfileError("%s: pan must be 12-19 digits" % source)
    if not _luhn_ok(pan):
        raise ProfileError("%s: pan fails the Luhn check" % source)
    if len(p["expiry"]) != 6:
        raise ProfileError("%s: expiry must be YYMMDD" % source)
    if p.get("cvn", 18) not in (10, 18, 16, 17, 1):
        raise ProfileError("%s: cvn must be one of 10, 18 (Visa), 16, 17 (Mastercard), 1 (UnionPay)" % source)
    if p.get("oda", "CDA") not in ("SDA", "DDA", "CDA", None):
        raise ProfileError("%s: oda must be SDA, DDA, CDA or null" % source)
    if p.get("protocol", "T=0") not in ("T=0", "T=1"):
        raise ProfileError("%s: protocol must be T=0 or T=1" % source)
    apps = p["applications"]
    if not isinstance(apps, list) or not apps:
        raise ProfileError("%s: applications must be a non-empty list" % source)
    for i, a in enumerate(apps):
        if not isinstance(a, dict) or "aid" not in a or "label" not in a:
            raise ProfileError("%s: applications[%d] needs aid and label" % (source, i))
        if not re.fullmatch(r"(?:[0-9A-Fa-f]{2}){5,16}", a["aid"]):
            raise ProfileError("%s: applications[%d].aid must be 5-16 bytes of hex" % (source, i))
    pin = p.get("pin", "1234")
    if not (isinstance(pin, str) and pin.isdigit() and 4 <= len(pin) <= 12):
        raise ProfileError("%s: pin must be 4-12 digits" % source)
    return p


TRACE_PREFIX = "trace:"


def load_profile(name_or_path):
    """A profile by name (host_sim/cards/profiles/NAME.json) or by path."""
    if name_or_path.startswith(TRACE_PREFIX):
        raise ProfileError("%s is a recorded contact card, not a profile: it goes where a contact card "
                           "goes (smartpos card vpcd --profile, the contact slot)" % name_or_path)
    path = name_or_path
    if not os.path.sep in name_or_path and not name_or_path.endswith(".json"):
        path = os.path.join(PROFILE_DIR, name_or_path + ".json")
    if not os.path.exists(path):
        raise ProfileError("no card profile %r (known: %s)" % (name_or_path, ", ".join(list_profiles())))
    try:
        with open(path) as f:
            p = json.load(f)
    except ValueError as exc:
        raise ProfileError("%s: not valid JSON (%s)" % (path, exc))
    if not isinstance(p, dict):
        raise ProfileError("%s: must be a JSON object" % path)
    return validate(p, os.path.basename(path))


def make_card(name_or_path):
    """A contact card: a profile's simulator, or a recorded card for "trace:FILE"
    (host_sim/cards/trace.py)."""
    if name_or_path.startswith(TRACE_PREFIX):
        from host_sim.cards.trace import TraceCard, load_trace
        return TraceCard(load_trace(name_or_path[len(TRACE_PREFIX):]))
    from host_sim.cards.card import CardSimulator
    return CardSimulator(load_profile(name_or_path))


def __getattr__(name):
    if name in ("CardSimulator", "CardMute"):
        from host_sim.cards import card
        return getattr(card, name)
    raise AttributeError(name)
