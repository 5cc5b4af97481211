"""Terminal management: fleet, parameters, keys, rollouts (hawkBit DDI device API)."""
