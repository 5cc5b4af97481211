"""Network clients of the terminal (HTTP/1.1 for the cloud service)."""
