"""Paged feeds (RFC 5005, `<atom:link rel="next">`): a new subscription gets its back catalogue, a later sync
reads page 1 only, `max_pages` is the limit, and a next link may not loop or leave the feed's host.

Pages are served by a real HTTP server on 127.0.0.1; the requests it counts are the assertions.
"""

from __future__ import annotations

from pathlib import Path

from catalog.app import Catalog
from catalog.sources.feed_parser import parse_feed
from catalog.storage import driver
from catalog.sync.report import SyncOptions, SyncReport
from catalog.testing.localserver import LocalServer, status_route
from tests.conftest import FIXTURES, WriteConfig

PAGED = FIXTURES / "feeds" / "podcastparser_paged_feed.rss"


def page(site: Path, name: str, guids: list[str], next_href: str | None = None) -> None:
    """An RSS page with an item per GUID and, if given, a link to the next page."""
    link = f'<atom:link rel="next" href="{next_href}"/>' if next_href else ""
    items = "".join(f"<item><title>Item {guid}</title><guid>{guid}</guid></item>" for guid in guids)
    (site / name).write_text(
        '<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
        f"<title>Paged</title>{link}{items}</channel></rss>"
    )


def sync(config: Path) -> SyncReport:
    with Catalog.open(config) as cat:
        return cat.sync(SyncOptions(media=False))


def guids(config: Path) -> list[str]:
    with driver.sqlite.connect(config.parent / "catalog.db") as conn:
        return [row[0] for row in conn.execute("SELECT guid FROM items ORDER BY id")]


def three_pages(site: Path, server: LocalServer) -> None:
    page(site, "p1.xml", ["a1", "a2", "a3"], "p2.xml")  # relative: resolved against the page's URL
    page(site, "p2.xml", ["b1", "b2", "b3"], server.url("p3.xml"))
    page(site, "p3.xml", ["c1", "c2"])


def test_the_real_paged_feed_names_its_next_page() -> None:
    parsed = parse_feed(PAGED.read_bytes(), url="http://example.com/feed")
    assert (parsed.title, parsed.entries, parsed.next_page) == (
        "Paged Feed Example",
        [],
        "http://example.com/feed/page2",
    )


def test_the_first_sync_reads_every_page_and_the_next_only_page_one(
    server: LocalServer, site: Path, write_config: WriteConfig
) -> None:
    three_pages(site, server)
    config = write_config([{"name": "paged", "url": server.url("p1.xml")}])
    report = sync(config)
    assert (report.ok, report.items_new, report.warnings) == (True, 8, [])
    assert guids(config) == ["a1", "a2", "a3", "b1", "b2", "b3", "c1", "c2"]
    assert (server.requests["/p1.xml"], server.requests["/p2.xml"], server.requests["/p3.xml"]) == (1, 1, 1)

    page(site, "p1.xml", ["a0", "a1", "a2", "a3"], "p2.xml")  # a new item on page 1
    report = sync(config)
    assert (report.items_new, report.items_updated) == (1, 0)
    assert (server.requests["/p1.xml"], server.requests["/p2.xml"], server.requests["/p3.xml"]) == (2, 1, 1)
    assert len(guids(config)) == 9


def test_max_pages_is_the_limit(server: LocalServer, site: Path, write_config: WriteConfig) -> None:
    three_pages(site, server)
    config = write_config([{"name": "paged", "url": server.url("p1.xml")}], max_pages=2)
    report = sync(config)
    assert (report.items_new, report.warnings) == (6, [])
    assert (server.requests["/p1.xml"], server.requests["/p2.xml"], server.requests["/p3.xml"]) == (1, 1, 0)


def test_max_pages_1_turns_paging_off(server: LocalServer, site: Path, write_config: WriteConfig) -> None:
    three_pages(site, server)
    report = sync(write_config([{"name": "paged", "url": server.url("p1.xml")}], max_pages=1))
    assert report.items_new == 3
    assert (server.requests["/p1.xml"], server.requests["/p2.xml"]) == (1, 0)


def test_a_next_link_back_to_a_page_read_is_a_loop(server: LocalServer, site: Path, write_config: WriteConfig) -> None:
    page(site, "p1.xml", ["a1"], "p2.xml")
    page(site, "p2.xml", ["b1"], server.url("p1.xml/"))  # the first page again (a trailing '/' is the same)
    report = sync(write_config([{"name": "paged", "url": server.url("p1.xml")}]))
    assert report.items_new == 2
    assert report.warnings == [("feed paged", f"next page {server.url('p1.xml/')} was read already (a loop)")]
    assert (server.requests["/p1.xml"], server.requests["/p2.xml"]) == (1, 1)


def test_a_next_page_on_another_host_is_not_read(server: LocalServer, site: Path, write_config: WriteConfig) -> None:
    """The real paged feed, served from 127.0.0.1, names its next page on example.com (the test would fail
    on the network guard if it were fetched)."""
    (site / "paged.rss").write_bytes(PAGED.read_bytes())
    report = sync(write_config([{"name": "paged", "url": server.url("paged.rss")}]))
    assert report.ok and report.items_new == 0
    assert report.warnings == [
        (
            "feed paged",
            "next page http://example.com/feed/page2 is on another host than the feed (only same-host pages are read)",
        )
    ]
    assert sum(server.requests.values()) == 1


def test_a_page_that_fails_keeps_the_pages_read(server: LocalServer, site: Path, write_config: WriteConfig) -> None:
    page(site, "p1.xml", ["a1", "a2"], "p2.xml")
    server.routes["/p2.xml"] = status_route(500)
    report = sync(write_config([{"name": "paged", "url": server.url("p1.xml")}]))
    assert (report.ok, report.items_new) == (True, 2)
    assert report.warnings == [
        ("feed paged", f"page 2 not read: HTTP 500 Internal Server Error from {server.url('p2.xml')}")
    ]


def test_a_feed_given_a_new_url_by_hand_is_read_afresh_with_its_pages(
    server: LocalServer, site: Path, write_config: WriteConfig
) -> None:
    """Changing a feed's URL in feeds.yaml (not to where it moved) starts it afresh: its first sync
    at the new address reads the pages too."""
    page(site, "a.xml", ["a1"])
    config = write_config([{"name": "paged", "url": server.url("a.xml")}])
    sync(config)
    page(site, "b1.xml", ["b1"], "b2.xml")
    page(site, "b2.xml", ["b2"])
    config = write_config([{"name": "paged", "url": server.url("b1.xml")}])
    report = sync(config)
    assert (report.items_new, guids(config)) == (2, ["a1", "b1", "b2"])
    assert (server.requests["/b1.xml"], server.requests["/b2.xml"]) == (1, 1)
