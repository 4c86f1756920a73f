"""HTTP (and local file) fetching of feed documents, with conditional GET; the shared rules of every request.

The `httpx.Client` is always passed in (see `make_client`), so tests can point it at a local
server or a `MockTransport`. Every request has a timeout, every body a size cap, and a body that
trickles in slower than `MIN_RATE` bytes/s is abandoned instead of pinning a cron run.
"""

from __future__ import annotations

import email.utils
import itertools
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

import httpx

from catalog import __version__
from catalog.errors import FetchError, HTTPStatusError, TooLargeError
from catalog.sources.network_policy import PinnedTransport, guard_request

log = logging.getLogger(__name__)

USER_AGENT = f"catalog/{__version__} (podcast and media cataloguer; +https://pypi.org/project/catalog/)"
MIN_RATE = 2048  # bytes per second, averaged, once `timeout` seconds have passed


def make_client(
    *, timeout: float = 30.0, user_agent: str = "", transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """The one HTTP client a sync uses: timeouts, redirects, a real User-Agent, pooled connections.

    Every request, each redirect hop included, passes `network_policy.guard_request`: addresses found
    inside a feed are checked against that feed's policy, and plain http connects to the checked address.
    """
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        follow_redirects=True,
        headers={"User-Agent": user_agent or USER_AGENT},
        limits=limits,
        transport=PinnedTransport(transport or httpx.HTTPTransport(limits=limits)),
        event_hooks={"request": [guard_request]},
    )


@dataclass
class FeedResponse:
    """A fetched feed document, or a 304 (`body is None`)."""

    url: str
    status: int
    body: bytes | None
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    # Where the URL asked for permanently moved (301/308 redirects from it; 302/307 on the way end the move).
    moved_to: str | None = None
    moved_status: int | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


PERMANENT = (301, 308)


def permanent_redirect(response: httpx.Response) -> tuple[str | None, int | None]:
    """(the address the request permanently moved to, the status that said so), or (None, None).

    The redirects are walked from the URL asked for while they are permanent: 301 to B, then 302 to C
    is a move to B (C is only where B sends us for now). The status given is the last permanent one.
    """
    hops = [*response.history, response]
    moved, status = None, None
    for hop, after in itertools.pairwise(hops):
        if hop.status_code not in PERMANENT:
            break
        moved, status = str(after.request.url), hop.status_code
    return moved, status


def is_local(url: str) -> bool:
    return urlparse(url).scheme.lower() == "file"


def local_path(url: str) -> Path:
    parsed = urlparse(url)
    return Path(url2pathname(unquote(parsed.path)))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdecimal():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def raise_for_status(response: httpx.Response, url: str) -> None:
    if response.status_code < 400:
        return
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    reason = response.reason_phrase or "error"
    raise HTTPStatusError(
        f"HTTP {response.status_code} {reason} from {url}",
        status=response.status_code,
        retry_after=retry_after,
    )


def read_capped(chunks: Iterator[bytes], url: str, max_bytes: int, timeout: float) -> Iterator[bytes]:
    """Pass chunks through, enforcing the size cap and the minimum average rate."""
    started = time.monotonic()
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > max_bytes:
            raise TooLargeError(f"{url}: body larger than the {max_bytes:,} byte limit")
        elapsed = time.monotonic() - started
        if elapsed > timeout and total / elapsed < MIN_RATE:
            raise FetchError(f"{url}: too slow ({total / elapsed:.0f} bytes/s after {elapsed:.0f} s), gave up")
        yield chunk


def fetch_feed(
    client: httpx.Client,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = 20_000_000,
) -> FeedResponse:
    """GET a feed with If-None-Match/If-Modified-Since. Local files use their mtime the same way."""
    if is_local(url):
        return _fetch_local_feed(url, last_modified, max_bytes)
    headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with client.stream("GET", url, headers=headers) as response:
            log.debug("GET %s: %d", url, response.status_code)
            moved_to, moved_status = permanent_redirect(response)
            if response.status_code == 304:
                return FeedResponse(
                    str(response.url), 304, None, dict(response.headers), etag, last_modified, moved_to, moved_status
                )
            raise_for_status(response, url)
            declared = response.headers.get("content-length")
            if declared and declared.isdecimal() and int(declared) > max_bytes:
                raise TooLargeError(f"{url}: feed is {int(declared):,} bytes, over the {max_bytes:,} byte limit")
            timeout = client.timeout.read or 30.0
            body = b"".join(read_capped(response.iter_bytes(), url, max_bytes, timeout))
            return FeedResponse(
                url=str(response.url),
                status=response.status_code,
                body=body,
                headers=dict(response.headers),
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                moved_to=moved_to,
                moved_status=moved_status,
            )
    except httpx.TimeoutException as exc:
        raise FetchError(f"{url}: timed out ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc


def _fetch_local_feed(url: str, last_modified: str | None, max_bytes: int) -> FeedResponse:
    path = local_path(url)
    try:
        stat = path.stat()
        mtime = email.utils.formatdate(stat.st_mtime, usegmt=True)
        if last_modified == mtime:
            return FeedResponse(url, 304, None, {}, None, mtime)
        if stat.st_size > max_bytes:
            raise TooLargeError(f"{path}: feed is {stat.st_size:,} bytes, over the {max_bytes:,} byte limit")
        body = path.read_bytes()
    except OSError as exc:
        raise FetchError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return FeedResponse(url, 200, body, {"content-type": "application/xml"}, None, mtime)
