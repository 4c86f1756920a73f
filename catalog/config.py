"""feeds.yaml: the typed settings model and its loader.

Validation errors name the file and the line of the offending value, because a user
editing YAML by hand needs to know where to look.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse, urlsplit, urlunsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from catalog.errors import ConfigError
from catalog.paths import DEFAULT_DATABASE, config_folder, resolve_setting

Kind = Literal["article", "podcast", "video"]


class FeedSource(BaseModel):
    """One entry of the `feeds:` list."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Short unique name, used by `--feed` and in search results.", min_length=1)
    url: str = Field(description="http(s) URL of the feed, a file: URL, or a path relative to feeds.yaml (offline).")
    kind: Kind | None = Field(
        default=None,
        description="article, podcast or video; inferred per item from enclosures when absent.",
    )
    enabled: bool = Field(default=True, description="Set to false to keep a feed listed but skip it.")
    backlog: int | None = Field(
        default=None,
        ge=0,
        description="On this feed's first sync, download and transcribe only its newest N episodes (overrides "
        "the top-level `backlog`); older ones are indexed from their text until `catalog fetch ITEM_ID`.",
    )

    @field_validator("url")
    @classmethod
    def _url_scheme(cls, value: str) -> str:
        scheme = urlparse(value).scheme.lower()
        if scheme in ("http", "https", "file", ""):
            return value
        if len(scheme) == 1:  # a Windows drive letter, C:\feeds\x.xml
            return value
        raise ValueError(f"unsupported URL scheme {scheme!r}: use http(s), file: or a local path")


class Settings(BaseModel):
    """Everything in feeds.yaml. Paths are relative to the file itself."""

    model_config = ConfigDict(extra="forbid")

    database: str = Field(default=DEFAULT_DATABASE, description="SQLite catalogue file.")
    media_dir: str = Field(default="media", description="Where downloaded audio and video are kept.")
    keep_media: bool = Field(default=True, description="Keep media files after transcription.")
    model: str = Field(
        default="tiny.en",
        description="Whisper model: tiny.en (bundled, offline), a faster-whisper name such as small.en "
        "or large-v3-turbo (needs the model cached locally), or a path to a CTranslate2 model folder.",
    )
    compute_type: str = Field(default="int8", description="CTranslate2 compute type (int8, int8_float32, float32).")
    cpu_threads: int = Field(default=0, ge=0, description="Whisper CPU threads; 0 means one per core.")
    device: str = Field(
        default="cpu",
        description="Where Whisper runs: cpu, or cuda (a GPU worker's own feeds.yaml, with compute_type: float16).",
    )
    cluster: str | None = Field(
        default=None,
        description="A Dask scheduler (tcp://HOST:8786) to send transcription to; the same as `sync --cluster`. "
        "Needs the `cluster` extra; unset, Whisper runs in this process.",
    )
    cluster_resources: dict[str, float] = Field(
        default_factory=dict,
        description="Dask worker resources each transcription needs, e.g. {GPU: 1}: then only workers started "
        "with `--resources GPU=1` get them.",
    )
    publisher_transcripts: bool = Field(
        default=True,
        description="Use the transcript a podcast feed links to (podcast:transcript) instead of running Whisper.",
    )
    beam_size: int = Field(
        default=2, ge=1, le=10, description="Whisper beam size (2: measured best speed for its accuracy)."
    )
    user_agent: str = Field(default="", description="HTTP User-Agent; empty means catalog's own.")
    timeout_seconds: float = Field(default=30.0, gt=0, description="Per-request network timeout.")
    feed_max_bytes: int = Field(default=20_000_000, gt=0, description="Largest feed document accepted.")
    max_pages: int = Field(
        default=10,
        ge=1,
        description='Pages of a paged feed (RFC 5005, <atom:link rel="next">) read on its first sync, for the '
        "back catalogue; later syncs read the first page only. Next pages on another host are not read. 1: no paging.",
    )
    media_max_bytes: int = Field(default=2_000_000_000, gt=0, description="Largest media file accepted.")
    max_duration_minutes: float = Field(default=300, gt=0, description="Longer media is refused before decoding.")
    max_items: int | None = Field(default=None, ge=1, description="Media items to process per sync at most.")
    backlog: int | None = Field(
        default=None,
        ge=0,
        description="On a feed's first sync, download and transcribe only its newest N episodes (by published "
        "date); the older ones are stored and indexed from their text only, until `catalog fetch ITEM_ID`. "
        "Later syncs get the media of every new episode. None: every episode.",
    )
    max_minutes: float | None = Field(default=None, gt=0, description="Stop starting new work after this long.")
    max_attempts: int = Field(default=5, ge=1, description="Failures before an item or feed is given up on.")
    allow_private_networks: bool = Field(
        default=False,
        description="Let addresses found inside feeds (enclosures, transcripts, chapters, video pages) reach "
        "loopback, private, link-local and other non-public networks. Off, such an address is refused unless it "
        "is on the host of the feed's own URL; the URLs in feeds.yaml are always trusted.",
    )
    feeds: list[FeedSource] = Field(default_factory=list, description="The sources to follow.")

    @model_validator(mode="after")
    def _unique_names(self) -> Settings:
        seen: set[str] = set()
        for feed in self.feeds:
            if feed.name in seen:
                raise ValueError(f"feed name {feed.name!r} is used twice; names must be unique")
            seen.add(feed.name)
        return self


class Config:
    """Loaded settings plus the folder that relative paths are resolved against."""

    def __init__(self, settings: Settings, base_dir: Path, path: Path | None = None) -> None:
        self.settings = settings
        self.base_dir = base_dir
        self.path = path

    @property
    def feeds(self) -> list[FeedSource]:
        return self.settings.feeds

    def resolve(self, value: str) -> Path:
        return resolve_setting(self.base_dir, value)

    @property
    def database_path(self) -> Path:
        return self.resolve(self.settings.database)

    @property
    def media_dir(self) -> Path:
        return self.resolve(self.settings.media_dir)

    def model_path_or_name(self) -> str:
        """A model name resolves to a folder when it looks like a path that exists."""
        model = self.settings.model
        if "/" in model or os.sep in model or model.startswith("."):
            return str(self.resolve(model))
        return model


def load_config(path: Path | str, *, must_exist: bool = True) -> Config:
    """Read and validate a feeds.yaml. Errors carry the file name and line."""
    path = Path(path)
    if not path.exists():
        if must_exist:
            raise ConfigError(
                f"config file not found: {path}",
                hint="create one (see README, 'feeds.yaml') or pass --config PATH",
            )
        return Config(Settings(), config_folder(path), None)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> Config:
    """Validate feeds.yaml text; every error names `path:line:` and says what to change."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(_yaml_syntax_message(exc, text, path)) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: expected a mapping with a 'feeds:' list, got {type(data).__name__}")
    if "feeds" in data and data["feeds"] is None:  # `feeds:` with every entry commented out
        data["feeds"] = []
    _check_duplicates(data.get("feeds"), node, path)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        # A misspelt key explains the "Field required" that comes with it, so unknown keys go first.
        errors = sorted(exc.errors(), key=lambda error: error["type"] != "extra_forbidden")
        problems = [_problem(error, node, path) for error in errors[:MAX_PROBLEMS]]
        if len(errors) > MAX_PROBLEMS:
            problems.append(f"... and {len(errors) - MAX_PROBLEMS} more")
        raise ConfigError("\n".join(problems)) from exc
    return Config(settings, config_folder(path), path.resolve())


MAX_PROBLEMS = 10  # a config error lists this many problems, each on its own line


def _problem(error: Any, node: yaml.Node | None, path: Path) -> str:
    """One validation problem as `file:line: field: what is wrong`."""
    loc = tuple(error["loc"])
    line = _line_of(node, loc)
    where = f"{path}:{line}" if line else str(path)
    if error["type"] == "extra_forbidden" and loc:
        parent = ".".join(str(part) for part in loc[:-1])
        field = f"{parent}: " if parent else ""
        return f"{where}: {field}{_unknown_key(loc)}"
    field = ".".join(str(part) for part in loc) or "(top level)"
    return f"{where}: {field}: {re.sub(r'^Value error, ', '', error['msg'])}"


def url_key(url: str) -> str:
    """A feed URL as compared for duplicates: no surrounding space or trailing '/', scheme and host lower-case."""
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, parts.fragment)).rstrip("/")


def _unknown_key(loc: tuple[Any, ...]) -> str:
    """Say "unknown setting 'kindd' (did you mean 'kind'?)", or list the valid settings when none is close."""
    key = str(loc[-1])
    model: type[BaseModel] = Settings if len(loc) == 1 else FeedSource
    valid = list(model.model_fields)
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    if close:
        return f"unknown setting {key!r} (did you mean {close[0]!r}?)"
    return f"unknown setting {key!r} (the settings here are: {', '.join(valid)})"


def _check_duplicates(feeds: Any, node: Any, path: Path) -> None:
    """Two feeds with one name, or with one URL (compared by `url_key`): name the second's line and the first's."""
    if not isinstance(feeds, list):
        return  # not a list: validation says so
    names: dict[str, tuple[str, int | None]] = {}
    urls: dict[str, tuple[str, int | None]] = {}
    for index, feed in enumerate(feeds):
        if not isinstance(feed, dict) or not isinstance(feed.get("name"), str):
            continue
        name = feed["name"]
        line = _line_of(node, ("feeds", index, "name"))
        if name in names:
            raise ConfigError(
                f"{path}:{line}: feeds.{index}.name: feed name {name!r} is used twice (first on line "
                f"{names[name][1]}); names must be unique",
                hint="rename one of them",
            )
        names[name] = (name, line)
        url = feed.get("url")
        if not isinstance(url, str):
            continue
        line = _line_of(node, ("feeds", index, "url"))
        first = urls.get(url_key(url))
        if first is not None:
            raise ConfigError(
                f"{path}:{line}: feeds.{index}.url: feed {name!r} has the same URL as feed {first[0]!r} "
                f"(line {first[1]}): {url.strip()}",
                hint="remove one of them",
            )
        urls[url_key(url)] = (name, line)


_SYNTAX = {  # yaml's problem text -> what to change, in words for someone editing the file by hand
    "mapping values are not allowed here": "a ':' or indentation is wrong{near} (check that each '- name:' entry "
    "lines up and that values containing ': ' are in quotes)",
    "could not find expected ':'": "a setting has no ':' after its name{near} (write each setting as "
    "'name: value', on its own line)",
    "found character '\\t'": "it has a tab character{near} (YAML indents with spaces only: replace the tab "
    "with spaces)",
    "expected <block end>": "it does not line up with the lines above it{near} (each '- name:' entry, and the "
    "settings under it, must start in the same column as the others)",
    "end of stream": "the file ends inside quotes{near} (close the quote that starts there)",
    "<stream end>": "the file ends inside a '[' or '{{' list{near} (close it with ']' or '}}')",
}


def _yaml_syntax_message(exc: yaml.YAMLError, text: str, path: Path) -> str:
    """`path:line: this line is not valid YAML: <what to change> [yaml's own words]`."""
    problem = getattr(exc, "problem", None) or str(exc)
    mark = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context_mark", None)
    advice = next((words for start, words in _SYNTAX.items() if start in problem), None)
    if context is not None and ("expected ':'" in problem or "quoted scalar" in (getattr(exc, "context", "") or "")):
        mark = context  # the line that lacks its ':' or opens the quote, not the line after
    if mark is None:
        return f"{path}: this file is not valid YAML [{problem}]"
    lines = text.splitlines()
    source = lines[mark.line].strip() if mark.line < len(lines) else ""
    near = f" near '{source[:40]}...'" if len(source) > 40 else f" near '{source}'" if source else ""
    if advice is None:
        advice = "YAML cannot read it{near} (check the indentation, and quote values with ': ' or ' #' in them)"
    return f"{path}:{mark.line + 1}: this line is not valid YAML: {advice.format(near=near)} [{problem}]"


def _line_of(node: Any, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at a pydantic error location (deepest that exists)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = [(key, value) for key, value in node.value if getattr(key, "value", None) == part]
            if not match:
                return line
            key, node = match[0]
            line = key.start_mark.line + 1  # the key's line: where a reader looks
            continue
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return line
        line = node.start_mark.line + 1
    return line
