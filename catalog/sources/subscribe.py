"""Adding a source to feeds.yaml, or changing a feed's URL, without disturbing the rest of the file.

ruamel.yaml's round-trip mode keeps the comments, blank lines, key order and quoting; catalog appends
one entry to the `feeds:` list in the file's own indentation, checks the result with `parse_config`,
and only then replaces the file (atomically). A URL is changed in place: ruamel says where the value
is, and only those characters of the file are replaced.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.scalarstring import SingleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

from catalog.config import FeedSource, parse_config, url_key
from catalog.errors import ConfigError
from catalog.files import atomic_write_text
from catalog.sources.youtube import feed_url_for


def add_feed(config_path: Path, name: str, url: str, kind: str | None) -> None:
    """Append a feed entry to the `feeds:` list of feeds.yaml, keeping comments and layout.

    A missing or empty file gets a `feeds:` list. A feed already listed (same name, or the same URL
    as compared by `url_key`, enabled or not) is a ConfigError naming its line.
    """
    add_feeds(config_path, [(name, url, kind)])


def add_feeds(config_path: Path, new: list[tuple[str, str, str | None]], *, write: bool = True) -> str:
    """`add_feed` for several (name, url, kind) at once: one read, one check, one write; returns the new text.

    Nothing is fetched. The file is replaced only when `write`.
    """
    try:
        text = config_path.read_text(encoding="utf-8") if config_path.exists() else ""
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{config_path}: cannot read: {exc}") from exc
    current = parse_config(text, config_path)  # a broken file is reported as such, with its line
    editor = YAML()  # round-trip mode
    editor.preserve_quotes = True
    editor.width = 4096  # never fold a long line
    head, body = split_document_start(text)  # ruamel drops the comments above a `---` line: keep them here
    skipped = head.count("\n")
    try:
        data = editor.load(body)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{config_path}:{mark.line + 1 + skipped}" if mark is not None else str(config_path)
        problem = getattr(exc, "problem", None) or exc
        raise ConfigError(f"{where}: catalog cannot edit this file: {problem}") from exc
    feeds = data.get("feeds") if isinstance(data, CommentedMap) else None
    entries = []
    for name, url, kind in new:
        if isinstance(feeds, CommentedSeq):
            _refuse_duplicates(config_path, current.feeds, feeds, name, url, skipped)
        entry = CommentedMap([("name", _scalar(name)), ("url", _scalar(url))])
        if kind:
            entry["kind"] = _scalar(kind)
        entries.append(entry)
    sequence, offset = _indentation(data, body)
    editor.indent(mapping=2, sequence=sequence, offset=offset)
    out = io.StringIO()
    if isinstance(data, CommentedMap):
        if isinstance(feeds, CommentedSeq):
            for entry in entries:
                if len(feeds) and not feeds.fa.flow_style():
                    _move_trailing_comment(feeds[-1], entry)
                feeds.append(entry)
        else:  # no `feeds:` key, or `feeds:` with nothing after it
            data["feeds"] = CommentedSeq(entries)
        editor.dump(data, out)
        new_text = head + out.getvalue()
    else:  # an empty file, or only comments: keep them and add the list below
        editor.dump(CommentedMap([("feeds", CommentedSeq(entries))]), out)
        new_text = text + ("\n" if text and not text.endswith("\n") else "") + out.getvalue()
    written = {(feed.name, feed.url) for feed in parse_config(new_text, config_path).feeds}  # never write a
    for name, url, _kind in new:  # file we cannot read back
        if (name, url) not in written:
            raise ConfigError(f"{config_path}: the new entry for {name!r} did not read back as written; file unchanged")
    if write:
        atomic_write_text(config_path, new_text)
    return new_text


def set_feed_urls(config_path: Path, urls: dict[str, str], *, write: bool = True) -> str:
    """Give the feeds named in `urls` (name -> new URL) that URL in feeds.yaml; returns the new text.

    Every other character of the file stays as it was (comments, blank lines, quoting: a quoted URL
    stays quoted the same way). The result is read back with `parse_config` before it replaces the file
    (atomically), and only when `write`. A name that is not in the file is a ConfigError.
    """
    try:
        text = config_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config_path}: cannot read: {exc}") from exc
    parse_config(text, config_path)  # a broken file is reported as such, with its line
    head, body = split_document_start(text)
    skipped = head.count("\n")
    try:
        data = YAML().load(body)
    except YAMLError as exc:
        raise ConfigError(f"{config_path}: catalog cannot edit this file: {exc}") from exc
    feeds = data.get("feeds") if isinstance(data, CommentedMap) else None
    lines = text.splitlines(keepends=True)
    found = set()
    for entry in feeds if isinstance(feeds, CommentedSeq) else []:
        if not isinstance(entry, CommentedMap) or entry.get("name") not in urls or "url" not in entry:
            continue
        name = entry["name"]
        line, column = (int(n) for n in entry.lc.value("url"))
        line += skipped
        end = _scalar_end(lines[line], column, str(entry["url"]))
        if end is None:
            raise ConfigError(f"{config_path}:{line + 1}: catalog cannot edit the url of {name!r} (it spans lines)")
        lines[line] = lines[line][:column] + _url_text(lines[line][column], urls[name]) + lines[line][end:]
        found.add(name)
    missing = [name for name in urls if name not in found]
    if missing:
        raise ConfigError(f"{config_path}: no feed named {', '.join(missing)} with a url: to change")
    new_text = "".join(lines)
    written = {feed.name: feed.url for feed in parse_config(new_text, config_path).feeds}
    if any(written.get(name) != url for name, url in urls.items()):
        raise ConfigError(f"{config_path}: the new URLs did not read back as written; file unchanged")
    if write:
        atomic_write_text(config_path, new_text)
    return new_text


def _scalar_end(line: str, column: int, value: str) -> int | None:
    """Where the scalar starting at `column` of `line` ends (it holds `value`), or None if not on this line."""
    quote = line[column]
    if quote == "'":
        index = column + 1
        while (index := line.find("'", index)) != -1:
            if line[index + 1 : index + 2] != "'":
                return index + 1
            index += 2
        return None
    if quote == '"':
        index = column + 1
        while index < len(line) and line[index] != '"':
            index += 2 if line[index] == "\\" else 1
        return index + 1 if index < len(line) else None
    return column + len(value) if line[column:].startswith(value) else None


def _url_text(quote: str, url: str) -> str:
    """`url` as YAML, quoted as the value it replaces was (a plain value stays plain when YAML allows)."""
    if quote == '"':
        return '"' + url.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if quote == "'" or isinstance(_scalar(url), SingleQuotedScalarString) or any(c in url for c in " ,[]{}"):
        return "'" + url.replace("'", "''") + "'"
    return url


def _refuse_duplicates(
    path: Path, listed: list[FeedSource], entries: CommentedSeq, name: str, url: str, skipped: int
) -> None:
    """The URL (as `url_key` compares it, YouTube pages as their feeds) or the name is in the file already.

    `skipped`: lines of the file above the part ruamel read (see `split_document_start`).
    """
    wanted = url_keys(url)
    for index, feed in enumerate(listed):
        entry = entries[index] if index < len(entries) else None
        enabled_at = _line(entry, "enabled", skipped)
        hint = None if feed.enabled else f"set `enabled: true` on line {enabled_at} to fetch it"
        state = "" if feed.enabled else " (disabled)"
        if wanted & url_keys(feed.url):
            where = f"{path}:{_line(entry, 'url', skipped)}"
            raise ConfigError(f"{where}: {url} is already listed as {feed.name!r}{state}", hint=hint)
        if feed.name == name:
            also = "" if feed.enabled else f", or set `enabled: true` on line {enabled_at} to fetch the one listed"
            raise ConfigError(
                f"{path}:{_line(entry, 'name', skipped)}: a feed named {name!r} already exists{state}: {feed.url}",
                hint=f"pick another --name{also}",
            )


def url_keys(url: str) -> set[str]:
    """The URL as compared for duplicates, and the feed it stands for (a YouTube channel page's feed)."""
    keys = {url_key(url)}
    with contextlib.suppress(ConfigError):  # an @handle: only the address itself can match
        keys.add(url_key(feed_url_for(url)[0]))
    return keys


def _line(entry: Any, key: str, skipped: int) -> int | None:
    """The 1-based line in the file of `key` in a loaded entry (else of the entry itself)."""
    if not isinstance(entry, CommentedMap):
        return None
    if key in entry:
        return int(entry.lc.key(key)[0]) + 1 + skipped
    return int(entry.lc.line) + 1 + skipped


def split_document_start(text: str) -> tuple[str, str]:
    """(the lines up to and including a leading `---` line, the rest); ("", text) when there is none."""
    match = re.match(r"(?:[ \t]*(?:[#%][^\n]*)?\n)*---[ \t]*(?:#[^\n]*)?(?:\n|$)", text)
    return (text[: match.end()], text[match.end() :]) if match else ("", text)


def _move_trailing_comment(last: Any, entry: CommentedMap) -> None:
    """Blank lines and comments after the last entry that are less indented than its keys introduce what
    follows the list (ruamel keeps them with the entry): they move below the new entry. Comment lines
    indented like the entry's keys (`# enabled: false`) stay with it."""
    if not isinstance(last, CommentedMap) or not last:
        return
    slot = last.ca.items.get(list(last)[-1])
    token = slot[2] if slot and len(slot) > 2 else None
    if token is None:
        return
    lines = token.value.split("\n")  # [the end-of-line comment or "", the lines below..., ""]
    keep = 1
    while keep < len(lines) - 1 and lines[keep].strip() and len(lines[keep]) - len(lines[keep].lstrip()) >= last.lc.col:
        keep += 1
    if keep >= len(lines) - 1:
        return
    if keep == 1 and not lines[0].strip():
        slot[2] = None
    else:
        token.value = "\n".join(lines[:keep]) + "\n"
    entry.ca.items[list(entry)[-1]] = [None, None, CommentToken("\n" + "\n".join(lines[keep:]), CommentMark(0)), None]


def _indentation(data: Any, text: str) -> tuple[int, int]:
    """(sequence, offset) for ruamel: where the file's `feeds:` items start and where their '-' is.

    `feeds:\\n  - name: a` is (4, 2), `feeds:\\n- name: a` is (2, 0); a new list gets (4, 2).
    """
    feeds = data.get("feeds") if isinstance(data, CommentedMap) else None
    if isinstance(feeds, CommentedSeq) and len(feeds) and not feeds.fa.flow_style():
        key_column = int(data.lc.key("feeds")[1])
        line, column = (int(n) for n in feeds.lc.item(0))
        dash = text.splitlines()[line].rfind("-", 0, column)
        if dash >= key_column and column >= dash + 2:
            return column - key_column, dash - key_column
    return 4, 2


def _scalar(value: str) -> str:
    """`value` as a YAML string: quoted when YAML would read it back as something else (`127`, `true`, `null`).

    Asked of PyYAML, which parse_config reads with: it follows YAML 1.1, where `yes`, `on` and `0777` are
    not strings either (ruamel, on YAML 1.2, would write them plain).
    """
    try:
        reads_back = yaml.safe_load(value) == value
    except yaml.YAMLError:
        reads_back = False
    return value if reads_back else SingleQuotedScalarString(value)


def name_for(url: str) -> str:
    """A feed name from its URL: the site's first label (`nonzero`), a YouTube id's tail, or an address."""
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    for key in ("channel_id", "playlist_id", "user"):
        if key in query:
            return f"youtube-{query[key][0][-8:]}"
    host = (parsed.hostname or "").removeprefix("www.")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        label = host.split(".")[0]
    else:  # 127.0.0.1 must not become the name "127" (YAML would read it back as a number)
        label = "feed-" + host.replace(".", "-").replace(":", "-")
    if not label:
        label = Path(parsed.path).stem or "feed"
    return label


def unused(name: str, taken: set[str]) -> str:
    """`name`, or `name-2`, `name-3`... the first not in `taken` (a made-up name must not collide)."""
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name}-{number}"
    return candidate
