"""Terminal management: the device side of the cloud service (docs/cloud.md)."""
