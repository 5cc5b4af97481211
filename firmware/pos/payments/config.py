# Schema of firmware/config/acquirers.json (routing table + acquirer
# defaults) and its loader.  Keys are never in this file: each acquirer's
# TMK comes from the key store (pos.store.keystore) by acquirer name.
from pos.store.config import Each, Opt, load as _load

ENDPOINT = {"host": str, "port": int, "tls": Opt(bool, None)}

ACQUIRER = {
    "host": str,
    "port": int,
    "tls": Opt(bool, False),
    "secondary": Opt(dict, None),
    "spec": Opt(str, "iso87"),
    "tid": str,
    "mid": str,
    "nii": Opt(int, 1),
    "timeout_ms": Opt(int, 15000),
    "connect_timeout_ms": Opt(int, 5000),
    "name": Opt(str, ""),
}

ROUTE = {
    "acquirer": str,
    "bin": Opt(list, None),
    "scheme": Opt(str, None),
    "wallet": Opt(str, None),
    "default": Opt(bool, False),
}

SCHEMA = {
    "acquirers": Each(ACQUIRER),
    "routes": Each(ROUTE),
    "retry": Opt({"base_ms": Opt(int, 2000), "max_ms": Opt(int, 300000)},
                 {"base_ms": 2000, "max_ms": 300000}),
    "currency": Opt(str, None),     # not used: the terminal's one currency is 5F2A in config/emv.json
}


def load(path="config/acquirers.json"):
    from pos.store.config import check, ConfigError
    cfg = _load(path, SCHEMA)
    for name in cfg["acquirers"]:
        a = cfg["acquirers"][name]
        if a["secondary"] is not None:
            a["secondary"] = check(a["secondary"], ENDPOINT, "acquirers.%s.secondary" % name, path)
        if len(a["tid"]) != 8:
            raise ConfigError("%s: acquirers.%s.tid: must be 8 characters" % (path, name),
                              "acquirers.%s.tid" % name)
        if len(a["mid"]) > 15:
            raise ConfigError("%s: acquirers.%s.mid: at most 15 characters" % (path, name),
                              "acquirers.%s.mid" % name)
    for i, r in enumerate(cfg["routes"]):
        if r["acquirer"] not in cfg["acquirers"]:
            raise ConfigError("%s: routes[%d].acquirer: unknown acquirer %s" % (path, i, r["acquirer"]),
                              "routes[%d].acquirer" % i)
        if r["bin"] is not None and (len(r["bin"]) != 2 or len(r["bin"][0]) != len(r["bin"][1])):
            raise ConfigError("%s: routes[%d].bin: want [from, to] of equal length" % (path, i),
                              "routes[%d].bin" % i)
    return cfg
