"""Feeds as the world writes them, and queries as people type them: Hypothesis strategies, and the
properties they are checked against, shared by tests/test_fuzz.py (a few hundred cases, in CI) and
bench/fuzz.py (tens of thousands).

Needs `hypothesis`, a dev dependency (`pip install -e '.[dev]'`): import this module only from tests
and benchmarks. catalog itself never imports catalog.testing.

The properties:
- `check_feed`: parse_feed raises nothing but FeedParseError, and what it returns is bounded by what
  came in (no more entries than item/entry tags, no string over 5x the document's bytes + 100);
- `check_query`: parse_query and Query.match raise nothing but SearchQueryError, and the MATCH
  expression grows at most linearly with the query;
- `check_search`: a search of a real (small) catalogue raises nothing but SearchQueryError, with or
  without --raw, so no sqlite3.OperationalError reaches a user.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st
from sqlite_utils import Database

from catalog.errors import FeedParseError, SearchQueryError
from catalog.models import Entry
from catalog.sources.feed_parser import parse_feed
from catalog.storage import feeds as feed_store
from catalog.storage import items as item_store
from catalog.storage.database import connect, write
from catalog.storage.query import parse_query
from catalog.storage.search import search

FEED_URL = "http://127.0.0.1:8000/feeds/fuzz.xml"
# A string field may be the whole document's text, resolved against the feed URL (links), or given a
# suffix of our own (`#dup-<mark>` for a shared GUID, `title:<sha1>` for an item with no identity); and
# feedparser's loose parser (a document that is not well-formed XML) writes each "&" of a CDATA section
# as "&amp;" in a GUID: up to 5 characters a byte (bench/fuzz.py found 1.34x with "&#23383;" runs).
FIELD_FACTOR = 5
FIELD_SLACK = len(FEED_URL) + 64
# Measured (bench/fuzz.py and a search over phrases of numbers): the MATCH expression is at most ~250
# characters per query character, for a phrase of numbers ('"1977 1977"': 11 -> 2,718), each spelled
# in digits and words for every analyser, MAX_SPELLINGS (16) spellings a phrase. Linear: no blow-up.
MATCH_PER_CHAR = 256
MATCH_SLACK = 1_000
ANALYSERS = ["", "german", "portuguese", "hindi"]  # the analysers of the catalogue searched

# --- text as feeds carry it ---------------------------------------------------------------------------

ENTITIES = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&nbsp;", "&eacute;", "&bogus;", "&#0;", "&#x1F600;",
            "&#xD800;", "&#1114112;", "&#65;", "&", "&#", "&amp;amp;", "&lt;p&gt;"]  # fmt: skip
MARKUP = ["<p>", "</p>", "<br>", "<br/>", "<b>", "</i>", "<script>x</script>", "<![CDATA[", "]]>", "<!--", "-->",
          "<?pi ?>", "<!DOCTYPE x>", "<img src='a.png' alt='caption'>", "<a href='/rel'>", "</a>"]  # fmt: skip
CONTROL = [chr(c) for c in [*range(0, 32), 0x7F, 0x85, 0xFFFE, 0xFFFF, 0x200B, 0x202E, 0xFEFF]]
DATES = ["Mon, 06 Sep 2010 00:01:00 +0000", "2020-01-10T10:00:00Z", "2020-01-10", "10/01/2020", "Tue, 31 Feb 2021",
         "yesterday", "", "0000-00-00", "Mon, 06 Sep 10 00:01:00 GMT", "20200110T100000", "9999-12-31T23:59:59+14:00",
         "Sat, 1 Jan 0001 00:00:00 GMT", "1e400", "2021-13-45T99:99:99"]  # fmt: skip
URLS = ["http://example.com/a.mp3", "/relative/b.mp4", "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "rtsp://x/y",
        "data:audio/mp3;base64,AAAA", "javascript:alert(1)", "", " http://spaced.example/ ", "mailto:a@b",
        "http://[::1", "//proto.relative/x.m4a", "ftp://host/file.ogg"]  # fmt: skip

# Few draws per document: generating the data, not parsing it, is most of a case's time.
REPEATS = [0, 1, 2, 10, 100, 100, 5_000]  # a value mostly short, sometimes huge
fragments = st.one_of(
    st.text(max_size=16),
    st.sampled_from(ENTITIES + MARKUP + DATES + URLS),
    st.sampled_from(CONTROL),
    st.builds(
        lambda c, n: c * n, st.sampled_from(["a", "é", "字", "&amp;", "<p>", " ", "\n"]), st.sampled_from(REPEATS)
    ),
)
texts = st.lists(fragments, max_size=4).map("".join)
cdata = st.builds(lambda t, close: f"<![CDATA[{t}" + ("]]>" if close else ""), texts, st.integers(0, 5).map(bool))
values = st.one_of(texts, texts, cdata, st.builds("".join, st.lists(st.one_of(texts, cdata), max_size=3)))

NAMES = ["title", "link", "guid", "id", "pubDate", "published", "updated", "dc:date", "description", "summary",
         "content", "content:encoded", "enclosure", "media:content", "media:group", "media:description",
         "itunes:duration", "itunes:summary", "author", "dc:creator", "yt:videoId", "category", "source",
         "podcast:transcript", "podcast:chapters", "atom:link", "item", "entry", "x", "a:b:c", "1bad",
         "rss:title"]  # fmt: skip
ATTRIBUTES = ["url", "href", "type", "length", "rel", "isPermaLink", "medium", "xml:base", "xml:lang", "xmlns",
              "xmlns:media", "version", "src", "b:c", "1"]  # fmt: skip
TYPES = ["audio/mpeg", "video/mp4", "text/html", "html", "xhtml", "text", "text/plain", "", "application/x-junk"]
element_names = st.one_of(
    st.sampled_from(NAMES), st.sampled_from(NAMES), st.text("abcxyzABC_:-.1é", min_size=1, max_size=8)
)
attribute_values = st.one_of(st.sampled_from(URLS + TYPES + DATES), st.sampled_from(URLS + TYPES), texts)


def _attr_text(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;") if len(value) % 3 else value  # some unescaped


attributes = st.lists(
    st.builds(lambda n, v: f' {n}="{_attr_text(v)}"', st.sampled_from(ATTRIBUTES), attribute_values), max_size=3
).map("".join)


def _element(name: str, attrs: str, inner: str, shape: int) -> str:
    if shape == 0:
        return f"<{name}{attrs}/>"
    if shape == 1:
        return f"<{name}{attrs}>{inner}"  # never closed
    if shape == 2:
        return f"<{name}{attrs}>{inner}</{name.upper()}>"  # closed with the wrong case
    return f"<{name}{attrs}>{inner}</{name}>"


elements = st.recursive(
    st.builds(_element, element_names, attributes, values, st.sampled_from([0, 1, 2, *[3] * 9])),
    lambda inner: st.builds(
        _element, element_names, attributes, st.lists(inner, max_size=3).map("".join), st.sampled_from([1, *[3] * 9])
    ),
    max_leaves=8,
)
FIELDS = ["title", "guid", "id", "link", "pubDate", "published", "updated", "dc:date", "description", "summary",
          "content:encoded", "content", "itunes:duration", "author"]  # fmt: skip
fields = st.one_of(
    st.builds(lambda name, value: f"<{name}>{value}</{name}>", st.sampled_from(FIELDS), values),
    st.builds(lambda name, value: f"<{name}>{value}</{name}>", st.sampled_from(["pubDate", "published"]),
              st.sampled_from(DATES)),
    st.builds(lambda name, url, kind: f'<{name} url="{url}" href="{url}" type="{kind}" length="12"/>',
              st.sampled_from(["enclosure", "media:content", "link"]), st.sampled_from(URLS), st.sampled_from(TYPES)),
)  # fmt: skip
items = st.builds(
    lambda tag, attrs, children, shape: _element(tag, attrs, "".join(children), shape),
    st.sampled_from(["item", "entry", "item", "entry", "rss:item", "atom:entry", "Item"]),
    attributes,
    st.lists(st.one_of(fields, fields, elements), max_size=6),
    st.sampled_from([1, *[3] * 9]),
)
ROOTS = {
    "rss": ('<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/" xmlns:itunes="http://www.itunes.com/dtds/'
            'podcast-1.0.dtd" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>',
            "</channel></rss>"),
    "atom": ('<feed xmlns="http://www.w3.org/2005/Atom">', "</feed>"),
    "rdf": ('<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">'
            "<channel><title>t</title></channel>", "</rdf:RDF>"),
    "rss091": ('<rss version="0.91"><channel>', "</channel></rss>"),
    "bare": ("", ""),
    "html": ("<html><body>", "</body></html>"),
}  # fmt: skip


@st.composite
def documents(draw: st.DrawFn) -> str:
    """An RSS/Atom-shaped document as text: a root, feed-level elements, items of random elements."""
    opening, closing = ROOTS[draw(st.sampled_from(["rss", "atom", "rss", "atom", "rdf", "rss091", "bare", "html"]))]
    head = "".join(draw(st.lists(elements, max_size=3)))
    body = "".join(draw(st.lists(st.one_of(items, items, elements), max_size=10)))
    if draw(st.integers(0, 4)) == 0:
        closing = closing[: draw(st.integers(0, len(closing)))]  # cut short
    return opening + head + body + closing


ENCODINGS = ["utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "iso-8859-1", "windows-1252", "koi8-r", "gb2312",
             "shift_jis", "ascii", "utf-7", "no-such-encoding", ""]  # fmt: skip
REAL_ENCODINGS = [
    "utf-8",
    "utf-16-le",
    "utf-16-be",
    "utf-32",
    "iso-8859-1",
    "windows-1252",
    "koi8-r",
    "gb2312",
    "ascii",
]
BOMS = [b"", b"", b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\xef\xbb"]
JUNK = [b"\xff", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x00", b"\x80\x81", b"\xc0\xaf"]


@st.composite
def feed_bytes(draw: st.DrawFn) -> bytes:
    """A feed document's bytes: declared in one encoding (or none), written in another (or the same),
    maybe with a BOM, maybe with invalid bytes spliced in, maybe cut off."""
    text = draw(documents())
    declared = draw(st.sampled_from(ENCODINGS))
    if draw(st.integers(0, 4)):  # mostly an XML declaration, sometimes after blank lines
        blank = draw(st.sampled_from(["", "", "\n\n", " "]))
        text = f'{blank}<?xml version="1.0"' + (f' encoding="{declared}"' if declared else "") + "?>" + text
    actual = (
        draw(st.sampled_from([declared, *REAL_ENCODINGS]))
        if declared in REAL_ENCODINGS
        else draw(st.sampled_from(REAL_ENCODINGS))
    )
    data = text.encode(actual, errors=draw(st.sampled_from(["replace", "xmlcharrefreplace", "ignore"])))
    data = draw(st.sampled_from(BOMS)) + data
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 3]))):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from(JUNK)) + data[at:]
    if draw(st.integers(0, 9)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return data


feed_inputs = st.one_of(feed_bytes(), feed_bytes(), feed_bytes(), st.binary(max_size=2000))

# --- queries as people type them ------------------------------------------------------------------------

QUERY_WORDS = ["ceasefire", "cease-fire", "negotiat*", "Zelensky", "twenty", "twenty-four", "hundred", "and",
               "ten", "10", "2024", "1990", "3rd", "first", "thousand", "million", "OR", "AND", "NOT", "NEAR",
               "NEAR(a b, 5)", "-", "*", "\"", "-\"a phrase\"", "(", ")", "{", "}", ":", "^", "idx_body:", "+",
               "São", "Kyiv", "纪念币", "चुनाव", "Straße", "ß", "ﬁ", "İ", "e\u0301", "\u0000", "''", "\"\"", "x*y",
               "99999999999999999999", "0", "-0", "1,000", "1.5", "½", "²", "٣", "_", "__", "a_b"]  # fmt: skip
query_parts = st.one_of(
    st.sampled_from(QUERY_WORDS),
    st.text(max_size=12),
    st.integers(-(10**25), 10**25).map(str),
    st.from_regex(r"-?\"[^\"]{0,20}\"?", fullmatch=True),
)
NUMBERS = ["1977", "777777", "100777", "7th", "seventy-seven", "twenty", "twenty-four", "one", "hundred", "and",
           "first", "13", "2024", "10"]  # fmt: skip
queries = st.one_of(
    st.lists(query_parts, max_size=12).map(" ".join),
    st.lists(st.sampled_from(NUMBERS), min_size=1, max_size=6).map(lambda words: '"' + " ".join(words) + '"'),
    st.lists(
        st.sampled_from(["twenty", "twenty-four", "one", "hundred", "and", "10", "2024", "first"]), max_size=30
    ).map(" ".join),
    st.text(max_size=60),
)

# --- the properties ----------------------------------------------------------------------------------------

_ITEM_TAG = re.compile(r"<\s*(?:[\w.-]+:)?(?:item|entry)\b", re.I)


def item_tags(data: bytes) -> int:
    """How many item/entry start tags the bytes hold, read in any encoding a parser might pick."""
    counts = [len(_ITEM_TAG.findall(data.decode(codec, errors="ignore"))) for codec in ("latin-1", *REAL_ENCODINGS)]
    return max(counts)


@dataclass
class Sizes:
    """The largest outputs seen, for the benchmark's report."""

    entries: int = 0
    entries_over_tags: int = 0  # entries beyond the item tags counted (0: never more)
    field_ratio: float = 0.0  # longest string field / input bytes
    match_chars: int = 0
    match_per_char: float = 0.0
    match_query: str = ""
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def _strings(entry: Entry) -> list[str]:
    values = [entry.guid, entry.title, entry.author, entry.published, entry.link, entry.body, entry.enclosure_url,
              entry.enclosure_type, entry.youtube_id, entry.language, *map(str, entry.extra.values())]  # fmt: skip
    return [value for value in values if value]


def check_feed(data: bytes, sizes: Sizes | None = None) -> None:
    """parse_feed on `data` raises only FeedParseError, and its output is bounded by its input."""
    sizes = sizes if sizes is not None else Sizes()
    try:
        parsed = parse_feed(data, url=FEED_URL)
    except FeedParseError:
        sizes.count("FeedParseError")
        return
    sizes.count("parsed, with a warning" if parsed.warning else "parsed")
    tags = item_tags(data)
    assert len(parsed.entries) <= tags, f"{len(parsed.entries)} entries from {tags} item/entry tags"
    sizes.entries = max(sizes.entries, len(parsed.entries))
    feed_fields = [parsed.title, parsed.link, parsed.language]  # the warning is ours, and may quote the input
    for entry in parsed.entries:
        for value in _strings(entry):
            assert len(value) <= FIELD_FACTOR * len(data) + FIELD_SLACK, f"{len(value)} chars from {len(data)} bytes"
            sizes.field_ratio = max(sizes.field_ratio, len(value) / max(len(data), 1))
    for field_value in feed_fields:
        if field_value:
            assert len(field_value) <= FIELD_FACTOR * len(data) + FIELD_SLACK, (
                f"a feed field of {len(field_value)} chars from {len(data)} bytes"
            )


def check_query(text: str, sizes: Sizes | None = None) -> None:
    """parse_query and Query.match raise only SearchQueryError; the expression is linear in the query."""
    sizes = sizes if sizes is not None else Sizes()
    try:
        query = parse_query(text)
        expressions = [query.match(ANALYSERS), query.match(ANALYSERS, columns="{idx_heading}")]
    except SearchQueryError:
        sizes.count("SearchQueryError")
        return
    sizes.count("compiled")
    longest = max(map(len, expressions))
    bound = MATCH_PER_CHAR * len(text) + MATCH_SLACK
    assert longest <= bound, f"MATCH expression of {longest} chars for a query of {len(text)} (bound {bound})"
    if longest > sizes.match_chars:
        sizes.match_chars = longest
    if longest / max(len(text), 1) > sizes.match_per_char and len(text) >= 8:
        sizes.match_per_char, sizes.match_query = longest / len(text), text


def small_catalogue(folder: Path | None = None) -> Database:
    """A catalogue of a few items in four languages (numbers, compounds, CJK), for check_search."""
    folder = Path(folder or tempfile.mkdtemp(prefix="catalog-fuzz-"))
    db = connect(folder / "fuzz.db")
    texts = {
        "en": "Twenty twenty-four: the ceasefire talks in Kyiv, 10 envoys and a cease-fire at 3rd try.",
        "de": "Die Waffenstillstandsverhandlungen in Kyjiw gehen weiter, sagt die Straße.",
        "pt": "São Paulo: negociações de cessar-fogo em 2024.",
        "hi": "चुनाव आयोग ने नतीजे घोषित किए",
        "zh": "纪念币发行 2024",
    }
    with write(db):
        for language, body in texts.items():
            feed_id = feed_store.ensure_feed(db, f"feed-{language}", f"http://127.0.0.1/{language}.xml", None)["id"]
            entry = Entry(guid=f"{language}-1", kind="article", title=f"News {language}", author=None,
                          published="2024-05-01T10:00:00Z", link=None, body=body, language=language)  # fmt: skip
            item_store.save_entries(db, feed_id, [entry])
    return db


def check_search(db: Database, text: str, sizes: Sizes | None = None) -> None:
    """A search of `db` for `text`, plain and --raw, raises nothing but SearchQueryError."""
    sizes = sizes if sizes is not None else Sizes()
    for raw in (False, True):
        try:
            search(db, text, raw=raw, limit=5)
            sizes.count("searched (raw)" if raw else "searched")
        except SearchQueryError:
            sizes.count("SearchQueryError (raw)" if raw else "SearchQueryError")
