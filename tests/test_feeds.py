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


def test_declared_article_kind_keeps_enclosures_as_articles() -> None:
    """A feed declared `kind: article`: its items are articles (not transcribed), their enclosures kept."""
    feed = parse("no_agenda.xml", kind="article")
    assert {e.kind for e in feed.entries} == {"article"}
    first = feed.entries[0]
    assert (first.enclosure_url, first.enclosure_type) == (
        "https://mp3s.nashownotes.com/NA-1393-2021-10-24-Final.mp3",
        "audio/mpeg",
    )


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
        ("https://x/a.webm", "audio/webm", None, None, "podcast"),
        (None, None, "abcdefghijk", None, "video"),
        (None, None, None, None, "article"),
        ("https://x/a.mp3", "audio/mpeg", None, "video", "video"),
        ("https://x/a.mp3", "audio/mpeg", None, "article", "article"),
    ],
    ids=["audio", "video", "webm-ext", "audio-webm", "youtube", "none", "declared-video", "declared-article"],
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


def test_body_is_the_items_own_text_not_a_media_caption() -> None:
    """Mastodon: feedparser files the image's alt text (media:description) under content; the post
    itself is the summary (escaped HTML, declared text/plain). The longer text is the body."""
    entry = parse("mastodon_media_content.xml").entries[0]
    assert entry.body.startswith("Oh it's #WebcomicDay again!")
    assert "Raiders ride giant lizards across the desert." not in entry.body
    assert "<p>" not in entry.body and "<a " not in entry.body


def test_longer_summary_wins_over_a_trimmed_content() -> None:
    xml = b"""<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
      <channel><title>t</title><item><guid>g</guid><title>t</title>
      <description>Full text: the guests argued about grain corridors and insurance.</description>
      <content:encoded><![CDATA[<p>Full text: the guests</p>]]></content:encoded>
      </item></channel></rss>"""
    (entry,) = parse_feed(xml, url="https://x/feed").entries
    assert entry.body == "Full text: the guests argued about grain corridors and insurance."


def test_title_markup_is_cleaned() -> None:
    xml = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
      <item><guid>g</guid><title>Victorian 1930ft&lt;sup&gt;2&lt;/sup&gt; &amp;amp; garden</title></item>
    </channel></rss>"""
    (entry,) = parse_feed(xml, url="https://x/feed").entries
    assert entry.title == "Victorian 1930ft2 & garden"


def test_unfetchable_media_schemes_are_skipped() -> None:
    """An rtsp:// stream (GData's 3GP) is not queued to fail forever; the item's YouTube id is used."""
    xml = b"""<?xml version="1.0"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>t</title>
      <item><guid>https://www.youtube.com/watch?v=abcdefghijk</guid><title>clip</title>
      <link>https://www.youtube.com/watch?v=abcdefghijk</link>
      <media:content url="rtsp://v3.cache.example/clip.3gp" type="video/3gpp"/></item>
      <item><guid>g2</guid><title>audio</title><enclosure url="mms://radio.example/live" type="audio/mpeg"/>
      <enclosure url="https://radio.example/ep.mp3" type="audio/mpeg"/></item>
    </channel></rss>"""
    clip, audio = parse_feed(xml, url="https://x/feed").entries
    assert (clip.kind, clip.enclosure_url, clip.youtube_id) == ("video", None, "abcdefghijk")
    assert (audio.kind, audio.enclosure_url) == ("podcast", "https://radio.example/ep.mp3")


def test_a_feed_that_breaks_keeps_its_guids() -> None:
    """feedparser's loose parser (for a document that is not well-formed) writes each `&` of an id
    as `&amp;`: the same items must keep the same GUIDs, or a broken feed would duplicate them."""
    items = """<item><guid><![CDATA[http://x/?a=1&b=2]]></guid><title>a</title></item>
      <item><guid>http://x/?a=1&amp;b=3</guid><title>b</title></item>"""
    good = f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
    broken = good + b"<unclosed>"
    assert parse_feed(broken, url="https://x/f").warning is not None  # read by the loose parser
    guids = [e.guid for e in parse_feed(good, url="https://x/f").entries]
    assert guids == ["http://x/?a=1&b=2", "http://x/?a=1&b=3"]
    assert [e.guid for e in parse_feed(broken, url="https://x/f").entries] == guids


def test_hostile_documents_fail_as_feed_errors_not_crashes() -> None:
    """feedparser's own crashes on hostile input (found by tests/test_fuzz.py) are FeedParseError;
    one malformed address does not lose the rest of the document."""
    with pytest.raises(FeedParseError, match="the feed parser failed on it"):
        parse_feed(b"<rss><channel><item><link><item/></link></item></channel></rss>", url="https://x/f")
    xml = b"""<rss version="2.0"><channel><title>t</title>
      <item><guid>a</guid><title>a</title><link>http://[::1</link>
        <enclosure url="http://[::1" type="audio/mpeg"/></item>
      <item><guid>b</guid><title>b</title><enclosure url="https://x/b.mp3" type="audio/mpeg" length="&#178;"/></item>
    </channel></rss>"""
    a, b = parse_feed(xml, url="https://x/f").entries
    assert (a.link, a.enclosure_url, a.kind) == (None, None, "article")
    assert (b.enclosure_url, b.enclosure_length) == ("https://x/b.mp3", None)
