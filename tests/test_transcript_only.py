"""An episode published as a transcript only (`podcast:transcript`, no enclosure) is a podcast
episode whose transcript is indexed, with times; when that transcript cannot be read, the failure
is recorded where `catalog status` shows it. Real feedparser, a real server on 127.0.0.1, the
real Buzzsprout SRT."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from catalog.app import Catalog
from catalog.sources.feed_parser import parse_feed
from catalog.sources.podcast_ns import annotate
from catalog.sync.report import SyncOptions
from catalog.testing.localserver import LocalServer
from tests.conftest import FIXTURES

FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel><title>Words only</title>
  <item><title>Ten things</title><guid>ten-things</guid><pubDate>Tue, 10 Oct 2023 08:46:31 +0000</pubDate>
    <podcast:transcript url="ten_things.srt" type="application/srt"/></item>
  <item><title>Lost words</title><guid>lost-words</guid><pubDate>Wed, 11 Oct 2023 08:46:31 +0000</pubDate>
    <podcast:transcript url="missing.srt" type="application/srt"/></item>
  <item><title>Just a note</title><guid>note</guid><description>No media, no transcript.</description></item>
</channel></rss>
"""


def test_transcript_only_item_is_a_podcast_episode() -> None:
    body = (FIXTURES / "feeds" / "antennapod_podcastindex_transcript.xml").read_bytes()
    url = "https://podnews.net/feed.xml"
    (entry,) = parse_feed(body, url=url).entries
    annotate([entry], body, url)
    assert entry.kind == "podcast"
    assert entry.media_url == "https://podnews.net/audio/podnews231011.mp3.json"
    assert [t["url"] for t in entry.extra["transcripts"]] == [
        "https://podnews.net/audio/podnews231011.mp3.json",
        "https://podnews.net/audio/podnews231011.mp3.srt",
    ]


def test_declared_article_feed_keeps_it_an_article() -> None:
    body = (FIXTURES / "feeds" / "antennapod_podcastindex_transcript.xml").read_bytes()
    (entry,) = parse_feed(body, url="https://podnews.net/feed.xml", kind="article").entries
    annotate([entry], body, "https://podnews.net/feed.xml", "article")
    assert (entry.kind, entry.media_url) == ("article", None)


def test_sync_indexes_the_transcript_and_records_the_unreadable_one(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "words.xml").write_text(FEED)
    shutil.copy(FIXTURES / "transcripts" / "buzzsprout_10_things_example.srt", site / "ten_things.srt")
    server = LocalServer(site).start()
    config = tmp_path / "feeds.yaml"
    config.write_text(
        yaml.safe_dump({"timeout_seconds": 5, "feeds": [{"name": "words", "url": server.url("words.xml")}]})
    )
    cat = Catalog.open(config)
    try:
        report = cat.sync(SyncOptions())
        kinds = {item["title"]: item["kind"] for item in cat.items(limit=10)}
        assert kinds == {"Ten things": "podcast", "Lost words": "podcast", "Just a note": "article"}
        (hit,) = cat.search('"rookie mistakes"')
        assert (hit.title, hit.kind, hit.passage) == ("Ten things", "podcast", "segment")
        assert hit.start is not None and 2.4 <= hit.start < 4.8  # inside the cue that says "rookie"
        (failure,) = report.failures
        assert "published as a transcript only" in str(failure) and "missing.srt" in str(failure)
        status = cat.status()
        assert any(
            "published as a transcript only" in str(row)
            for row in status["media"]["failed"] + status["media"]["pending"]
        )
    finally:
        cat.close()
        server.stop()
