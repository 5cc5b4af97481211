"""Terminal management: software modules and their artifacts, deployment actions, and the
hawkBit DDI device API the terminals poll (docs/tms.md)."""
