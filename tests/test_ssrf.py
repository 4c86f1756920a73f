"""Hostile feeds: addresses found inside a feed may not reach private networks or local files.

Every server here is on loopback: the feed on 127.0.0.1, "another host" on 127.0.0.2 (on Linux all of
127.0.0.0/8 is loopback). Unit tests of `check_address` cover the other networks without touching them.
"""

from __future__ import annotations

import ipaddress
import shutil
import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalog.app import Catalog
from catalog.errors import FetchError, RefusedAddressError
from catalog.models import Transcript, TranscriptSegment
from catalog.sources.http import make_client
from catalog.sources.network_policy import FeedPolicy, canonical_host, check_address
from catalog.sync.report import SyncReport
from catalog.testing.localserver import LocalServer, send
from tests.conftest import WriteConfig

HINT = "set allow_private_networks: true in feeds.yaml to allow it"

FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel><title>Hostile Show</title><language>en</language>
<item><title>Episode one</title><guid>ep-1</guid><pubDate>Tue, 03 Mar 2026 08:00:00 GMT</pubDate>
<enclosure url="{url}" type="audio/mpeg" length="73240"/>{extra}
</item></channel></rss>"""


class FakeTranscriber:
    name = "fake"

    def transcribe(self, path: Path, **kwargs: Any) -> Transcript:
        return Transcript([TranscriptSegment(0.0, 2.0, "Fake marmot words.")], model="fake", language="en")


@pytest.fixture
def other(site: Path) -> Iterator[LocalServer]:
    """A second host: the same files served from 127.0.0.2."""
    try:
        srv = LocalServer(site, host="127.0.0.2").start()
    except OSError as exc:  # pragma: no cover - systems where only 127.0.0.1 is loopback
        pytest.skip(f"cannot bind 127.0.0.2: {exc}")
    yield srv
    srv.stop()


def sync(config: Path) -> tuple[SyncReport, dict[str, Any]]:
    with Catalog.open(config) as cat:
        report = cat.sync(transcriber_factory=FakeTranscriber)
        return report, cat.status()


def hostile_feed(site: Path, enclosure: str, extra: str = "", name: str = "hostile.xml") -> None:
    (site / name).write_text(FEED.format(url=enclosure, extra=extra))


def refused(status: dict[str, Any]) -> str:
    """The reason of the one item given up on."""
    [row] = status["media"]["failed"]
    assert row["state"] == "failed" and row["attempts"] == 1
    return str(row["reason"])


# --- the pure rule --------------------------------------------------------------------------------

REFUSED = [
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),
    ("100.64.0.1", "shared address space"),
    ("100.127.255.254", "shared address space"),
    ("127.0.0.1", "loopback"),
    ("127.0.0.2", "loopback"),
    ("0.0.0.0", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.2.1", "private"),  # documentation
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("fe80::1", "link-local"),
    ("ff02::1", "multicast"),
    ("::ffff:127.0.0.2", "127.0.0.2 is a loopback"),
    ("::ffff:10.0.0.1", "10.0.0.1 is a private"),
    ("::127.0.0.1", "127.0.0.1 is a loopback"),  # IPv4-compatible (deprecated, still routed by some stacks)
    ("64:ff9b::7f00:1", "127.0.0.1 is a loopback"),  # NAT64
    ("64:ff9b::a9fe:a9fe", "169.254.169.254 is a link-local"),
    ("2002:7f00:1::", "127.0.0.1 is a loopback"),  # 6to4
    ("2002:c0a8:101::1", "192.168.1.1 is a private"),
    ("2001:db8::1", "private"),  # documentation
]
ALLOWED = ["8.8.8.8", "1.1.1.1", "100.128.0.1", "172.32.0.1"]
ALLOWED += ["2001:4860:4860::8888", "::ffff:8.8.8.8", "2002:808:808::1"]


@pytest.mark.parametrize(("address", "reason"), REFUSED, ids=[a for a, _ in REFUSED])
def test_non_global_addresses_are_refused(address: str, reason: str) -> None:
    said = check_address(address)
    assert said is not None and reason in said and said.startswith(address)
    assert check_address(ipaddress.ip_address(address)) == said.replace(address, str(ipaddress.ip_address(address)))


@pytest.mark.parametrize("address", ALLOWED)
def test_global_addresses_are_allowed(address: str) -> None:
    assert check_address(address) is None


@pytest.mark.parametrize(
    ("host", "canonical"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000002", "127.0.0.2"),
        ("0X7F.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("[::1]", "::1"),
        ("Feeds.Example.ORG.", "feeds.example.org"),
        ("1e100.example", "1e100.example"),
    ],
)
def test_hosts_are_compared_in_one_spelling(host: str, canonical: str) -> None:
    assert canonical_host(host) == canonical


@pytest.mark.parametrize(
    ("url", "text"),
    [
        ("ftp://127.0.0.1/x.mp3", "only http(s)"),
        ("gopher://127.0.0.1:70/_x", "only http(s)"),
        ("file:///etc/passwd", "may not point at local files"),
        ("http:///x.mp3", "no host"),
        ("http://2130706433/x.mp3", "127.0.0.1 is a loopback address; " + HINT),
        ("http://0x7f000002/x.mp3", "127.0.0.2 is a loopback address"),
        ("http://[::ffff:127.0.0.2]/x.mp3", "127.0.0.2 is a loopback address"),
        ("http://localhost/x.mp3", "is a loopback address (localhost resolves to it)"),  # /etc/hosts
    ],
)
def test_a_strict_policy_refuses_without_fetching(url: str, text: str) -> None:
    with pytest.raises(RefusedAddressError, match="refused") as info:
        FeedPolicy().vet(url)
    assert text in str(info.value) and url in str(info.value)


def test_a_trusted_host_and_allow_private_skip_the_lookup() -> None:
    assert FeedPolicy(frozenset({"127.0.0.1"})).vet("http://2130706433:8080/x.mp3") is None
    assert FeedPolicy(allow_private=True).vet("http://127.0.0.2/x.mp3") is None
    with pytest.raises(RefusedAddressError):
        FeedPolicy(allow_private=True).vet("file:///etc/passwd")  # local files are not a network


def test_plain_http_connects_to_the_address_that_was_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: the name answers a public address to the check, then 127.0.0.1. The request goes to the
    checked address. No socket is opened (MockTransport), and the resolver is a stand-in."""
    answers = iter(["203.0.114.7", "127.0.0.1"])  # 203.0.114.7: a public address, never contacted

    def resolver(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        assert host == "rebind.example"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"ok")

    with make_client(transport=httpx.MockTransport(handler)) as client, FeedPolicy().applied():
        response = client.get("http://rebind.example/ep.mp3")
    assert response.status_code == 200 and str(response.url) == "http://rebind.example/ep.mp3"
    assert [str(r.url) for r in seen] == ["http://203.0.114.7/ep.mp3"]
    assert seen[0].headers["Host"] == "rebind.example"


def test_outside_a_feed_nothing_is_checked() -> None:
    """feeds.yaml's own URLs (the feed stage) are trusted: no policy is in effect there."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200)

    with make_client(transport=httpx.MockTransport(handler)) as client:
        client.get("http://127.0.0.2:9/feed.xml")
    assert seen == ["http://127.0.0.2:9/feed.xml"]


# --- a sync of a hostile feed, served from 127.0.0.1 -------------------------------------------------


def test_same_host_enclosure_is_downloaded(server: LocalServer, site: Path, write_config: WriteConfig) -> None:
    hostile_feed(site, server.url("media/nonzero-ep1.mp3"))
    report, status = sync(write_config([{"name": "h", "url": server.url("hostile.xml")}]))
    assert report.ok, report.failures
    assert status["media"]["counts"] == {"indexed": 1}


@pytest.mark.parametrize(
    ("enclosure", "reason"),
    [
        ("http://127.0.0.2:{other}/media/nonzero-ep1.mp3", "127.0.0.2 is a loopback address"),
        ("http://[::1]:{other}/media/nonzero-ep1.mp3", "::1 is a loopback address"),
        ("http://localhost:{server}/media/nonzero-ep1.mp3", "is a loopback address (localhost resolves to it)"),
        ("http://0x7f000002:{other}/media/nonzero-ep1.mp3", "127.0.0.2 is a loopback address"),
        ("http://2130706434:{other}/media/nonzero-ep1.mp3", "127.0.0.2 is a loopback address"),
        ("http://[::ffff:127.0.0.2]:{other}/media/nonzero-ep1.mp3", "(127.0.0.2 is a loopback address)"),
    ],
    ids=["127.0.0.2", "ipv6-loopback", "localhost", "hex", "decimal", "ipv4-mapped"],
)
def test_enclosure_on_another_loopback_host_is_refused(
    server: LocalServer, other: LocalServer, site: Path, write_config: WriteConfig, enclosure: str, reason: str
) -> None:
    url = enclosure.format(other=other.httpd.server_address[1], server=server.httpd.server_address[1])
    hostile_feed(site, url)
    config = write_config([{"name": "h", "url": server.url("hostile.xml")}])
    report, status = sync(config)
    message = refused(status)
    assert message.startswith(f"refused {url}: ") and reason in message and message.endswith(HINT)
    assert [what for what, _ in report.failures] == [f"item {status['media']['failed'][0]['item_id']} (h: Episode one)"]
    assert other.requests == {} and "/media/nonzero-ep1.mp3" not in server.requests
    again, _ = sync(config)  # given up: not tried on every sync
    assert again.ok and other.requests == {}


def test_decimal_spelling_of_the_feeds_own_host_is_the_same_host(
    server: LocalServer, other: LocalServer, site: Path, write_config: WriteConfig
) -> None:
    """2130706433 is 127.0.0.1: refused for a feed on 127.0.0.2, allowed for the feed on 127.0.0.1."""
    hostile_feed(site, f"http://2130706433:{server.httpd.server_address[1]}/media/nonzero-ep1.mp3")
    feeds = [{"name": "other", "url": other.url("hostile.xml")}, {"name": "own", "url": server.url("hostile.xml")}]
    _, status = sync(write_config(feeds))
    assert "127.0.0.1 is a loopback address" in refused(status)
    assert status["media"]["failed"][0]["feed"] == "other"
    assert status["media"]["counts"] == {"failed": 1, "indexed": 1}


def test_a_redirect_to_another_host_is_refused_on_the_hop(
    server: LocalServer, other: LocalServer, site: Path, write_config: WriteConfig
) -> None:
    target = other.url("media/nonzero-ep1.mp3")

    def hop(handler: BaseHTTPRequestHandler) -> None:
        send(handler, 302, b"", "text/plain", Location=target)

    server.routes["/hop.mp3"] = hop
    hostile_feed(site, server.url("hop.mp3"))
    _, status = sync(write_config([{"name": "h", "url": server.url("hostile.xml")}]))
    assert refused(status).startswith(f"refused {target}: 127.0.0.2 is a loopback address")
    assert server.requests["/hop.mp3"] == 1 and other.requests == {}


def test_allow_private_networks_allows_them(
    server: LocalServer, other: LocalServer, site: Path, write_config: WriteConfig
) -> None:
    hostile_feed(site, other.url("media/nonzero-ep1.mp3"))
    report, status = sync(write_config([{"name": "h", "url": server.url("hostile.xml")}], allow_private_networks=True))
    assert report.ok, report.failures
    assert other.bodies["/media/nonzero-ep1.mp3"] == 1 and status["media"]["counts"] == {"indexed": 1}


def test_publisher_transcript_on_another_host_is_refused_and_whisper_runs(
    server: LocalServer, other: LocalServer, site: Path, write_config: WriteConfig
) -> None:
    (site / "ep1.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nPublisher words.\n")
    transcript = other.url("ep1.vtt")
    chapters = "http://[::1]:1/chapters.json"
    tags = f'<podcast:transcript url="{transcript}" type="text/vtt"/><podcast:chapters url="{chapters}"/>'
    hostile_feed(site, "media/nonzero-ep1.mp3", tags)
    report, status = sync(write_config([{"name": "h", "url": server.url("hostile.xml")}]))
    assert report.ok, report.failures
    warnings = [text for _, text in report.warnings]
    assert f"publisher transcript {transcript}: refused {transcript}: 127.0.0.2 is a loopback address" in warnings[0]
    assert f"chapters {chapters}: refused {chapters}: ::1 is a loopback address" in warnings[1]
    assert other.requests == {} and status["media"]["counts"] == {"indexed": 1}


# --- local files: only feeds.yaml names them ---------------------------------------------------------


def test_a_file_enclosure_in_a_web_feed_is_refused(server: LocalServer, site: Path, write_config: WriteConfig) -> None:
    url = (site / "media" / "nonzero-ep1.mp3").as_uri()
    hostile_feed(site, url)
    _, status = sync(write_config([{"name": "h", "url": server.url("hostile.xml")}]))
    assert refused(status).startswith(f"refused {url}: a feed fetched from the web may not point at local files")


def test_a_local_feed_may_name_files_in_its_own_folder(site: Path, write_config: WriteConfig) -> None:
    hostile_feed(site, "media/nonzero-ep1.mp3")
    report, status = sync(write_config([{"name": "local", "url": str(site / "hostile.xml")}]))
    assert report.ok, report.failures
    assert status["media"]["counts"] == {"indexed": 1}


@pytest.mark.parametrize("where", ["absolute", "dotdot"])
def test_a_local_feed_may_not_name_files_outside_its_folder(site: Path, write_config: WriteConfig, where: str) -> None:
    outside = site.parent / "outside.mp3"
    shutil.copy(site / "media" / "nonzero-ep1.mp3", outside)
    url = outside.as_uri() if where == "absolute" else "../outside.mp3"
    hostile_feed(site, url)
    _, status = sync(write_config([{"name": "local", "url": str(site / "hostile.xml")}]))
    assert "outside the feed's own folder" in refused(status)


def test_file_etc_passwd_is_refused_for_a_local_feed(site: Path, write_config: WriteConfig) -> None:
    hostile_feed(site, "file:///etc/passwd")
    _, status = sync(write_config([{"name": "local", "url": str(site / "hostile.xml")}]))
    assert refused(status) == f"refused file:///etc/passwd: outside the feed's own folder {site.resolve()}"


def test_an_unresolvable_host_is_a_retryable_fetch_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def resolver(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", resolver)  # no DNS query leaves the machine
    with pytest.raises(FetchError, match="cannot resolve") as info:
        FeedPolicy().vet("http://no-such-host.invalid/x.mp3")
    assert not isinstance(info.value, RefusedAddressError)


def test_a_video_pages_media_is_checked_on_every_hop(
    server: LocalServer, other: LocalServer, site: Path, write_config: WriteConfig
) -> None:
    """A page handed to yt-dlp whose <video> redirects to another loopback host: the media is
    downloaded through the sync's client, so the hop is refused like an enclosure's."""
    target = other.url("media/nonzero-ep1.mp3")

    def hop(handler: BaseHTTPRequestHandler) -> None:
        send(handler, 302, b"", "text/plain", Location=target)

    server.routes["/hop.mp3"] = hop
    (site / "page.html").write_text(
        f'<html><body><video src="{server.url("hop.mp3")}" type="audio/mpeg"></video></body></html>'
    )
    feed = FEED.replace(
        '<enclosure url="{url}" type="audio/mpeg" length="73240"/>', '<enclosure url="{url}" type="text/html"/>'
    )
    (site / "hostile.xml").write_text(feed.format(url=server.url("page.html"), extra=""))
    _report, status = sync(write_config([{"name": "h", "url": server.url("hostile.xml"), "kind": "podcast"}]))
    assert other.requests == {}
    (failed,) = status["media"]["failed"]
    assert failed["reason"].startswith(f"refused {target}: 127.0.0.2 is a loopback address")
