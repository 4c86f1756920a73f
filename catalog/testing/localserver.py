"""A real HTTP server on 127.0.0.1 (or another loopback address) for tests: static files with ETag/Last-Modified, Range,
request counting, and routes that misbehave on purpose (500, 429, 410, slow, truncated). A POST (a webhook
under test) is kept in `posted` as (path, body) and answered 204, or by the route for its path."""

from __future__ import annotations

import email.utils
import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

Route = Callable[[BaseHTTPRequestHandler], None]

TYPES = {
    ".xml": "application/rss+xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".mp4": "video/mp4",
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",
    ".json": "application/json",
    ".html": "text/html",
}


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that hang up on purpose (timeout tests) are not errors


class LocalServer:
    """`host`: any loopback address (on Linux all of 127.0.0.0/8 is loopback: 127.0.0.2 is a second host)."""

    def __init__(self, root: Path, host: str = "127.0.0.1") -> None:
        self.root = root
        self.host = host
        self.routes: dict[str, Route] = {}
        self.throttle: int | None = None  # bytes per second for static bodies
        self.validators = True  # False: no ETag or Last-Modified, never a 304 (as many real servers)
        self.requests: Counter[str] = Counter()
        self.bodies: Counter[str] = Counter()
        self.headers_seen: list[dict[str, str]] = []
        self.posted: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = urlparse(self.path).path
                with server._lock:
                    server.requests[path] += 1
                    server.headers_seen.append(dict(self.headers))
                route = server.routes.get(path)
                try:
                    if route is not None:
                        route(self)
                    else:
                        server._static(self, path)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_POST(self) -> None:
                path = urlparse(self.path).path
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with server._lock:
                    server.requests[path] += 1
                    server.posted.append((path, body))
                route = server.routes.get(path)
                try:
                    if route is not None:
                        route(self)
                    else:
                        self.send_response(204)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = _QuietServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + "/" + path.lstrip("/")

    def start(self) -> LocalServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def count_body(self, path: str) -> None:
        with self._lock:
            self.bodies[path] += 1

    def _static(self, handler: BaseHTTPRequestHandler, path: str) -> None:
        file = (self.root / path.lstrip("/")).resolve()
        if not file.is_file() or self.root.resolve() not in file.parents:
            send(handler, 404, b"<html>not found</html>", "text/html")
            return
        data = file.read_bytes()
        etag = '"' + hashlib.md5(data).hexdigest() + '"'
        modified = email.utils.formatdate(file.stat().st_mtime, usegmt=True)
        if self.validators and (
            handler.headers.get("If-None-Match") == etag
            or (not handler.headers.get("If-None-Match") and handler.headers.get("If-Modified-Since") == modified)
        ):
            handler.send_response(304)
            handler.send_header("ETag", etag)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        ctype = TYPES.get(file.suffix.lower(), "application/octet-stream")
        range_header = handler.headers.get("Range", "")
        if range_header.startswith("bytes=") and range_header.endswith("-"):
            start = int(range_header[6:-1])
            if start < len(data):
                handler.send_response(206)
                handler.send_header("Content-Type", ctype)
                handler.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                handler.send_header("Content-Length", str(len(data) - start))
                handler.send_header("ETag", etag)
                handler.end_headers()
                self._write(handler, data[start:])
                self.count_body(path)
                return
        handler.send_response(200)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(data)))
        if self.validators:
            handler.send_header("ETag", etag)
            handler.send_header("Last-Modified", modified)
        handler.send_header("Accept-Ranges", "bytes")
        handler.end_headers()
        self._write(handler, data)
        self.count_body(path)

    def _write(self, handler: BaseHTTPRequestHandler, data: bytes) -> None:
        if not self.throttle:
            handler.wfile.write(data)
            return
        step = max(1024, self.throttle // 10)
        for offset in range(0, len(data), step):
            handler.wfile.write(data[offset : offset + step])
            handler.wfile.flush()
            time.sleep(step / self.throttle)


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str, **headers: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", ctype)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    handler.wfile.write(body)


def status_route(status: int, **headers: str) -> Route:
    return lambda handler: send(handler, status, b"<html><body>error</body></html>", "text/html", **headers)


def delayed_route(server: LocalServer, path: str, delay: float) -> Route:
    """Serves the static file at `path` after `delay` seconds (a slow but healthy server)."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(delay)
        server._static(handler, path)

    return route


def html_route(handler: BaseHTTPRequestHandler) -> None:
    """A 200 answer whose body is an HTML page, as a misconfigured CDN sends for a missing episode."""
    send(handler, 200, b"<!DOCTYPE html><html><body>Episode not found</body></html>", "text/html")


def slow_route(total: int = 200, delay: float = 1.0) -> Route:
    """Promises `total` bytes, sends one byte per `delay` seconds."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        handler.send_header("Content-Length", str(total))
        handler.end_headers()
        for _ in range(total):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(delay)

    return route


def truncated_route(data: bytes, ctype: str, send_bytes: int) -> Route:
    """Declares the full length, sends only `send_bytes`, then closes the connection."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(data[:send_bytes])
        handler.wfile.flush()
        handler.close_connection = True

    return route
