"""feeds.yaml: the typed settings model and its loader.

Validation errors name the file and the line of the offending value, because a user
editing YAML by hand needs to know where to look.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from catalog.errors import ConfigError

Kind = Literal["article", "podcast", "video"]
KINDS: tuple[str, ...] = ("article", "podcast", "video")
DEFAULT_CONFIG = "feeds.yaml"


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

    database: str = Field(default="catalog.db", description="SQLite catalogue file.")
    media_dir: str = Field(default="media", description="Where downloaded audio and video are kept.")
    keep_media: bool = Field(default=True, description="Keep media files after transcription.")
    model: str = Field(
        default="tiny.en",
        description="Whisper model: tiny.en (bundled, offline), a faster-whisper name such as small.en "
        "or large-v3-turbo (needs the model cached locally), or a path to a CTranslate2 model folder.",
    )
    compute_type: str = Field(default="int8", description="CTranslate2 compute type (int8, int8_float32, float32).")
    cpu_threads: int = Field(default=0, ge=0, description="Whisper CPU threads; 0 means one per core.")
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
    media_max_bytes: int = Field(default=2_000_000_000, gt=0, description="Largest media file accepted.")
    max_duration_minutes: float = Field(default=300, gt=0, description="Longer media is refused before decoding.")
    max_items: int | None = Field(default=None, ge=1, description="Media items to process per sync at most.")
    max_minutes: float | None = Field(default=None, gt=0, description="Stop starting new work after this long.")
    max_attempts: int = Field(default=5, ge=1, description="Failures before an item or feed is given up on.")
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
        path = Path(os.path.expanduser(value))
        return path if path.is_absolute() else self.base_dir / path

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
        return Config(Settings(), path.parent.resolve() if str(path.parent) else Path.cwd(), None)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> Config:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: expected a mapping with a 'feeds:' list, got {type(data).__name__}")
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        line = _line_of(node, loc)
        where = f"{path}:{line}" if line else str(path)
        field = ".".join(str(part) for part in loc) or "(top level)"
        message = re.sub(r"^Value error, ", "", first["msg"])
        more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
        raise ConfigError(f"{where}: {field}: {message}{more}") from exc
    return Config(settings, path.parent.resolve(), path.resolve())


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
