"""The dashboard's HTTP server: the page, its script and ``/api/state`` on 127.0.0.1 only.

Stdlib :mod:`http.server` in a daemon thread.  The page is static (``static/``, served from the
package) and polls ``/api/state`` (the :class:`~omnidsl.market.dashboard.view.MarketView`
snapshot); with a ``refresh`` callable, a second thread calls it every ``interval`` seconds
(a JSON-RPC node: read the new events); without it the owner of the view refreshes it (the
demo, on its own thread: the embedded chain is not shared between threads).

Hardening: it listens on 127.0.0.1 only, answers only requests whose ``Host`` is
``127.0.0.1:PORT`` or ``localhost:PORT`` (a web page elsewhere cannot read it through DNS
rebinding), serves GET/HEAD only, and every response carries a Content-Security-Policy without
inline script (the page writes chain data as text, never as HTML).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from types import TracebackType
from typing import Any

from omnidsl.errors import OmniDSLError
from omnidsl.market.dashboard.view import MarketView

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
#: path -> (static file, content type)
STATIC = {"/": ("index.html", "text/html; charset=utf-8"),
          "/index.html": ("index.html", "text/html; charset=utf-8"),
          "/app.js": ("app.js", "text/javascript; charset=utf-8"),
          "/style.css": ("style.css", "text/css; charset=utf-8"),
          "/favicon.svg": ("favicon.svg", "image/svg+xml")}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def static_file(name: str) -> bytes:
    """One of the page's files, from the installed package."""
    return (resources.files("omnidsl.market.dashboard") / "static" / name).read_bytes()


def _handler(view: MarketView, allowed_hosts: set[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "omnidsl-dashboard"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("%s %s", self.address_string(), format % args)

        def _send(self, status: int, body: bytes, ctype: str, head: bool = False) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def _route(self, head: bool) -> None:
            if self.headers.get("Host", "") not in allowed_hosts:
                self._send(421, b"unknown host\n", "text/plain; charset=utf-8", head)
                return
            path = self.path.split("?", 1)[0]
            if path == "/api/state":
                body = json.dumps(view.snapshot()).encode()
                self._send(200, body, "application/json", head)
            elif path in STATIC:
                name, ctype = STATIC[path]
                self._send(200, static_file(name), ctype, head)
            else:
                self._send(404, b"not found\n", "text/plain; charset=utf-8", head)

        def do_GET(self) -> None:
            self._route(head=False)

        def do_HEAD(self) -> None:
            self._route(head=True)

    return Handler


class DashboardServer:
    """Serve ``view`` on http://127.0.0.1:PORT (``port`` 0: any free port); a context manager."""

    def __init__(self, view: MarketView, port: int = 0, refresh: Callable[[], Any] | None = None,
                 interval: float = 1.0) -> None:
        if not 0 <= port <= 65535:
            raise OmniDSLError(f"dashboard port {port}: not a TCP port (0-65535)")
        self.view = view
        self.refresh, self.interval = refresh, interval
        try:
            self.httpd = ThreadingHTTPServer((HOST, port), _handler(view, set()))
        except OSError as exc:
            raise OmniDSLError(f"dashboard: cannot listen on {HOST}:{port} ({exc.strerror})",
                               hint="choose another --dashboard/--port, or 0 for any free port"
                               ) from None
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        hosts = {f"{HOST}:{self.port}", f"localhost:{self.port}"}
        self.httpd.RequestHandlerClass = _handler(view, hosts)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def start(self) -> DashboardServer:
        serve = threading.Thread(target=self.httpd.serve_forever, name="dashboard-http",
                                 daemon=True)
        self._threads.append(serve)
        if self.refresh is not None:
            self._threads.append(threading.Thread(target=self._poll_loop, name="dashboard-poll",
                                                  daemon=True))
        for t in self._threads:
            t.start()
        logger.info("dashboard at %s", self.url)
        return self

    def _poll_loop(self) -> None:
        assert self.refresh is not None
        while not self._stop.is_set():
            try:
                self.refresh()
            except Exception:  # keep serving; the view shows chain errors itself
                logger.exception("dashboard: refresh failed")
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        for t in self._threads:
            t.join(timeout=10)

    def __enter__(self) -> DashboardServer:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
