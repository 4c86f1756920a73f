"""Editing one entry of feeds.yaml in place: removing it (`catalog feeds remove`), or turning it off and
on (`catalog feeds disable|enable`, its `enabled:` key).

As in `catalog.sources.subscribe`, only the lines of that entry change: ruamel.yaml says where the entry
and its keys are, every other character of the file (comments, blank lines, quoting) stays as it was,
and the result is read back with `parse_config` before it replaces the file (atomically).
"""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from catalog.config import Config, parse_config
from catalog.errors import ConfigError
from catalog.files import atomic_write_text
from catalog.sources.subscribe import split_document_start


class _Entries:
    """feeds.yaml as lines, with where each feed entry is."""

    def __init__(self, config_path: Path) -> None:
        self.path = config_path
        try:
            self.text = config_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{config_path}: cannot read: {exc}") from exc
        self.config: Config = parse_config(self.text, config_path)  # a broken file is reported, with its line
        head, body = split_document_start(self.text)
        self.skipped = head.count("\n")
        try:
            data = YAML().load(body)
        except YAMLError as exc:
            raise ConfigError(f"{config_path}: catalog cannot edit this file: {exc}") from exc
        feeds = data.get("feeds") if isinstance(data, CommentedMap) else None
        self.feeds = feeds if isinstance(feeds, CommentedSeq) else CommentedSeq()
        self.lines = self.text.splitlines(keepends=True)

    def find(self, name: str) -> int:
        for index, entry in enumerate(self.feeds):
            if isinstance(entry, CommentedMap) and entry.get("name") == name:
                if self.feeds.fa.flow_style() or entry.fa.flow_style():
                    raise ConfigError(
                        f"{self.path}: the feeds of this file are written as a [...] or {{...}} list; "
                        f"catalog cannot edit {name!r} there",
                        hint="edit the file by hand",
                    )
                return index
        listed = ", ".join(feed.name for feed in self.config.feeds) or "none"
        raise ConfigError(f"no feed named {name!r} in {self.path}", hint=f"the feeds are: {listed}")

    def span(self, index: int) -> tuple[int, int]:
        """The lines [start, end) of entry `index`: its `- ` line and the lines after it indented like its keys
        (comments among them). Blank lines and less indented comments after it introduce what follows: they stay."""
        start = int(self.feeds.lc.item(index)[0]) + self.skipped
        column = int(self.feeds.lc.item(index)[1])
        end = start + 1
        for number in range(start + 1, len(self.lines)):
            line = self.lines[number]
            if line.strip() and len(line) - len(line.lstrip()) < column:
                break
            if line.strip():
                end = number + 1
        return start, end


def remove_entry(config_path: Path, name: str, *, write: bool = True) -> str:
    """Delete the feed `name` from feeds.yaml (its lines only); returns the new text. ConfigError if absent."""
    entries = _Entries(config_path)
    start, end = entries.span(entries.find(name))
    new_text = "".join(entries.lines[:start] + entries.lines[end:])
    if any(feed.name == name for feed in parse_config(new_text, config_path).feeds):
        raise ConfigError(f"{config_path}: {name!r} is still there after removing its lines; file unchanged")
    if write:
        atomic_write_text(config_path, new_text)
    return new_text


def set_enabled(config_path: Path, name: str, enabled: bool, *, write: bool = True) -> bool:
    """Set `enabled:` of the feed `name` in feeds.yaml; False when it already was so (the file is not written).

    An existing `enabled:` value is replaced where it stands; otherwise `enabled: false` is added on the
    line after the entry's last key, in the column of its keys.
    """
    entries = _Entries(config_path)
    index = entries.find(name)
    if next(feed for feed in entries.config.feeds if feed.name == name).enabled == enabled:
        return False
    entry = entries.feeds[index]
    word = "true" if enabled else "false"
    lines = entries.lines
    if "enabled" in entry:
        line, column = (int(n) for n in entry.lc.value("enabled"))
        line += entries.skipped
        old = lines[line][column:]
        length = len(old) - len(old.lstrip("\"'" + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        lines[line] = lines[line][:column] + word + lines[line][column + length :]
    else:
        last = list(entry)[-1]
        line = int(entry.lc.value(last)[0]) + entries.skipped
        column = int(entry.lc.key(next(iter(entry)))[1])
        if not lines[line].endswith("\n"):
            lines[line] += "\n"
        lines.insert(line + 1, " " * column + f"enabled: {word}\n")
    new_text = "".join(lines)
    written = next((feed for feed in parse_config(new_text, config_path).feeds if feed.name == name), None)
    if written is None or written.enabled != enabled:
        raise ConfigError(f"{config_path}: the change to {name!r} did not read back as written; file unchanged")
    if write:
        atomic_write_text(config_path, new_text)
    return True
