from __future__ import annotations

from pathlib import Path

import pytest

from catalog.config import load_config, parse_config, url_key
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
        ("feeds: [\n", "feeds.yaml:2: this line is not valid YAML"),
        ("- just\n- a list\n", "feeds.yaml:1: expected a mapping"),
        ("feed:\n  - name: a\n", "feeds.yaml:1: unknown setting 'feed' (did you mean 'feeds'?)"),
        ("max_items: 0\nfeeds: []\n", "feeds.yaml:1: max_items"),
        ("feeds:\n  - {name: a, url: 'https://x/'}\n  - {name: a, url: 'https://y/'}\n", "feeds.yaml:3: feeds.1.name"),
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


def _message(text: str, path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, path)
    assert info.value.exit_code == 3
    return str(info.value)


def test_unknown_key_in_a_feed_suggests_the_closest(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    text = "feeds:\n  - name: a\n    url: https://x.org/feed\n    kindd: podcast\n"
    assert _message(text, path) == f"{path}:4: feeds.0: unknown setting 'kindd' (did you mean 'kind'?)"


def test_unknown_top_level_key_suggests_the_closest(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    text = "database: catalog.db\nmedai_dir: media\nfeeds: []\n"
    assert _message(text, path) == f"{path}:2: unknown setting 'medai_dir' (did you mean 'media_dir'?)"


def test_unknown_key_without_a_close_one_lists_the_valid_ones(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    text = "feeds:\n  - name: a\n    url: https://x.org/feed\n    colour: red\n"
    assert (
        _message(text, path)
        == f"{path}:4: feeds.0: unknown setting 'colour' (the settings here are: name, url, kind, enabled, backlog)"
    )


def test_a_misspelt_key_is_reported_before_the_missing_one_it_causes(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    text = "feeds:\n  - nmae: a\n    url: https://x.org/feed\n"
    assert _message(text, path) == (
        f"{path}:2: feeds.0: unknown setting 'nmae' (did you mean 'name'?)\n{path}:2: feeds.0.name: Field required"
    )


def test_duplicate_name_points_at_the_second_and_names_the_first_line(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    text = (
        "feeds:\n"
        "  - name: a\n"
        "    url: https://x.org/a\n"
        "  - name: b\n"
        "    url: https://x.org/b\n"
        "  - name: a\n"
        "    url: https://x.org/c\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(_write(path, text))
    assert (
        str(info.value)
        == f"{path}:6: feeds.2.name: feed name 'a' is used twice (first on line 2); names must be unique"
    )
    assert info.value.hint == "rename one of them"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("https://x.org/feed", "https://x.org/feed/"),
        ("HTTPS://X.ORG/feed/", "https://x.org/feed"),
        ("'  https://x.org/feed '", "https://x.org/feed"),
    ],
    ids=["trailing-slash", "case-of-scheme-and-host", "spaces"],
)
def test_duplicate_url_names_both_feeds_and_the_second_line(tmp_path: Path, first: str, second: str) -> None:
    path = tmp_path / "feeds.yaml"
    text = f"feeds:\n  - name: a\n    url: {first}\n  - name: b\n    kind: podcast\n    url: {second}\n"
    with pytest.raises(ConfigError) as info:
        load_config(_write(path, text))
    assert str(info.value) == f"{path}:6: feeds.1.url: feed 'b' has the same URL as feed 'a' (line 3): {second}"
    assert info.value.exit_code == 3


def test_url_paths_differing_in_case_are_different_feeds(tmp_path: Path) -> None:
    text = "feeds:\n  - name: a\n    url: https://x.org/Feed\n  - name: b\n    url: https://x.org/feed\n"
    assert [feed.name for feed in parse_config(text, tmp_path / "feeds.yaml").feeds] == ["a", "b"]
    assert url_key(" HTTPS://X.org/Feed/ ") == "https://x.org/Feed"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "feeds:\n  - name: a\n    url: https://x.org/feed\n  - name: b\n\n\n    url: http://y.org/?a=b: c\n",
            "7: this line is not valid YAML: a ':' or indentation is wrong near 'url: http://y.org/?a=b: c' (check "
            "that each '- name:' entry lines up and that values containing ': ' are in quotes) "
            "[mapping values are not allowed here]",
        ),
        (
            "feeds:\n  - name: a\n     url: https://www.example.org/a/rather/long/feed/address.xml\n",
            "3: this line is not valid YAML: a ':' or indentation is wrong near 'url: https://www.example.org/a/rather/"
            "lo...' (check that each '- name:' entry lines up and that values containing ': ' are in quotes) "
            "[mapping values are not allowed here]",
        ),
        (
            "feeds:\n  - name: a\n    url https://x.org/feed\n  - name: b\n    url: https://y.org/\n",
            "3: this line is not valid YAML: a setting has no ':' after its name near 'url https://x.org/feed' "
            "(write each setting as 'name: value', on its own line) [could not find expected ':']",
        ),
        (
            "feeds:\n  - name: a\n\turl: https://x.org/feed\n",
            "3: this line is not valid YAML: it has a tab character near 'url: https://x.org/feed' (YAML indents "
            "with spaces only: replace the tab with spaces) [found character '\\t' that cannot start any token]",
        ),
        (
            "feeds:\n  - name: a\n    url: https://x.org/feed\n - name: b\n   url: https://y.org/\n",
            "4: this line is not valid YAML: it does not line up with the lines above it near '- name: b' (each "
            "'- name:' entry, and the settings under it, must start in the same column as the others) "
            "[expected <block end>, but found '<block sequence start>']",
        ),
        (
            "feeds:\n  - name: 'a\n    url: https://x.org/feed\n",
            "2: this line is not valid YAML: the file ends inside quotes near '- name: 'a' (close the quote that "
            "starts there) [found unexpected end of stream]",
        ),
        (
            "feeds: [\n",
            "2: this line is not valid YAML: the file ends inside a '[' or '{' list (close it with ']' or '}') "
            "[expected the node content, but found '<stream end>']",
        ),
    ],
    ids=["colon-in-value", "indented-key", "missing-colon", "tab", "dash-out-of-line", "open-quote", "open-bracket"],
)
def test_yaml_syntax_errors_in_plain_words(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "feeds.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(_write(path, text))
    assert str(info.value) == f"{path}:{message}"
    assert info.value.exit_code == 3


def test_feeds_with_every_entry_commented_out_is_an_empty_list(tmp_path: Path) -> None:
    text = "feeds:\n  # - name: a\n  #   url: https://x.org/feed\n"
    assert parse_config(text, tmp_path / "feeds.yaml").feeds == []


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
