"""TEST keys for the host-link tests and the acquirer simulator's data (never production)."""
import json


from host_sim.hosts.acquirer.hsm import TEST_TMK, TEST_DEK, kcv, wrap  # noqa: F401


def write_kld(path, acquirers=("alpha", "beta")):
    """A TEST key-loading file for the terminal's flash."""
    d = {"acquirers": {a: {"tmk": TEST_TMK[a].hex().upper(), "kcv": kcv(TEST_TMK[a]).hex().upper()}
                       for a in acquirers},
         "dek": TEST_DEK.hex().upper(), "dek_kcv": kcv(TEST_DEK).hex().upper()}
    with open(path, "w") as f:
        json.dump(d, f)
