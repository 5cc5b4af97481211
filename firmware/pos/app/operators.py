# Operators and roles.  config/operators.json lists each operator's id, name, role and a
# slow salted hash of the PIN (never the PIN).  Roles are ordered: an action needing
# "supervisor" is allowed to a supervisor or an admin.
#
# PIN hash: "pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>" =
#   PBKDF2-HMAC-SHA256 (RFC 8018 5.2) of P = hex SHA-256 of "id:PIN", 16-byte salt per
#   operator, 32 bytes.  P is the unsalted digest older firmware stored, so a file of
#   those is migrated at load without knowing a PIN: each digest gets a salt and the
#   iterations, and the file is rewritten (no unsalted digest stays on flash).
# ITERATIONS: 4-6 ms per operator on the unix port (x86-64, 192K heap); estimated 0.15-0.2 s
# on the 168 MHz Cortex-M4 (4 SHA-256 compressions of ~20 us plus ~80 us of interpreter and
# allocation per iteration; make bench: operator-pin).  A wrong PIN costs one record per
# operator: about 0.5 s at the prompt with the three shipped operators.
#
# Lockout (PCI PIN-entry practice): after MAX_FAILS wrong PINs in a row the PIN prompt
# refuses every PIN for LOCK_S seconds; the count and the time live on flash
# (config/operators.lock), so a reboot does not reset them.  A right PIN clears them.
import json
import os
import time

from binascii import hexlify

from micropython import const

from pos import crypto

ROLES = ("cashier", "supervisor", "admin")
PATH = "config/operators.json"
LOCK_PATH = "config/operators.lock"
ITERATIONS = const(1000)
MAX_FAILS = const(5)
LOCK_S = const(300)
_SCHEME = "pbkdf2-sha256"
# what each protected action needs
NEEDS = {"refund": "supervisor", "void": "supervisor", "z_report": "supervisor",
         "settings": "admin", "tip_adjust": "cashier", "x_report": "cashier", "sale": "cashier",
         "preauth": "cashier", "completion": "cashier", "balance": "cashier",
         "enroll": "supervisor", "price_override": "supervisor",
         "stock": "cashier"}      # receiving and counting: any merchant role in the cloud too (docs/stock.md)


class OperatorError(ValueError):
    pass


class Operator:
    __slots__ = ("id", "name", "role")

    def __init__(self, id, name, role):
        self.id = id
        self.name = name
        self.role = role

    def may(self, action):
        need = NEEDS.get(action, "admin")
        return ROLES.index(self.role) >= ROLES.index(need)


_ops = None


def pin_record(op_id, pin, salt=None, iterations=ITERATIONS):
    """The stored form of `pin` for operator `op_id` (a new random salt unless given)."""
    return _record(_legacy_digest(op_id, pin), salt or os.urandom(16), iterations)


def _legacy_digest(op_id, pin):
    return hexlify(crypto.sha256(("%s:%s" % (op_id, pin)).encode())).decode()


def _record(digest, salt, iterations):
    dk = crypto.pbkdf2_hmac_sha256(digest.encode(), salt, iterations, 32)
    return "%s$%d$%s$%s" % (_SCHEME, iterations, hexlify(salt).decode(), hexlify(dk).decode())


def _parse(rec, op_id):
    parts = rec.split("$")
    try:
        if len(parts) != 4 or parts[0] != _SCHEME:
            raise ValueError
        n = int(parts[1])
        salt = bytes.fromhex(parts[2])
        dk = bytes.fromhex(parts[3])
        if n < 1 or len(salt) < 8 or len(dk) != 32:
            raise ValueError
    except ValueError:
        raise OperatorError("operator %s: pin is not a %s record" % (op_id, _SCHEME))
    return n, salt, dk


def _is_legacy(pin):
    if len(pin) != 64:
        return False
    try:
        bytes.fromhex(pin)
        return True
    except ValueError:
        return False


def _write_json(path, d):
    with open(path + ".tmp", "w") as f:
        f.write(json.dumps(d))
    os.rename(path + ".tmp", path)         # a power cut leaves the old file or the new one


def load(path=PATH):
    global _ops
    try:
        with open(path) as f:
            d = json.load(f)
        ops = []
        migrated = 0
        for o in d["operators"]:
            if o["role"] not in ROLES:
                raise OperatorError("operator %s: role %r not one of %s" % (o["id"], o["role"], ROLES))
            pin = o["pin"]
            if not isinstance(pin, str):
                raise OperatorError("operator %s: pin must be a text record" % o["id"])
            if _is_legacy(pin):                 # unsalted SHA-256 of an older firmware
                o["pin"] = _record(pin, os.urandom(16), ITERATIONS)
                migrated += 1
            _parse(o["pin"], o["id"])
            ops.append(o)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OperatorError("%s: %s" % (path, exc))
    if migrated:
        _write_json(path, d)
        from pos import log
        log.info("app", "operator PINs salted and stretched", count=migrated)
    _ops = ops
    return ops


# ------------------------------------------------------------------ lockout
def _lock_state():
    try:
        with open(LOCK_PATH) as f:
            s = json.load(f)
        return int(s["fails"]), int(s["until"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0, 0


def _now():
    return int(time.time())


def locked_for():
    """Seconds the PIN prompt stays locked (0: open)."""
    fails, until = _lock_state()
    if fails < MAX_FAILS:
        return 0
    left = until - _now()
    if left > LOCK_S:            # the clock went back (RTC lost its time): a full period from now
        _write_json(LOCK_PATH, {"fails": fails, "until": _now() + LOCK_S})
        return LOCK_S
    return max(0, left)


def _failed():
    fails, _ = _lock_state()
    fails += 1
    until = _now() + LOCK_S if fails >= MAX_FAILS else 0
    _write_json(LOCK_PATH, {"fails": fails, "until": until})
    if fails >= MAX_FAILS:
        from pos import log
        log.warning("app", "operator PIN locked", fails=fails, seconds=LOCK_S)


def _succeeded():
    if _lock_state()[0]:
        _write_json(LOCK_PATH, {"fails": 0, "until": 0})


def check(pin, action):
    """The operator whose PIN this is, if they may do `action`; False if they may not;
    None for a wrong PIN.  OperatorError while the prompt is locked."""
    left = locked_for()
    if left:
        raise OperatorError("PIN locked: wait %d s" % left)
    ops = _ops if _ops is not None else load()
    for o in ops:
        n, salt, dk = _parse(o["pin"], o["id"])
        if crypto.pbkdf2_hmac_sha256(_legacy_digest(o["id"], pin).encode(), salt, n, 32) == dk:
            _succeeded()
            op = Operator(o["id"], o["name"], o["role"])
            return op if op.may(action) else False
    _failed()
    left = locked_for()
    if left:
        raise OperatorError("PIN locked: wait %d s" % left)
    return None
