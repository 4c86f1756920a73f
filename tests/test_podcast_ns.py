"""catalog.sources.podcast_ns.annotate: podcast:transcript, podcast:chapters and podcast:person read from
the raw feed XML (ElementTree for a well-formed document, the tag scanner for a broken one)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from catalog.models import Entry
from catalog.sources.feed_parser import parse_feed
from catalog.sources.podcast_ns import annotate

FEEDS = Path(__file__).resolve().parent / "fixtures" / "feeds"
NO_AGENDA_URL = "http://feed.nashownotes.com/rss.xml"
FEED_URL = "https://example.org/shows/feed.xml"


def annotated(body: bytes, url: str) -> list[Entry]:
    entries = parse_feed(body, url=url).entries
    annotate(entries, body, url)
    return entries


# --- No Agenda: a real feed ElementTree refuses, so the tag scanner reads it ------------------------


@pytest.fixture(scope="module")
def no_agenda() -> bytes:
    return (FEEDS / "no_agenda.xml").read_bytes()


def test_no_agenda_is_refused_by_elementtree(no_agenda: bytes) -> None:
    with pytest.raises(ET.ParseError, match="undefined entity"):
        ET.fromstring(no_agenda)


def test_no_agenda_every_item_gets_its_transcript_and_chapters(no_agenda: bytes) -> None:
    entries = annotated(no_agenda, NO_AGENDA_URL)
    assert [e.guid for e in entries] == [f"http://{n}.noagendanotes.com" for n in range(1393, 1364, -1)]
    for entry in entries:
        number = entry.guid.removeprefix("http://").split(".")[0]
        assert entry.extra["transcripts"] == [
            {"url": f"https://mp3s.nashownotes.com/NA-{number}-Captions.srt", "type": "application/srt"}
        ], number
        assert entry.extra["chapters"] == {
            "url": f"http://34.117.70.159/http%3Afeed.nashownotes.comrss.xml/http:{number}.noagendanotes.com",
            "type": "application/json",
        }, number


def test_no_agenda_persons_only_where_the_item_names_them(no_agenda: bytes) -> None:
    entries = annotated(no_agenda, NO_AGENDA_URL)
    with_persons = [e.guid for e in entries if "persons" in e.extra]
    # Episodes 1380-1393 carry <podcast:person>; the older ones and the channel do not.
    assert with_persons == [f"http://{n}.noagendanotes.com" for n in range(1393, 1379, -1)]
    assert {tuple(e.extra["persons"]) for e in entries if "persons" in e.extra} == {("Adam Curry", "John C Dvorak")}
    first = entries[0]
    assert first.title == '1393: "Space Wake"'
    assert set(first.extra) == {"persons", "transcripts", "chapters"}


def test_no_agenda_matched_by_link_or_enclosure_when_the_guid_differs(no_agenda: bytes) -> None:
    entries = parse_feed(no_agenda, url=NO_AGENDA_URL).entries[:2]
    entries[0].guid = "renamed-1393"  # the link still matches
    entries[1].guid, entries[1].link = "renamed-1392", None  # only the enclosure matches
    assert entries[1].enclosure_url == "https://mp3s.nashownotes.com/NA-1392-2021-10-21-Final.mp3"
    stranger = Entry(guid="unknown", kind="podcast", link="https://example.org/x")
    annotate([*entries, stranger], no_agenda, NO_AGENDA_URL)
    assert entries[0].extra["transcripts"][0]["url"] == "https://mp3s.nashownotes.com/NA-1393-Captions.srt"
    assert entries[1].extra["transcripts"][0]["url"] == "https://mp3s.nashownotes.com/NA-1392-Captions.srt"
    assert stranger.extra == {}


# --- a small well-formed Podcasting 2.0 document (ElementTree) -----------------------------------------

WELL_FORMED = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">
  <channel>
    <title>Example Show</title>
    <link>https://example.org/</link>
    <podcast:person role="host">Channel Host</podcast:person>
    <podcast:person role="host">  Co Host  </podcast:person>
    <podcast:person role="guest"></podcast:person>
    <item>
      <title>One</title>
      <guid isPermaLink="false">ep-1</guid>
      <link>https://example.org/ep/1</link>
      <enclosure url="https://cdn.example.org/1.mp3" type="audio/mpeg" length="100"/>
      <podcast:transcript url="transcripts/1.vtt" type="text/vtt" language="en" rel="captions"/>
      <podcast:transcript url="/t/1.json?a=1&amp;b=2" type="application/json"/>
      <podcast:transcript type="text/html"/>
      <podcast:chapters url="chapters/1.json" type="application/json+chapters"/>
      <podcast:person role="guest">Guest &amp; Friend</podcast:person>
    </item>
    <item>
      <title>Two</title>
      <link>https://example.org/ep/2</link>
      <enclosure url="https://cdn.example.org/2.mp3" type="audio/mpeg" length="100"/>
      <podcast:transcript url="https://other.example.net/2.srt" type="application/x-subrip" language="de"/>
    </item>
    <item>
      <title>Three</title>
      <enclosure url="https://cdn.example.org/3.mp3" type="audio/mpeg" length="100"/>
      <podcast:chapters url="https://example.org/c/3.json" type="application/json+chapters"/>
    </item>
    <item>
      <title>Four</title>
      <guid>ep-4</guid>
      <enclosure url="https://cdn.example.org/4.mp3" type="audio/mpeg" length="100"/>
      <podcast:chapters type="application/json+chapters"/>
    </item>
  </channel>
</rss>
"""

EXPECTED = [
    (
        "ep-1",
        {
            "persons": ["Guest & Friend"],
            "transcripts": [
                {
                    "url": "https://example.org/shows/transcripts/1.vtt",
                    "type": "text/vtt",
                    "language": "en",
                    "rel": "captions",
                },
                {"url": "https://example.org/t/1.json?a=1&b=2", "type": "application/json"},
            ],
            "chapters": {"url": "https://example.org/shows/chapters/1.json", "type": "application/json+chapters"},
        },
    ),
    (
        "https://example.org/ep/2",  # no guid: the link is its identity, and its key
        {
            "persons": ["Channel Host", "Co Host"],
            "transcripts": [
                {"url": "https://other.example.net/2.srt", "type": "application/x-subrip", "language": "de"}
            ],
        },
    ),
    (
        "https://cdn.example.org/3.mp3",  # neither guid nor link: matched by its enclosure
        {
            "persons": ["Channel Host", "Co Host"],
            "chapters": {"url": "https://example.org/c/3.json", "type": "application/json+chapters"},
        },
    ),
    ("ep-4", {"persons": ["Channel Host", "Co Host"]}),  # chapters without a url are dropped
]


def test_well_formed_document_parses_with_elementtree() -> None:
    ET.fromstring(WELL_FORMED)  # the ElementTree path, not the scanner


def test_well_formed_document() -> None:
    entries = annotated(WELL_FORMED, FEED_URL)
    assert [(e.guid, e.extra) for e in entries] == EXPECTED


def test_broken_copy_gives_the_same_through_the_scanner() -> None:
    broken = WELL_FORMED.replace(b"<title>One</title>", b"<title>One&nbsp;</title>")
    with pytest.raises(ET.ParseError, match="undefined entity"):
        ET.fromstring(broken)
    entries = annotated(broken, FEED_URL)
    assert [(e.guid, e.extra) for e in entries] == EXPECTED


def test_scanner_follows_the_declared_prefix() -> None:
    broken = (
        WELL_FORMED.replace(b"xmlns:podcast=", b"xmlns:pi=")
        .replace(b"<podcast:", b"<pi:")
        .replace(b"</podcast:", b"</pi:")
        .replace(b"<title>Two</title>", b"<title>Two &copy;</title>")
    )
    entries = annotated(broken, FEED_URL)
    assert [(e.guid, e.extra) for e in entries] == EXPECTED


def test_other_namespaces_are_ignored() -> None:
    foreign = WELL_FORMED.replace(b"https://podcastindex.org/namespace/1.0", b"https://example.org/not-it")
    entries = annotated(foreign, FEED_URL)
    assert [e.extra for e in entries] == [{}, {}, {}, {}]


def test_a_feed_without_the_namespace_is_left_alone() -> None:
    entries = [Entry(guid="x", kind="podcast", extra={"itunes_duration": "1:00"})]
    annotate(entries, b"<rss><channel><item><guid>x</guid></item></channel></rss>", FEED_URL)
    assert entries[0].extra == {"itunes_duration": "1:00"}


RELATIVE = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">
  <channel>
    <title>Relative</title>
    <item>
      <title>No guid, a relative link</title>
      <link>ep/5.html</link>
      <enclosure url="media/5.mp3" type="audio/mpeg" length="100"/>
      <podcast:transcript url="5.vtt" type="text/vtt"/>
    </item>
  </channel>
</rss>
"""


def test_item_with_relative_link_and_enclosure_is_matched() -> None:
    entries = annotated(RELATIVE, FEED_URL)
    assert entries[0].guid == "https://example.org/shows/ep/5.html"
    assert entries[0].extra.get("transcripts") == [{"url": "https://example.org/shows/5.vtt", "type": "text/vtt"}]
