"""Publisher transcripts first: a Podcasting 2.0 feed with two <podcast:transcript> tags (VTT and
JSON) and chapters, served on 127.0.0.1. The transcript is indexed with its times and speakers,
and Whisper does not run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from catalog.app import Catalog
from catalog.asr.transcriber import Transcriber, WhisperTranscriber
from catalog.testing.localserver import LocalServer, status_route
from tests.conftest import WriteConfig

FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel><title>Transcribed Show</title><language>en</language>
<podcast:person role="host">Anna Kovalenko</podcast:person>
<item><title>Grain corridors</title><guid>pc20-1</guid><pubDate>Tue, 03 Mar 2026 08:00:00 GMT</pubDate>
<description>Notes without the spoken words.</description>
<enclosure url="media/nonzero-ep1.mp3" type="audio/mpeg" length="73240"/>
<podcast:transcript url="transcripts/ep1.vtt" type="text/vtt" language="en"/>
<podcast:transcript url="transcripts/ep1.json" type="application/json" language="en"/>
<podcast:chapters url="transcripts/ep1-chapters.json" type="application/json+chapters"/>
</item></channel></rss>"""

VTT = """WEBVTT

00:00:01.000 --> 00:00:04.000
<v Anna Kovalenko>Welcome back. Today the Odesa grain corridor.

00:00:04.000 --> 00:00:09.500
<v Mark Reed>Insurers call it zeppelin diplomacy, slow but it floats.
"""

JSON_TRANSCRIPT = {
    "version": "1.0.0",
    "segments": [
        {
            "speaker": "Anna Kovalenko",
            "startTime": 1.0,
            "endTime": 4.0,
            "body": "Welcome back. Today the Odesa grain corridor.",
        },
        {"speaker": "Mark Reed", "startTime": 4.0, "endTime": 4.6, "body": "Insurers"},
        {"speaker": "Mark Reed", "startTime": 4.6, "endTime": 5.0, "body": "call"},
        {"speaker": "Mark Reed", "startTime": 5.0, "endTime": 5.2, "body": "it"},
        {"speaker": "Mark Reed", "startTime": 6.25, "endTime": 6.9, "body": "zeppelin"},
        {"speaker": "Mark Reed", "startTime": 6.9, "endTime": 7.6, "body": "diplomacy,"},
        {"speaker": "Mark Reed", "startTime": 7.6, "endTime": 9.5, "body": "slow but it floats."},
    ],
}
CHAPTERS = {
    "version": "1.2.0",
    "chapters": [{"startTime": 0, "title": "Cold open"}, {"startTime": 95, "title": "Black Sea shipping insurance"}],
}


class NoWhisper:
    name = "must-not-run"

    def transcribe(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("Whisper ran although the publisher has a transcript")


@pytest.fixture
def pc20_site(site: Path) -> Path:
    (site / "transcripts").mkdir()
    (site / "pc20.xml").write_text(FEED)
    (site / "transcripts" / "ep1.vtt").write_text(VTT)
    (site / "transcripts" / "ep1.json").write_text(json.dumps(JSON_TRANSCRIPT))
    (site / "transcripts" / "ep1-chapters.json").write_text(json.dumps(CHAPTERS))
    return site


def sync(config: Path, transcriber: Transcriber) -> tuple[Catalog, Any]:
    cat = Catalog.open(config)
    report = cat.sync(transcriber_factory=lambda: transcriber)
    return cat, report


def test_publisher_transcript_is_indexed_and_whisper_does_not_run(
    pc20_site: Path, server: LocalServer, write_config: WriteConfig
) -> None:
    config = write_config([{"name": "show", "url": server.url("pc20.xml")}])
    cat, report = sync(config, NoWhisper())
    with cat:
        assert report.ok and report.media_done == 1
        assert server.bodies["/media/nonzero-ep1.mp3"] == 0, "the audio is not needed"
        assert server.bodies["/transcripts/ep1.json"] == 1  # JSON ranks first: word times and speakers
        hit = cat.search("zeppelin")[0]
        assert (hit.start, hit.speaker, hit.passage) == (6.25, "Mark Reed", "segment")
        assert hit.link and hit.link.endswith("/media/nonzero-ep1.mp3#t=6")
        item = cat.item(hit.item_id)
        assert item["transcript_source"] == "publisher" and item["transcript_format"] == "json"
        assert item["transcript_url"].endswith("/transcripts/ep1.json")
        assert {seg["speaker"] for seg in item["transcript"]} == {"Anna Kovalenko", "Mark Reed"}
        chapter = cat.search("insurance")[0]
        assert (chapter.passage, chapter.start) == ("chapter", 95.0)
        assert [c["title"] for c in item["chapters"]] == ["Cold open", "Black Sea shipping insurance"]


def test_a_broken_candidate_falls_back_to_the_next_format(
    pc20_site: Path, server: LocalServer, write_config: WriteConfig
) -> None:
    server.routes["/transcripts/ep1.json"] = status_route(404)
    config = write_config([{"name": "show", "url": server.url("pc20.xml")}])
    cat, report = sync(config, NoWhisper())
    with cat:
        assert report.ok and any("HTTP 404" in message for _, message in report.warnings)
        hit = cat.search("zeppelin")[0]
        # the VTT cue starts at 4.0 s; "zeppelin" is placed inside it by its position in the cue's text
        assert (hit.start_is, hit.speaker) == ("estimate", "Mark Reed") and 5.5 <= hit.start <= 6.0
        assert cat.item(hit.item_id)["transcript_format"] == "vtt"
        runs = cat.status()["runs"]
        assert any("HTTP 404" in failure["message"] for failure in runs[0]["failures"])


def test_whisper_runs_when_no_publisher_transcript_works_or_when_turned_off(
    pc20_site: Path, server: LocalServer, write_config: WriteConfig, whisper: WhisperTranscriber
) -> None:
    for path in ("/transcripts/ep1.json", "/transcripts/ep1.vtt"):
        server.routes[path] = status_route(500)
    config = write_config([{"name": "show", "url": server.url("pc20.xml")}])
    cat, report = sync(config, whisper)
    with cat:
        assert report.ok and report.media_done == 1
        item = cat.item(cat.search("armistice")[0].item_id)
        assert item["transcript_source"] == "whisper" and item["transcript_model"] == "tiny.en"
        assert [c["title"] for c in item["chapters"]] == ["Cold open", "Black Sea shipping insurance"]

    del server.routes["/transcripts/ep1.json"], server.routes["/transcripts/ep1.vtt"]
    off = write_config(
        [{"name": "show", "url": server.url("pc20.xml")}], publisher_transcripts=False, database="off.db"
    )
    cat, report = sync(off, whisper)
    with cat:
        assert cat.item(cat.search("armistice")[0].item_id)["transcript_source"] == "whisper"
        assert cat.search("zeppelin") == []
