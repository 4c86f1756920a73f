"""Two different entries with one GUID (Scripting News reuses a post's GUID for its later versions,
Taverncast an episode's for its extended cut): both are kept, under identities that stay the same
from sync to sync, including when the GUID's sharing changes as entries come into and leave the
feed. Real SQLite, real feedparser; the Scripting News document is the real one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from catalog.models import Entry
from catalog.sources.feed_parser import parse_feed
from catalog.storage import feeds as feed_store
from catalog.storage.database import connect, write
from catalog.storage.items import save_entries
from tests.conftest import FIXTURES

SHARED = "http://scripting.com/2017/06/25.html#a080631"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = connect(tmp_path / "c.db")
    yield database
    database.conn.close()


def _save(db: Database, entries: list[Entry]) -> dict[str, int]:
    with write(db):
        feed_id = feed_store.ensure_feed(db, "f", "https://example.org/f.xml", None)["id"]
        return save_entries(db, feed_id, entries)


def _items(db: Database) -> dict[str, tuple[int, str | None]]:
    return {
        guid: (item_id, published) for guid, item_id, published in db.execute("SELECT guid, id, published FROM items")
    }


def test_scripting_news_keeps_every_post() -> None:
    feed = parse_feed((FIXTURES / "feeds" / "scripting_news.rss").read_bytes(), url="http://scripting.com/rss.xml")
    assert len(feed.entries) == 50  # as many as feedparser finds: none dropped
    assert len({entry.guid for entry in feed.entries}) == 50
    versions = sorted((e.published, e.guid) for e in feed.entries if e.guid.startswith(SHARED))
    assert [published for published, _ in versions] == ["2017-06-25T12:27:31+00:00", "2017-06-25T12:32:31+00:00"]
    assert all(guid.startswith(SHARED + "#dup-") for _, guid in versions)


def test_resync_adds_nothing(db: Database) -> None:
    body = (FIXTURES / "feeds" / "scripting_news.rss").read_bytes()
    first = _save(db, parse_feed(body, url="http://scripting.com/rss.xml").entries)
    again = _save(db, parse_feed(body, url="http://scripting.com/rss.xml").entries)
    assert first == {"new": 50, "updated": 0, "same": 0}
    assert again == {"new": 0, "updated": 0, "same": 50}


def _episode(title: str, date: str = "Tue, 02 Aug 2011 06:30:00 GMT") -> str:
    media = "http://taverncast.com/shows/geekistry-2.mp3"
    return f"""<item><guid>{media}</guid><title>{title}</title>
      <pubDate>{date}</pubDate><enclosure url="{media}" type="audio/mpeg"/></item>"""


def _document(*items: str) -> bytes:
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{"".join(items)}</channel></rss>'.encode()


def test_same_guid_same_entry_is_one_item() -> None:
    entries = parse_feed(_document(_episode("Strings"), _episode("Strings")), url="https://x/f").entries
    assert [e.guid for e in entries] == ["http://taverncast.com/shows/geekistry-2.mp3"]


def test_identity_survives_the_guid_becoming_shared_and_alone_again(db: Database) -> None:
    """Sync 1: the episode alone (stored under its bare GUID). Sync 2: the extended cut arrives with
    the same GUID: the episode keeps its item, the cut is a new one. Sync 3: the episode has left
    the feed; the cut, alone with the GUID again, keeps its own item. Sync 4: both again."""
    guid = "http://taverncast.com/shows/geekistry-2.mp3"
    plain, extended = _episode("You Can See the Strings"), _episode("Lowatus of Borg (extended version)")

    def sync(*items: str) -> dict[str, int]:
        return _save(db, parse_feed(_document(*items), url="https://x/f").entries)

    assert sync(plain) == {"new": 1, "updated": 0, "same": 0}
    (episode_id,) = [item_id for item_id, _ in _items(db).values()]
    assert sync(extended, plain) == {"new": 1, "updated": 0, "same": 1}
    titles = dict(db.execute("SELECT title, id FROM items").fetchall())
    assert titles["You Can See the Strings"] == episode_id
    cut_id = titles["Lowatus of Borg (extended version)"]
    assert sync(extended) == {"new": 0, "updated": 0, "same": 1}
    assert sync(extended, plain) == {"new": 0, "updated": 0, "same": 2}
    assert dict(db.execute("SELECT title, id FROM items").fetchall()) == {
        "You Can See the Strings": episode_id,
        "Lowatus of Borg (extended version)": cut_id,
    }
    assert _items(db)[guid][0] == episode_id
