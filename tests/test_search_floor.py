"""A query matching very many passages is ranked among its newest matches (the rank floor, which
keeps `catalog search` fast at a million segments). What it must not cost: titles and chapter
titles older than the floor still come first, filters still fill their answer from older items,
and a query matching few passages is ranked exactly as without a floor.

The catalogue is written through the storage API the sync uses, into a real SQLite file; the
floor's thresholds are made small so a few hundred passages exercise it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from catalog.models import Entry, Transcript, TranscriptSegment
from catalog.storage import feeds as feed_store
from catalog.storage import items as item_store
from catalog.storage import ranking
from catalog.storage import transcripts as transcript_store
from catalog.storage.database import connect, write
from catalog.storage.index import analysers_in_use, newest_passage
from catalog.storage.query import parse_query
from catalog.storage.reader import open_reader
from catalog.storage.rows import Reader
from catalog.storage.search import search, search_items

EPISODES = 40
SEGMENTS = 12
FILLER = ["we", "talked", "about", "the", "harbour", "and", "the", "weather", "for", "a", "while"]


def _segment_text(episode: int, seq: int) -> str:
    words = FILLER[seq % 3 :] + FILLER[: seq % 3]
    if seq % 2 == 0:
        words.insert(4, "convoy")  # in half the segments of every episode: a very common word
    if episode == 5 and seq == 7:
        words.insert(2, "lighthouse")  # a rare word, once, in an old episode
    return " ".join(words).capitalize() + "."


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, int]]]:
    path = tmp_path_factory.mktemp("floor") / "catalog.db"
    db = connect(path)
    ids: dict[str, int] = {}
    with write(db):
        harbour = feed_store.ensure_feed(db, "harbour", "https://example.org/harbour.xml", "podcast")["id"]
        archive = feed_store.ensure_feed(db, "archive", "https://example.org/archive.xml", "podcast")["id"]
    for episode in range(EPISODES):
        # the archive feed has only the two oldest episodes; one of them is titled with the common word
        feed = archive if episode < 2 else harbour
        title = "Convoy rules of the sea" if episode == 0 else f"Harbour talk {episode}"
        entry = Entry(
            guid=f"ep{episode}",
            kind="podcast",
            title=title,
            published=f"2025-{1 + episode // 28:02d}-{1 + episode % 28:02d}T09:00:00+00:00",
            body="Notes from the harbour.",
            enclosure_url=f"https://example.org/{episode}.mp3",
            enclosure_type="audio/mpeg",
            language="en",
        )
        segments = [
            TranscriptSegment(seq * 5.0, seq * 5.0 + 4.5, _segment_text(episode, seq), None, [])
            for seq in range(SEGMENTS)
        ]
        with write(db):
            item_store.save_entries(db, feed, [entry])
            item_id = db.execute("SELECT id FROM items WHERE guid = ?", [entry.guid]).fetchone()[0]
            transcript_store.save_transcript(
                db, item_id, Transcript(segments, source="whisper", model="tiny.en", language="en")
            )
        ids[title] = item_id
    db.conn.close()
    yield path, ids


@pytest.fixture
def reader(catalogue: tuple[Path, dict[str, int]]) -> Iterator[Reader]:
    db = open_reader(catalogue[0])
    yield db
    db.close()  # type: ignore[attr-defined]


@pytest.fixture
def small_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rank a query among its newest 20 matches or so, estimated from the newest 100 passages."""
    monkeypatch.setattr(ranking, "RANKED_MATCHES", 20)
    monkeypatch.setattr(ranking, "SAMPLE_PASSAGES", 100)


def test_common_word_is_floored(reader: Reader, small_floor: None) -> None:
    newest = newest_passage(reader)
    floor = ranking.rank_floor(reader, parse_query("convoy").match(analysers_in_use(reader)), newest)
    assert floor is not None and floor > newest // 2


def test_old_title_match_still_ranks_first(
    reader: Reader, catalogue: tuple[Path, dict[str, int]], small_floor: None
) -> None:
    ids = catalogue[1]
    hits = search(reader, "convoy", limit=5)
    assert hits[0].item_id == ids["Convoy rules of the sea"]
    assert hits[0].passage == "text"
    # the rest are spoken moments from the newest episodes, as ranked among the newest matches
    assert {hit.item_id for hit in hits[1:]} <= {ids[f"Harbour talk {n}"] for n in range(EPISODES - 4, EPISODES)}


def test_filter_reaches_items_older_than_the_floor(
    reader: Reader, catalogue: tuple[Path, dict[str, int]], small_floor: None
) -> None:
    ids = catalogue[1]
    grouped = search_items(reader, "convoy", feed="archive", limit=5)
    assert [item.item_id for item in grouped] == [ids["Convoy rules of the sea"], ids["Harbour talk 1"]]
    moments = grouped[1].moments
    assert len(moments) == 3 and all(m.start_is == "estimate" for m in moments)  # no word times here
    assert all(m.start is not None and int(m.start // 5) % 2 == 0 for m in moments)  # the segments saying it


def test_since_filter_with_floor(reader: Reader, catalogue: tuple[Path, dict[str, int]], small_floor: None) -> None:
    ids = catalogue[1]
    grouped = search_items(reader, "convoy", since=date(2025, 2, 10), limit=50)
    assert {item.item_id for item in grouped} == {ids[f"Harbour talk {n}"] for n in range(37, EPISODES)}


def test_rare_word_is_ranked_exactly(reader: Reader, catalogue: tuple[Path, dict[str, int]], small_floor: None) -> None:
    (hit,) = search(reader, "lighthouse")
    assert hit.item_id == catalogue[1]["Harbour talk 5"]
    assert 35.0 <= (hit.start or 0) < 39.5 and hit.start_is == "estimate"  # inside segment 7


def test_floor_changes_no_answer_when_matches_are_few(reader: Reader, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the floor (the real thresholds: this catalogue is far below them) the same queries
    give every match, best first; the floored answers above are a subset in the same order."""
    hits = search(reader, "convoy", limit=1000)
    assert len(hits) == EPISODES * SEGMENTS // 2 + 1
    assert hits[0].passage == "text"
    monkeypatch.setattr(ranking, "RANKED_MATCHES", 20)
    monkeypatch.setattr(ranking, "SAMPLE_PASSAGES", 100)
    floored = search(reader, "convoy", feed="harbour", limit=3)
    ranked = [(h.item_id, h.start) for h in hits if h.feed == "harbour"]
    assert [(h.item_id, h.start) for h in floored] == [
        p for p in ranked if p in {(h.item_id, h.start) for h in floored}
    ]


def test_one_long_episode_does_not_crowd_out_the_others(tmp_path: Path) -> None:
    """An episode saying a word in 300 short segments, and another saying it once in a longer one
    (ranked below all 300): grouped by item, both are answers (the best rows are cut to three per
    item before the answer is filled)."""
    path = tmp_path / "catalog.db"
    db = connect(path)
    with write(db):
        feed = feed_store.ensure_feed(db, "signals", "https://example.org/signals.xml", "podcast")["id"]
    for guid, sayings in (("once", 1), ("crowded", 300)):
        entry = Entry(guid=guid, kind="podcast", title=f"Episode {guid}", published="2025-03-01T09:00:00+00:00",
                      body="Signals.", enclosure_url=f"https://example.org/{guid}.mp3",
                      enclosure_type="audio/mpeg", language="en")  # fmt: skip
        segments = [
            TranscriptSegment(seq * 5.0, seq * 5.0 + 4.5, text, None, [])
            for seq in range(sayings)
            for text in [
                f"The beacon flashed, {seq}." if sayings > 1 else "The beacon flashed over the water all night."
            ]
        ]
        with write(db):
            item_store.save_entries(db, feed, [entry])
            item_id = db.execute("SELECT id FROM items WHERE guid = ?", [guid]).fetchone()[0]
            transcript_store.save_transcript(db, item_id, Transcript(segments, source="whisper", language="en"))
    db.conn.close()
    reader = open_reader(path)
    grouped = search_items(reader, "beacon", limit=2)
    assert [item.title for item in grouped] == ["Episode crowded", "Episode once"]
    assert [len(item.moments) for item in grouped if item.title == "Episode crowded"] == [3]
    reader.close()  # type: ignore[attr-defined]


def test_heading_index_follows_title_changes(tmp_path: Path) -> None:
    """heading_index holds only passages with a heading; a retitled item is found by its new title
    there, and no longer by its old one (its triggers keep it in step with passages)."""
    path = tmp_path / "catalog.db"
    db = connect(path)
    with write(db):
        feed = feed_store.ensure_feed(db, "news", "https://example.org/news.xml", "article")["id"]

    def save(title: str) -> None:
        entry = Entry(guid="a1", kind="article", title=title, published="2025-03-01T09:00:00+00:00",
                      body="Ships waited outside the port.", link="https://example.org/a1")  # fmt: skip
        with write(db):
            item_store.save_entries(db, feed, [entry])

    save("Grain corridor reopens")
    save("Shipping lane reopens")

    def heading_hits(word: str) -> list[int]:
        return [row[0] for row in db.execute(
            "SELECT rowid FROM heading_index WHERE heading_index MATCH ?", [f"{{idx_heading}}: {word}"]
        )]  # fmt: skip

    (passage,) = [row[0] for row in db.execute("SELECT id FROM passages WHERE kind = 'text'")]
    assert heading_hits("shipping") == [passage]
    assert heading_hits("grain") == []
    with write(db):
        db.execute("DELETE FROM passages WHERE id = ?", [passage])
    assert heading_hits("shipping") == []
    db.conn.close()
