"""`catalog feeds add` given a web page: the feed it links (<link rel="alternate">) is found and added, from a
real HTTP server on 127.0.0.1; relative links are resolved, several are reported, none is a clear error."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from catalog.cli import cli
from catalog.config import load_config
from catalog.sources.feed_discovery import feed_links, is_html
from catalog.testing.localserver import LocalServer

RSS = '<?xml version="1.0"?><rss version="2.0"><channel><title>Show</title></channel></rss>'
HEAD = "feeds:\n  - name: a\n    url: https://x.org/feed\n"


def page(*links: str) -> str:
    return f"<!DOCTYPE html><html><head><title>A show</title>{''.join(links)}</head><body>Hi</body></html>"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    site = tmp_path / "site"
    (site / "shows").mkdir(parents=True)
    (site / "shows" / "feed.xml").write_text(RSS)
    (site / "atom.atom").write_text(RSS)
    web = LocalServer(site).start()
    yield web
    web.stop()


def _add(config: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--config", str(config), "feeds", "add", *args])
    assert "Traceback" not in result.output and "Traceback" not in result.stderr, result.output
    return result


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(HEAD)
    return path


def test_a_page_with_a_relative_feed_link_adds_the_feed(server: LocalServer, config: Path) -> None:
    (server.root / "shows" / "index.html").write_text(
        page('<link rel="stylesheet" href="s.css">', '<link rel=alternate href=feed.xml type="application/rss+xml">')
    )
    result = _add(config, server.url("shows/index.html"), "--kind", "podcast")
    feed = server.url("shows/feed.xml")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        f"Found the feed of {server.url('shows/index.html')}: {feed}\nAdded feed-127-0-0-1: {feed}\n"
    )
    assert config.read_text() == HEAD + f"  - name: feed-127-0-0-1\n    url: {feed}\n    kind: podcast\n"
    assert server.requests["/shows/index.html"] == 1 and server.requests["/shows/feed.xml"] == 0


def test_several_feeds_the_first_is_added_and_the_others_named(server: LocalServer, config: Path) -> None:
    (server.root / "index.html").write_text(
        page(
            '<link rel="alternate" type="application/atom+xml" title="Atom" href="/atom.atom">',
            '<link rel="alternate" type="application/rss+xml; charset=utf-8" href="shows/feed.xml">',
            '<link rel="alternate" type="application/rss+xml" href="http://127.0.0.2:9/private.xml">',
        )
    )
    result = _add(config, server.url("index.html"), "--name", "show")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        f"Found the feed of {server.url('index.html')}: {server.url('atom.atom')}\n"
        f"  also offered, not added: {server.url('shows/feed.xml')}\n"
        "  refused (not a public address): http://127.0.0.2:9/private.xml\n"
        f"Added show: {server.url('atom.atom')}\n"
    )
    assert load_config(config).feeds[-1].url == server.url("atom.atom")


def test_a_page_without_a_feed_link_is_an_error_naming_it(server: LocalServer, config: Path) -> None:
    (server.root / "plain.html").write_text(page('<link rel="alternate" hreflang="de" href="/de/">'))
    result = _add(config, server.url("plain.html"))
    assert result.exit_code == 3
    assert result.stderr.startswith(f"Error: {server.url('plain.html')} is a web page that links no RSS or Atom feed\n")
    assert config.read_text() == HEAD


def test_a_feed_address_is_added_as_it_is(server: LocalServer, config: Path) -> None:
    result = _add(config, server.url("shows/feed.xml"), "--name", "show")
    assert (result.exit_code, result.stdout, result.stderr) == (0, f"Added show: {server.url('shows/feed.xml')}\n", "")
    assert server.requests["/shows/feed.xml"] == 1


def test_a_page_that_is_not_there_is_an_error(server: LocalServer, config: Path) -> None:
    result = _add(config, server.url("nope.html"))
    assert result.exit_code == 1 and "404" in result.stderr
    assert config.read_text() == HEAD


def test_an_address_that_cannot_be_fetched_is_added_as_given(config: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/shows/index.html"
    result = _add(config, url, "--name", "later")
    assert result.exit_code == 0
    assert result.stdout == f"Added later: {url}\n"
    assert result.stderr.startswith(f"Note: could not fetch {url} to check it (") and "added as given" in result.stderr


def test_an_address_already_listed_is_refused_before_any_fetch(server: LocalServer, config: Path) -> None:
    (server.root / "index.html").write_text(page())
    config.write_text(HEAD + f"  - name: b\n    url: {server.url('index.html')}\n")
    result = _add(config, server.url("index.html"))
    assert result.exit_code == 3 and "is already listed as 'b'" in result.stderr
    assert server.requests["/index.html"] == 0


@pytest.mark.parametrize(
    ("content_type", "body", "html"),
    [
        ("text/html; charset=utf-8", b"<rss>", True),
        ("application/rss+xml", b"<!doctype html>", False),
        ("", b"\xef\xbb\xbf  <!DOCTYPE HTML><html>", True),
        ("application/octet-stream", b"<?xml version='1.0'?><rss/>", False),
    ],
    ids=["declared-html", "declared-rss", "sniffed-html", "sniffed-xml"],
)
def test_is_html(content_type: str, body: bytes, html: bool) -> None:
    assert is_html(content_type, body) is html


def test_feed_links_follow_base_href_and_skip_duplicates_and_other_types() -> None:
    html = page(
        '<base href="https://cdn.example.org/site/">',
        '<link rel="alternate" type="application/rss+xml" href="rss">',
        '<link rel="Alternate" type="APPLICATION/ATOM+XML" href="rss">',
        '<link rel="alternate" type="application/json" href="feed.json">',
        '<link rel="alternate" type="application/atom+xml" href="ftp://x.org/a">',
        '<link rel="alternate" type="application/atom+xml" href="  /atom  ">',
    ).encode()
    assert feed_links(html, "https://example.org/page") == [
        "https://cdn.example.org/site/rss",
        "https://cdn.example.org/atom",
    ]
