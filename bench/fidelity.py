"""Benchmark: fidelity of a real sync against feedparser and podcastparser, on the shared feed corpus.

Serves every feed document of ../shared/corpus/feeds (manifest.csv: article/, podcast/, youtube/,
edge/) from a local HTTP server, syncs them all into a new catalogue through the library API (what
`catalog sync --no-media` runs), then reads each document's bytes with feedparser and with
podcastparser (in a separate process, so feedparser runs without the date handler catalog
registers) and compares every stored item, field by field: title, link, date, enclosure URL,
body text present, GUID.

Prints agreement per field (counts and %), then every disagreement with its reason, categorised
automatically where a rule knows it (a choice we made, with why) and printed in full where none
does, for a person to review; and the totals the issue sets goals for: items silently dropped (in
feedparser's entries, missing from the catalogue, not merged for a stated reason), and dates
stored wrong (ours differs from feedparser and a third reading of the raw text agrees with it).

    python bench/fidelity.py
    python bench/fidelity.py --examples 10        # more examples per category
    python bench/fidelity.py --corpus DIR --json out.json
"""

from __future__ import annotations

import argparse
import calendar
import csv
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runs from a checkout too

CORPUS = ROOT.parent / "shared" / "corpus" / "feeds"
FOLDERS = ("article", "podcast", "youtube", "edge")
FIELDS = ("title", "link", "date", "enclosure", "body", "guid")
UTC = timezone.utc


# --- the reference readings (a child process: feedparser without catalog's date handler) ------------------


def reference(corpus: Path, files: list[str], base: str) -> dict[str, Any]:
    """feedparser's and podcastparser's reading of each file, as JSON-able dicts."""
    import feedparser
    import podcastparser  # type: ignore[import-untyped]

    from catalog.testing.localserver import TYPES  # the Content-Type the sync saw (no feedparser import)

    out: dict[str, Any] = {}
    for name in files:
        data = (corpus / name).read_bytes()
        url = f"{base}/{name}"
        parsed = feedparser.parse(data, response_headers={"content-type": TYPES.get(Path(name).suffix, "text/xml")})
        fp = []
        for raw in parsed.entries:
            when = raw.get("published_parsed") or raw.get("updated_parsed")
            media = [e.get("href") or e.get("url") for e in [*raw.get("enclosures", []), *raw.get("media_content", [])]]
            fp.append(
                {
                    "id": raw.get("id"),
                    "title": raw.get("title"),
                    "link": raw.get("link"),
                    "date": _iso(calendar.timegm(when)) if when else None,
                    "date_text": raw.get("published") or raw.get("updated"),
                    "enclosures": [m for m in media if m],
                    "enclosure_types": [e.get("type") for e in raw.get("enclosures", [])],
                    "body": bool(
                        (raw.get("summary") or "").strip() or any(c.get("value") for c in raw.get("content", []))
                    ),
                }
            )
        try:
            episodes = podcastparser.parse(url, BytesIO(data)).get("episodes", [])
            pp: list[dict[str, Any]] | str = [
                {
                    "id": e.get("guid"),
                    "title": e.get("title"),
                    "link": e.get("link"),
                    "date": _iso(e["published"]) if e.get("published") else None,
                    "enclosures": [x["url"] for x in e.get("enclosures", [])],
                    "body": bool((e.get("description") or e.get("description_html") or "").strip()),
                }
                for e in episodes
            ]
        except Exception as exc:  # podcastparser raises on any document expat refuses
            pp = f"{type(exc).__name__}: {str(exc)[:80]}"
        out[name] = {"feedparser": fp, "bozo": bool(parsed.get("bozo")), "podcastparser": pp}
    return out


def _iso(seconds: float) -> str | None:
    try:
        return datetime.fromtimestamp(seconds, tz=UTC).isoformat()
    except (OverflowError, ValueError, OSError):
        return None


# --- the sync --------------------------------------------------------------------------------------------


def feed_files(corpus: Path) -> list[str]:
    rows = csv.DictReader((corpus / "manifest.csv").open(encoding="utf-8"))
    return [row["file"] for row in rows if row["file"].split("/")[0] in FOLDERS and (corpus / row["file"]).exists()]


def feed_name(file: str) -> str:
    return file.rsplit(".", 1)[0].replace("/", "-")


def sync(corpus: Path, files: list[str], folder: Path) -> tuple[str, list[dict[str, Any]], list[tuple[str, str]]]:
    """Serve the corpus, sync it with media off; (base URL, stored items, failures)."""
    import yaml

    from catalog.app import Catalog
    from catalog.storage import driver
    from catalog.sync.report import SyncOptions
    from catalog.testing.localserver import LocalServer

    server = LocalServer(corpus).start()
    try:
        config = folder / "feeds.yaml"
        feeds = [{"name": feed_name(f), "url": server.url(f)} for f in files]
        config.write_text(yaml.safe_dump({"timeout_seconds": 10, "feeds": feeds}, sort_keys=False))
        with Catalog.open(config, folder / "catalog.db") as cat:
            report = cat.sync(SyncOptions(media=False))
        conn = driver.sqlite.connect(folder / "catalog.db")
        conn.row_factory = driver.sqlite.Row
        rows = [
            dict(row)
            for row in conn.execute(
                "SELECT f.name AS feed, i.guid, i.title, i.link, i.published, i.published_is, i.enclosure_url,"
                " i.body FROM items i JOIN feeds f ON f.id = i.feed_id ORDER BY i.id"
            )
        ]
        conn.close()
        return server.base, rows, report.failures + report.warnings
    finally:
        server.stop()


# --- comparing -------------------------------------------------------------------------------------------


@dataclass
class Tally:
    agree: Counter[tuple[str, str]] = field(default_factory=Counter)  # (parser, field)
    compared: Counter[tuple[str, str]] = field(default_factory=Counter)
    categories: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    dropped: list[str] = field(default_factory=list)
    wrong_dates: list[str] = field(default_factory=list)

    def note(self, parser: str, name: str, same: bool, category: str | None = None, example: str = "") -> None:
        self.compared[parser, name] += 1
        if same:
            self.agree[parser, name] += 1
        else:
            self.categories[f"{parser} {name}: {category or 'UNCATEGORISED'}"].append(example)


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _third_reading(text: str | None) -> datetime | None:
    """The raw date text read by the standard library alone (RFC 822, then ISO 8601): a tie-breaker."""
    if not text:
        return None
    found: datetime | None
    try:
        found = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        found = _when(text.strip())
    if found is not None and found.tzinfo is None:
        found = found.replace(tzinfo=UTC)
    return found


def _norm(text: Any) -> str:
    return " ".join(str(text or "").split())


def match_items(ours: list[dict[str, Any]], theirs: list[dict[str, Any]], url: str) -> Iterator[tuple[Any, Any]]:
    """(their entry, our row or None) for each of their entries; then (None, row) for rows left over."""
    from catalog.models import SHARED_GUID
    from catalog.sources.text import title_text

    pool: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in ours:
        pool[row["guid"].split(SHARED_GUID)[0]].append(row)
    used: set[int] = set()
    for entry in theirs:
        keys = [_norm(entry["id"]), urljoin(url, _norm(entry["link"])) if entry["link"] else ""]
        keys += [urljoin(url, e.strip()) for e in entry["enclosures"]]
        candidates = [row for key in keys if key for row in pool.get(key, []) if id(row) not in used]
        if not candidates:
            title = title_text(entry["title"])
            candidates = [row for row in ours if id(row) not in used and title and row["title"] == title]
        if len(candidates) > 1:
            title = title_text(entry["title"])
            candidates.sort(key=lambda row: (row["title"] != title, _when(row["published"]) != _when(entry["date"])))
        best = candidates[0] if candidates else None
        if best is not None:
            used.add(id(best))
        yield entry, best
    for row in ours:
        if id(row) not in used:
            yield None, row


def compare(parser: str, file: str, url: str, ours: list[dict[str, Any]], theirs: Any, tally: Tally) -> None:
    from catalog.models import SHARED_GUID
    from catalog.sources.text import title_text

    if isinstance(theirs, str):
        tally.categories[f"{parser}: cannot read the document (ours can)"].append(f"{file}: {theirs}")
        return
    kept: dict[str, dict[str, Any]] = {}
    pairs = list(match_items(ours, theirs, url))
    seen = {id(row) for entry, row in pairs if entry is not None and row is not None}
    paired: set[int] = set()
    for entry, row in pairs:
        if entry is None and id(row) in paired:
            continue
        where = f"{file}"
        if entry is None:
            why = "theirs keeps no item without a title or one media file" if parser == "podcastparser" else None
            tally.categories[f"{parser}: item only in ours ({why or 'see the entry missing beside it'})"].append(
                f"{where}: {row['guid']!r} {row['title']!r}"
            )
            continue
        key = _norm(entry["id"]) or _norm(entry["link"]) or "".join(entry["enclosures"])
        if row is None:
            row = _misdecoded(entry, ours, seen)
            if row is not None:
                seen.add(id(row))
                tally.note(parser, "title", False, "ours decoded the real encoding; theirs is mojibake", where)
        if row is None:
            first = kept.get(key)
            if not key and not _norm(entry["title"]):
                why = "dropped: no GUID, link, media or title (nothing to know it by)"
            elif first is not None and (title_text(entry["title"]), entry["date"]) == (first["title"], first["date"]):
                why = "merged: the same GUID, title and date repeated (first copy kept)"
            else:
                why = None
                if parser == "feedparser":
                    tally.dropped.append(f"{file}: id={entry['id']!r} title={entry['title']!r}")
            example = f"{where}: id={entry['id']!r} title={_norm(entry['title'])[:60]!r}"
            tally.categories[f"{parser} entry: {why or 'SILENTLY DROPPED'}"].append(example)
            continue
        kept.setdefault(key, {"title": title_text(entry["title"]), "date": entry["date"]})
        label = f"{where}: {row['guid'][:70]!r}"
        if id(row) in seen - {id(r) for e, r in pairs if e is entry}:
            paired.add(id(row))  # matched through mojibake: the title was noted already
        else:
            _title(parser, tally, label, row["title"], entry["title"], title_text, entry["enclosures"])
        _link(parser, tally, label, row["link"], urljoin(url, entry["link"].strip()) if entry["link"] else None, url)
        _date(parser, tally, label, row, entry)
        _enclosure(parser, tally, label, row["enclosure_url"], [urljoin(url, e.strip()) for e in entry["enclosures"]])
        _body(parser, tally, label, bool(row["body"]), entry["body"])
        _guid(parser, tally, label, row["guid"], _norm(entry["id"]) or None, SHARED_GUID, url)


CODECS = ("koi8-r", "cp1251", "gb2312", "gbk", "shift_jis", "iso-8859-2", "utf-8")


def _misdecoded(entry: dict[str, Any], ours: list[dict[str, Any]], seen: set[int]) -> dict[str, Any] | None:
    """Our row for an entry whose title the other parser decoded in the wrong encoding (windows-1252)."""
    theirs = _norm(entry["title"])
    for row in ours:
        if id(row) in seen or not row["title"]:
            continue
        for codec in CODECS:
            try:
                if row["title"].encode(codec).decode("cp1252", errors="replace") == theirs:
                    return row
            except UnicodeError:
                continue
    return None


def _title(parser: str, tally: Tally, label: str, ours: str | None, theirs: Any, clean: Any, media: list[str]) -> None:
    if _norm(ours) == _norm(theirs):
        tally.note(parser, "title", True)
    elif ours is None and any(Path(m.split("?")[0]).stem == theirs for m in media):
        tally.note(parser, "title", False, "theirs made one from the media file's name; ours keeps none", label)
    elif ours == clean(theirs):
        tally.note(parser, "title", False, "ours is their title's markup/entities as text", f"{label}: {theirs!r}")
    else:
        tally.note(parser, "title", False, None, f"{label}: ours {ours!r} vs {theirs!r}")


def _link(parser: str, tally: Tally, label: str, ours: str | None, theirs: str | None, url: str) -> None:
    if (ours or None) == (theirs or None):
        tally.note(parser, "link", True)
    elif theirs == url:
        tally.note(parser, "link", False, "theirs defaults to the feed's URL (ours: Atom rel=alternate)", label)
    elif ours and not theirs:
        tally.note(parser, "link", False, "only ours has a link", f"{label}: {ours!r}")
    elif theirs and not ours:
        tally.note(parser, "link", False, "only theirs has a link (a loss?)", f"{label}: {theirs!r}")
    elif ours and theirs and ours.strip() == theirs.strip().replace(" ", "%20"):
        tally.note(parser, "link", False, "spaces escaped", f"{label}: {theirs!r}")
    else:
        tally.note(parser, "link", False, None, f"{label}: ours {ours!r} vs {theirs!r}")


def _date(parser: str, tally: Tally, label: str, row: dict[str, Any], entry: dict[str, Any]) -> None:
    ours = _when(row["published"]) if row["published_is"] == "feed" else None
    theirs = _when(entry["date"])
    text = entry.get("date_text")
    example = f"{label}: ours {ours and ours.isoformat()} vs {theirs and theirs.isoformat()} (text {text!r})"
    if ours == theirs:
        tally.note(parser, "date", True)
        return
    third = _third_reading(text)
    if ours is None:
        if theirs is not None and theirs.year < 1900:
            tally.note(parser, "date", False, "a placeholder before 1900 is no date (first_seen)", example)
        else:
            tally.note(parser, "date", False, "LOST: theirs read a date, ours stored none", example)
            tally.wrong_dates.append(f"{parser} {example}")
    elif theirs is None:
        tally.note(parser, "date", False, "ours reads a date text theirs cannot (feed_dates)", example)
    elif third is not None and third == ours:
        tally.note(parser, "date", False, _why_theirs(ours, theirs), example)
    elif third is not None and third == theirs:
        tally.note(parser, "date", False, "WRONG: ours differs, the standard library agrees with theirs", example)
        tally.wrong_dates.append(f"{parser} {example}")
    elif abs((ours - theirs).total_seconds()) == 12 * 3600:
        tally.note(parser, "date", False, "12 hours apart: AM/PM read differently (theirs ignores PM?)", example)
    elif abs((ours - theirs).total_seconds()) % 3600 == 0 and abs((ours - theirs).total_seconds()) <= 14 * 3600:
        tally.note(parser, "date", False, "time zone read differently (whole hours apart)", example)
    else:
        tally.note(parser, "date", False, _why_theirs(ours, theirs, text) if text else None, example)


def _why_theirs(ours: datetime, theirs: datetime, text: str | None = None) -> str | None:
    if (theirs.month, theirs.day) == (1, 1) and ours.year == theirs.year:
        return "theirs kept the year only (their ISO handler)"
    if (ours.year, ours.month, ours.day) == (theirs.year, theirs.day, theirs.month):
        return "day and month read the other way round"
    if ours.date() == theirs.date():
        return "same day, time read differently"
    numbers = [int(n) for n in re.findall(r"\d+", text or "")]
    if _in_order([ours.year, ours.month, ours.day], numbers) and not _in_order([theirs.year, theirs.month], numbers):
        return "ours is the year, month and day written in the text; theirs is not"
    return None if text else "theirs read the text differently; the standard library agrees with ours"


def _in_order(wanted: list[int], numbers: list[int]) -> bool:
    found = iter(numbers)
    return all(any(n == w for n in found) for w in wanted)


def _enclosure(parser: str, tally: Tally, label: str, ours: str | None, theirs: list[str]) -> None:
    first = theirs[0] if theirs else None
    if ours == first:
        tally.note(parser, "enclosure", True)
    elif ours and ours in theirs:
        tally.note(parser, "enclosure", False, "ours is the first audio/video of several", f"{label}: {theirs}")
    elif ours is None and first:
        why = "theirs is not audio/video (or not fetchable): not taken"
        tally.note(parser, "enclosure", False, why, f"{label}: {theirs}")
    elif ours and not first:
        tally.note(parser, "enclosure", False, "only ours has one", f"{label}: {ours!r}")
    else:
        tally.note(parser, "enclosure", False, None, f"{label}: ours {ours!r} vs {theirs}")


def _body(parser: str, tally: Tally, label: str, ours: bool, theirs: bool) -> None:
    if ours == theirs:
        tally.note(parser, "body", True)
    elif ours:
        tally.note(parser, "body", False, "only ours has text (content, media:description or summary)", label)
    else:
        tally.note(parser, "body", False, "only theirs has some: markup with no text in it?", label)


def _guid(parser: str, tally: Tally, label: str, ours: str, theirs: str | None, shared: str, url: str) -> None:
    if ours == theirs:
        tally.note(parser, "guid", True)
    elif theirs == url:
        tally.note(parser, "guid", False, "theirs is the feed's URL (their link default)", label)
    elif theirs and theirs == urljoin(url, ours):
        tally.note(
            parser, "guid", False, "theirs resolved the GUID against the feed URL; ours keeps it as written", label
        )
    elif theirs and ours == urljoin("/", theirs) and ours != theirs:
        why = "NOT CHOSEN: ours is feedparser's id resolved against a leaked xml:base"
        tally.note(parser, "guid", False, why, f"{label}: ours {ours!r}, the document {theirs!r}")
    elif theirs and ours.startswith(theirs + shared):
        tally.note(parser, "guid", False, "ours has a #dup- suffix: entries sharing a GUID kept apart", label)
    elif theirs is None:
        tally.note(parser, "guid", False, "no GUID in the feed: ours is the link, media URL or title hash", label)
    elif ours.startswith("title:") or not theirs:
        tally.note(parser, "guid", False, "theirs is derived: ours the title hash", label)
    else:
        tally.note(parser, "guid", False, None, f"{label}: ours {ours!r} vs {theirs!r}")


# --- printing --------------------------------------------------------------------------------------------


def print_report(tally: Tally, files: int, items: int, problems: list[tuple[str, str]], examples: int) -> None:
    print(f"{files} documents synced; {items} items stored")
    for what, message in problems:
        print(f"  sync: {what}: {message[:160]}")
    print(f"\n{'field':<10}" + "".join(f"{p + ' agree':>28}" for p in ("feedparser", "podcastparser")))
    for name in FIELDS:
        cells = []
        for parser in ("feedparser", "podcastparser"):
            agree, compared = tally.agree[parser, name], tally.compared[parser, name]
            pct = 100 * agree / compared if compared else 0.0
            cells.append(f"{agree}/{compared} ({pct:.1f}%)")
        print(f"{name:<10}" + "".join(f"{cell:>28}" for cell in cells))
    print(
        "\ndisagreements by reason (count, then examples; all of them for UNCATEGORISED, NOT CHOSEN, SILENTLY"
        " DROPPED, LOST and WRONG):"
    )
    for category, found in sorted(tally.categories.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        full = any(word in category for word in ("UNCATEGORISED", "SILENTLY", "LOST", "WRONG", "NOT CHOSEN"))
        print(f"  {len(found):5}  {category}")
        for example in found if full else found[:examples]:
            print(f"           {example[:300]}")
    print(
        f"\nitems silently dropped (feedparser entries missing from the catalogue, unexplained): {len(tally.dropped)}"
    )
    print(f"dates stored wrong or lost (against feedparser or podcastparser): {len(tally.wrong_dates)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--corpus", type=Path, default=CORPUS, help="folder with manifest.csv (default: the shared corpus)"
    )
    parser.add_argument("--examples", type=int, default=3, help="examples printed per explained category")
    parser.add_argument("--json", type=Path, help="also write the disagreements to this file")
    parser.add_argument("--reference", help=argparse.SUPPRESS)  # internal: the child process's base URL
    args = parser.parse_args()
    files = feed_files(args.corpus)
    if args.reference:
        json.dump(reference(args.corpus, files, args.reference), sys.stdout)
        return 0
    with tempfile.TemporaryDirectory(prefix="catalog-fidelity-") as tmp:
        base, rows, problems = sync(args.corpus, files, Path(tmp))
    child = subprocess.run(
        [sys.executable, __file__, "--corpus", str(args.corpus), "--reference", base],
        capture_output=True,
        text=True,
        check=True,
    )
    readings = json.loads(child.stdout)
    by_feed: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_feed[row["feed"]].append(row)
    tally = Tally()
    for file in files:
        ours = by_feed.get(feed_name(file), [])
        for reader in ("feedparser", "podcastparser"):
            compare(reader, file, f"{base}/{file}", ours, readings[file][reader], tally)
    print_report(tally, len(files), len(rows), problems, args.examples)
    if args.json:
        args.json.write_text(json.dumps({"categories": tally.categories, "dropped": tally.dropped}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
