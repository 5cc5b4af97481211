"""Terminal management: the DDI client (ddi, service), parameters (params), key injection
(tr31, keyinject), firmware updates into A/B ROMFS slots (update, bootctl, tuf, selftest)."""

PARAMS_VERSION = "config/params.version"     # version of the parameter bundle installed (params)


def installed_params_version():
    """The installed parameter bundle's version (0: none), read without loading pos.tms.params:
    the agent reports it at every poll that asks for the terminal's attributes."""
    try:
        with open(PARAMS_VERSION) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0
