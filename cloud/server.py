"""Running the service: in the foreground (``smartpos cloud``) or in a thread (sim, tests).

    srv = CloudServer(Settings(data_dir=d, port=0)).start()   # port 0: any free port
    srv.url  ->  "http://127.0.0.1:41234"   ("https://..." with Settings(tls_cert=..., tls_key=...))
    srv.stop()
"""
import socket
import threading

import uvicorn

from cloud.app import create_app


def listen_socket(host, port):
    """The listening socket.  TCP_NODELAY is set here because accepted sockets inherit it: without
    it a keep-alive client waits for its delayed ACK (about 40 ms) before each reply's body."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)     # inherited by accepted sockets
    sock.bind((host, port))
    sock.listen(512)
    sock.set_inheritable(True)
    return sock


class CloudServer:
    def __init__(self, settings, log_level="warning"):
        self.settings = settings
        self.app = create_app(settings)
        self.log_level = log_level
        self._sock = None
        self._server = None
        self._thread = None

    @property
    def port(self):
        return self._sock.getsockname()[1]

    @property
    def url(self):
        host = self.settings.host
        return "%s://%s:%d" % ("https" if self.settings.tls_cert else "http",
                               "[%s]" % host if ":" in host else host, self.port)

    def _config(self):
        tls = {}
        if self.settings.tls_cert:                  # HTTPS (cloud/tls.py): terminals pin the issuing CA
            tls = {"ssl_certfile": self.settings.tls_cert, "ssl_keyfile": self.settings.tls_key}
        return uvicorn.Config(self.app, log_level=self.log_level, access_log=False, lifespan="off",
                              timeout_keep_alive=30, limit_concurrency=4096, **tls)

    def start(self):
        """Serve in a background thread; returns once the port accepts connections."""
        self._sock = listen_socket(self.settings.host, self.settings.port)
        self._server = uvicorn.Server(self._config())
        self._server.install_signal_handlers = lambda: None
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name="cloud", daemon=True)
        self._thread.start()
        ready = threading.Event()

        def watch():
            while not self._server.started and self._thread.is_alive():
                ready.wait(0.01)
            ready.set()
        threading.Thread(target=watch, daemon=True).start()
        if not ready.wait(30) or not self._server.started:
            raise RuntimeError("the cloud service did not start")
        return self

    def listen(self):
        """Bind the port now (so that `port` is known, and a busy port fails before serving)."""
        self._sock = listen_socket(self.settings.host, self.settings.port)
        return self

    def serve_forever(self):
        """Serve in this thread until Ctrl-C / SIGTERM."""
        if self._sock is None:
            self.listen()
        self._server = uvicorn.Server(self._config())
        self._server.run(sockets=[self._sock])

    def stop(self):
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        if self._sock is not None:
            self._sock.close()
        if self.app.state.waker is not None:
            self.app.state.waker.close()
        self.app.state.engine.dispose()
