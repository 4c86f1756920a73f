"""`catalog feeds add`: the file is edited in place (comments, order, indentation and quoting kept),
values that YAML would read as numbers or booleans are quoted, and a feed already listed is refused
with the line to change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from catalog.cli import cli
from catalog.config import load_config
from catalog.errors import ConfigError
from catalog.sources.subscribe import add_feed, name_for
from tests.conftest import ROOT

SHIPPED = ROOT / "feeds.yaml"


def _add(config: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--config", str(config), "feeds", "add", *args])
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    return result


def _line(text: str, line: str) -> int:
    return text.splitlines().index(line) + 1


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    path = tmp_path / "feeds.yaml"
    shutil.copy(SHIPPED, path)
    return path


def test_the_shipped_file_is_kept_byte_for_byte(shipped: Path) -> None:
    before = shipped.read_text(encoding="utf-8")
    result = _add(shipped, "http://127.0.0.1:8766/x.rss", "--kind", "podcast")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Added feed-127-0-0-1: http://127.0.0.1:8766/x.rss\n"
    assert shipped.read_text(encoding="utf-8") == before + (
        "  - name: feed-127-0-0-1\n    url: http://127.0.0.1:8766/x.rss\n    kind: podcast\n"
    )
    assert not shipped.with_name("feeds.yaml.part").exists()
    assert load_config(shipped).feeds[-1].name == "feed-127-0-0-1"


def test_readme_example_a_disabled_feed_is_not_added_twice(shipped: Path) -> None:
    before = shipped.read_text(encoding="utf-8")
    result = _add(shipped, "https://responsiblestatecraft.org/feed/", "--name", "statecraft", "--kind", "article")
    url_line = _line(before, "    url: https://responsiblestatecraft.org/feed/")
    enabled_line = url_line + 2
    assert before.splitlines()[enabled_line - 1] == "    enabled: false"
    assert result.exit_code == 3
    assert result.stderr == (
        f"Error: {shipped}:{url_line}: https://responsiblestatecraft.org/feed/ is already listed as "
        "'responsible-statecraft' (disabled)\n"
        f"Hint: set `enabled: true` on line {enabled_line} to fetch it\n"
    )
    assert shipped.read_text(encoding="utf-8") == before


@pytest.mark.parametrize(
    "url",
    [
        "HTTPS://ResponsibleStatecraft.ORG/feed",
        " https://responsiblestatecraft.org/feed/ ",
    ],
    ids=["case-and-no-slash", "spaces"],
)
def test_a_url_is_compared_normalised(shipped: Path, url: str) -> None:
    with pytest.raises(ConfigError) as info:
        add_feed(shipped, "statecraft", url, None)
    url_line = _line(shipped.read_text(), "    url: https://responsiblestatecraft.org/feed/")
    assert str(info.value) == f"{shipped}:{url_line}: {url} is already listed as 'responsible-statecraft' (disabled)"
    assert info.value.hint == f"set `enabled: true` on line {url_line + 2} to fetch it"


def test_a_youtube_channel_page_is_the_feed_listed_for_it(shipped: Path) -> None:
    result = _add(shipped, "https://www.youtube.com/channel/UC9PBzalIcEQCsiIkq36PyUA", "--name", "df")
    assert result.exit_code == 3
    assert "https://www.youtube.com/feeds/videos.xml?channel_id=UC9PBzalIcEQCsiIkq36PyUA is already listed as " in (
        result.stderr
    )
    assert "'youtube-example' (disabled)" in result.stderr and "Hint: set `enabled: true` on line" in result.stderr


def test_an_enabled_feed_is_just_already_listed(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n  - name: a\n    url: https://x.org/feed\n")
    result = _add(path, "https://x.org/feed/", "--name", "b")
    assert result.exit_code == 3
    assert result.stderr == f"Error: {path}:3: https://x.org/feed/ is already listed as 'a'\n"


def test_a_duplicate_name_is_refused_with_its_line(shipped: Path) -> None:
    before = shipped.read_text(encoding="utf-8")
    enabled = _add(shipped, "https://x.org/other.xml", "--name", "sample-talks")
    assert enabled.exit_code == 3
    assert enabled.stderr == (
        f"Error: {shipped}:{_line(before, '  - name: sample-talks')}: a feed named 'sample-talks' already exists: "
        "samples/video.xml\nHint: pick another --name\n"
    )
    disabled = _add(shipped, "https://x.org/other.xml", "--name", "nonzero")
    name_line = _line(before, "  - name: nonzero")
    assert disabled.exit_code == 3
    assert disabled.stderr == (
        f"Error: {shipped}:{name_line}: a feed named 'nonzero' already exists (disabled): "
        "https://www.nonzero.org/feed\n"
        f"Hint: pick another --name, or set `enabled: true` on line {name_line + 3} to fetch the one listed\n"
    )
    assert shipped.read_text(encoding="utf-8") == before


@pytest.mark.parametrize(
    ("url", "name", "written"),
    [
        ("http://127.0.0.1:8766/x.rss", "feed-127-0-0-1", "feed-127-0-0-1"),
        ("http://1e3.example.org/feed.xml", "1e3", "'1e3'"),
        ("https://true.example.org/rss", "true", "'true'"),
        ("https://null.example.org/rss", "null", "'null'"),
        ("https://yes.example.org/rss", "yes", "'yes'"),  # a boolean to YAML 1.1, which catalog reads with
        ("https://0777.example.org/rss", "0777", "'0777'"),
    ],
)
def test_names_from_urls_that_yaml_would_not_read_as_strings_are_quoted(
    tmp_path: Path, url: str, name: str, written: str
) -> None:
    assert name_for(url) == name
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n  - name: a\n    url: https://x.org/feed\n")
    result = _add(path, url)
    assert result.exit_code == 0, result.stderr
    assert (
        path.read_text() == f"feeds:\n  - name: a\n    url: https://x.org/feed\n  - name: {written}\n    url: {url}\n"
    )
    assert load_config(path).feeds[-1].name == name


def test_an_explicit_numeric_name_is_quoted(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n  - name: a\n    url: https://x.org/feed\n")
    result = _add(path, "https://y.org/feed", "--name", "127", "--kind", "podcast")
    assert result.exit_code == 0, result.stderr
    assert path.read_text() == (
        "feeds:\n  - name: a\n    url: https://x.org/feed\n"
        "  - name: '127'\n    url: https://y.org/feed\n    kind: podcast\n"
    )
    assert load_config(path).feeds[-1].name == "127"


def test_a_url_with_colon_space_or_hash_is_quoted(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    add_feed(path, "odd", "https://x.org/a: b #c", None)
    assert path.read_text() == "feeds:\n  - name: odd\n    url: 'https://x.org/a: b #c'\n"
    assert load_config(path).feeds[0].url == "https://x.org/a: b #c"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (None, ""),
        ("", ""),
        ("# my sources\n", "# my sources\n"),
        ("# my sources", "# my sources\n"),
        ("feeds:\n", ""),
        ("feeds: []\n", ""),
        ("database: mine.db  # here\n", "database: mine.db  # here\n"),
    ],
    ids=["missing", "empty", "comment-only", "comment-no-newline", "feeds-null", "feeds-empty-flow", "no-feeds-key"],
)
def test_a_feeds_list_is_created_when_there_is_none(tmp_path: Path, before: str | None, after: str) -> None:
    path = tmp_path / "feeds.yaml"
    if before is not None:
        path.write_text(before)
    result = _add(path, "https://x.org/feed", "--name", "x")
    assert result.exit_code == 0, result.stderr
    assert path.read_text() == after + "feeds:\n  - name: x\n    url: https://x.org/feed\n"


def test_a_flow_list_stays_a_flow_list(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("max_items: 3\nfeeds: [{name: a, url: 'https://x.org/a'}]  # all of them\n")
    result = _add(path, "https://x.org/b", "--name", "b", "--kind", "video")
    assert result.exit_code == 0, result.stderr
    assert path.read_text() == (
        # the comment keeps its column when it can; the longer line pushes it to one space after the list
        "max_items: 3\nfeeds: [{name: a, url: 'https://x.org/a'}, {name: b, url: https://x.org/b, kind: video}]"
        " # all of them\n"
    )
    again = _add(path, "https://x.org/a/", "--name", "c")
    assert again.exit_code == 3 and again.stderr == f"Error: {path}:2: https://x.org/a/ is already listed as 'a'\n"


def test_the_files_own_indentation_and_the_keys_after_the_list_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text('feeds:\n- name: a  # first\n  url: "https://x.org/a"\n\n# limits\nmax_items: 3\n')
    assert _add(path, "https://x.org/b", "--name", "b").exit_code == 0
    # the blank line and comment introduce max_items, so they stay above it, below the new entry
    assert path.read_text() == (
        'feeds:\n- name: a  # first\n  url: "https://x.org/a"\n'
        "- name: b\n  url: https://x.org/b\n\n# limits\nmax_items: 3\n"
    )


def test_a_comment_indented_like_the_last_entry_stays_with_it(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n  - name: a\n    url: https://x.org/a\n    # enabled: false\n# the end\n")
    assert _add(path, "https://x.org/b", "--name", "b").exit_code == 0
    assert path.read_text() == (
        "feeds:\n  - name: a\n    url: https://x.org/a\n    # enabled: false\n"
        "  - name: b\n    url: https://x.org/b\n# the end\n"
    )


def test_comments_above_a_document_start_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("# my sources\n--- # catalog\nfeeds:\n  - name: a\n    url: https://x.org/a\n    enabled: false\n")
    assert _add(path, "https://x.org/b", "--name", "b").exit_code == 0
    assert path.read_text() == (
        "# my sources\n--- # catalog\nfeeds:\n  - name: a\n    url: https://x.org/a\n    enabled: false\n"
        "  - name: b\n    url: https://x.org/b\n"
    )
    again = _add(path, "https://x.org/a", "--name", "c")
    assert again.stderr == (
        f"Error: {path}:5: https://x.org/a is already listed as 'a' (disabled)\n"
        "Hint: set `enabled: true` on line 6 to fetch it\n"
    )


def test_a_broken_file_is_reported_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    text = "feeds:\n  - name: a\n    url: https://x.org/a\n    kindd: video\n"
    path.write_text(text)
    result = _add(path, "https://x.org/b", "--name", "b")
    assert result.exit_code == 3
    assert result.stderr == f"Error: {path}:4: feeds.0: unknown setting 'kindd' (did you mean 'kind'?)\n"
    assert path.read_text() == text


def test_the_new_file_is_validated_before_it_replaces_the_old(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    text = "feeds:\n  - name: a\n    url: https://x.org/a\n"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        add_feed(path, "", "https://x.org/b", None)
    assert str(info.value) == f"{path}:4: feeds.1.name: String should have at least 1 character"
    assert path.read_text() == text
    assert not path.with_name("feeds.yaml.part").exists()
