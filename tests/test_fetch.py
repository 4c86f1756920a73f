"""The HTTP layer against a real server on 127.0.0.1: conditional GET, caps, slow bodies, resume."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest

from catalog.errors import FetchError, HTTPStatusError, IncompleteError, MediaError, TooLargeError
from catalog.media.download import download_media
from catalog.sources.http import USER_AGENT, fetch_feed, make_client, parse_retry_after
from catalog.testing.localserver import LocalServer, html_route, send, slow_route, status_route, truncated_route


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_client(timeout=2.0) as c:
        yield c


def test_conditional_get_returns_304_without_body(server: LocalServer, client: httpx.Client) -> None:
    first = fetch_feed(client, server.url("podcast.xml"))
    assert first.status == 200 and first.body and first.etag
    second = fetch_feed(client, server.url("podcast.xml"), etag=first.etag, last_modified=first.last_modified)
    assert second.not_modified and second.body is None
    assert server.bodies["/podcast.xml"] == 1 and server.requests["/podcast.xml"] == 2
    sent = server.headers_seen[-1]
    assert sent["If-None-Match"] == first.etag and sent["User-Agent"] == USER_AGENT


def test_local_file_feeds_use_mtime_as_validator(site: Path) -> None:
    url = (site / "podcast.xml").as_uri()
    with make_client() as c:
        first = fetch_feed(c, url)
        assert first.body and first.last_modified
        assert fetch_feed(c, url, last_modified=first.last_modified).not_modified


@pytest.mark.parametrize(
    ("route", "error", "text"),
    [
        (status_route(500), HTTPStatusError, "HTTP 500"),
        (status_route(429, Retry_After="120"), HTTPStatusError, "HTTP 429"),
        (status_route(410), HTTPStatusError, "HTTP 410"),
        (slow_route(total=100, delay=0.5), FetchError, "too slow"),
    ],
    ids=["500", "429", "410", "slow-drip"],
)
def test_feed_errors(server: LocalServer, client: httpx.Client, route: object, error: type, text: str) -> None:
    server.routes["/bad.xml"] = route  # type: ignore[assignment]
    started = time.monotonic()
    with pytest.raises(error, match=text) as info:
        fetch_feed(client, server.url("bad.xml"))
    assert time.monotonic() - started < 10
    if "429" in text:
        assert info.value.retry_after == 120


def test_feed_size_cap(server: LocalServer, client: httpx.Client) -> None:
    with pytest.raises(TooLargeError, match="limit"):
        fetch_feed(client, server.url("podcast.xml"), max_bytes=100)


def test_timeout_is_a_fetch_error(server: LocalServer) -> None:
    def hang(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(3)

    server.routes["/hang.xml"] = hang
    with make_client(timeout=0.5) as c, pytest.raises(FetchError, match="timed out"):
        fetch_feed(c, server.url("hang.xml"))


def test_retry_after_http_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after("soon") is None


def test_download_streams_to_named_file_with_sha256(
    server: LocalServer, site: Path, tmp_path: Path, client: httpx.Client
) -> None:
    dest = tmp_path / "media" / "1.mp3"
    result = download_media(client, server.url("media/nonzero-ep1.mp3"), dest)
    data = (site / "media" / "nonzero-ep1.mp3").read_bytes()
    assert dest.read_bytes() == data and result.bytes == len(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest() and result.content_type == "audio/mpeg"
    assert not dest.with_name("1.mp3.part").exists()


def test_truncated_download_keeps_part_and_resumes_with_range(
    server: LocalServer, site: Path, tmp_path: Path, client: httpx.Client
) -> None:
    data = (site / "media" / "nonzero-ep1.mp3").read_bytes()
    server.routes["/cut.mp3"] = truncated_route(data, "audio/mpeg", 30_000)
    dest = tmp_path / "1.mp3"
    with pytest.raises((IncompleteError, FetchError)):
        download_media(client, server.url("cut.mp3"), dest)
    part = tmp_path / "1.mp3.part"
    assert part.stat().st_size == 30_000 and not dest.exists()
    # The same file is now served whole, with Range support: only the rest is fetched.
    result = download_media(client, server.url("media/nonzero-ep1.mp3"), dest)
    assert result.resumed and dest.read_bytes() == data
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert server.headers_seen[-1]["Range"] == "bytes=30000-"


def test_resume_refused_by_server_starts_over(
    server: LocalServer, site: Path, tmp_path: Path, client: httpx.Client
) -> None:
    data = (site / "media" / "nonzero-ep1.mp3").read_bytes()
    server.routes["/norange.mp3"] = lambda h: send(h, 200, data, "audio/mpeg")
    (tmp_path / "1.mp3.part").write_bytes(b"garbage that must not survive")
    result = download_media(client, server.url("norange.mp3"), tmp_path / "1.mp3")
    assert not result.resumed and (tmp_path / "1.mp3").read_bytes() == data


def test_html_page_is_refused_and_leaves_nothing(server: LocalServer, tmp_path: Path, client: httpx.Client) -> None:
    server.routes["/ep.mp3"] = html_route
    with pytest.raises(MediaError, match="not audio or video"):
        download_media(client, server.url("ep.mp3"), tmp_path / "media" / "1.mp3")
    assert list((tmp_path / "media").iterdir()) == []


def test_media_size_cap(server: LocalServer, tmp_path: Path, client: httpx.Client) -> None:
    with pytest.raises(TooLargeError):
        download_media(client, server.url("media/nonzero-ep1.mp3"), tmp_path / "1.mp3", max_bytes=1000)
