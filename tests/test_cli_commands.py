"""`catalog retry`, `keep_media: false` and `catalog export`, through the command line, on catalogues synced
from 127.0.0.1 (the samples, transcribed by the bundled Whisper model; and feeds whose media are missing)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from catalog.app import Catalog
from catalog.asr.transcriber import WhisperTranscriber
from catalog.cli import cli
from catalog.storage import driver
from catalog.testing.localserver import LocalServer, status_route
from catalog.transcripts import export, parse_transcript
from catalog.transcripts.sidecar import load_json
from tests.conftest import SAMPLES, WriteConfig

EP1 = "Episode 1: Ways Out of the War"
EP2 = "Episode 2: The Black Sea"
GUARANTEES = "What Security Guarantees Could Ukraine Actually Get?"
TOLERANCE = 1.5  # seconds between a word's measured start (samples/manifest.json) and Whisper's


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def item_ids(config: Path) -> dict[str, int]:
    with driver.sqlite.connect(config.parent / "catalog.db") as conn:
        return dict(conn.execute("SELECT title, id FROM items").fetchall())


# --- keep_media: false, and export, on the samples synced once -------------------------------------------


@pytest.fixture(scope="module")
def sample_server() -> Iterator[LocalServer]:
    server = LocalServer(SAMPLES).start()  # read only: nothing here changes the samples
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lean(tmp_path_factory: pytest.TempPathFactory, sample_server: LocalServer, whisper: WhisperTranscriber) -> Path:
    """The sample articles and podcast, synced with `keep_media: false`."""
    config = tmp_path_factory.mktemp("lean") / "feeds.yaml"
    feeds = [
        {"name": "statecraft", "url": sample_server.url("articles.xml")},
        {"name": "nonzero", "url": sample_server.url("podcast.xml")},
    ]
    config.write_text(yaml.safe_dump({"timeout_seconds": 5, "keep_media": False, "feeds": feeds}, sort_keys=False))
    with Catalog.open(config) as cat:
        report = cat.sync(transcriber_factory=lambda: whisper)
    assert report.ok and report.media_done == 2, report.failures
    assert sample_server.bodies["/media/nonzero-ep1.mp3"] == 1 and sample_server.bodies["/media/nonzero-ep2.m4a"] == 1
    return config


def test_keep_media_false_deletes_the_media_and_keeps_sidecar_and_index(
    lean: Path, sample_server: LocalServer, manifest: dict[str, Any]
) -> None:
    ids = item_ids(lean)
    media_dir = lean.parent / "media"
    left = sorted(path.relative_to(media_dir).as_posix() for path in media_dir.rglob("*") if path.is_file())
    assert left == sorted([f"nonzero/{ids[EP1]}.mp3.transcript.json", f"nonzero/{ids[EP2]}.m4a.transcript.json"])

    with driver.sqlite.connect(lean.parent / "catalog.db") as conn:
        states = dict(conn.execute("SELECT item_id, state FROM media").fetchall())
        segments = dict(
            conn.execute("SELECT item_id, COUNT(*) FROM passages WHERE kind = 'segment' GROUP BY item_id").fetchall()
        )
        sources = dict(conn.execute("SELECT item_id, source FROM transcripts").fetchall())
    assert states == {ids[EP1]: "indexed", ids[EP2]: "indexed"}
    assert sources == {ids[EP1]: "whisper", ids[EP2]: "whisper"}
    assert set(segments) == {ids[EP1], ids[EP2]} and all(n >= 3 for n in segments.values())

    said = manifest["media"]["media/nonzero-ep1.mp3"]["keywords"][0]
    assert said["word"] == "armistice"
    sidecar = load_json(media_dir / "nonzero" / f"{ids[EP1]}.mp3.transcript.json")
    words = [word for segment in sidecar.segments for word in segment.words]
    spoken = [word for word in words if word.word.strip(" ,.").lower() == said["word"]]
    assert len(spoken) == 1 and abs(spoken[0].start - said["start"]) <= TOLERANCE, spoken

    result = run(lean, "search", said["word"], "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert [(hit["item_id"], hit["title"], hit["passage"]) for hit in hits] == [(ids[EP1], EP1, "segment")]
    hit = hits[0]
    assert abs(hit["start"] - said["start"]) <= TOLERANCE, hit
    assert hit["link"] == f"{sample_server.url('media/nonzero-ep1.mp3')}#t={int(hit['start'])}"
    assert hit["snippet"].startswith("<mark>Armistice</mark>")


EXPORTS = [("vtt", "vtt"), ("srt", "srt"), ("json", "json"), ("txt", "text")]  # --format, parse_transcript's name


def _words(text: str) -> list[str]:
    return text.split()


@pytest.mark.parametrize(("fmt", "reader"), EXPORTS, ids=[fmt for fmt, _ in EXPORTS])
def test_export_writes_item_id_format_here_and_parses_back(
    lean: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, manifest: dict[str, Any], fmt: str, reader: str
) -> None:
    item = item_ids(lean)[EP1]
    monkeypatch.chdir(tmp_path)
    result = run(lean, "export", str(item), "--format", fmt)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", f"Wrote item-{item}.{fmt}\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == [f"item-{item}.{fmt}"]
    data = (tmp_path / f"item-{item}.{fmt}").read_bytes()
    with Catalog.open(lean) as cat:
        stored = cat.transcript(item)
    assert data.decode() == export(stored, fmt)
    parsed = parse_transcript(data, reader)
    assert parsed.format == reader
    assert _words(" ".join(s.text for s in parsed.segments)) == _words(" ".join(s.text for s in stored.segments))
    if fmt == "txt":
        return  # plain text keeps the words, not their times
    said = manifest["media"]["media/nonzero-ep1.mp3"]["keywords"][0]
    first = next(s for s in parsed.segments if said["word"] in s.text.lower())
    assert abs(first.start - said["start"]) <= TOLERANCE, first
    if fmt == "json":  # written word by word, each with its time; read back into phrases that keep them
        entries = json.loads(data)["segments"]
        word = next(entry for entry in entries if entry["body"].strip(",.").lower() == said["word"])
        assert " " not in word["body"] and abs(word["startTime"] - said["start"]) <= TOLERANCE, word
        assert [(w.start, w.word) for w in first.words if said["word"] in w.word.lower()] == [
            (word["startTime"], word["body"])
        ]


@pytest.mark.parametrize("fmt", [fmt for fmt, _ in EXPORTS])
def test_export_to_stdout(lean: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    item = item_ids(lean)[EP2]
    monkeypatch.chdir(tmp_path)
    result = run(lean, "export", str(item), "--format", fmt, "-o", "-")
    assert list(tmp_path.iterdir()) == [], "-o - writes no file"
    with Catalog.open(lean) as cat:
        expected = export(cat.transcript(item), fmt)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == expected and "Sanctions" in expected
    assert parse_transcript(result.stdout.encode(), dict(EXPORTS)[fmt]).segments


def test_export_of_an_unknown_item_is_an_error(lean: Path, tmp_path: Path) -> None:
    result = run(lean, "export", "99999", "-o", str(tmp_path / "x.vtt"))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.splitlines()[0] == "Error: no item with id 99999"
    assert "Traceback" not in result.stderr and not (tmp_path / "x.vtt").exists()


def test_export_of_an_article_is_an_error(lean: Path, tmp_path: Path) -> None:
    article = item_ids(lean)[GUARANTEES]
    result = run(lean, "export", str(article), "-o", str(tmp_path / "x.vtt"))
    assert (result.exit_code, result.stdout) == (1, "")
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"Error: item {article} ") and "has no transcript" in first, result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "x.vtt").exists()


def test_export_into_a_missing_folder_is_an_error(lean: Path, tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "dir" / "x.vtt"  # /no/such/dir/x.vtt, where a root run cannot litter /
    result = run(lean, "export", str(item_ids(lean)[EP1]), "-o", str(target))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.splitlines()[0] == f"Error: cannot write {target}: No such file or directory"
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "no").exists(), "export must not make folders"


# --- retry, on feeds whose media are missing (404): no Whisper needed ---------------------------------------


def _feed(name: str, count: int) -> str:
    items = "".join(
        f"<item><title>{name.title()} {n}</title><guid>{name}-{n}</guid>"
        f"<pubDate>Mon, 0{n} Mar 2026 09:00:00 GMT</pubDate>"
        f'<enclosure url="media/{name}-{n}.mp3" type="audio/mpeg" length="1000"/></item>'
        for n in range(1, count + 1)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title>{items}</channel></rss>'


def media_state(config: Path) -> dict[str, tuple[str, int, bool]]:
    """title: (state, attempts, has an error)."""
    with driver.sqlite.connect(config.parent / "catalog.db") as conn:
        rows = conn.execute(
            "SELECT i.title, m.state, m.attempts, m.last_error IS NOT NULL "
            "FROM media m JOIN items i ON i.id = m.item_id"
        ).fetchall()
    return {title: (state, attempts, bool(error)) for title, state, attempts, error in rows}


def feed_state(config: Path) -> dict[str, tuple[int, bool]]:
    """name: (failures, backing off)."""
    with driver.sqlite.connect(config.parent / "catalog.db") as conn:
        rows = conn.execute("SELECT name, failures, next_fetch_at IS NOT NULL FROM feeds").fetchall()
    return {name: (failures, bool(backing_off)) for name, failures, backing_off in rows}


FAILED = ("failed", 1, True)
RESET = ("new", 0, False)


@pytest.fixture
def failing(server: LocalServer, site: Path, write_config: WriteConfig) -> Path:
    """Feeds alpha (2 items) and beta (1 item): every media URL answers 404, then both feeds answer 500."""
    (site / "alpha.xml").write_text(_feed("alpha", 2))
    (site / "beta.xml").write_text(_feed("beta", 1))
    config = write_config(
        [{"name": "alpha", "url": server.url("alpha.xml")}, {"name": "beta", "url": server.url("beta.xml")}]
    )
    first = run(config, "sync")
    assert first.exit_code == 4, first.output
    assert first.stderr.count("HTTP 404 Not Found") == 3
    server.routes["/alpha.xml"] = status_route(500)
    server.routes["/beta.xml"] = status_route(500)
    second = run(config, "sync", "--no-media")
    assert second.exit_code == 4, second.output
    assert media_state(config) == {"Alpha 1": FAILED, "Alpha 2": FAILED, "Beta 1": FAILED}
    assert feed_state(config) == {"alpha": (1, True), "beta": (1, True)}
    return config


def test_retry_one_item_resets_exactly_that_item(failing: Path, server: LocalServer) -> None:
    item = item_ids(failing)["Alpha 2"]
    result = run(failing, "retry", str(item))
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "Reset 0 feed(s) and 1 item(s); the next `catalog sync` will try them again.\n"
    assert media_state(failing) == {"Alpha 1": FAILED, "Alpha 2": RESET, "Beta 1": FAILED}
    assert feed_state(failing) == {"alpha": (1, True), "beta": (1, True)}

    # The next sync tries that one item again, and nothing else (the feeds are still backing off).
    before = dict(server.requests)
    again = run(failing, "sync")
    assert again.exit_code == 4 and f"Failed: item {item} (alpha: Alpha 2)" in again.stderr
    assert {path: n - before.get(path, 0) for path, n in server.requests.items() if n != before.get(path, 0)} == {
        "/media/alpha-2.mp3": 1
    }


def test_retry_feed_resets_only_that_feed_and_its_items(failing: Path) -> None:
    result = run(failing, "retry", "--feed", "alpha")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "Reset 1 feed(s) and 2 item(s); the next `catalog sync` will try them again.\n"
    assert media_state(failing) == {"Alpha 1": RESET, "Alpha 2": RESET, "Beta 1": FAILED}
    assert feed_state(failing) == {"alpha": (0, False), "beta": (1, True)}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--feed", "nosuch"], "Error: no feed named 'nosuch' in this catalogue\nHint: the feeds are: alpha, beta\n"),
        (["99999"], "Error: no item with id 99999\nHint: item ids are shown by `catalog search` and `status`\n"),
        (
            ["ALPHA1", "99999"],
            "Error: no item with id 99999\nHint: item ids are shown by `catalog search` and `status`\n",
        ),
    ],
    ids=["feed", "item", "known-and-unknown-item"],
)
def test_retry_of_what_is_not_there_is_an_error_and_resets_nothing(
    failing: Path, args: list[str], message: str
) -> None:
    args = [str(item_ids(failing)["Alpha 1"]) if arg == "ALPHA1" else arg for arg in args]
    result = run(failing, "retry", *args)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", message)
    assert media_state(failing) == {"Alpha 1": FAILED, "Alpha 2": FAILED, "Beta 1": FAILED}
    assert feed_state(failing) == {"alpha": (1, True), "beta": (1, True)}
