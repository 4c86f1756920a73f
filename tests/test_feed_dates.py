"""Dates as feeds write them: real fixtures stored exactly, the formats read (and those refused), and
an item whose date cannot be read dated when first seen, marked so, and kept so on the next sync."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from catalog.app import Catalog
from catalog.cli import cli
from catalog.models import Entry
from catalog.sources.feed_dates import parse_date, utc_iso
from catalog.sources.feed_parser import parse_feed
from catalog.storage import feeds as feed_store
from catalog.storage import items as item_store
from catalog.storage.database import connect, write
from catalog.sync.report import SyncOptions
from catalog.testing.localserver import LocalServer
from tests.conftest import WriteConfig

FEEDS = Path(__file__).parent / "fixtures" / "feeds"


def parse(name: str) -> list[Entry]:
    return parse_feed((FEEDS / name).read_bytes(), url=f"https://example.org/{name}").entries


def rss(*items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def item(guid: str, date: str | None, title: str | None = None) -> str:
    when = f"<pubDate>{date}</pubDate>" if date is not None else ""
    return f"<item><title>{title or guid}</title><guid>{guid}</guid>{when}<description>x</description></item>"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = connect(tmp_path / "c.db")
    yield database
    database.conn.close()


# --- the fixtures, stored --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "published"),
    [
        # <pubDate>2020/1/10 14:33:00</pubDate>: no zone, so UTC. feedparser alone stored 2020-<this month>-01.
        ("kc0011_gb2312.rss", "2020-01-10T14:33:00+00:00"),
        # <pubDate>Seg, 24 Set 2018 19:42:40 -0300</pubDate>: Portuguese names, 3 hours west of UTC.
        ("uol_noticias_latin1_no_decl.rss", "2018-09-24T22:42:40+00:00"),
        # <pubDate>Friday, January 29, 2021 04:42 PM</pubDate>: no zone (the feed's lastBuildDate says
        # +0530, but an item's date is read on its own), so UTC.
        ("news18_hindi.xml", "2021-01-29T16:42:00+00:00"),
    ],
    ids=["numeric-year-first", "portuguese", "english-long-pm"],
)
def test_fixture_dates_are_stored_exactly(db: Database, name: str, published: str) -> None:
    entries = parse(name)
    assert entries[0].published == published
    with write(db):
        feed_id = int(feed_store.ensure_feed(db, "f", "https://example.org/f", None)["id"])
        item_store.save_entries(db, feed_id, entries)
    first = db.execute("SELECT published, published_is FROM items WHERE guid = ?", [entries[0].guid]).fetchone()
    assert first == (published, "feed")


def test_every_item_of_the_fixtures_has_a_date_from_the_feed() -> None:
    for name in ("kc0011_gb2312.rss", "uol_noticias_latin1_no_decl.rss", "news18_hindi.xml"):
        entries = parse(name)
        assert entries and all(entry.published for entry in entries), name


# --- the formats ------------------------------------------------------------------------------------

READ = [
    # RFC 822, as it should be
    ("Mon, 06 Mar 2023 08:00:00 GMT", "2023-03-06T08:00:00"),
    ("Mon, 6 Mar 2023 08:00:00 EST", "2023-03-06T13:00:00"),
    ("Sat, 07 Sep 02 00:00:01 +0000 (UTC)", "2002-09-07T00:00:01"),
    ("Mon, 06 Mar 2023 08:00:00 GMT+2", "2023-03-06T06:00:00"),
    ("Mon, 06 Mar 2023 08:00:00 XYZ", "2023-03-06T08:00:00"),  # unknown zone name: UTC (RFC 2822 4.3)
    ("Fri, 27 Jan 2023 22:30:00 IST", "2023-01-27T17:00:00"),  # India
    # ISO 8601 / W3DTF
    ("2023-03-06T08:00:00+01:00", "2023-03-06T07:00:00"),
    ("2023-03-06T08:00:00Z", "2023-03-06T08:00:00"),
    ("2023-03-06T08:00:00.123456-08:00", "2023-03-06T16:00:00"),
    ("2023-03-06 08:00", "2023-03-06T08:00:00"),
    ("20230306", "2023-03-06T00:00:00"),
    ("2023-03", "2023-03-01T00:00:00"),
    # numeric, year first
    ("2020/1/10 14:33:00", "2020-01-10T14:33:00"),
    ("2023/03/06 08:00 +0100", "2023-03-06T07:00:00"),
    ("2023.03.06", "2023-03-06T00:00:00"),
    ("2020-1-10", "2020-01-10T00:00:00"),
    ("Fri, 2006/09/15 08:19:53 EDT", "2006-09-15T12:19:53"),
    # numeric, year last: dotted is day first; slashes and dashes only when unmistakable
    ("06.03.2023 08:00", "2023-03-06T08:00:00"),
    ("6.3.2023", "2023-03-06T00:00:00"),
    ("29/01/2021 10:00", "2021-01-29T10:00:00"),
    ("01/29/2021 10:00 PM", "2021-01-29T22:00:00"),
    ("13-3-2023", "2023-03-13T00:00:00"),
    ("05/05/2023", "2023-05-05T00:00:00"),
    # Portuguese
    ("Seg, 24 Set 2018 19:42:40 -0300", "2018-09-24T22:42:40"),
    ("Dom, 05 Mar 2023 10:00:00 -0300", "2023-03-05T13:00:00"),
    ("Sáb, 04 Fev 2023 09:15:00 -0300", "2023-02-04T12:15:00"),
    ("segunda-feira, 6 de março de 2023 08h00", "2023-03-06T08:00:00"),
    ("Qui, 07 Dez 2023 18:00:00 BRT", "2023-12-07T21:00:00"),
    # Spanish
    ("Mié, 08 Mar 2023 12:00:00 +0100", "2023-03-08T11:00:00"),
    ("5 de marzo de 2023", "2023-03-05T00:00:00"),
    ("Vie, 15 Dic 2023 20:00:00 -0500", "2023-12-16T01:00:00"),
    ("Martes, 1 de Agosto de 2023 10:30", "2023-08-01T10:30:00"),
    # French
    ("lun., 6 mars 2023 08:00:00 +0100", "2023-03-06T07:00:00"),
    ("1er févr. 2023 14h30", "2023-02-01T14:30:00"),
    ("jeu., 20 juil. 2023 09:00:00 +0200", "2023-07-20T07:00:00"),
    ("mer. 21 juin 2023 09:00", "2023-06-21T09:00:00"),
    ("13 août 2023", "2023-08-13T00:00:00"),
    # German
    ("Mo, 06 Mär 2023 08:00:00 +0100", "2023-03-06T07:00:00"),
    ("Di, 07 Mrz 2023 08:00:00 MEZ", "2023-03-07T07:00:00"),
    ("Sonntag, 5. März 2023 um 10:00", "2023-03-05T10:00:00"),
    ("Do, 12 Okt 2023 10:00:00 CEST", "2023-10-12T08:00:00"),
    ("Fr, 01 Dez 2023 10:00:00 +0100", "2023-12-01T09:00:00"),
    # Italian, Dutch
    ("gio, 15 giu 2023 10:00:00 +0200", "2023-06-15T08:00:00"),
    ("wo, 17 mei 2023 10:00:00 +0200", "2023-05-17T08:00:00"),
    # English long forms, AM/PM
    ("Friday, January 29, 2021 04:42 PM", "2021-01-29T16:42:00"),
    ("January 29, 2021 12:05 AM", "2021-01-29T00:05:00"),
    ("March 6th, 2023 at 8:00 a.m.", "2023-03-06T08:00:00"),
    ("Tuesday, 7 March 2023 12:00 PM GMT", "2023-03-07T12:00:00"),
    ("Mon Mar  6 08:00:00 2023", "2023-03-06T08:00:00"),  # asctime
]


@pytest.mark.parametrize(("text", "utc"), READ, ids=[text for text, _ in READ])
def test_formats_are_read_in_utc(text: str, utc: str) -> None:
    assert parse_date(text) == datetime.fromisoformat(utc).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize(("text", "utc"), READ, ids=[text for text, _ in READ])
def test_formats_are_read_through_feedparser(text: str, utc: str) -> None:
    """The same texts in a feed: our handler wins over feedparser's own."""
    entry = parse_feed(rss(item("a", text)), url="https://example.org/f.xml").entries[0]
    assert entry.published == utc + "+00:00"


REFUSED = [
    "03/06/2023",  # 3 June or 6 March?
    "06-03-2023",
    "03/06/23",  # two-digit year without a month name
    "2020",  # feedparser alone: 2020-<this month>-01
    "2020/13/40",
    "2023-02-30",
    "0001-01-01T00:00:00",  # a placeholder
    "12:00 PM",
    "13:00 PM",
    "soon",
    "",
    "Mon, 06 Mar 2023 25:00:00 GMT",
    "32 Mar 2023",
    "Foo, 06 Mar 2023 08:00:00 GMT",
    "06 Blah 2023",
    "January, 29 Jan 2021 17:56:15 +0530",  # two months
    "2023-03-06 08:00:00 +25:00",
]


@pytest.mark.parametrize("text", REFUSED, ids=[text or "empty" for text in REFUSED])
def test_ambiguous_and_garbage_dates_are_not_read(text: str) -> None:
    assert parse_date(text) is None
    entry = parse_feed(rss(item("a", text)), url="https://example.org/f.xml").entries[0]
    assert entry.published is None


def test_utc_iso_of_tuples() -> None:
    assert utc_iso((2023, 3, 6, 8, 0, 0, 0, 65, 0)) == "2023-03-06T08:00:00+00:00"
    assert utc_iso(None) is None
    assert utc_iso((1, 1, 1, 0, 0, 0, 0, 1, 0)) is None
    assert utc_iso(("x",)) is None


def _published_in_a_fresh_process(body: bytes) -> str | None:
    return parse_feed(body, url="https://example.org/f.xml").entries[0].published


def test_parser_worker_processes_read_dates_the_same_way() -> None:
    """ParserPool forks workers: the handler registered at import is theirs too."""
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        published = pool.submit(_published_in_a_fresh_process, rss(item("a", "2020/1/10 14:33:00"))).result()
    assert published == "2020-01-10T14:33:00+00:00"


# --- the fallback: first seen, marked, kept ---------------------------------------------------------


def test_undated_entries_are_dated_first_seen_and_keep_it(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    def save(entries: list[Entry], now: datetime) -> None:
        monkeypatch.setattr(item_store, "utcnow", lambda: now)
        with write(db):
            item_store.save_entries(db, feed_id, entries)

    first, later = datetime(2026, 3, 1, tzinfo=timezone.utc), datetime(2026, 3, 2, tzinfo=timezone.utc)
    with write(db):
        feed_id = int(feed_store.ensure_feed(db, "f", "https://example.org/f", None)["id"])
    save([Entry("undated", "article", "A"), Entry("later-dated", "article", "B")], first)
    save(
        [
            Entry("undated", "article", "A, edited"),  # changed, still no date
            Entry("later-dated", "article", "B", published="2026-01-01T00:00:00+00:00"),
        ],
        later,
    )
    rows = db.execute("SELECT guid, published, published_is, first_seen_at FROM items ORDER BY id").fetchall()
    assert rows == [
        ("undated", "2026-03-01T00:00:00+00:00", "first_seen", "2026-03-01T00:00:00+00:00"),
        ("later-dated", "2026-01-01T00:00:00+00:00", "feed", "2026-03-01T00:00:00+00:00"),
    ]


def test_a_sync_dates_unreadable_items_when_first_seen_and_keeps_the_date(
    tmp_path: Path, write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "www"
    site.mkdir()
    feed = site / "dates.xml"
    feed.write_bytes(
        rss(
            item("dated", "Seg, 24 Set 2018 19:42:40 -0300"),
            item("unreadable", "03/06/2023 10:00"),
            item("undated", None),
        )
    )
    first, later = datetime(2026, 3, 1, 12, tzinfo=timezone.utc), datetime(2026, 3, 5, 12, tzinfo=timezone.utc)
    server = LocalServer(site).start()
    try:
        config = write_config([{"name": "dates", "url": server.url("dates.xml"), "kind": "article"}])
        monkeypatch.setattr(item_store, "utcnow", lambda: first)
        with Catalog.open(config) as cat:
            report = cat.sync(SyncOptions(media=False))
        assert report.items_new == 3
        # Four days later the feed changed: the unreadable item's title, and a new undated item.
        feed.write_bytes(
            rss(
                item("dated", "Seg, 24 Set 2018 19:42:40 -0300"),
                item("unreadable", "03/06/2023 10:00", title="unreadable, edited"),
                item("undated", None),
                item("new-undated", None),
            )
        )
        monkeypatch.setattr(item_store, "utcnow", lambda: later)
        with Catalog.open(config) as cat:
            report = cat.sync(SyncOptions(media=False, force=True))
        assert (report.items_new, report.items_updated) == (1, 1)
    finally:
        server.stop()
    listed = CliRunner().invoke(cli, ["--config", str(config), "list", "--json"], catch_exceptions=False)
    rows = {row["title"]: row for row in json.loads(listed.stdout)}
    assert {title: (row["published"], row["published_is"]) for title, row in rows.items()} == {
        "dated": ("2018-09-24T22:42:40+00:00", "feed"),
        "unreadable, edited": ("2026-03-01T12:00:00+00:00", "first_seen"),
        "undated": ("2026-03-01T12:00:00+00:00", "first_seen"),
        "new-undated": ("2026-03-05T12:00:00+00:00", "first_seen"),
    }
    shown = CliRunner().invoke(
        cli, ["--config", str(config), "show", str(rows["undated"]["item_id"]), "--json"], catch_exceptions=False
    )
    detail = json.loads(shown.stdout)
    assert (detail["published"], detail["published_is"]) == ("2026-03-01T12:00:00+00:00", "first_seen")
    searched = CliRunner().invoke(cli, ["--config", str(config), "search", "undated", "--json"], catch_exceptions=False)
    hits = {hit["title"]: (hit["published"], hit["published_is"]) for hit in json.loads(searched.stdout)}
    assert hits == {
        "undated": ("2026-03-01T12:00:00+00:00", "first_seen"),
        "new-undated": ("2026-03-05T12:00:00+00:00", "first_seen"),
    }
    grouped = CliRunner().invoke(
        cli, ["--config", str(config), "search", "dated", "--by-item", "--json"], catch_exceptions=False
    )
    assert {item["title"]: item["published_is"] for item in json.loads(grouped.stdout)}["dated"] == "feed"


def test_an_unreadable_published_date_falls_back_to_updated() -> None:
    xml = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
      <entry><id>a</id><title>a</title><published>03/06/2023</published><updated>2023-06-04T10:00:00Z</updated></entry>
      <entry><id>b</id><title>b</title><published>2023-05-01T08:00:00Z</published><updated>2023-06-04T10:00:00Z</updated></entry>
    </feed>"""
    a, b = parse_feed(xml, url="https://x/feed").entries
    assert (a.published, b.published) == ("2023-06-04T10:00:00+00:00", "2023-05-01T08:00:00+00:00")


def test_human_output_marks_first_seen_dates(tmp_path: Path, write_config: WriteConfig) -> None:
    """list, search and show say which dates are only when catalog first saw the item."""
    site = tmp_path / "www"
    site.mkdir()
    (site / "dates.xml").write_bytes(rss(item("dated", "Mon, 06 Mar 2023 08:00:00 GMT"), item("undated", None)))
    server = LocalServer(site).start()
    try:
        config = write_config([{"name": "dates", "url": server.url("dates.xml"), "kind": "article"}])
        with Catalog.open(config) as cat:
            cat.sync(SyncOptions(media=False))
    finally:
        server.stop()
    today = datetime.now(timezone.utc).date().isoformat()
    listed = CliRunner().invoke(cli, ["--config", str(config), "list"], catch_exceptions=False).stdout
    lines = {line.split()[2]: line.split()[1] for line in listed.splitlines() if line.strip()}
    assert lines == {"undated": f"~{today}", "dated": "2023-03-06"}
    searched = CliRunner().invoke(cli, ["--config", str(config), "search", "undated"], catch_exceptions=False).stdout
    assert f"article · dates · ~{today} · item" in searched
    shown = CliRunner().invoke(cli, ["--config", str(config), "show", "2"], catch_exceptions=False).stdout
    assert "(first seen: the feed gives no date)" in shown
