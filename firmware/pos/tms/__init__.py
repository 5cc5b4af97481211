"""Terminal management: firmware updates into A/B ROMFS slots (update), the boot-control record (bootctl), TUF metadata checks (tuf) and the trial-boot self-test (selftest)."""
