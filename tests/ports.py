"""A free TCP port on the loopback for a test's own server (taken by the OS, then let go)."""
import socket


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
