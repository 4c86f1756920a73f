"""Headers that keep a page of feed text harmless even if something slipped past escaping.

The Content-Security-Policy allows scripts and styles only from this server's /static files (no inline
script, no eval, no other origin), so a `<script>` or `onerror=` in a title could not run even if it
reached the page unescaped. Media may come from the publisher's http(s) address (an episode not kept
on disk plays from there); nothing else is loaded from anywhere, and no other site may frame the page.
"""

from __future__ import annotations

import mimetypes

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "media-src 'self' https: http:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


# A media file is the publisher's bytes: never a page of this origin (an "episode" that is HTML could
# otherwise run script as the catalogue's own site). Served as audio/video or as a download, sandboxed.
MEDIA_TYPES = ("audio/", "video/")
MEDIA_POLICY = "sandbox; default-src 'none'"
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def media_type(declared: str | None, name: str = "") -> str:
    """The Content-Type a kept media file is served with: the publisher's, else the one its file name
    says, when that is audio or video; otherwise a download."""
    for candidate in (declared, mimetypes.guess_type(name)[0] if name else None):
        if candidate and candidate.lower().startswith(MEDIA_TYPES):
            return candidate
    return "application/octet-stream"


def host_name(header: str) -> str:
    """The name in a Host header, without its port and IPv6 brackets (`[::1]:8080` -> `::1`)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class LoopbackHostsOnly:
    """ASGI middleware for a server listening on loopback: requests must name a loopback host. A web
    page elsewhere can point its own name at 127.0.0.1 (DNS rebinding) and read every page; its
    requests carry its name in Host, and get 421."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
            if host_name(host) not in LOOPBACK_NAMES and not host_name(host).startswith("127."):
                response = PlainTextResponse("this server answers only requests for localhost", status_code=421)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """ASGI middleware adding `HEADERS` to every response (pages, static files and media alike)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)
