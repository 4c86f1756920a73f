"""Where things are, read without validating the whole feeds.yaml: the search path must start fast.

`catalog search` needs only the catalogue's location; importing pydantic and validating every
setting would cost it a third of its time. A file this cannot read is left to `config.load_config`,
which says exactly what is wrong with it.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_CONFIG = "feeds.yaml"
DEFAULT_DATABASE = "catalog.db"


def config_folder(config_path: Path) -> Path:
    """The folder that relative paths in a feeds.yaml are resolved against."""
    return config_path.parent.resolve() if str(config_path.parent) else Path.cwd()


def resolve_setting(folder: Path, value: str) -> Path:
    """A path setting (`database:`, `media_dir:`, a model folder): `~` expanded, relative to `folder`."""
    path = Path(os.path.expanduser(value))
    return path if path.is_absolute() else folder / path


def database_location(config_path: Path | str, db_path: Path | str | None) -> Path | None:
    """The catalogue file `--db`/`database:` names (relative to feeds.yaml), or None when feeds.yaml
    cannot be read simply (the caller then loads it properly, for its error)."""
    if db_path:
        return Path(db_path)
    config = Path(config_path)
    if not config.exists():
        return config_folder(config) / DEFAULT_DATABASE
    import yaml

    try:
        data = yaml.load(config.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if data is None:
        data = {}
    if not isinstance(data, dict) or not isinstance(data.get("database", DEFAULT_DATABASE), str):
        return None
    return resolve_setting(config_folder(config), data.get("database", DEFAULT_DATABASE))
