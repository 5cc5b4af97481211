# Remote key injection: working keys for an acquirer's slots arrive as TR-31 key
# blocks under the terminal's KEK (docs/key-injection.md).
#
#   kb = inject(keystore, "acq1", "pin", block)    # KeyBlockError: refused, nothing stored
#   key = injected_key(keystore, "acq1", "pin")
#
# A block is stored only after pos.tms.tr31 has authenticated it and the slot's
# policy below accepts its header; a block whose key version is not newer than
# the stored one, or that carries the stored key again, is a replay (X9.143 key block header,
# key version number: it "may be used to prevent re-injection of old keys").
from pos.store.keystore import KeyStoreError
from pos.tms import tr31
from pos.tms.tr31 import KeyBlockReplayError, KeyBlockUsageError

# slot : (key usages, algorithms, modes of use, exportability) the terminal accepts.
# PIN: the terminal only enciphers PIN blocks; MAC: ISO 9797-1 algorithms 1 and 3
# (the ISO 8583 MAC) or CMAC; data: symmetric data encryption; kek: a key-encryption
# key for the acquirer (a TMK).  "S" (exportable under an untrusted key) is refused
# everywhere: a PIN device never lets a key leave in a form others can open.
# Each policy is one string "usages algorithms modes exportabilities" (usages split by "/"):
# two-letter strings in tuples would each be one more name interned for good (pos.modules).
SLOTS = {
    "pin": "P0 TA EB EN",
    "mac": "M1/M3/M6 TA CG EN",
    "data": "D0 TA BDE EN",
    "kek": "K0/K1 TA BDE EN",
}


def _policy(slot):
    try:
        usages, algs, modes, exports = SLOTS[slot].split()
    except KeyError:
        raise KeyBlockUsageError("no key slot %r (slots: %s)" % (slot, ", ".join(sorted(SLOTS))))
    return usages.split("/"), algs, modes, exports


def check_slot(kb, slot):
    """Raise KeyBlockUsageError unless key block `kb` may fill `slot`."""
    usages, algs, modes, exports = _policy(slot)
    if kb.usage not in usages:
        raise KeyBlockUsageError("key usage %s cannot fill the %s slot (want %s)" % (kb.usage, slot, "/".join(usages)))
    if kb.usage in ("M1", "M3") and kb.algorithm != "T":
        raise KeyBlockUsageError("key usage %s is an ISO 9797-1 DES MAC; key algorithm %s cannot do it"
                                 % (kb.usage, kb.algorithm))
    if kb.algorithm not in algs:
        raise KeyBlockUsageError("key algorithm %s cannot fill the %s slot" % (kb.algorithm, slot))
    if kb.mode not in modes:
        raise KeyBlockUsageError("mode of use %s cannot fill the %s slot (want %s)" % (kb.mode, slot, "/".join(modes)))
    if kb.exportability not in exports:
        raise KeyBlockUsageError("exportability %s refused for the %s slot (want %s)"
                                 % (kb.exportability, slot, "/".join(exports)))


def _version_number(v):
    # X9.143 header, key version number: "00" = no versioning, "c?" = a key component
    if not v.isdigit() or v == "00":
        raise KeyBlockReplayError("key version %r: injected keys need a numeric version 01-99 "
                                  "so that an old block cannot be sent again" % v)
    return int(v)


def verify(keystore, acquirer, slot, block):
    """Everything `inject` checks, storing nothing; returns (KeyBlock, version, KCV hex)."""
    kbpk, alg = keystore.kbpk()
    kb = tr31.unwrap(kbpk, block, alg)
    check_slot(kb, slot)
    version = _version_number(kb.key_version)
    cv = kb.kcv().hex().upper()
    held = keystore.key_block(acquirer, slot)
    if held is not None:
        if version <= int(held[1]):
            raise KeyBlockReplayError("key version %02d for %s %s is not newer than the stored %s"
                                      % (version, acquirer, slot, held[1]))
        if cv == held[2]:
            raise KeyBlockReplayError("block for %s %s carries the key already stored (KCV %s)" % (acquirer, slot, cv))
    return kb, version, cv


def inject(keystore, acquirer, slot, block):
    """Verify `block` for (acquirer, slot) and store it; return the KeyBlock.

    Raises a tr31.KeyBlockError subclass (reason: bad MAC, wrong usage, unsupported
    version, malformed header, length mismatch, wrong KBPK, replayed block) or
    KeyStoreError (no KEK); on any error nothing is stored."""
    kb, _, cv = verify(keystore, acquirer, slot, block)
    keystore.store_key_block(acquirer, slot, block if isinstance(block, str) else bytes(block).decode(),
                             kb.key_version, cv)
    return kb


class KeysHandler:
    """DDI handler for the "keys" chunk: artifact `keys.json` = {"acquirer": name,
    "blocks": {slot: TR-31 block}}.  Every block is verified before any is stored: one refused
    block (bad MAC, wrong usage, replay, wrong KEK) refuses the delivery and keeps the old keys."""

    def __init__(self, keystore_factory):
        self.keystore_factory = keystore_factory

    async def run(self, client, dep, chunk, report):
        import json
        art = chunk.artifact("keys.json")
        if art is None or art.size > 8192:
            return False, ["no keys.json of at most 8 KB in the deployment"]
        buf = bytearray()
        await client.download(art, buf.extend)
        try:
            d = json.loads(buf)
            acquirer, blocks = d["acquirer"], d["blocks"]
            if not isinstance(acquirer, str) or not isinstance(blocks, dict) or not blocks:
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return False, ["keys.json is not {acquirer, blocks}"]
        ks = self.keystore_factory()
        checked = []
        for slot in sorted(blocks):
            try:
                kb, version, cv = verify(ks, acquirer, slot, blocks[slot])
            except tr31.KeyBlockError as e:
                return False, ["%s %s refused (%s): %s" % (acquirer, slot, e.reason, e)]
            except KeyStoreError as e:
                return False, ["%s %s refused: %s" % (acquirer, slot, e)]
            checked.append((slot, kb, cv))
        for slot, kb, cv in checked:
            ks.store_key_block(acquirer, slot, blocks[slot], kb.key_version, cv)
        return True, ["%s %s key version %s stored (KCV %s)" % (acquirer, slot, kb.key_version, cv)
                      for slot, kb, cv in checked]


def injected_key(keystore, acquirer, slot):
    """Clear key of (acquirer, slot), opened again from its stored block; KeyStoreError if none."""
    held = keystore.key_block(acquirer, slot)
    if held is None:
        raise KeyStoreError("no %s key injected for %s" % (slot, acquirer))
    kbpk, alg = keystore.kbpk()
    kb = tr31.unwrap(kbpk, held[0], alg)
    check_slot(kb, slot)
    return kb.key
