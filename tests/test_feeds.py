"""Feed parsing on real public feed documents, one quirk per file (see fixtures/feeds/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.errors import FeedParseError
from catalog.sources.feed_parser import infer_kind, parse_feed
from catalog.sources.text import html_to_text

FEEDS = Path(__file__).parent / "fixtures" / "feeds"


def parse(name: str, kind: str | None = None):  # type: ignore[no-untyped-def]
    return parse_feed((FEEDS / name).read_bytes(), url=f"https://example.org/{name}", kind=kind)


@pytest.mark.parametrize(
    ("name", "entries", "warned"),
    [
        ("android_authority_blank_lines_before_decl.xml", 10, True),
        ("feedparser_corrupted_ampersands.xml", 1, True),
        ("no_agenda.xml", 29, True),
        ("jornal_de_noticias_iso8859-1.rss", 40, False),
        ("feedparser_utf16le_bom.xml", 0, False),
    ],
    ids=["blank-lines", "bad-ampersands", "undefined-entity", "latin-1", "utf16-empty"],
)
def test_broken_feeds_keep_what_parsed(name: str, entries: int, warned: bool) -> None:
    feed = parse(name)
    assert len(feed.entries) == entries
    assert bool(feed.warning) == warned


@pytest.mark.parametrize("name", ["unrecognized.rss", "newsboat_empty.xml"], ids=["junk", "zero-bytes"])
def test_documents_that_are_not_feeds_raise(name: str) -> None:
    with pytest.raises(FeedParseError, match="not a feed"):
        parse(name)


def test_latin1_text_is_decoded() -> None:
    feed = parse("jornal_de_noticias_iso8859-1.rss")
    text = " ".join((e.title or "") + e.body for e in feed.entries)
    assert "ã" in text or "ç" in text
    assert all(e.kind == "article" and e.published and e.published.endswith("+00:00") for e in feed.entries)


def test_youtube_feed_items_are_videos_with_ids() -> None:
    feed = parse("digital_foundry_videos.xml")
    assert len(feed.entries) == 15
    entry = feed.entries[0]
    assert entry.kind == "video" and entry.youtube_id and len(entry.youtube_id) == 11
    assert entry.media_url == f"https://www.youtube.com/watch?v={entry.youtube_id}"
    minimal = parse("yt_video_link_minimal.rss").entries[0]
    assert minimal.kind == "video" and minimal.youtube_id == "2T9w1rdPMl0"


def test_video_enclosures_make_video_items() -> None:
    feed = parse("natube_peertube_video.xml")
    assert {e.kind for e in feed.entries} == {"video"}
    assert all(e.enclosure_url and e.enclosure_url.startswith("http") for e in feed.entries)


def test_declared_article_kind_ignores_enclosures() -> None:
    feed = parse("no_agenda.xml", kind="article")
    assert {e.kind for e in feed.entries} == {"article"}
    assert all(e.enclosure_url is None for e in feed.entries)


def test_relative_enclosures_resolve_against_the_feed_url(site: Path) -> None:
    feed = parse_feed((site / "podcast.xml").read_bytes(), url="http://127.0.0.1:9/sub/podcast.xml")
    assert all(e.enclosure_url and e.enclosure_url.startswith("http://127.0.0.1:9/sub/media/") for e in feed.entries)


def test_identity_falls_back_from_guid_to_link_to_enclosure() -> None:
    xml = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
      <item><title>a</title><guid>g-1</guid><link>https://x/a</link></item>
      <item><title>b</title><link>https://x/b</link></item>
      <item><title>c</title><enclosure url="https://x/c.mp3" type="audio/mpeg" length="10"/></item>
      <item><title>only a title</title></item>
    </channel></rss>"""
    guids = [e.guid for e in parse_feed(xml, url="https://x/feed").entries]
    assert guids[:3] == ["g-1", "https://x/b", "https://x/c.mp3"]
    assert guids[3].startswith("title:")


@pytest.mark.parametrize(
    ("enclosure", "media_type", "youtube", "declared", "kind"),
    [
        ("https://x/a.mp3", "audio/mpeg", None, None, "podcast"),
        ("https://x/a.mp4", "video/mp4", None, None, "video"),
        ("https://x/a.webm", None, None, None, "video"),
        (None, None, "abcdefghijk", None, "video"),
        (None, None, None, None, "article"),
        ("https://x/a.mp3", "audio/mpeg", None, "video", "video"),
        ("https://x/a.mp3", "audio/mpeg", None, "article", "article"),
    ],
    ids=["audio", "video", "webm-ext", "youtube", "none", "declared-video", "declared-article"],
)
def test_infer_kind(
    enclosure: str | None, media_type: str | None, youtube: str | None, declared: str | None, kind: str
) -> None:
    assert infer_kind(declared, enclosure, media_type, youtube) == kind


def test_html_to_text() -> None:
    html = (
        "<p>First &amp; <b>bold</b> para.</p><script>alert(1)</script><style>p{}</style>"
        "<div>Second<br>line</div><ul><li>one</li><li>two</li></ul>"
    )
    assert html_to_text(html) == "First & bold para.\n\nSecond\n\nline\n\none\n\ntwo"
    assert html_to_text("plain &lt;text&gt;") == "plain <text>"
