"""Adding a source to feeds.yaml without disturbing the rest of the file (comments and order are kept)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import yaml

from catalog.config import parse_config
from catalog.errors import ConfigError


def add_feed(config_path: Path, name: str, url: str, kind: str | None) -> None:
    """Append a feed entry to the `feeds:` list of feeds.yaml, keeping comments and layout."""
    text = config_path.read_text(encoding="utf-8") if config_path.exists() else ""
    current = parse_config(text, config_path)
    if any(feed.name == name for feed in current.feeds):
        raise ConfigError(f"{config_path}: a feed named {name!r} already exists", hint="pick another --name")
    if any(feed.url == url for feed in current.feeds):
        raise ConfigError(f"{config_path}: {url} is already in the list")
    entry = {"name": name, "url": url, **({"kind": kind} if kind else {})}
    new_text = _insert_entry(text, entry)
    parse_config(new_text, config_path)  # never write a file we cannot read back
    tmp = config_path.with_name(config_path.name + ".part")
    tmp.write_text(new_text, encoding="utf-8")
    os.replace(tmp, config_path)


def _insert_entry(text: str, entry: dict[str, str]) -> str:
    root = yaml.compose(text, Loader=yaml.SafeLoader) if text.strip() else None
    feeds_node = None
    if isinstance(root, yaml.MappingNode):
        feeds_node = next((v for k, v in root.value if getattr(k, "value", None) == "feeds"), None)
    if feeds_node is None:
        separator = "" if text.endswith("\n") or not text else "\n"
        return text + separator + "feeds:\n" + _block(entry, "  ")
    if not isinstance(feeds_node, yaml.SequenceNode) or feeds_node.flow_style or not feeds_node.value:
        raise ConfigError(
            "feeds.yaml: the feeds: list is not a plain block list, so catalog will not rewrite it",
            hint="add the entry by hand:\n" + _block(entry, "  "),
        )
    lines = text.splitlines(keepends=True)
    key_column = feeds_node.value[0].start_mark.column
    last = feeds_node.value[-1].end_mark
    at = last.line if last.column == 0 else last.line + 1
    if at > 0 and not lines[at - 1].endswith("\n"):
        lines[at - 1] += "\n"
    return "".join([*lines[:at], _block(entry, " " * key_column), *lines[at:]])


def _block(entry: dict[str, str], key_indent: str) -> str:
    """`- name: …` lines for one entry, its keys at `key_indent`."""
    lines = []
    for index, (key, value) in enumerate(entry.items()):
        lead = key_indent[:-2] + "- " if index == 0 else key_indent
        lines.append(f"{lead}{key}: {_scalar(value)}\n")
    return "".join(lines)


def _scalar(value: str) -> str:
    plain = re.fullmatch(r"[A-Za-z0-9_./~%+@-][\w./:?=&%~+@,-]*", value) and ": " not in value
    return value if plain else json.dumps(value)
