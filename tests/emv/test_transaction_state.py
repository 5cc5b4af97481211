"""The kernel's Transaction sets every attribute in its constructor: an attribute first set
mid-transaction grows the instance's table there, one block of some 600 bytes on a heap that a
basket's card sale had fragmented (a card sale stopped at cardholder verification, "out of
memory").  Checked on the source: every `tx.<name> = ...` in the EMV and offer code names an
attribute Transaction.__init__ sets."""
import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2] / "firmware" / "pos"


def _init_attributes():
    tree = ast.parse((ROOT / "emv" / "kernel.py").read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Transaction")
    init = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    names = set()
    for node in ast.walk(init):
        for t in getattr(node, "targets", []) + [getattr(node, "target", None)]:
            for e in ast.walk(t) if t is not None else ():
                if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name) and e.value.id == "self":
                    names.add(e.attr)
    return names


def _bound(targets):
    for t in targets:
        if isinstance(t, (ast.Tuple, ast.List)):
            yield from _bound(t.elts)
        else:
            yield t


def _assigned_on_tx():
    found = {}
    for path in list((ROOT / "emv").glob("*.py")) + list((ROOT / "offers").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            targets = getattr(node, "targets", None) or ([node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
            for e in _bound(targets):          # tx.name = ... (not tx.name[k] = ...)
                if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name) and e.value.id == "tx":
                    found.setdefault(e.attr, "%s:%d" % (path.name, node.lineno))
                if (isinstance(e, ast.Attribute) and isinstance(e.value, ast.Attribute)
                        and e.value.attr == "tx" and isinstance(e.value.value, ast.Name)):
                    found.setdefault(e.attr, "%s:%d" % (path.name, node.lineno))
    return found


def test_every_transaction_attribute_is_set_in_the_constructor():
    init = _init_attributes()
    assert {"pin_block", "pan", "data", "term", "out"} <= init
    # MicroPython sizes an instance's table in steps (..., 23, 29, 37 entries): 29 attributes
    # at most keep it at 29 (464 bytes on the 64-bit port, 232 on the board)
    assert len(init) <= 29, sorted(init)
    assigned = _assigned_on_tx()
    assert "pin_block" in assigned                  # the check sees the kernel's assignments
    late = {name: where for name, where in assigned.items() if name not in init}
    assert not late, "set on a Transaction after its constructor: %s" % late
