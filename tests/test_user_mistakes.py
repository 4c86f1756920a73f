"""What a new user types, mistakes included: every answer is a message and an exit code, never a traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES


def catalog(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "catalog", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        input=stdin,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh folder with the shipped feeds.yaml and samples, synced once (real Whisper)."""
    folder = tmp_path_factory.mktemp("home")
    shutil.copytree(SAMPLES, folder / "samples")
    shutil.copy(ROOT / "feeds.yaml", folder / "feeds.yaml")
    result = catalog(folder, "sync")
    assert result.returncode == 0, result.stderr
    return folder


def test_two_words_without_quotes_are_both_searched(home: Path) -> None:
    result = catalog(home, "search", "peacekeepers", "ceasefire", "--json")
    assert result.returncode == 0
    hits = json.loads(result.stdout)
    assert [(hit["item_id"], hit["passage"]) for hit in hits][:1] == [(5, "segment")]


def test_a_quoted_phrase_typed_in_the_shell_is_a_phrase(home: Path) -> None:
    hits = json.loads(catalog(home, "search", "European peacekeepers", "--json").stdout)
    spoken = [hit for hit in hits if hit["passage"] == "segment"]
    assert [hit["item_id"] for hit in spoken] == [5]
    assert abs(spoken[0]["start"] - 8.05) < 1.5


@pytest.mark.parametrize(
    "args",
    [["search", "war", "--json"], ["export", "5", "-o", "-"], ["feeds", "list"], ["models"], ["--help"], ["status"]],
)
def test_writing_into_a_closed_pipe_exits_0(home: Path, args: list[str]) -> None:
    """`catalog ... | true`: the reader is gone before catalog writes a byte (click alone would exit 1)."""
    with subprocess.Popen(
        [sys.executable, "-m", "catalog", *args], cwd=home, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        assert proc.wait(timeout=60) == 0, args
        assert proc.stderr.read() == b""


def test_a_closed_pipe_is_not_an_error(home: Path) -> None:
    """`catalog search x | head -1`: the reader leaves early; catalog exits 0 quietly."""
    for args in (["search", "armistice"], ["search", "war", "--json"], ["status"]):
        with subprocess.Popen(
            [sys.executable, "-m", "catalog", *args], cwd=home, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        ) as proc:
            assert proc.stdout is not None and proc.stderr is not None
            proc.stdout.read(1)
            proc.stdout.close()  # as `head -c 1` does
            assert proc.wait(timeout=60) == 0, args
            assert proc.stderr.read() == b""


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--db", "/proc/catalog.db", "sync"], 1, "cannot create the lock file /proc/catalog.db.lock"),
        (["sync", "--db", "/proc/catalog.db"], 1, "cannot create the lock file /proc/catalog.db.lock"),
        (["--db", "/proc/x.db", "search", "war"], 1, "no catalogue at /proc/x.db"),
        (["--db", "/no/such/dir/x.db", "status"], 1, "no catalogue at /no/such/dir/x.db"),
        (["export", "5", "-o", "/no/such/dir/x.vtt"], 1, "cannot write /no/such/dir/x.vtt: No such file or directory"),
        (["export", "99999"], 1, "no item with id 99999"),
        (["export", "1"], 1, "item 1 is an article and has no transcript"),
        (["show", "99999"], 1, "no item with id 99999"),
        (["search", "war", "--feed", "nosuch"], 1, "no feed named 'nosuch' in this catalogue"),
        (["retry", "99999"], 1, "no item with id 99999"),
        (["retry", "--feed", "nosuch"], 1, "no feed named 'nosuch' in this catalogue"),
        (["sync", "--feed", "nosuch"], 3, "no feed named nosuch in"),
        (["sync", "--feed", "nonzero"], 3, "feed nonzero is disabled"),
        (["--config", "nope.yaml", "sync"], 3, "config file not found: nope.yaml"),
        (["sync", "--config", "nope.yaml"], 3, "config file not found: nope.yaml"),
        (["search", '""'], 2, "nothing to search for"),
        (["search", "-war"], 2, "nothing to search for in '-war'"),
        (["show", "abc"], 2, "'abc' is not a valid integer"),
        (["search", "war", "--since", "yesterday"], 2, "'yesterday' is not a date in YYYY-MM-DD form"),
        (["export", "5", "--format", "doc"], 2, "'doc' is not one of 'json', 'vtt', 'srt', 'txt'"),
        (["frobnicate"], 2, "No such command 'frobnicate'"),
        (["--config", "/nonexistent/feeds.yaml", "status"], 3, "config file not found: /nonexistent/feeds.yaml"),
        (["--db", "feeds.yaml", "status"], 1, "cannot open catalogue feeds.yaml: file is not a database"),
        (["feeds", "add", "http://[::1/x"], 3, "'http://[::1/x' is not a valid URL"),
        (["feeds", "add", ""], 3, "'' is neither an http(s) address nor a file that exists"),
        (["feeds", "add", "not a url"], 3, "'not a url' is neither an http(s) address nor a file that exists"),
        (["feeds", "add", "https:///feed"], 3, "'https:///feed' has no host name"),
        (["feeds", "add", "ftp://example.org/feed"], 3, "unsupported URL scheme 'ftp'"),
        (["search", "--raw", "armistice AND"], 2, "invalid search query 'armistice AND'"),
        (["--db", "feeds.yaml", "search", "war"], 1, "cannot open catalogue feeds.yaml: file is not a database"),
        (["--db", "feeds.yaml", "list"], 1, "cannot open catalogue feeds.yaml: file is not a database"),
        (["show", "100000000000000000000"], 2, "a number given is too large: at most 9223372036854775807"),
        (["search", "war", "--limit", "100000000000000000000"], 2, "a number given is too large"),
        (["search", "armistice", "--limt", "2"], 2, "No such option '--limt'. Did you mean '--limit'?"),
        (["search", "peace", "--semantic", "--lexical"], 2, "--semantic ranks by meaning only and --lexical"),
        (["sync", "--cluster", "foo"], 3, "the cluster address 'foo' is not a Dask scheduler address"),
        (["sync", "--cluster", "http://127.0.0.1:8786"], 3, "is not a Dask scheduler address"),
        (["sync", "--cluster", "tcp://127.0.0.1:1"], 3, "cannot reach the Dask scheduler at tcp://127.0.0.1:1"),
    ],
)
def test_mistakes_give_a_message_and_an_exit_code(home: Path, args: list[str], code: int, message: str) -> None:
    result = catalog(home, *args)
    assert result.returncode == code, result.stderr
    assert message in result.stderr


def test_raw_passes_fts5_syntax_through(home: Path) -> None:
    hits = json.loads(catalog(home, "search", "--raw", "NEAR(armistice outcome)", "--json").stdout)
    assert [(hit["item_id"], hit["passage"]) for hit in hits] == [(5, "segment")]


def test_retry_of_an_item_that_is_not_failing_resets_nothing(home: Path) -> None:
    result = catalog(home, "retry", "5")
    assert result.returncode == 0
    assert result.stdout.startswith("Reset 0 feed(s) and 0 item(s)")


def test_made_up_feed_names_do_not_collide(home: Path, tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    shutil.copy(home / "feeds.yaml", config)
    first = catalog(tmp_path, "feeds", "add", "http://127.0.0.1:8766/x.rss")
    second = catalog(tmp_path, "feeds", "add", "http://127.0.0.1:8766/y.rss")
    assert (first.returncode, second.returncode) == (0, 0), second.stderr
    assert first.stdout == "Added feed-127-0-0-1: http://127.0.0.1:8766/x.rss\n"
    assert second.stdout == "Added feed-127-0-0-1-2: http://127.0.0.1:8766/y.rss\n"


def test_global_options_work_after_the_command(home: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = str(home / "feeds.yaml")
    status = catalog(elsewhere, "status", "--config", config, "--json")
    assert status.returncode == 0
    assert [feed["name"] for feed in json.loads(status.stdout)["feeds"]] == [
        "sample-nonzero",
        "sample-statecraft",
        "sample-talks",
    ]
    db = catalog(elsewhere, "search", "armistice", "--db", str(home / "catalog.db"), "--json")
    assert [hit["item_id"] for hit in json.loads(db.stdout)] == [5]


def test_python_dash_m_catalog_and_the_old_module_path(home: Path) -> None:
    for module in ("catalog", "catalog.cli"):
        result = subprocess.run(
            [sys.executable, "-m", module, "--version"], cwd=home, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0 and result.stdout.startswith("catalog, version ")


def test_a_feeds_yaml_without_feeds_says_so(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text("feeds: []\n")
    synced = catalog(tmp_path, "sync")
    assert synced.returncode == 0
    assert f"Note: {tmp_path / 'feeds.yaml'} lists no feeds: add one with `catalog feeds add URL`" in synced.stderr
    listed = catalog(tmp_path, "feeds", "list")
    assert (listed.returncode, listed.stdout) == (0, "")
    assert listed.stderr.startswith("No feeds yet: add one with `catalog feeds add URL`")


@pytest.mark.parametrize("command", [["search", "war"], ["list"], ["status"], ["show", "1"], ["sync", "--no-media"]])
def test_a_file_that_is_no_catalogue_is_never_written(tmp_path: Path, command: list[str]) -> None:
    """--db naming another program's SQLite database (or an empty file) is an error; the file stays as it was."""
    from catalog.storage import driver  # another program's database (catalog itself runs in another process)

    (tmp_path / "feeds.yaml").write_text("feeds: []\n")
    other = tmp_path / "other.db"
    with driver.sqlite.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    before = other.read_bytes()
    result = catalog(tmp_path, "--db", str(other), *command)
    said = ("other.db is a SQLite database, but not a catalog one", "other.db is not a catalogue")
    assert result.returncode == 1 and any(message in result.stderr for message in said), result.stderr
    assert other.read_bytes() == before
    if command[0] != "sync":  # an empty file is where the first sync makes a catalogue; nothing else writes it
        (tmp_path / "empty.db").touch()
        empty = catalog(tmp_path, "--db", str(tmp_path / "empty.db"), *command)
        assert empty.returncode == 1 and "empty.db is not a catalogue" in empty.stderr
        assert (tmp_path / "empty.db").stat().st_size == 0
