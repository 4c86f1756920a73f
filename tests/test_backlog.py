"""`backlog: N`: subscribing to a feed with a long back catalogue downloads and transcribes only its newest N
episodes on the first sync (the others are indexed from their text), later episodes get their media as usual,
and `catalog fetch ITEM_ID` gets an old one on demand. Served by a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from catalog.app import Catalog
from catalog.asr.transcriber import WhisperTranscriber
from catalog.cli import cli
from catalog.config import parse_config
from catalog.errors import ConfigError
from catalog.storage import driver
from catalog.testing.localserver import LocalServer
from tests.conftest import SAMPLES, WriteConfig

EPISODES = 120
START = datetime(2024, 1, 1, 9, tzinfo=timezone.utc)


def _feed(server: LocalServer, site: Path, episodes: range) -> str:
    """A podcast of `episodes` (episode n is published n days after START), written in shuffled order so that
    only the published dates, not the document order, say which are newest."""
    numbers = list(episodes)
    random.Random(7).shuffle(numbers)
    items = []
    for n in numbers:
        media = site / f"ep-{n}.mp3"
        if not media.exists():
            os.link(SAMPLES / "media" / "nonzero-ep1.mp3", media)
        items.append(
            f"<item><title>Episode {n}</title><guid>ep-{n}</guid><description>Notes of episode {n} on grain"
            f" corridor{n}</description><pubDate>{format_datetime(START + timedelta(days=n))}</pubDate>"
            f'<enclosure url="{server.url(f"ep-{n}.mp3")}" type="audio/mpeg" length="73240"/></item>'
        )
    (site / "show.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Long show</title><language>en</language>'
        + "".join(items)
        + "</channel></rss>"
    )
    return server.url("show.xml")


@pytest.fixture
def long_show(tmp_path: Path) -> Iterator[tuple[LocalServer, Path]]:
    site = tmp_path / "site"
    site.mkdir()
    server = LocalServer(site).start()
    yield server, site
    server.stop()


def _downloads(server: LocalServer) -> list[str]:
    return sorted(path for path, count in server.requests.items() if path.endswith(".mp3") and count)


def _ids(db: Path) -> dict[str, int]:
    with driver.sqlite.connect(db) as conn:
        return dict(conn.execute("SELECT guid, id FROM items").fetchall())


def _states(db: Path) -> dict[str, int]:
    with driver.sqlite.connect(db) as conn:
        return dict(conn.execute("SELECT state, COUNT(*) FROM media GROUP BY state").fetchall())


def _cli(config: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert "Traceback" not in result.output and "Traceback" not in result.stderr, result.output
    return result


def test_only_the_newest_n_are_downloaded_on_the_first_sync(
    long_show: tuple[LocalServer, Path], write_config: WriteConfig, whisper: WhisperTranscriber
) -> None:
    server, site = long_show
    url = _feed(server, site, range(EPISODES))
    config = write_config([{"name": "long", "url": url, "kind": "podcast"}], backlog=3)
    db = config.parent / "catalog.db"
    with Catalog.open(config) as cat:
        report = cat.sync(transcriber_factory=lambda: whisper)
    assert report.ok, report.failures
    assert (report.items_new, report.media_done) == (EPISODES, 3)
    assert _downloads(server) == ["/ep-117.mp3", "/ep-118.mp3", "/ep-119.mp3"]
    assert _states(db) == {"indexed": 3, "skipped": EPISODES - 3}
    # every episode is searchable by its text; the old ones are not fetched, and say so
    hits = json.loads(_cli(config, "search", "corridor5", "--json", "--lexical").stdout)
    assert [hit["title"] for hit in hits] == ["Episode 5"]
    ids = _ids(db)
    show = _cli(config, "show", str(ids["ep-5"])).stdout
    assert f"not fetched (backlog): `catalog fetch {ids['ep-5']}` gets it" in show
    assert f"{EPISODES - 3} not fetched (backlog)" in _cli(config, "status").stdout
    assert json.loads(_cli(config, "status", "--json").stdout)["media"]["pending"] == []

    # a second sync downloads nothing more; a new episode is downloaded as usual
    with Catalog.open(config) as cat:
        assert cat.sync(transcriber_factory=lambda: whisper).media_done == 0
    _feed(server, site, range(EPISODES + 1))
    with Catalog.open(config) as cat:
        again = cat.sync(transcriber_factory=lambda: whisper)
    assert (again.items_new, again.media_done) == (1, 1)
    assert _downloads(server) == ["/ep-117.mp3", "/ep-118.mp3", "/ep-119.mp3", f"/ep-{EPISODES}.mp3"]

    # catalog fetch: the chosen old episodes, now
    with Catalog.open(config) as cat:
        items, fetched = cat.fetch([ids["ep-5"], ids["ep-119"]], transcriber_factory=lambda: whisper)
    assert fetched.ok and fetched.media_done == 1 and fetched.feeds_checked == 0
    assert items == [
        {"item_id": ids["ep-5"], "before": "skipped", "state": "indexed", "error": None},
        {"item_id": ids["ep-119"], "before": "indexed", "state": "indexed", "error": None},
    ]
    assert "/ep-5.mp3" in _downloads(server) and len(_downloads(server)) == 5
    assert _states(db) == {"indexed": 5, "skipped": EPISODES - 4}


def test_a_feeds_own_backlog_wins_and_zero_downloads_nothing(
    long_show: tuple[LocalServer, Path], write_config: WriteConfig
) -> None:
    server, site = long_show
    url = _feed(server, site, range(10))
    config = write_config([{"name": "long", "url": url, "kind": "podcast", "backlog": 0}], backlog=5)
    result = _cli(config, "sync", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["media_done"] == 0
    assert _downloads(server) == []
    assert _states(config.parent / "catalog.db") == {"skipped": 10}
    lines = _cli(config, "list", "--limit", "50").stdout.splitlines()
    assert len(lines) == 10 and all(line.endswith("· not fetched (backlog)") for line in lines), lines


def test_without_backlog_every_episode_is_queued(
    long_show: tuple[LocalServer, Path], write_config: WriteConfig
) -> None:
    server, site = long_show
    config = write_config([{"name": "long", "url": _feed(server, site, range(10)), "kind": "podcast"}])
    assert _cli(config, "sync", "--no-media").exit_code == 0
    assert _states(config.parent / "catalog.db") == {"new": 10}


def test_fetch_errors_name_the_item(long_show: tuple[LocalServer, Path], write_config: WriteConfig) -> None:
    server, site = long_show
    config = write_config(
        [
            {"name": "long", "url": _feed(server, site, range(3)), "kind": "podcast", "backlog": 1},
            {"name": "news", "url": str(SAMPLES / "articles.xml"), "kind": "article"},
        ]
    )
    assert _cli(config, "sync", "--no-media").exit_code == 0
    ids = _ids(config.parent / "catalog.db")
    unknown = _cli(config, "fetch", "999")
    assert (unknown.exit_code, unknown.stdout) == (1, "")
    assert (
        unknown.stderr
        == "Error: no item with id 999\nHint: item ids are shown by `catalog list` and `catalog search`\n"
    )
    article = min(item_id for guid, item_id in ids.items() if not guid.startswith("ep-"))
    bare = _cli(config, "fetch", str(article), "--json")
    assert bare.exit_code == 1
    assert bare.stderr.startswith(f"Error: item {article} has no audio or video to fetch\n")
    usage = _cli(config, "fetch")
    assert usage.exit_code == 2 and "Missing argument 'ITEM_ID...'" in usage.stderr
    assert _states(config.parent / "catalog.db") == {"new": 1, "skipped": 2}  # nothing was queued


def test_fetch_waits_for_no_sync(long_show: tuple[LocalServer, Path], write_config: WriteConfig) -> None:
    server, site = long_show
    config = write_config([{"name": "long", "url": _feed(server, site, range(2)), "kind": "podcast", "backlog": 0}])
    assert _cli(config, "sync", "--no-media").exit_code == 0
    from catalog.sync.lock import SyncLock

    with SyncLock(config.parent / "catalog.db"):
        result = _cli(config, "fetch", "1")
    assert result.exit_code == 5 and "already running" in result.stderr
    assert "run it again when the sync has finished" in result.stderr


@pytest.mark.parametrize("value", ["-1", "many"])
def test_a_bad_backlog_is_a_config_error(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(f"backlog: {value}\nfeeds: []\n", tmp_path / "feeds.yaml")
    assert str(info.value).startswith(f"{tmp_path / 'feeds.yaml'}:1: backlog: ")


PC20 = """<?xml version="1.0"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel><title>T</title>
<language>en</language>{items}</channel></rss>"""
VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Anna>Episode {n} is about zeppelin{n} diplomacy.\n"


def test_backlog_episodes_are_indexed_from_their_publisher_transcripts(
    long_show: tuple[LocalServer, Path], write_config: WriteConfig
) -> None:
    server, site = long_show
    items = []
    for n in range(4):
        os.link(SAMPLES / "media" / "nonzero-ep1.mp3", site / f"ep-{n}.mp3")
        transcript = ""
        if n != 1:  # episode 1 publishes no transcript; episode 2's is missing on the server
            transcript = f'<podcast:transcript url="{server.url(f"t{n}.vtt")}" type="text/vtt" language="en"/>'
        if n not in (1, 2):
            (site / f"t{n}.vtt").write_text(VTT.format(n=n))
        items.append(
            f"<item><title>Episode {n}</title><guid>ep-{n}</guid>"
            f"<pubDate>{format_datetime(START + timedelta(days=n))}</pubDate>"
            f'<enclosure url="{server.url(f"ep-{n}.mp3")}" type="audio/mpeg" length="73240"/>{transcript}</item>'
        )
    (site / "show.xml").write_text(PC20.format(items="".join(items)))
    config = write_config([{"name": "pc", "url": server.url("show.xml"), "kind": "podcast", "backlog": 1}])

    def no_whisper() -> WhisperTranscriber:
        raise AssertionError("no episode needs Whisper here")

    with Catalog.open(config) as cat:
        report = cat.sync(transcriber_factory=no_whisper)  # ep-3 (newest) and ep-0 have publisher transcripts
        assert report.media_done == 2 and _downloads(server) == [], report.failures
        ids = _ids(config.parent / "catalog.db")
        assert [hit.title for hit in cat.search("zeppelin0")] == ["Episode 0"]
        with driver.sqlite.connect(config.parent / "catalog.db") as conn:
            states = dict(conn.execute("SELECT item_id, state || '/' || attempts FROM media").fetchall())
        assert states == {
            ids["ep-0"]: "indexed/0",
            ids["ep-1"]: "skipped/0",
            ids["ep-2"]: "skipped/1",
            ids["ep-3"]: "indexed/0",
        }
        # tried once: a later sync asks the server for episode 2's transcript no more
        asked = server.requests["/t2.vtt"]
        assert cat.sync(transcriber_factory=no_whisper).media_done == 0
        assert server.requests["/t2.vtt"] == asked == 1
