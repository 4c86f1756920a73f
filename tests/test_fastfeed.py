"""The fast path (catalog.fastfeed) must give exactly what the feedparser path gives, or decline.

A different answer would change items' content hashes and count them as updated, so every accepted document is
compared field by field with the feedparser path; declining is always allowed, and these tests pin down which
documents are accepted so that coverage does not silently erode.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from catalog import feeds
from catalog.errors import FeedParseError
from catalog.fastfeed import parse_fast, parse_or_decline
from catalog.fastfeed_base import Decline
from catalog.feeds import parse_feed, parse_feed_with_feedparser

ROOT = Path(__file__).resolve().parent.parent
FEEDS = ROOT / "tests" / "fixtures" / "feeds"
FIXTURE_FILES = sorted(path.name for path in FEEDS.iterdir() if path.name != "README.md")
SAMPLES = sorted(path.name for path in (ROOT / "samples").glob("*.xml"))
HEADERS: list[dict[str, str] | None] = [
    None,
    {"Content-Type": "application/rss+xml"},
    {"Content-Type": "text/xml"},  # RFC 3023: us-ascii unless a charset is given
    {"Content-Type": "text/html; charset=utf-8", "Content-Language": "pt_BR"},
]
# Which fixtures the fast path takes. The others are broken (blank lines before the XML declaration, bad
# ampersands, an undefined entity, junk after the root), empty, or RSS without a version: feedparser's job.
ACCEPTED_FIXTURES = {
    "digital_foundry_videos.xml",
    "heise_developer_de.atom",
    "jornal_de_noticias_iso8859-1.rss",
    "kc0011_gb2312.rss",
    "mastodon_media_content.xml",
    "natube_peertube_video.xml",
    "podverse_live_items.xml",
    "stuff_you_should_know_megaphone.xml",
    "yt_video_link_minimal.rss",
}


def _make_feed() -> Callable[[random.Random, int, int], str]:
    spec = importlib.util.spec_from_file_location("bench_sync", ROOT / "bench" / "sync.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_feed  # type: ignore[no-any-return]


def snapshot(feed: feeds.ParsedFeed) -> tuple[Any, ...]:
    return feed.title, feed.link, feed.language, feed.warning, [dataclasses.asdict(e) for e in feed.entries]


def accepted_and_same(data: bytes, url: str, headers: dict[str, str] | None = None, kind: str | None = None) -> bool:
    """True when the fast path accepts `data`; then its result must equal the feedparser path's, field by field."""
    try:
        fast = parse_or_decline(data, url=url, headers=headers, kind=kind)
    except Decline:
        assert parse_fast(data, url=url, headers=headers, kind=kind) is None
        return False
    try:
        slow = snapshot(parse_feed_with_feedparser(data, url=url, headers=headers, kind=kind))
    except FeedParseError as exc:  # pragma: no cover - would be a bug: we accepted a non-feed
        pytest.fail(f"fast path accepted what feedparser rejects: {exc}")
    assert snapshot(fast) == slow
    return True


def decline_reason(data: bytes, headers: dict[str, str] | None = None) -> str:
    with pytest.raises(Decline) as info:
        parse_or_decline(data, url="https://example.org/feed.xml", headers=headers)
    assert parse_fast(data, url="https://example.org/feed.xml", headers=headers) is None
    return str(info.value)


# -- equivalence on real documents -------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", HEADERS, ids=["no-headers", "rss+xml", "text/xml", "html+lang"])
@pytest.mark.parametrize("name", FIXTURE_FILES)
def test_fixture_feeds_match_feedparser(name: str, headers: dict[str, str] | None) -> None:
    data = (FEEDS / name).read_bytes()
    accepted = accepted_and_same(data, f"https://example.org/feeds/{name}", headers)
    assert accepted == (name in ACCEPTED_FIXTURES)


@pytest.mark.parametrize("kind", [None, "podcast", "video", "article"])
@pytest.mark.parametrize("name", SAMPLES)
def test_samples_are_accepted_and_match(name: str, kind: str | None) -> None:
    data = (ROOT / "samples" / name).read_bytes()
    assert accepted_and_same(data, f"http://127.0.0.1:9/sub/{name}", {"Content-Type": "application/rss+xml"}, kind)


@pytest.mark.parametrize("items", [50, 1, 0])
def test_bench_feeds_are_accepted_and_match(items: int) -> None:
    make_feed, rng = _make_feed(), random.Random(items)
    for number in range(3):
        data = make_feed(rng, number, items).encode()
        url = f"http://127.0.0.1:8000/feed{number}.xml"
        assert accepted_and_same(data, url, {"Content-Type": "application/rss+xml"})


def test_parse_feed_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_feedparser(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("feedparser was called")

    monkeypatch.setattr(feeds.feedparser, "parse", no_feedparser)
    feed = parse_feed((ROOT / "samples" / "podcast.xml").read_bytes(), url="http://127.0.0.1:9/podcast.xml")
    assert feed.title == "Nonzero Sample Podcast" and len(feed.entries) == 2
    assert feed.entries[0].enclosure_url == "http://127.0.0.1:9/media/nonzero-ep2.m4a"


# -- feedparser's order-dependent quirks, reproduced -------------------------------------------------------------

_RSS_NS = (
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:media="http://search.yahoo.com/mrss/" '
    'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:podcast="https://podcastindex.org/namespace/1.0"'
)


def rss(channel: str, lang: str = "") -> bytes:
    declaration = '<?xml version="1.0" encoding="utf-8"?>'
    return f'{declaration}<rss version="2.0"{lang} {_RSS_NS}><channel>{channel}</channel></rss>'.encode()


def atom(body: str) -> bytes:
    return (
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/" '
        f'xmlns:yt="http://www.youtube.com/xml/schemas/2015">{body}</feed>'
    ).encode()


QUIRKS = {
    "first-title-wins": rss("<title>Feed</title><item><title>one</title><title>two</title><guid>g</guid></item>"),
    "title-after-image-wins": rss(
        "<title>A</title><image><url>u</url><title>B</title><link>l</link></image><title>C</title>"
    ),
    "nested-title-only-if-shallower": rss(
        "<item><podcast:x><title>deep</title></podcast:x><guid>g</guid></item>"
        "<item><title>top</title><podcast:x><title>deep</title></podcast:x><guid>h</guid></item>"
    ),
    "guid-doubles-as-link": rss(
        "<item><guid>https://x.org/p</guid></item><item><guid isPermaLink='false'>rel/2</guid></item>"
        "<item><link/><guid>https://x.org/q</guid></item><item><guid>rel/3</guid><link>https://x.org/r</link></item>"
    ),
    "second-summary-becomes-content": rss(
        "<item><guid>a</guid><description>short</description>"
        "<itunes:summary>the long &lt;b&gt;one&lt;/b&gt;</itunes:summary></item>"
        "<item><guid>b</guid><itunes:summary>x</itunes:summary><description>plain &amp;amp; text</description></item>"
        "<item><guid>c</guid><content:encoded>&lt;p&gt;full&lt;/p&gt;</content:encoded><description>d</description></item>"
    ),
    "channel-content-changes-first-item": rss(
        "<itunes:summary>s</itunes:summary><content:encoded>c</content:encoded>"
        # feedparser's hasContent flag leaks from the channel into the first item only: there the empty
        # itunes:summary overwrites the summary (body ""), in the second it becomes empty content (body "first").
        "<item><guid>a</guid><description>first</description><itunes:summary></itunes:summary></item>"
        "<item><guid>b</guid><description>first</description><itunes:summary></itunes:summary></item>"
    ),
    "author-forms": rss(
        "<item><guid>a</guid><author>jane@example.com (Jane Doe)</author></item>"
        "<item><guid>b</guid><author>x@y.org</author><dc:creator>Dee</dc:creator></item>"
        "<item><guid>c</guid><itunes:author>Jane &lt;jane@example.com&gt;</itunes:author></item>"
    ),
    "link-and-text-repairs": rss(
        "<link>https://x.org/?a=1&amp;b;=2</link><item><link>https://x.org/?a=1&amp;amp;b;=2</link>"
        "<title>caf\u00c3\u00a9 &#147;q&#148; \u00e9t\u00e9</title><pubDate>Wed, 14 Jan 2026 09:00 EST</pubDate></item>"
        "<item><guid>m</guid><title>caf\u00c3\u00a9 cr\u00c3\u00a8me</title><dc:creator>&#150; x</dc:creator></item>"
    ),
    "live-item-sets-feed-link": rss(
        "<title>T</title><link>https://x.org/</link><podcast:liveItem><title>Live</title>"
        "<link>https://x.org/live</link><enclosure url='https://x.org/l.mp3' type='audio/mpeg'/></podcast:liveItem>"
        "<item><guid>a</guid></item>"
    ),
    "media-and-enclosures": rss(
        "<item><guid>a</guid><enclosure url='/x.mp3' type='Audio/MPEG' length=' 12 '/></item>"
        "<item><guid>b</guid><media:group><media:content url='v.webm'/><media:description>&lt;p&gt;d&lt;/p&gt;"
        "</media:description></media:group><atom:link rel='enclosure' href='z.mp4'/></item>"
        "<item><guid>c</guid><itunes:duration> 1:02 </itunes:duration>"
        "<media:content url='i.jpg' medium='image'/></item>"
    ),
    "languages": rss("<language>pt_BR</language><item><guid>a</guid></item>", lang=' xml:lang="en"'),
    "atom-authors-links-ids": atom(
        "<title type='html'>A &amp;amp; B</title><link href='https://x.org/'/><id>urn:feed</id>"
        "<entry><id>urn:1</id><author><name>N</name><email>n@x.org</email></author><author><email>m@x.org</email>"
        "</author><link rel='enclosure' href='a.mp3' length='9'/><summary type='html'>&lt;p&gt;s&lt;/p&gt;</summary>"
        "<content type='text'>plain &amp;amp; text</content><updated>2026-01-05T10:00:00+05:30</updated></entry>"
        "<entry><id>https://x.org/e2</id><title>t</title><link rel='replies' href='r'/></entry>"
    ),
    "youtube": atom(
        "<title>Channel</title><entry><id>yt:video:abcdefghijk</id><yt:videoId>abcdefghijk</yt:videoId>"
        "<title>V</title><link rel='alternate' href='https://www.youtube.com/watch?v=abcdefghijk'/>"
        "<media:group><media:title>V</media:title><media:description>line 1\nline 2</media:description>"
        "</media:group><published>2026-01-05T10:00:00+00:00</published></entry>"
    ),
}


@pytest.mark.parametrize("kind", [None, "podcast"])
@pytest.mark.parametrize("headers", HEADERS[::3], ids=["no-headers", "html+lang"])
@pytest.mark.parametrize("name", sorted(QUIRKS))
def test_feedparser_quirks_are_reproduced(name: str, headers: dict[str, str] | None, kind: str | None) -> None:
    assert accepted_and_same(QUIRKS[name], "https://example.org/dir/feed.xml", headers, kind)


# -- what the fast path declines ---------------------------------------------------------------------------------


def test_dtd_and_entity_declarations_are_declined() -> None:
    doc = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY who "Jane">]>'
        b'<rss version="2.0"><channel><item><title>&who;</title></item></channel></rss>'
    )
    assert decline_reason(doc) == "DTD or entity declaration"
    assert snapshot(parse_feed(doc, url="https://x/f")) == snapshot(parse_feed_with_feedparser(doc, url="https://x/f"))


def test_billion_laughs_is_declined_and_stays_cheap() -> None:
    entities = '<!ENTITY lol "lol">' + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    entities = entities.replace("&lol0;", "&lol;")
    doc = f'<!DOCTYPE rss [{entities}]><rss version="2.0"><channel><title>&lol9;</title></channel></rss>'
    assert decline_reason(doc.encode()) == "DTD or entity declaration"
    feed = parse_feed(doc.encode(), url="https://x/f")  # feedparser drops the nested entities: a bozo, not a bomb
    assert feed.title is None or len(feed.title) < 1000


@pytest.mark.parametrize("name", ["feedparser_corrupted_ampersands.xml", "no_agenda.xml", "unrecognized.rss"])
def test_malformed_documents_are_declined_and_keep_their_warning(name: str) -> None:
    data = (FEEDS / name).read_bytes()
    assert decline_reason(data).startswith("not well-formed")
    if name == "unrecognized.rss":
        with pytest.raises(FeedParseError):
            parse_feed(data, url=f"https://example.org/{name}")
    else:
        assert parse_feed(data, url=f"https://example.org/{name}").warning


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (atom('<entry xml:base="https://other.org/"><id>1</id><link href="a"/></entry>'), "xml:base"),
        (rss('<item xmlns:x="urn:x"><link x:base="/b">c</link></item>'), "xml:base"),
        (
            b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">'
            b"<channel><title>t</title></channel></rdf:RDF>",
            "namespace http://purl.org/rss/1.0/",
        ),
        (b'<rss version="0.91"><channel><title>t</title></channel></rss>', "not an RSS 2.0"),
        (b"<rss><channel><title>t</title></channel></rss>", "not an RSS 2.0"),
        (b'<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>t</title></feed>', "http://purl.org/atom/ns#"),
        (atom('<entry><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"/></content></entry>'), "type"),
        (atom('<entry><content type="application/octet-stream">AAAA</content></entry>'), "type"),
        (rss("<item><description>raw <em>html</em></description></item>"), "markup inside"),
        (rss("<item><g:point xmlns:g='http://www.georss.org/georss'>1</g:point></item>"), "<georss_point>"),
        (rss("<item/>").replace(b"search.yahoo.com/mrss/", b"purl.org/dc/terms/"), "prefix media"),
        (b'<rss version="2.0" xmlns="urn:unknown"><channel/></rss>', "unknown default namespace"),
        (
            b'<rss version="2.0" xmlns:media="http://www.rssboard.org/media-rss" xmlns:m="http://search.yahoo.com/mrss/">'
            b"<channel><item><media:content url='a.mp3' type='audio/mpeg'/></item></channel></rss>",
            "also a known namespace's prefix",
        ),
        (b"", "empty document"),
        (b"<html><body>not a feed</body></html>", "root element"),
    ],
    ids=["xml-base", "bare-base-attr", "rss-1.0", "rss-0.91", "rss-no-version", "atom-0.3", "xhtml-content",
         "base64-content", "markup-in-description", "unhandled-element", "prefix-impersonation",
         "unknown-default-ns", "prefix-shadowed-by-known-namespace", "empty", "html"],
)  # fmt: skip
def test_documents_outside_the_fast_path_are_declined(doc: bytes, reason: str) -> None:
    assert reason in decline_reason(doc)


@pytest.mark.parametrize("data", [bytes(range(256)), b"<", b"\xff\xfe<\x00r\x00", b"<?xml version='1.0'?><rss"])
def test_parse_fast_never_raises(data: bytes) -> None:
    assert parse_fast(data, url="https://x/f") is None


def test_other_feedparser_versions_are_declined(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("catalog.fastfeed._FEEDPARSER_6_0", False)
    assert "emulation follows 6.0.x" in decline_reason((ROOT / "samples" / "podcast.xml").read_bytes())
