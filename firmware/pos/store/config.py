# JSON configuration files on flash, validated against a schema.
#
# A schema is a dict {key: rule}; a rule is a type (int, str, bool, list,
# dict), a tuple of allowed values, a nested schema dict, or an Opt(rule,
# default) for optional keys.  Every problem raises ConfigError naming the
# file and the dotted key ("acquirers.json: acquirers.alpha.port: want int").
import json


class ConfigError(ValueError):
    """A configuration file that is missing, not JSON, or not valid."""

    def __init__(self, msg, key=None):
        super().__init__(msg)
        self.key = key


class Opt:
    def __init__(self, rule, default=None):
        self.rule = rule
        self.default = default


class Each:
    """A dict whose values (or a list whose items) all follow one rule."""

    def __init__(self, rule):
        self.rule = rule


_TYPENAMES = {int: "int", str: "str", bool: "bool", list: "list", dict: "dict", float: "float"}


def check(value, rule, where, fname="config"):
    """Validate `value` against `rule`; returns it with defaults filled in."""
    if isinstance(rule, Opt):
        if value is None:                 # null = not given
            return rule.default
        rule = rule.rule
    if isinstance(rule, dict):
        if not isinstance(value, dict):
            raise ConfigError("%s: %s: want an object" % (fname, where or "(top)"), where)
        out = {}
        for k in rule:
            r = rule[k]
            path = (where + "." + k) if where else k
            if k not in value:
                if isinstance(r, Opt):
                    out[k] = r.default
                    continue
                raise ConfigError("%s: %s: missing" % (fname, path), path)
            out[k] = check(value[k], r, path, fname)
            if out[k] is None and not isinstance(r, Opt):
                raise ConfigError("%s: %s: missing" % (fname, path), path)
        for k in value:
            if k not in rule:
                path = (where + "." + k) if where else k
                raise ConfigError("%s: %s: unknown key" % (fname, path), path)
        return out
    if isinstance(rule, Each):
        if isinstance(value, dict):
            return {k: check(value[k], rule.rule, where + "." + k, fname) for k in value}
        if isinstance(value, list):
            return [check(v, rule.rule, "%s[%d]" % (where, i), fname) for i, v in enumerate(value)]
        raise ConfigError("%s: %s: want an object or a list" % (fname, where), where)
    if isinstance(rule, tuple):
        if value not in rule:
            raise ConfigError("%s: %s: %r not one of %s" % (fname, where, value, ", ".join(str(x) for x in rule)),
                              where)
        return value
    if rule is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError("%s: %s: want int" % (fname, where), where)
    if rule is not int and not isinstance(value, rule):
        raise ConfigError("%s: %s: want %s" % (fname, where, _TYPENAMES.get(rule, rule)), where)
    return value


def load(path, schema):
    """Read JSON file `path` and validate it against `schema`."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        raise ConfigError("%s: cannot be read (missing from flash?)" % path)
    try:
        data = json.loads(text)
    except ValueError as e:
        raise ConfigError("%s: not valid JSON (%s)" % (path, e))
    return check(data, schema, "", path)
