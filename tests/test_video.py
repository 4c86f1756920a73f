"""Video: mp4 files, YouTube channel feeds, and pages fetched with the real yt-dlp from 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from catalog.app import Catalog
from catalog.asr.transcriber import WhisperTranscriber
from catalog.cli import cli
from catalog.errors import ConfigError, FetchError
from catalog.media.pages import fetch_page_media
from catalog.media.probe import probe
from catalog.sources.http import make_client
from catalog.sources.youtube import feed_url_for
from catalog.sync.report import SyncOptions
from catalog.testing.localserver import LocalServer
from catalog.transcripts import parse_transcript
from tests.conftest import FIXTURES, WriteConfig

WATCH_PAGE = """<!DOCTYPE html><html><head><title>How to End the Ukraine War</title></head>
<body><h1>How to End the Ukraine War</h1><video controls src="media/lieven-talk.mp4"></video></body></html>"""

PAGE_FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Talk pages</title>
<item><title>Talk on a page</title><guid>page-1</guid><pubDate>Wed, 04 Mar 2026 08:00:00 GMT</pubDate>
<enclosure url="watch.html" type="text/html" length="0"/></item></channel></rss>"""


def test_mp4_has_video_and_audio(site: Path) -> None:
    info = probe(site / "media" / "lieven-talk.mp4")
    assert info.has_video and info.has_audio and info.duration and 15 < info.duration < 25


def test_yt_dlp_downloads_from_a_local_page_and_a_direct_url(server: LocalServer, site: Path, tmp_path: Path) -> None:
    (site / "watch.html").write_text(WATCH_PAGE)
    original = (site / "media" / "lieven-talk.mp4").read_bytes()
    with make_client(timeout=5) as client:  # with the sync's client, the file comes through it
        for name, url in (("page", server.url("watch.html")), ("direct", server.url("media/lieven-talk.mp4"))):
            for through in (None, client):
                stem = tmp_path / f"{name}-{'client' if through else 'yt-dlp'}"
                result = fetch_page_media(url, stem, 10_000_000, timeout=5, client=through).download
                assert result is not None
                assert result.path == stem.with_name(stem.name + ".mp4")
                assert result.path.read_bytes() == original, name
                assert result.sha256 == hashlib.sha256(original).hexdigest()


CAPTIONED_PAGE = """<!DOCTYPE html><html><head><title>Talk</title></head><body><video controls>
<source src="media/lieven-talk.mp4" type="video/mp4">
<track kind="captions" src="talk.vtt" srclang="en" label="English"></video></body></html>"""

CAPTIONS = """WEBVTT

00:00:00.500 --> 00:00:04.000
<v Anatol Lieven>How to end the Ukraine war.

00:00:07.700 --> 00:00:12.000
<v Anatol Lieven>Negotiations will have to start long before anyone is satisfied.
"""


def test_uploader_captions_come_before_any_download(server: LocalServer, site: Path, tmp_path: Path) -> None:
    (site / "talk.html").write_text(CAPTIONED_PAGE)
    (site / "talk.vtt").write_text(CAPTIONS)
    page = fetch_page_media(server.url("talk.html"), tmp_path / "t", 10_000_000, timeout=5, captions_language="en")
    assert page.download is None and page.captions is not None
    assert page.captions.format == "vtt" and page.captions.language == "en"
    captions = parse_transcript(page.captions.data, page.captions.format, source="captions")
    assert [(s.start, s.speaker) for s in captions.segments] == [(0.5, "Anatol Lieven"), (7.7, "Anatol Lieven")]
    assert server.bodies["/media/lieven-talk.mp4"] == 0
    other = fetch_page_media(server.url("talk.html"), tmp_path / "u", 10_000_000, timeout=5, captions_language="de")
    assert other.captions is None and other.download is not None and other.download.path.exists()


def test_yt_dlp_failure_is_a_clear_fetch_error(server: LocalServer, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="yt-dlp could not download it"):
        fetch_page_media(server.url("missing.html"), tmp_path / "x", 1_000_000, timeout=5)


def test_sync_transcribes_video_behind_a_page(
    server: LocalServer, site: Path, write_config: WriteConfig, whisper: WhisperTranscriber
) -> None:
    (site / "watch.html").write_text(WATCH_PAGE)
    (site / "pages.xml").write_text(PAGE_FEED)
    config = write_config([{"name": "pages", "url": server.url("pages.xml"), "kind": "video"}])
    with Catalog.open(config) as cat:
        report = cat.sync(transcriber_factory=lambda: whisper)
        assert report.ok, report.failures
        hit = cat.search("negotiations")[0]
        assert hit.kind == "video" and hit.start is not None and abs(hit.start - 7.71) < 1.5


def test_youtube_feed_items_are_queued_as_watch_pages(tmp_path: Path, write_config: WriteConfig) -> None:
    shutil.copy(FIXTURES / "feeds" / "digital_foundry_videos.xml", tmp_path / "yt.xml")
    config = write_config([{"name": "df", "url": str(tmp_path / "yt.xml")}])
    with Catalog.open(config) as cat:
        report = cat.sync(SyncOptions(max_items=1))  # the newest; offline, YouTube is out of reach
        status = cat.status()
    assert status["feeds"][0]["counts"] == {"article": 0, "podcast": 0, "video": 15}
    queued = status["media"]["failed"] + status["media"]["pending"]
    assert len(queued) == 15 and all(row["url"].startswith("https://www.youtube.com/watch?v=") for row in queued)
    # the failure is recorded against that one item, and the run went on to finish
    tried = [row for row in queued if row["attempts"]]
    assert [row["title"] for row in tried] == ["Digital Foundry Games of 2024: The Oliver Mackenzie Collection!"]
    assert [what for what, _ in report.failures] == [f"item {tried[0]['item_id']} (df: {tried[0]['title']})"]
    assert "yt-dlp" in tried[0]["reason"]


VIDEO_ID = "Lv3nTalk001"
YOUTUBE_FEED = f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns:media="http://search.yahoo.com/mrss/"
      xmlns="http://www.w3.org/2005/Atom">
  <title>Sample Talks</title>
  <entry>
    <id>yt:video:{VIDEO_ID}</id>
    <yt:videoId>{VIDEO_ID}</yt:videoId>
    <title>How to End the Ukraine War</title>
    <link rel="alternate" href="https://www.youtube.com/watch?v={VIDEO_ID}"/>
    <published>2026-03-02T09:00:00+00:00</published>
    <media:group>
      <media:title>How to End the Ukraine War</media:title>
      <media:content url="media/lieven-talk.mp4" type="video/mp4" width="640" height="360"/>
      <media:description>A short sample talk.</media:description>
    </media:group>
  </entry>
</feed>"""


def test_youtube_feed_items_link_to_the_second(
    server: LocalServer,
    site: Path,
    write_config: WriteConfig,
    open_catalog: Callable[[Path], Catalog],
    manifest: dict[str, Any],
) -> None:
    """A YouTube channel feed whose video is served from 127.0.0.1: transcribed by Whisper, and the spoken
    hit links to YouTube at the second the word is said."""
    (site / "yt.xml").write_text(YOUTUBE_FEED)
    config = write_config([{"name": "yt", "url": server.url("yt.xml")}])
    cat = open_catalog(config)
    report = cat.sync()
    assert report.ok and report.media_done == 1, report.failures
    assert server.bodies["/media/lieven-talk.mp4"] == 1
    said = manifest["media"]["media/lieven-talk.mp4"]["keywords"][0]
    assert said["word"] == "negotiations"
    hits = cat.search(said["word"])
    assert [(hit.kind, hit.title, hit.passage) for hit in hits] == [("video", "How to End the Ukraine War", "segment")]
    hit = hits[0]
    assert hit.start is not None and abs(hit.start - said["start"]) <= 1.5, hit
    assert hit.link == f"https://www.youtube.com/watch?v={VIDEO_ID}&t={int(hit.start)}s"
    assert hit.url == f"https://www.youtube.com/watch?v={VIDEO_ID}"
    assert hit.snippet.startswith("<mark>Negotiations</mark> ")
    assert cat.transcript(hit.item_id).source == "whisper"


@pytest.mark.parametrize(
    ("url", "feed"),
    [
        (
            "https://www.youtube.com/channel/UC9PBzalIcEQCsiIkq36PyUA",
            "https://www.youtube.com/feeds/videos.xml?channel_id=UC9PBzalIcEQCsiIkq36PyUA",
        ),
        (
            "https://www.youtube.com/playlist?list=PL123abc",
            "https://www.youtube.com/feeds/videos.xml?playlist_id=PL123abc",
        ),
        ("https://www.youtube.com/user/DigitalFoundry", "https://www.youtube.com/feeds/videos.xml?user=DigitalFoundry"),
    ],
    ids=["channel", "playlist", "user"],
)
def test_channel_urls_become_feed_urls(url: str, feed: str) -> None:
    assert feed_url_for(url) == (feed, "video")


def test_handles_are_explained() -> None:
    with pytest.raises(ConfigError, match="channel id") as info:
        feed_url_for("https://www.youtube.com/@SomeChannel")
    assert info.value.hint and "channel/UC" in info.value.hint


def test_feeds_add_keeps_comments_and_validates(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text("# my sources\nfeeds:\n  - name: a  # first\n    url: https://x.org/a.xml\nmax_items: 3\n")
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "--config",
            str(config),
            "feeds",
            "add",
            "https://www.youtube.com/channel/UC9PBzalIcEQCsiIkq36PyUA",
            "--name",
            "df",
        ],
    )
    assert result.exit_code == 0, result.output
    text = config.read_text()
    assert "# my sources" in text and "# first" in text and "max_items: 3" in text
    listed = json.loads(runner.invoke(cli, ["--config", str(config), "feeds", "list", "--json"]).stdout)
    assert listed[1] == {
        "name": "df",
        "kind": "video",
        "enabled": True,
        "state": "active",
        "url": "https://www.youtube.com/feeds/videos.xml?channel_id=UC9PBzalIcEQCsiIkq36PyUA",
    }
    again = runner.invoke(cli, ["--config", str(config), "feeds", "add", "https://x.org/b.xml", "--name", "df"])
    assert again.exit_code == 3 and "already exists" in again.stderr
    handle = runner.invoke(cli, ["--config", str(config), "feeds", "add", "https://www.youtube.com/@x"])
    assert handle.exit_code == 3 and "Hint:" in handle.stderr


def test_feeds_yaml_accepts_a_channel_page(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text("feeds:\n  - name: df\n    url: https://www.youtube.com/channel/UC9PBzalIcEQCsiIkq36PyUA\n")
    listed = json.loads(CliRunner().invoke(cli, ["--config", str(config), "feeds", "list", "--json"]).stdout)
    assert listed[0]["url"] == "https://www.youtube.com/feeds/videos.xml?channel_id=UC9PBzalIcEQCsiIkq36PyUA"
    config.write_text("feeds:\n  - name: h\n    url: https://www.youtube.com/@SomeChannel\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "sync", "--no-media"])
    assert result.exit_code == 3 and "channel id" in result.stderr and "Hint:" in result.stderr
