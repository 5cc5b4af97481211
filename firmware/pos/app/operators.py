# Operators and roles.  config/operators.json lists each operator's id, name,
# role and a SHA-256 of "id:PIN" (never the PIN).  Roles are ordered: an
# action needing "supervisor" is allowed to a supervisor or an admin.
import json

import hashlib
from binascii import hexlify

ROLES = ("cashier", "supervisor", "admin")
PATH = "config/operators.json"
# what each protected action needs
NEEDS = {"refund": "supervisor", "void": "supervisor", "z_report": "supervisor",
         "settings": "admin", "tip_adjust": "cashier", "x_report": "cashier", "sale": "cashier",
         "preauth": "cashier", "completion": "cashier", "balance": "cashier"}


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


def load(path=PATH):
    global _ops
    try:
        with open(path) as f:
            d = json.load(f)
        ops = []
        for o in d["operators"]:
            if o["role"] not in ROLES:
                raise OperatorError("operator %s: role %r not one of %s" % (o["id"], o["role"], ROLES))
            if len(o["pin"]) != 64:
                raise OperatorError("operator %s: pin must be a SHA-256 hex digest" % o["id"])
            ops.append(o)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OperatorError("%s: %s" % (path, exc))
    _ops = ops
    return ops


def _digest(op_id, pin):
    return hexlify(hashlib.sha256(("%s:%s" % (op_id, pin)).encode()).digest()).decode()


def check(pin, action):
    """The operator whose PIN this is, if they may do `action`; else None."""
    ops = _ops if _ops is not None else load()
    for o in ops:
        if _digest(o["id"], pin) == o["pin"]:
            op = Operator(o["id"], o["name"], o["role"])
            return op if op.may(action) else False
    return None
