"""Feeds that move: HTTP 301/308 (not 302/307), `<itunes:new-feed-url>` and `<newLocation>` are recorded, the
next sync fetches the new address, `catalog status` and `sync --verbose` say so, and `catalog feeds
update-moved` writes the new address into feeds.yaml, keeping the rest of the file as it was.

Feeds are served by a real HTTP server on 127.0.0.1; the requests it counts are the assertions.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from catalog.app import Catalog
from catalog.cli import cli
from catalog.sources.feed_parser import parse_feed
from catalog.storage import driver
from catalog.sync.report import SyncOptions, SyncReport
from catalog.testing.localserver import LocalServer, html_route, send
from tests.conftest import FIXTURES, WriteConfig

NEW_LOCATION = FIXTURES / "feeds" / "podcastparser_redirect_newlocation.rss"
MOVE_HINT = "`catalog feeds update-moved {}` writes the new address into feeds.yaml"


@pytest.fixture(autouse=True)
def _no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names other than 127.x do not resolve (the network policy looks hosts up; tests stay offline)."""
    real = socket.getaddrinfo

    def offline(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and not host.startswith("127."):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", offline)


def feed(site: Path, name: str, guids: list[str], head: str = "") -> None:
    items = "".join(f"<item><title>Item {guid}</title><guid>{guid}</guid></item>" for guid in guids)
    (site / name).write_text(
        '<?xml version="1.0"?><rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">'
        f"<channel><title>{name}</title>{head}{items}</channel></rss>"
    )


def redirect(status: int, location: str) -> Any:
    return lambda handler: send(handler, status, b"", "text/html", Location=location)


def sync(config: Path) -> SyncReport:
    with Catalog.open(config) as cat:
        return cat.sync(SyncOptions(media=False))


def feed_row(config: Path, name: str = "show") -> dict[str, Any]:
    with driver.sqlite.connect(config.parent / "catalog.db") as conn:
        conn.row_factory = driver.sqlite.Row
        return dict(conn.execute("SELECT * FROM feeds WHERE name = ?", [name]).fetchone())


def cli_run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def moved(config: Path) -> tuple[str | None, str | None]:
    row = feed_row(config)
    return row["moved_to"], row["moved_how"]


# --- HTTP: 301 and 308 are moves, 302 and 307 are not ------------------------------------------------------


@pytest.mark.parametrize("status", [301, 308], ids=["301", "308"])
def test_a_permanent_redirect_is_a_move_and_followed_next_sync(
    server: LocalServer, site: Path, write_config: WriteConfig, status: int
) -> None:
    feed(site, "new.xml", ["e1", "e2"])
    server.routes["/old.xml"] = redirect(status, server.url("new.xml"))
    config = write_config([{"name": "show", "url": server.url("old.xml")}])
    report = sync(config)
    assert (report.ok, report.items_new) == (True, 2)
    assert report.notices == [
        (
            "feed show",
            f"moved to {server.url('new.xml')} (HTTP {status}); fetched from there from now on. "
            + MOVE_HINT.format("show"),
        )
    ]
    assert moved(config) == (server.url("new.xml"), f"HTTP {status}")
    assert feed_row(config)["url"] == server.url("old.xml")  # feeds.yaml's URL, until update-moved

    report = sync(config)  # from the new address, with its validators: a 304, and no reset
    assert (report.ok, report.feeds_unchanged, report.notices) == (True, 1, [])
    assert (server.requests["/old.xml"], server.requests["/new.xml"], server.bodies["/new.xml"]) == (1, 2, 1)
    assert moved(config) == (server.url("new.xml"), f"HTTP {status}")


@pytest.mark.parametrize("status", [302, 307], ids=["302", "307"])
def test_a_temporary_redirect_is_not_a_move(
    server: LocalServer, site: Path, write_config: WriteConfig, status: int
) -> None:
    feed(site, "new.xml", ["e1"])
    server.routes["/old.xml"] = redirect(status, server.url("new.xml"))
    config = write_config([{"name": "show", "url": server.url("old.xml")}])
    assert sync(config).notices == []
    sync(config)
    assert moved(config) == (None, None)
    assert (server.requests["/old.xml"], server.requests["/new.xml"]) == (2, 2)


def test_a_301_then_a_302_moves_to_the_301s_target(server: LocalServer, site: Path, write_config: WriteConfig) -> None:
    feed(site, "final.xml", ["e1"])
    server.routes["/old.xml"] = redirect(301, server.url("mid.xml"))
    server.routes["/mid.xml"] = redirect(302, server.url("final.xml"))
    config = write_config([{"name": "show", "url": server.url("old.xml")}])
    sync(config)
    assert moved(config) == (server.url("mid.xml"), "HTTP 301")


def test_a_301_to_a_page_that_is_not_a_feed_is_not_a_move(server: LocalServer, write_config: WriteConfig) -> None:
    server.routes["/old.xml"] = redirect(301, server.url("page.html"))
    server.routes["/page.html"] = html_route
    config = write_config([{"name": "show", "url": server.url("old.xml")}])
    report = sync(config)
    assert not report.ok and report.notices == []
    assert moved(config) == (None, None)


# --- the feed's own word: itunes:new-feed-url and newLocation -----------------------------------------------


def test_itunes_new_feed_url_is_a_move(server: LocalServer, site: Path, write_config: WriteConfig) -> None:
    feed(site, "a.xml", ["e1"], f"<itunes:new-feed-url>{server.url('b.xml')}</itunes:new-feed-url>")
    feed(site, "b.xml", ["e1", "e2"])
    config = write_config([{"name": "show", "url": server.url("a.xml")}])
    report = sync(config)
    assert report.items_new == 1
    assert moved(config) == (server.url("b.xml"), "itunes:new-feed-url")
    assert feed_row(config)["etag"] is None  # the new address is fetched in full, not with a.xml's validators
    report = sync(config)
    assert report.items_new == 1
    assert (server.requests["/a.xml"], server.requests["/b.xml"]) == (1, 1)


@pytest.mark.parametrize(
    "own",
    [lambda url: url, lambda url: url + "/", lambda url: url.replace("http:", "https:"), str.upper],
    ids=["same", "trailing-slash", "https-of-it", "in-capitals-but-the-path"],
)
def test_a_new_feed_url_naming_its_own_address_is_not_a_move(
    server: LocalServer, site: Path, write_config: WriteConfig, own: Any
) -> None:
    url = server.url("a.xml")
    named = own(url).replace("/A.XML", "/a.xml")  # a path is case-sensitive: only scheme and host are not
    feed(site, "a.xml", ["e1"], f"<itunes:new-feed-url>{named}</itunes:new-feed-url>")
    config = write_config([{"name": "show", "url": url}])
    report = sync(config)
    assert (report.notices, report.warnings) == ([], [])
    assert moved(config) == (None, None)


def test_the_real_new_location_notice_is_a_move(server: LocalServer, site: Path, write_config: WriteConfig) -> None:
    parsed = parse_feed(NEW_LOCATION.read_bytes(), url="http://example.org/feed")
    assert (parsed.entries, parsed.new_url, parsed.new_url_from) == (
        [],
        "http://weblog.infoworld.com/udell/rss.xml",
        "newLocation",
    )
    (site / "udell.rss").write_bytes(NEW_LOCATION.read_bytes())
    config = write_config([{"name": "show", "url": server.url("udell.rss")}])
    report = sync(config)
    assert report.ok
    assert moved(config) == ("http://weblog.infoworld.com/udell/rss.xml", "newLocation")


def test_a_new_location_loop_does_not_ping_pong(server: LocalServer, site: Path, write_config: WriteConfig) -> None:
    a, b = server.url("a.xml"), server.url("b.xml")
    feed(site, "a.xml", ["e1"], f"<redirect><newLocation>{b}</newLocation></redirect>")
    feed(site, "b.xml", ["e1"], f"<redirect><newLocation>{a}</newLocation></redirect>")
    config = write_config([{"name": "show", "url": a}])
    sync(config)
    assert moved(config) == (b, "newLocation")
    report = sync(config)
    assert report.notices == []
    assert report.warnings == [
        ("feed show", f"not following its move (newLocation): {a} is where it moved away from (a loop); staying at {b}")
    ]
    sync(config)
    assert moved(config) == (b, "newLocation")
    assert (server.requests["/a.xml"], server.requests["/b.xml"]) == (1, 2)


def test_a_move_named_by_a_page_that_is_not_a_feed_is_not_taken(server: LocalServer, write_config: WriteConfig) -> None:
    body = f"<html><body><newLocation>{server.url('b.xml')}</newLocation></body></html>".encode()
    server.routes["/a.xml"] = lambda handler: send(handler, 200, body, "text/html")
    config = write_config([{"name": "show", "url": server.url("a.xml")}])
    report = sync(config)
    assert not report.ok
    assert moved(config) == (None, None)


def test_a_move_to_a_private_address_is_refused(server: LocalServer, site: Path, write_config: WriteConfig) -> None:
    feed(site, "a.xml", ["e1"], "<itunes:new-feed-url>http://10.1.2.3/feed</itunes:new-feed-url>")
    config = write_config([{"name": "show", "url": server.url("a.xml")}])
    report = sync(config)
    # the reason is the network policy's (catalog.sources.network_policy): only its start is pinned here
    ((what, message),) = report.warnings
    assert what == "feed show"
    assert message.startswith(
        "not following its move (itunes:new-feed-url): refused http://10.1.2.3/feed: 10.1.2.3 is a private address"
    )
    assert moved(config) == (None, None)


def test_a_local_file_never_moves(site: Path, write_config: WriteConfig) -> None:
    feed(site, "a.xml", ["e1"], "<itunes:new-feed-url>https://example.org/feed</itunes:new-feed-url>")
    config = write_config([{"name": "show", "url": str(site / "a.xml")}])
    assert sync(config).notices == []
    assert moved(config) == (None, None)


# --- status, sync --verbose, and feeds update-moved ------------------------------------------------------------


@pytest.fixture
def moved_feed(server: LocalServer, site: Path, tmp_path: Path) -> Path:
    """feeds.yaml with comments and two feeds; `show` has answered 301 once."""
    feed(site, "new.xml", ["e1"])
    feed(site, "other.xml", ["o1"])
    server.routes["/old.xml"] = redirect(301, server.url("new.xml"))
    config = tmp_path / "feeds.yaml"
    config.write_text(FEEDS_YAML.format(old=server.url("old.xml"), other=server.url("other.xml")))
    return config


FEEDS_YAML = """\
# my feeds
timeout_seconds: 5
feeds:
  - name: show   # the one that moves
    url: '{old}'   # quoted on purpose
    kind: podcast

  # an unrelated feed
  - name: other
    url: {other}
"""


def test_status_and_verbose_sync_show_the_move(moved_feed: Path, server: LocalServer) -> None:
    result = CliRunner().invoke(
        cli,
        ["--config", str(moved_feed), "sync", "--no-media", "--verbose"],
        catch_exceptions=False,
        env={"COLUMNS": "300"},
    )
    assert result.exit_code == 0
    new = server.url("new.xml")
    line = f"feed show: moved to {new} (HTTP 301); fetched from there from now on"
    assert line in result.stderr.splitlines()
    assert (
        f"Warning: feed show: moved to {new} (HTTP 301); fetched from there from now on. " + MOVE_HINT.format("show")
        in result.stderr.splitlines()
    )

    status = json.loads(cli_run(moved_feed, "status", "--json").stdout)
    by_name = {row["name"]: row for row in status["feeds"]}
    at = feed_row(moved_feed)["moved_at"]
    assert by_name["show"]["moved"] == {"to": new, "how": "HTTP 301", "at": at}
    assert by_name["other"]["moved"] is None

    text = cli_run(moved_feed, "status").stdout
    when = at.replace("T", " ")[:16] + " UTC"
    assert text.splitlines()[
        text.splitlines().index("Moved feeds (fetched from the new address; feeds.yaml still has the old one)") + 1
    ] == (f"  show: moved to {new} (HTTP 301, {when}); `catalog feeds update-moved show` writes it into feeds.yaml")


def test_update_moved_rewrites_only_the_url(moved_feed: Path, server: LocalServer) -> None:
    before = moved_feed.read_text()
    assert cli_run(moved_feed, "sync", "--no-media").exit_code == 0
    at = feed_row(moved_feed)["moved_at"]
    old, new = server.url("old.xml"), server.url("new.xml")

    dry = cli_run(moved_feed, "feeds", "update-moved", "--dry-run")
    assert dry.exit_code == 0
    assert dry.stdout == (
        f"show: {old} -> {new} (HTTP 301, {at})\nDry run: 1 feed(s) would be updated; feeds.yaml not changed.\n"
    )
    assert moved_feed.read_text() == before

    result = cli_run(moved_feed, "feeds", "update-moved", "show", "other", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "dry_run": False,
        "moved": [{"name": "show", "url": old, "moved_to": new, "how": "HTTP 301", "moved_at": at}],
        "not_moved": ["other"],
    }
    assert moved_feed.read_text() == before.replace(f"url: '{old}'", f"url: '{new}'")

    # The next sync takes the new URL as the feed's own: no reset (a 304 from new.xml), no move left.
    assert cli_run(moved_feed, "sync", "--no-media").exit_code == 0
    row = feed_row(moved_feed)
    assert (row["url"], row["moved_to"], row["etag"] is not None) == (new, None, True)
    assert (server.requests["/old.xml"], server.requests["/new.xml"], server.bodies["/new.xml"]) == (1, 2, 1)
    assert json.loads(cli_run(moved_feed, "status", "--json").stdout)["feeds"][1]["moved"] is None
    again = cli_run(moved_feed, "feeds", "update-moved")
    assert again.stdout == "No moved feeds to write into feeds.yaml.\n"


def test_update_moved_names_an_unknown_feed(moved_feed: Path) -> None:
    result = cli_run(moved_feed, "feeds", "update-moved", "nosuch")
    assert result.exit_code == 3
    assert result.stderr.startswith(f"Error: no feed named nosuch in {moved_feed}\nHint: the feeds are: show, other")


def test_update_moved_help_teaches() -> None:
    result = CliRunner().invoke(cli, ["feeds", "update-moved", "--help"])
    assert result.exit_code == 0
    assert "catalog feeds update-moved --dry-run" in result.output and "--json" in result.output


def test_ensure_feed_adopts_the_moved_url_and_resets_for_any_other(tmp_path: Path) -> None:
    from catalog.storage import feeds as feed_store
    from catalog.storage.database import connect, write

    db = connect(tmp_path / "catalog.db")
    try:
        with write(db):
            feed_id = feed_store.ensure_feed(db, "show", "https://a.example/feed", None)["id"]
            feed_store.feed_validators(db, feed_id, etag='"v1"', last_modified=None)
            feed_store.feed_moved(
                db,
                feed_id,
                from_url="https://a.example/feed",
                to_url="https://b.example/feed",
                how="HTTP 301",
                same_document=True,
            )
            assert feed_store.ensure_feed(db, "show", "https://a.example/feed", None)["moved_to"] == (
                "https://b.example/feed"  # feeds.yaml not changed yet: nothing reset, sync after sync
            )
            row = feed_store.ensure_feed(db, "show", "https://b.example/feed", None)  # update-moved wrote it
            assert (row["url"], row["moved_to"], row["etag"]) == ("https://b.example/feed", None, '"v1"')
            assert feed_store.move_trail(db, feed_id) == ["https://b.example/feed", "https://a.example/feed"]
            row = feed_store.ensure_feed(db, "show", "https://c.example/feed", None)  # another feed altogether
            assert (row["url"], row["moved_to"], row["etag"]) == ("https://c.example/feed", None, None)
            assert feed_store.move_trail(db, feed_id) == ["https://c.example/feed"]
    finally:
        db.conn.close()
