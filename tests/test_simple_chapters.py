"""Podlove Simple Chapters (`psc:chapters`, inline in the feed) are indexed like `podcast:chapters`:
each chapter title is searchable and its hit starts at the chapter. Real feedparser, the real
feedparser test document, a real server on 127.0.0.1 and the real Buzzsprout SRT."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from catalog.app import Catalog
from catalog.sources.feed_parser import parse_feed
from catalog.sync.report import SyncOptions
from catalog.testing.localserver import LocalServer
from catalog.transcripts.chapters import simple_chapters
from tests.conftest import FIXTURES

CHAPTERS = """<psc:chapters version="1.2" xmlns:psc="http://podlove.org/simple-chapters">
      <psc:chapter start="00:00:00" title="Welcome" />
      <psc:chapter start="00:03:07.250" title="Introducing Podlove" href="http://podlove.org/" />
      <psc:chapter start="08:26" title="Podlove WordPress Plugin" />
      <psc:chapter start="1:02:42.345" title="Resumée" />
    </psc:chapters>"""

FEED = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel><title>Podlove</title>
  <item><title>Fiat Lux</title><guid>fiat-lux</guid><pubDate>Mon, 26 Mar 2012 23:25:19 +0000</pubDate>
    <enclosure url="absent.mp3" type="audio/mpeg" length="1"/>
    <podcast:transcript url="ten_things.srt" type="application/srt"/>
    {CHAPTERS}
  </item>
</channel></rss>
"""


def test_simple_chapters_are_kept_from_the_feed() -> None:
    body = (FIXTURES / "feeds" / "feedparser_psc_simple_chapters.xml").read_bytes()
    (entry,) = parse_feed(body, url="http://podlove.org/feed.xml").entries
    assert entry.extra["psc_chapters"] == [
        {"start": "00:00:00", "title": "Welcome"},
        {"start": "00:03:07.250", "title": "Introducing Podlove"},
        {"start": "08:26", "title": "Podlove WordPress Plugin"},
        {"start": "12:42.345", "title": "Resumée"},
    ]
    chapters = simple_chapters(entry.extra["psc_chapters"])
    assert [(c.start, c.end, c.title) for c in chapters] == [
        (0.0, 187.25, "Welcome"),
        (187.25, 506.0, "Introducing Podlove"),
        (506.0, 762.345, "Podlove WordPress Plugin"),
        (762.345, None, "Resumée"),
    ]


def test_unreadable_starts_are_skipped() -> None:
    items = [{"start": "soon", "title": "A"}, {"start": "nan", "title": "B"}, {"start": "-5", "title": "C"},
             {"start": "1:00", "title": ""}, {"start": "1:02:42.345", "title": "D"}]  # fmt: skip
    assert [(c.start, c.title) for c in simple_chapters(items)] == [(3762.345, "D")]


def test_sync_indexes_simple_chapters(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "podlove.xml").write_text(FEED, encoding="utf-8")
    shutil.copy(FIXTURES / "transcripts" / "buzzsprout_10_things_example.srt", site / "ten_things.srt")
    server = LocalServer(site).start()
    config = tmp_path / "feeds.yaml"
    feeds = [{"name": "podlove", "url": server.url("podlove.xml")}]
    config.write_text(yaml.safe_dump({"timeout_seconds": 5, "feeds": feeds}))
    cat = Catalog.open(config)
    try:
        report = cat.sync(SyncOptions())
        assert report.ok, report.failures
        (hit,) = cat.search("wordpress plugin")
        assert (hit.title, hit.passage, hit.start, hit.start_is) == ("Fiat Lux", "chapter", 506.0, "segment")
        (resume,) = cat.search("resumee")  # accents optional
        assert (resume.passage, resume.start) == ("chapter", 3762.34)  # hits round to 0.01 s
        (transcript_hit,) = cat.search('"rookie mistakes"')  # the transcript is indexed too
        assert transcript_hit.passage == "segment"
    finally:
        cat.close()
        server.stop()
