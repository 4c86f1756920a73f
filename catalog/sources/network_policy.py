"""Which addresses a feed may make catalog fetch: the guard against server-side request forgery.

The URLs a user writes in feeds.yaml are trusted. Addresses found *inside* a feed (enclosures,
publisher transcripts and chapters, pages handed to yt-dlp) are not: a feed could otherwise make
catalog fetch from the user's router, a cloud metadata service or a local file. So, for those:

- only http(s) is fetched, except that a feed feeds.yaml names as a local file may point at files
  in its own folder (the offline samples);
- the host is resolved and every address it resolves to must be global: loopback, private,
  link-local, shared (100.64/10), multicast, reserved and unspecified addresses are refused, after
  unwrapping IPv4-mapped, IPv4-compatible, NAT64 and 6to4 IPv6 addresses;
- unless the host is that of the feed's own feeds.yaml URL, or `allow_private_networks: true`.

The `FeedPolicy` of the item being worked is `applied()` around its fetches (a context variable, so
each download thread has its own). Every request of a client from `make_client` is checked by
`guard_request`, redirect hops included, and `PinnedTransport` connects plain-http requests to the
address that was checked, so a DNS answer that changes between check and connect (DNS rebinding)
is not used. https is not pinned: the certificate must match the host name, which a rebound
private address cannot present.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import httpx

from catalog.config import Config
from catalog.errors import ConfigError, FetchError, RefusedAddressError
from catalog.sources.locations import feed_url

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

HINT = "set allow_private_networks: true in feeds.yaml to allow it"
SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT; not is_private in 3.11
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
PINNED = "catalog.pinned_address"  # request extension: the checked address to connect to


def check_address(ip: str | IPAddress) -> str | None:
    """Why catalog must not fetch from `ip` for a feed (e.g. "127.0.0.2 is a loopback address"), or None."""
    address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    inner = embedded_ipv4(address)
    if inner is not None:
        reason = check_address(inner)
        return f"{ip} ({reason})" if reason else None  # as written: ::ffff:127.0.0.1, not ::ffff:7f00:1
    if address.is_unspecified:
        return f"{address} is the unspecified address"
    if address.is_loopback:
        return f"{address} is a loopback address"
    if address.is_link_local:
        return f"{address} is a link-local address"
    if address.is_multicast:
        return f"{address} is a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address in SHARED_ADDRESS_SPACE:
        return f"{address} is in the shared address space 100.64.0.0/10"
    if address.is_reserved:
        return f"{address} is a reserved address"
    if address.is_private:
        return f"{address} is a private address"
    if not address.is_global:
        return f"{address} is not a public address"
    return None


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (::ffff:a.b.c.d, ::a.b.c.d, 64:ff9b::a.b.c.d, 2002:AABB:CCDD::)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64 or (address in IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def canonical_host(host: str) -> str:
    """A host name as compared: lower case, no trailing dot, an IP address in its usual spelling
    (2130706433, 0x7f000001 and 127.1 are all 127.0.0.1)."""
    host = host.strip("[]").rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefx." for c in host) and host[0].isdigit():
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            pass
    return host


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class FeedPolicy:
    """What the addresses found inside one feed may reach."""

    trusted_hosts: frozenset[str] = frozenset()  # canonical hosts of the feed's own feeds.yaml URL
    local_root: Path | None = None  # the folder of a feed feeds.yaml names as a local file
    allow_private: bool = False

    @contextmanager
    def applied(self) -> Iterator[FeedPolicy]:
        """Check every fetch in this block (this thread) against the policy."""
        token = _active.set(self)
        try:
            yield self
        finally:
            _active.reset(token)

    def vet(self, url: str, *, strict: bool = True) -> str | None:
        """Raise RefusedAddressError when the feed may not make catalog fetch `url`; return the address
        that was checked (to connect to), or None when there was no need to resolve the host.

        `strict=False`: a host that does not resolve now is let through (the fetcher will fail on it)."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "file":
            self._vet_file(url, parts.path)
            return None
        if scheme not in ("http", "https"):
            raise RefusedAddressError(f"refused {url}: only http(s) addresses are fetched from a feed")
        host = canonical_host(parts.hostname or "")
        if not host:
            raise RefusedAddressError(f"refused {url}: no host")
        if self.allow_private or host in self.trusted_hosts:
            return None
        written = (parts.hostname or "").split("%")[0]
        if is_address(written):  # an address: nothing to look up (shown as written, ::ffff:127.0.0.1)
            addresses = [written]
        elif is_address(host):  # an address spelt 2130706433 or 0x7f000001
            addresses = [host]
        else:
            try:
                port = parts.port or (443 if scheme == "https" else 80)
                found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (OSError, ValueError, UnicodeError) as exc:
                if not strict:
                    return None
                raise FetchError(f"{url}: cannot resolve {host}: {getattr(exc, 'strerror', None) or exc}") from exc
            addresses = [str(info[4][0]).split("%")[0] for info in found]
        for address in addresses:
            reason = check_address(address)
            if reason:
                shown = reason if host == address else f"{reason} ({host} resolves to it)"
                raise RefusedAddressError(f"refused {url}: {shown}; {HINT}", hint=HINT)
        return addresses[0] if addresses else None

    def _vet_file(self, url: str, path: str) -> None:
        if self.local_root is None:
            raise RefusedAddressError(
                f"refused {url}: a feed fetched from the web may not point at local files "
                "(only a feed feeds.yaml names as a local file may, inside its own folder)"
            )
        target = Path(url2pathname(unquote(path))).resolve()
        if not target.is_relative_to(self.local_root):
            raise RefusedAddressError(f"refused {url}: outside the feed's own folder {self.local_root}")


_active: ContextVar[FeedPolicy | None] = ContextVar("catalog_feed_policy", default=None)


def policy_for(config: Config, feed_name: str) -> FeedPolicy:
    """The policy for items of the feed `feed_name` (strict when feeds.yaml does not name it)."""
    allow = config.settings.allow_private_networks
    source = next((source for source in config.feeds if source.name == feed_name), None)
    if source is None:
        return FeedPolicy(allow_private=allow)
    urls = [source.url]
    with suppress(ConfigError):  # an @handle page: feeds.yaml's own URL is still trusted
        urls.append(feed_url(config, source))
    hosts: set[str] = set()
    root = None
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme.lower() in ("http", "https") and parts.hostname:
            hosts.add(canonical_host(parts.hostname))
        elif parts.scheme.lower() == "file":
            root = Path(url2pathname(unquote(parts.path))).resolve().parent
    return FeedPolicy(frozenset(hosts), root, allow)


def vet_url(url: str, *, strict: bool = True) -> str | None:
    """`FeedPolicy.vet` with the policy in effect; nothing to check outside `applied()`."""
    policy = _active.get()
    return policy.vet(url, strict=strict) if policy is not None else None


def guard_request(request: httpx.Request) -> None:
    """An httpx request hook: refuse the request (each redirect hop is one) that the policy in
    effect forbids, and note the checked address for `PinnedTransport`."""
    address = vet_url(str(request.url))
    if address is not None:
        request.extensions[PINNED] = address
    else:
        request.extensions.pop(PINNED, None)


class PinnedTransport(httpx.BaseTransport):
    """Sends plain-http requests to the address `guard_request` checked, not to a fresh DNS answer."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        address = request.extensions.get(PINNED)
        if address and request.url.scheme == "http":
            request = httpx.Request(
                request.method,
                request.url.copy_with(host=address),
                headers=request.headers,  # Host: keeps the name
                stream=request.stream,
                extensions=request.extensions,
            )
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()
