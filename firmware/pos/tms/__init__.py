"""Terminal management: the DDI client (ddi, service), parameters (params), key injection
(tr31, keyinject), firmware updates into A/B ROMFS slots (update, bootctl, tuf, selftest)."""
