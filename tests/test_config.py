from __future__ import annotations

from pathlib import Path

import pytest

from catalog.config import load_config, parse_config
from catalog.errors import ConfigError
from catalog.sources.locations import feed_url


def test_defaults_and_relative_paths(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n  - name: a\n    url: samples/a.xml\n")
    config = load_config(path)
    assert config.database_path == tmp_path / "catalog.db"
    assert config.media_dir == tmp_path / "media"
    assert config.settings.model == "tiny.en"
    assert feed_url(config, config.feeds[0]) == (tmp_path / "samples/a.xml").as_uri()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "feeds:\n  - name: a\n    url: https://x/feed\n  - name: b\n    kind: radio\n    url: https://y/\n",
            "feeds.yaml:5: feeds.1.kind",
        ),
        ("feeds:\n  - name: a\n", "feeds.yaml:2: feeds.0.url: Field required"),
        (
            "feeds:\n  - name: a\n    url: ftp://x/feed\n",
            "feeds.yaml:3: feeds.0.url: unsupported URL scheme 'ftp'",
        ),
        ("feeds: [\n", "feeds.yaml:2: invalid YAML"),
        ("- just\n- a list\n", "feeds.yaml:1: expected a mapping"),
        ("feed:\n  - name: a\n", "feeds.yaml:1: feed: Extra inputs are not permitted"),
        ("max_items: 0\nfeeds: []\n", "feeds.yaml:1: max_items"),
        ("feeds:\n  - {name: a, url: 'https://x/'}\n  - {name: a, url: 'https://y/'}\n", "used twice"),
    ],
    ids=[
        "bad-kind",
        "missing-url",
        "bad-scheme",
        "bad-yaml",
        "not-a-mapping",
        "typo-key",
        "bad-limit",
        "dup-name",
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, tmp_path / "feeds.yaml")
    assert message in str(info.value)
    assert info.value.exit_code == 3


def test_missing_config_has_hint(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found") as info:
        load_config(tmp_path / "nope.yaml")
    assert info.value.hint


def test_shipped_feeds_yaml_is_valid() -> None:
    config = load_config(Path(__file__).resolve().parent.parent / "feeds.yaml")
    names = {feed.name for feed in config.feeds}
    assert len(names) >= 6
    offline = [feed for feed in config.feeds if feed.enabled]
    assert all(not feed.url.startswith("http") for feed in offline), "the default run must work offline"
