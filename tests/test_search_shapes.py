"""Every query shape, searched in real catalogues: the sample feeds, spoken clips transcribed by the
bundled Whisper (tiny.en), publisher transcripts (SRT, HTML, VTT + JSON chapters) and small article
feeds written here, all served from 127.0.0.1, parsed by feedparser and indexed in SQLite FTS5.

Every assertion names the exact items found and, for spoken hits, when the matched word is said."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from catalog.app import Catalog
from catalog.asr.transcriber import WhisperTranscriber
from catalog.cli import cli
from catalog.errors import NotFoundError
from catalog.models import Transcript
from catalog.storage.search import Hit
from catalog.sync.report import SyncOptions
from catalog.testing.localserver import LocalServer
from tests.conftest import FIXTURES, SAMPLES

TOLERANCE = 0.3  # seconds between a hit's start and the time the transcript gives its word

EXTRA_PODCAST = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">
  <channel>
    <title>Extra podcast</title>
    <link>https://example.org/extra/</link>
    <description>Fixture episodes.</description>
    <language>en</language>
    <item>
      <title>Numbers episode</title>
      <link>https://example.org/extra/numbers</link>
      <guid isPermaLink="false">extra-numbers</guid>
      <pubDate>Mon, 05 Jan 2026 09:00:00 +0000</pubDate>
      <description>Spoken figures.</description>
      <enclosure url="numbers.mp3" length="25000" type="audio/mpeg"/>
    </item>
    <item>
      <title>Subtitled episode</title>
      <link>https://example.org/extra/srt</link>
      <guid isPermaLink="false">extra-srt</guid>
      <pubDate>Tue, 06 Jan 2026 09:00:00 +0000</pubDate>
      <description>Cues.</description>
      <enclosure url="absent-srt.mp3" length="25000" type="audio/mpeg"/>
      <podcast:transcript url="buzzsprout_10_things_example.srt" type="application/srt"/>
    </item>
    <item>
      <title>Paragraph episode</title>
      <link>https://example.org/extra/html</link>
      <guid isPermaLink="false">extra-html</guid>
      <pubDate>Wed, 07 Jan 2026 09:00:00 +0000</pubDate>
      <description>Paragraphs.</description>
      <enclosure url="absent-html.mp3" length="25000" type="audio/mpeg"/>
      <podcast:transcript url="buzzsprout_10_things_example.html" type="text/html"/>
    </item>
    <item>
      <title>Chaptered episode</title>
      <link>https://example.org/extra/chapters</link>
      <guid isPermaLink="false">extra-chapters</guid>
      <pubDate>Thu, 08 Jan 2026 09:00:00 +0000</pubDate>
      <description>Chapters.</description>
      <enclosure url="absent-chapters.mp3" length="25000" type="audio/mpeg"/>
      <podcast:transcript url="buzzsprout_trailer_example.vtt" type="text/vtt"/>
      <podcast:chapters url="chapters_example.json" type="application/json+chapters"/>
    </item>
  </channel>
</rss>
"""

# (guid, title, date, body): article text written for the shapes the samples do not have
ARTICLES = [
    ("metric", "Metric march", "2025-03-10", "The column advanced ten meters before dawn."),
    ("hyphen", "Truce announced", "2025-04-11", "A cease-fire was agreed on Tuesday."),
    ("spaced", "Truce holds", "2025-05-12", "The cease fire held through the night."),
    ("joined", "Truce collapses", "2025-06-13", "The ceasefire collapsed by Friday."),
    ("exchange", "Prisoner talks", "2025-07-14", "Both sides are negotiating a prisoner exchange."),
    ("titled", "Tourniquet shortage", "2025-08-15", "Medics at the front ask for more kits."),
    ("bodied", "Field notes", "2025-09-16", "A medic showed us how to tie a tourniquet in the mud."),
    ("market", "Shipping report", "2025-10-17", "The big players in shipping raised their prices again."),
]


def _rfc822(day: str) -> str:
    return date.fromisoformat(day).strftime("%a, %d %b %Y 09:00:00 +0000")


def article_feed() -> str:
    items = "".join(
        f"""
    <item>
      <title>{title}</title>
      <link>https://example.org/words/{guid}</link>
      <guid isPermaLink="false">words-{guid}</guid>
      <pubDate>{_rfc822(day)}</pubDate>
      <description>{body}</description>
    </item>"""
        for guid, title, day, body in ARTICLES
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>Words</title>
    <link>https://example.org/words/</link>
    <description>Articles for query shapes.</description>
    <language>en</language>{items}
  </channel>
</rss>
"""


@dataclass
class Synced:
    cat: Catalog
    config: Path
    ids: dict[str, int]  # item title -> item id

    def transcript(self, title: str) -> Transcript:
        return self.cat.transcript(self.ids[title])


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory, whisper: WhisperTranscriber) -> Iterator[Synced]:
    root = tmp_path_factory.mktemp("shapes")
    site = root / "site"
    shutil.copytree(SAMPLES, site)
    shutil.copy(FIXTURES / "media" / "numbers.mp3", site)
    for name in (
        "buzzsprout_10_things_example.srt",
        "buzzsprout_10_things_example.html",
        "buzzsprout_trailer_example.vtt",
        "chapters_example.json",
    ):
        shutil.copy(FIXTURES / "transcripts" / name, site)
    (site / "extra.xml").write_text(EXTRA_PODCAST)
    (site / "words.xml").write_text(article_feed())
    server = LocalServer(site).start()
    config = root / "feeds.yaml"
    feeds = [
        {"name": "statecraft", "url": server.url("articles.xml")},
        {"name": "nonzero", "url": server.url("podcast.xml")},
        {"name": "talks", "url": server.url("video.xml")},
        {"name": "extra", "url": server.url("extra.xml"), "kind": "podcast"},
        {"name": "words", "url": server.url("words.xml"), "kind": "article"},
    ]
    config.write_text(yaml.safe_dump({"timeout_seconds": 5, "feeds": feeds}, sort_keys=False))
    cat = Catalog.open(config)
    cat.transcriber = lambda: whisper  # type: ignore[method-assign]
    try:
        report = cat.sync(SyncOptions())
        assert report.feeds_checked == 5 and report.items_new == 18, report.as_dict()
        # the publisher-transcript episodes' media is never fetched; the others are transcribed
        assert report.ok, report.failures
        ids = {item["title"]: item["item_id"] for item in cat.items(limit=100)}
        assert len(ids) == 18
        yield Synced(cat, config, ids)
    finally:
        cat.close()
        server.stop()


def item_ids(hits: list[Hit]) -> set[int]:
    return {hit.item_id for hit in hits}


def titles(synced: Synced, *names: str) -> set[int]:
    return {synced.ids[name] for name in names}


def word_time(transcript: Transcript, word: str, nth: int = 0) -> float:
    """When the transcript's words say `word` (the nth time), ignoring case and punctuation."""
    found = [
        w.start
        for segment in transcript.segments
        for w in segment.words
        if w.word.strip().strip(".,!?;:").casefold() == word.casefold()
    ]
    assert len(found) > nth, (word, [s.text for s in transcript.segments])
    return found[nth]


def spoken(hits: list[Hit], item_id: int) -> list[Hit]:
    return [hit for hit in hits if hit.item_id == item_id and hit.start is not None]


def assert_at(hit: Hit, seconds: float, start_is: str) -> None:
    assert hit.start is not None and abs(hit.start - seconds) <= TOLERANCE, (hit, seconds)
    assert hit.start_is == start_is, hit


# --- words, phrases, prefixes, exclusions, OR ----------------------------------------------------------

EP1, EP2, TALK = "Episode 1: Ways Out of the War", "Episode 2: The Black Sea", "How to End the Ukraine War"
GUARANTEES = "What Security Guarantees Could Ukraine Actually Get?"
DRONES, ENERGY = "The Drone War Is Rewriting Military Doctrine", "Energy Infrastructure and the Long Winter"


def test_words_are_all_required(synced: Synced) -> None:
    hits = synced.cat.search("grid transformers")
    assert item_ids(hits) == titles(synced, ENERGY)
    assert "<mark>grid</mark>" in hits[0].snippet and "<mark>transformers</mark>" in hits[0].snippet


def test_phrase_finds_article_and_spoken_moment(synced: Synced) -> None:
    hits = synced.cat.search('"European peacekeepers"')
    assert item_ids(hits) == titles(synced, GUARANTEES, EP1)
    (moment,) = spoken(hits, synced.ids[EP1])
    assert_at(moment, word_time(synced.transcript(EP1), "European"), "word")
    # the words apart are not the phrase: "European utilities" in the energy article
    assert synced.ids[ENERGY] not in item_ids(synced.cat.search('"European peacekeepers"'))
    assert synced.ids[ENERGY] in item_ids(synced.cat.search("European"))


def test_prefix_matches_every_word_starting_with_it(synced: Synced) -> None:
    hits = synced.cat.search("guarant*")
    # "guarantees", "guarantee" (statecraft, talk) and "guaranteed" (the Buzzsprout transcripts)
    assert item_ids(hits) == titles(synced, GUARANTEES, TALK, "Subtitled episode", "Paragraph episode")
    (moment,) = spoken(hits, synced.ids[TALK])
    assert_at(moment, word_time(synced.transcript(TALK), "guarantees"), "word")


def test_exclusion_removes_items_with_the_word(synced: Synced) -> None:
    assert item_ids(synced.cat.search("Ukraine")) >= titles(synced, GUARANTEES, DRONES, ENERGY)
    hits = synced.cat.search("Ukraine -NATO -grid")
    assert synced.ids[GUARANTEES] not in item_ids(hits) and synced.ids[ENERGY] not in item_ids(hits)
    assert synced.ids[DRONES] in item_ids(hits)


def test_phrase_with_exclusion(synced: Synced) -> None:
    hits = synced.cat.search('"European peacekeepers" -NATO')
    assert item_ids(hits) == titles(synced, EP1)
    assert_at(hits[0], word_time(synced.transcript(EP1), "European"), "word")


def test_or_accepts_either(synced: Synced) -> None:
    assert item_ids(synced.cat.search("drones OR turbines")) == titles(synced, DRONES, ENERGY)


def test_or_then_a_required_word(synced: Synced) -> None:
    """`a OR b c` is (a OR b) AND c."""
    assert item_ids(synced.cat.search("drones OR turbines armies")) == titles(synced, DRONES)
    assert item_ids(synced.cat.search("drones OR turbines utilities")) == titles(synced, ENERGY)


def test_stemming_finds_other_forms_of_a_spoken_word(synced: Synced, manifest: dict[str, Any]) -> None:
    hits = synced.cat.search("negotiating")
    assert item_ids(hits) == titles(synced, TALK, "Prisoner talks")
    (moment,) = spoken(hits, synced.ids[TALK])
    said = word_time(synced.transcript(TALK), "Negotiations")
    assert_at(moment, said, "word")
    assert abs(said - manifest["media"]["media/lieven-talk.mp4"]["keywords"][0]["start"]) <= 1.0
    assert "<mark>Negotiations</mark>" in moment.snippet


def test_prefix_finds_both_forms(synced: Synced) -> None:
    hits = synced.cat.search("negotiat*")
    assert item_ids(hits) == titles(synced, TALK, "Prisoner talks")
    (moment,) = spoken(hits, synced.ids[TALK])
    assert_at(moment, word_time(synced.transcript(TALK), "Negotiations"), "word")
    article = next(hit for hit in hits if hit.item_id == synced.ids["Prisoner talks"])
    assert "<mark>negotiating</mark>" in article.snippet and article.passage == "text"


# --- numbers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "word"),
    [
        ("ten meters", "10"),
        ('"10 meters"', "10"),
        ('"ten meters"', "10"),
        ("twenty twenty-four", "2024"),
        ("2024", "2024"),
        ("three hundred observers", "300"),
        ('"300 observers"', "300"),
    ],
)
def test_numbers_either_way_in_whisper_output(synced: Synced, query: str, word: str) -> None:
    hits = synced.cat.search(query)
    numbers = synced.ids["Numbers episode"]
    assert numbers in item_ids(hits)
    assert item_ids(hits) <= {numbers, synced.ids["Metric march"]}
    moments = spoken(hits, numbers)
    assert len(moments) == 1, moments
    assert_at(moments[0], word_time(synced.transcript("Numbers episode"), word), "word")
    assert moments[0].link is not None and moments[0].link.endswith(f"numbers.mp3#t={int(moments[0].start or 0)}")


def test_number_digits_find_number_words_in_articles(synced: Synced) -> None:
    hits = synced.cat.search("10 meters")
    assert item_ids(hits) == titles(synced, "Metric march", "Numbers episode")
    article = next(hit for hit in hits if hit.passage == "text")
    assert article.item_id == synced.ids["Metric march"]
    assert "<mark>ten</mark>" in article.snippet
    assert item_ids(synced.cat.search('"10 meters before dawn"')) == titles(synced, "Metric march")


# --- compounds ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "ceasefire",
        "cease-fire",
        '"cease fire"',
    ],
)
def test_compounds_either_way(synced: Synced, query: str) -> None:
    hits = synced.cat.search(query, feed="words")
    assert item_ids(hits) == titles(synced, "Truce announced", "Truce holds", "Truce collapses")


def test_compound_also_in_spoken_text(synced: Synced) -> None:
    hits = synced.cat.search("cease-fire", kind="podcast")
    assert item_ids(hits) == titles(synced, EP1)
    assert_at(hits[0], word_time(synced.transcript(EP1), "ceasefire"), "word")


# --- phrases across cues and segments -----------------------------------------------------------------


def test_phrase_across_subtitle_cues(synced: Synced) -> None:
    episode = synced.ids["Subtitled episode"]
    hits = [hit for hit in synced.cat.search('"rookie mistakes"') if hit.item_id == episode]
    assert len(hits) == 1, hits  # found in cue 2, not again in cue 3
    cue = synced.transcript("Subtitled episode").segments[1]
    assert cue.text.endswith("rookie") and cue.start == pytest.approx(2.4)
    expected = cue.start + (cue.end - cue.start) * cue.text.index("rookie") / len(cue.text)
    assert cue.start <= hits[0].start <= cue.end  # type: ignore[operator]
    assert_at(hits[0], expected, "estimate")
    assert hits[0].speaker == "Travis"


def test_phrase_across_whisper_segments(synced: Synced) -> None:
    """Episode 1's segments end sentences: a "phrase" across a sentence end is no phrase, and is not found.
    Within a sentence cut at a pause (a segment not ending a sentence) it is, at its first word."""
    transcript = synced.transcript(EP1)
    seg, nxt = transcript.segments[2], transcript.segments[3]
    assert seg.text.rstrip().endswith(".")
    across_sentences = " ".join([*[w.word.strip().strip(".,") for w in seg.words][-2:], nxt.words[0].word.strip(".,")])
    assert synced.cat.search(f'"{across_sentences}"') == []

    from catalog.models import Transcript, TranscriptSegment, Word
    from catalog.storage.database import write
    from catalog.storage.transcripts import save_transcript

    paused = Transcript(
        [
            TranscriptSegment(
                0.0,
                2.0,
                "we will need a",
                None,
                [Word(0.0, 0.2, "we"), Word(0.3, 0.5, " will"), Word(0.6, 1.0, " need"), Word(1.5, 1.9, " a")],
            ),
            TranscriptSegment(3.5, 6.0, "demilitarised buffer before spring.", None, [Word(3.5, 4.4, "demilitarised")]),
        ]
    )
    item = synced.ids[EP1]
    db = synced.cat.db
    with write(db):
        save_transcript(db, item, paused)
    try:
        hits = synced.cat.search('"need a demilitarised buffer"')
        # found once, in the segment where it starts, at its first word ("need")
        assert [(h.item_id, h.passage, h.start, h.start_is) for h in hits] == [(item, "segment", 0.6, "word")]
        assert hits[0].snippet.endswith("<mark>need a</mark>")
    finally:
        with write(db):
            save_transcript(db, item, transcript)


def test_paragraph_transcript_places_a_word_inside_its_paragraph(synced: Synced) -> None:
    episode = synced.ids["Paragraph episode"]
    paragraphs = synced.transcript("Paragraph episode").segments
    first = paragraphs[0]
    assert first.start == 0 and paragraphs[1].start == 53
    hits = [hit for hit in synced.cat.search("animations") if hit.item_id == episode]
    assert len(hits) == 1, hits
    expected = first.start + (paragraphs[1].start - first.start) * first.text.index("animations") / len(first.text)
    assert 0 < hits[0].start < 53  # type: ignore[operator]
    assert_at(hits[0], expected, "estimate")


# --- relevance ------------------------------------------------------------------------------------------


def test_title_match_ranks_above_body_match(synced: Synced) -> None:
    hits = synced.cat.search("tourniquet")
    assert [hit.item_id for hit in hits] == [synced.ids["Tourniquet shortage"], synced.ids["Field notes"]]
    assert hits[0].score > hits[1].score


def test_chapter_title_ranks_above_body_match(synced: Synced) -> None:
    hits = synced.cat.search("big players")
    assert [hit.item_id for hit in hits] == [synced.ids["Chaptered episode"], synced.ids["Shipping report"]]
    assert hits[0].passage == "chapter" and hits[1].passage == "text"
    assert hits[0].score > hits[1].score


def test_chapter_hit_starts_at_the_chapter(synced: Synced) -> None:
    (hit,) = [h for h in synced.cat.search("big players") if h.passage == "chapter"]
    assert hit.start == 5510 and hit.start_is == "segment"


# --- grouping, sorting, fields ----------------------------------------------------------------------


def test_search_items_groups_moments_best_first(synced: Synced) -> None:
    items = synced.cat.search_items("podcast", feed="extra")
    assert len({item.item_id for item in items}) == len(items)
    assert {item.item_id for item in items} == titles(
        synced, "Subtitled episode", "Paragraph episode", "Chaptered episode"
    )
    for item in items:
        assert 1 <= len(item.moments) <= 3
        assert all(moment.item_id == item.item_id for moment in item.moments)
        scores = [moment.score for moment in item.moments]
        assert scores == sorted(scores, reverse=True) and item.score == scores[0]
    subtitled = next(item for item in items if item.item_id == synced.ids["Subtitled episode"])
    assert len(subtitled.moments) == 3  # "podcast" is in far more than three cues
    assert [item.score for item in items] == sorted((item.score for item in items), reverse=True)


def test_sort_date_puts_newest_first(synced: Synced) -> None:
    items = synced.cat.search_items("war", sort="date")
    dates = [item.published for item in items]
    assert dates == sorted(dates, reverse=True)  # type: ignore[type-var]
    assert {item.item_id for item in items} >= titles(synced, EP1, TALK, DRONES)
    assert items[0].item_id == synced.ids[TALK]  # 2026-03-02, the newest item that says "war"
    flat = synced.cat.search("war", sort="date")
    assert [hit.published for hit in flat] == sorted((hit.published for hit in flat), reverse=True)  # type: ignore[type-var]


def test_flat_json_fields(synced: Synced) -> None:
    base = {
        "item_id",
        "kind",
        "feed",
        "title",
        "url",
        "published",
        "published_is",
        "snippet",
        "score",
        "passage",
        "match",
    }
    (article,) = [hit.as_dict() for hit in synced.cat.search("tourniquet", feed="words") if hit.passage == "text"][:1]
    assert set(article) == base
    moment = synced.cat.search("armistice")[0].as_dict()
    assert set(moment) == base | {"start", "end", "link", "speaker", "start_is"}
    assert moment["item_id"] == synced.ids[EP1] and moment["kind"] == "podcast" and moment["feed"] == "nonzero"
    assert moment["start_is"] == "word"
    assert abs(moment["start"] - word_time(synced.transcript(EP1), "Armistice")) <= TOLERANCE


# --- filters --------------------------------------------------------------------------------------------


def test_feed_filter(synced: Synced) -> None:
    assert item_ids(synced.cat.search("war", feed="nonzero")) == titles(synced, EP1, EP2)
    assert item_ids(synced.cat.search("Ukraine", feed="statecraft")) == titles(synced, GUARANTEES, DRONES, ENERGY)
    with pytest.raises(NotFoundError):
        synced.cat.search("war", feed="no-such-feed")


def test_kind_filter(synced: Synced) -> None:
    assert item_ids(synced.cat.search("war", kind="video")) == titles(synced, TALK)
    assert item_ids(synced.cat.search("war", kind="podcast")) == titles(synced, EP1, EP2)
    assert item_ids(synced.cat.search("Ukraine", kind="article")) == titles(synced, GUARANTEES, DRONES, ENERGY)


def test_since_and_until(synced: Synced) -> None:
    truce = ("Truce announced", "Truce holds", "Truce collapses")
    assert item_ids(synced.cat.search("ceasefire", since=date(2025, 5, 12))) == titles(
        synced, *truce[1:], EP1, GUARANTEES
    )
    assert item_ids(synced.cat.search("ceasefire", until=date(2025, 5, 12))) == titles(synced, *truce[:2])
    assert item_ids(synced.cat.search("ceasefire", since=date(2025, 4, 12), until=date(2025, 6, 12))) == titles(
        synced, "Truce holds"
    )
    assert item_ids(synced.cat.search("ceasefire", since=date(2026, 1, 13))) == titles(synced, GUARANTEES)
    assert synced.cat.search("ceasefire", since=date(2027, 1, 1)) == []


# --- catalog list -----------------------------------------------------------------------------------


def run_list(synced: Synced, *args: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["--config", str(synced.config), "list", "--json", "--limit", "100", *args])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def test_list_newest_first_with_fields(synced: Synced) -> None:
    rows = run_list(synced)
    assert len(rows) == 18
    assert [row["published"] for row in rows] == sorted((row["published"] for row in rows), reverse=True)
    assert rows[0]["title"] == ENERGY  # 2026-03-09
    assert set(rows[0]) == {
        "item_id",
        "kind",
        "feed",
        "title",
        "published",
        "published_is",
        "url",
        "media_state",
        "transcript_source",
        "duration",
    }
    numbers = next(row for row in rows if row["title"] == "Numbers episode")
    assert numbers["transcript_source"] == "whisper" and numbers["kind"] == "podcast"
    subtitled = next(row for row in rows if row["title"] == "Subtitled episode")
    assert subtitled["transcript_source"] == "publisher"


def test_list_filters(synced: Synced) -> None:
    assert {row["title"] for row in run_list(synced, "--feed", "words")} == {title for _g, title, _d, _b in ARTICLES}
    assert {row["title"] for row in run_list(synced, "--kind", "video")} == {TALK}
    assert {row["title"] for row in run_list(synced, "--since", "2025-09-01", "--until", "2025-12-31")} == {
        "Field notes",
        "Shipping report",
    }
    page = run_list(synced, "--feed", "words", "--limit", "2", "--offset", "1")
    assert [row["title"] for row in page] == ["Field notes", "Tourniquet shortage"]
    result = CliRunner().invoke(cli, ["--config", str(synced.config), "list", "--feed", "nope"])
    assert result.exit_code != 0 and "nope" in result.output
