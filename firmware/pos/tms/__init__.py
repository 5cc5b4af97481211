"""Terminal management: the DDI client, firmware updates, parameters, key injection."""
