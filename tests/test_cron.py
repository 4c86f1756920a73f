"""Cron-grade sync: one run at a time, 304s that cost nothing, failing feeds that back off,
bounded runs, and silence when all is well. Syncs run as real `catalog` processes."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from catalog.storage import driver
from catalog.testing.localserver import LocalServer, delayed_route, slow_route, status_route, truncated_route
from tests.conftest import WriteConfig


def catalog(config: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "catalog", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "catalog", "--config", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def status(config: Path) -> dict[str, Any]:
    result = catalog(config, "status", "--json", "--runs", "50")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def snapshot(db: Path) -> str:
    """A digest of every catalogue row except the run log."""
    digest = hashlib.sha256()
    with driver.sqlite.connect(db) as conn:
        for table in ("feeds", "items", "media", "passages", "transcripts"):
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY rowid"):
                digest.update(repr(row).encode())
    return digest.hexdigest()


@pytest.fixture
def podcast_config(server: LocalServer, write_config: WriteConfig) -> Path:
    return write_config(
        [
            {"name": "statecraft", "url": server.url("articles.xml")},
            {"name": "nonzero", "url": server.url("podcast.xml")},
        ]
    )


def test_second_sync_while_one_runs_exits_at_once_and_search_works(server: LocalServer, podcast_config: Path) -> None:
    assert catalog(podcast_config, "sync", "--no-media").returncode == 0
    server.routes["/podcast.xml"] = delayed_route(server, "/podcast.xml", 4.0)
    (server.root / "podcast.xml").touch()  # changed, so the slow route must serve it
    first = start(podcast_config, "sync", "--no-media")
    lock = podcast_config.parent / "catalog.db.lock"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and lock.read_text().strip() != str(first.pid):
        time.sleep(0.05)
    assert lock.read_text().strip() == str(first.pid), "the first sync never took the lock"
    started = time.monotonic()
    second = catalog(podcast_config, "sync")
    took = time.monotonic() - started
    assert second.returncode == 5
    assert "already running" in second.stderr and str(first.pid) in second.stderr
    assert second.stdout == ""
    assert took < 1.5, f"the second sync took {took:.2f} s to give up"
    searched = catalog(podcast_config, "search", "peacekeepers", "--json")
    assert searched.returncode == 0 and json.loads(searched.stdout)
    assert finish(first)[0] == 0


def test_overlapping_syncs_exactly_one_works(server: LocalServer, podcast_config: Path) -> None:
    assert catalog(podcast_config, "sync", "--no-media").returncode == 0
    server.routes["/articles.xml"] = delayed_route(server, "/articles.xml", 1.5)
    stop = threading.Event()
    search_codes: list[int] = []

    def keep_searching() -> None:
        while not stop.is_set():
            search_codes.append(catalog(podcast_config, "search", "ceasefire", "--json").returncode)

    searcher = threading.Thread(target=keep_searching)
    searcher.start()
    try:
        for _ in range(4):
            (server.root / "articles.xml").touch()
            pair = [start(podcast_config, "sync", "--no-media") for _ in range(2)]
            outcomes = sorted(finish(proc)[::2] for proc in pair)
            assert [code for code, _ in outcomes] == [0, 5], outcomes
            assert "Traceback" not in outcomes[0][1] + outcomes[1][1]
    finally:
        stop.set()
        searcher.join()
    assert search_codes and set(search_codes) == {0}
    runs = status(podcast_config)["runs"]
    assert all(run["status"] == "ok" for run in runs)


def test_304_costs_one_request_and_no_write(server: LocalServer, podcast_config: Path) -> None:
    assert catalog(podcast_config, "sync").returncode == 0
    db = podcast_config.parent / "catalog.db"
    before, bodies, requests = snapshot(db), dict(server.bodies), dict(server.requests)
    result = catalog(podcast_config, "sync", "--json")
    assert result.returncode == 0
    report = json.loads(result.stdout)
    assert report["feeds_checked"] == 2 and report["feeds_unchanged"] == 2
    assert dict(server.bodies) == bodies, "no body may be served"
    assert {path: n - requests.get(path, 0) for path, n in server.requests.items() if n - requests.get(path, 0)} == {
        "/articles.xml": 1,
        "/podcast.xml": 1,
    }
    assert snapshot(db) == before, "an unchanged feed must not write a row"


def test_changed_item_is_updated_not_duplicated(server: LocalServer, podcast_config: Path) -> None:
    assert catalog(podcast_config, "sync", "--no-media").returncode == 0
    feed = server.root / "articles.xml"
    feed.write_text(feed.read_text().replace("Security Guarantees", "Security Pledges"))
    result = catalog(podcast_config, "sync", "--no-media", "--json")
    report = json.loads(result.stdout)
    assert report["items_new"] == 0 and report["items_updated"] == 1
    hits = json.loads(catalog(podcast_config, "search", "pledges", "--json").stdout)
    assert len(hits) == 1 and "Pledges" in hits[0]["title"]
    # the old words are gone from the index (by meaning, the retitled item is still close: --lexical)
    assert json.loads(catalog(podcast_config, "search", '"Security Guarantees"', "--json", "--lexical").stdout) == []


def test_failing_feeds_are_bounded_backed_off_and_reported(
    server: LocalServer, site: Path, write_config: WriteConfig
) -> None:
    ep1 = (site / "media" / "nonzero-ep1.mp3").read_bytes()
    server.routes.update(
        {
            "/500.xml": status_route(500),
            "/hang.xml": lambda handler: time.sleep(20),
            "/drip.xml": slow_route(total=500, delay=0.5),
            "/429.xml": status_route(429, Retry_After="7200"),
            "/gone.xml": status_route(410),
            "/media/nonzero-ep1.mp3": truncated_route(ep1, "audio/mpeg", 20_000),
        }
    )
    names = ["500", "hang", "drip", "429", "gone"]
    config = write_config(
        [{"name": name, "url": server.url(f"{name}.xml")} for name in names]
        + [{"name": "nonzero", "url": server.url("podcast.xml")}],
        timeout_seconds=1,
    )
    started = time.monotonic()
    result = catalog(config, "sync")
    assert time.monotonic() - started < 30
    assert result.returncode == 4
    for name in names:
        assert f"feed {name}" in result.stderr
    report = status(config)
    feeds = {feed["name"]: feed for feed in report["feeds"]}
    now = datetime.now(timezone.utc)
    for name in ("500", "hang", "drip"):
        assert feeds[name]["failures"] == 1 and feeds[name]["next_fetch_at"] > now.isoformat()
    assert "timed out" in feeds["hang"]["last_error"] and "too slow" in feeds["drip"]["last_error"]
    assert datetime.fromisoformat(feeds["429"]["next_fetch_at"]) > now + timedelta(seconds=7000)
    assert "410 Gone" in feeds["gone"]["disabled_reason"]
    assert feeds["nonzero"]["counts"]["podcast"] == 2
    assert report["media"]["counts"] == {"indexed": 1, "new": 1}
    pending = report["media"]["pending"][0]
    assert "will resume" in pending["reason"] and pending["attempts"] == 1
    assert list((config.parent / "media").rglob("*.part")), "the partial download is kept for a Range resume"

    # The next run leaves backing-off feeds alone: not one request to them.
    requests = dict(server.requests)
    catalog(config, "sync", "--no-media")
    assert all(server.requests[f"/{name}.xml"] == requests[f"/{name}.xml"] for name in names)

    # `catalog retry` clears backoff (not 410 Gone's given-up state: only --force or retry does).
    retried = catalog(config, "retry")
    assert retried.returncode == 0 and "Reset 5 feed(s) and 1 item(s)" in retried.stdout
    del server.routes["/media/nonzero-ep1.mp3"]
    catalog(config, "sync", timeout=120)
    assert server.requests["/500.xml"] == requests["/500.xml"] + 1
    assert status(config)["media"]["counts"] == {"indexed": 2}


def test_feed_given_up_after_max_attempts(server: LocalServer, write_config: WriteConfig) -> None:
    server.routes["/500.xml"] = status_route(500)
    config = write_config([{"name": "bad", "url": server.url("500.xml")}], max_attempts=2)
    for _ in range(2):
        assert catalog(config, "sync", "--force").returncode == 4
    feed = status(config)["feeds"][0]
    assert "gave up after 2 failures" in feed["disabled_reason"]
    assert catalog(config, "sync").returncode == 0 and server.requests["/500.xml"] == 2


def test_bounded_runs_take_newest_first(server: LocalServer, podcast_config: Path) -> None:
    result = catalog(podcast_config, "sync", "--max-items", "1", "--json")
    assert result.returncode == 0
    report = status(podcast_config)
    assert report["media"]["counts"] == {"indexed": 1, "new": 1}
    assert report["media"]["pending"][0]["title"].startswith("Episode 1")  # episode 2 is newer
    # the feed stage takes 0.5 s (a slow server), so the 0.3 s limit has surely passed before any media work
    server.routes["/articles.xml"] = delayed_route(server, "articles.xml", 0.5)
    timed = catalog(podcast_config, "sync", "--max-minutes", "0.005")
    assert timed.returncode == 0 and "time limit" in timed.stderr
    del server.routes["/articles.xml"]
    assert status(podcast_config)["media"]["counts"] == {"indexed": 1, "new": 1}
    assert catalog(podcast_config, "sync").returncode == 0
    assert status(podcast_config)["media"]["counts"] == {"indexed": 2}


def test_long_media_refused_before_decoding(server: LocalServer, write_config: WriteConfig) -> None:
    config = write_config([{"name": "nonzero", "url": server.url("podcast.xml")}], max_duration_minutes=0.1)
    result = catalog(config, "sync")
    assert result.returncode == 4 and "over the 0.1 minute limit" in result.stderr
    assert status(config)["media"]["counts"] == {"failed": 2}


def test_quiet_when_all_is_well_verbose_on_request(podcast_config: Path) -> None:
    result = catalog(podcast_config, "sync")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    verbose = catalog(podcast_config, "sync", "--verbose")
    assert verbose.returncode == 0 and verbose.stdout == ""
    assert "feed nonzero: not modified" in verbose.stderr and "Synced 2 feeds" in verbose.stderr


def test_runs_are_logged(podcast_config: Path) -> None:
    catalog(podcast_config, "sync")
    catalog(podcast_config, "sync")
    runs = status(podcast_config)["runs"]
    assert [run["status"] for run in runs] == ["ok", "ok"]
    assert runs[1]["media_done"] == 2 and runs[1]["audio_seconds"] > 30
    assert runs[0]["feeds_unchanged"] == 2 and runs[0]["finished_at"] >= runs[0]["started_at"]
    human = catalog(podcast_config, "status").stdout
    assert "Last runs" in human and "2 transcribed" in human


def _wait_for_lock(lock: Path, pid: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not (lock.exists() and lock.read_text().strip() == str(pid)):
        time.sleep(0.05)
    assert lock.exists() and lock.read_text().strip() == str(pid), f"sync {pid} never took the lock"


@pytest.mark.skipif(os.name != "posix", reason="flock")
def test_lock_is_released_when_the_holder_dies(server: LocalServer, podcast_config: Path) -> None:
    server.routes["/podcast.xml"] = delayed_route(server, "/podcast.xml", 30.0)  # keeps the holder busy
    holder = start(podcast_config, "sync")
    lock = podcast_config.parent / "catalog.db.lock"
    try:
        _wait_for_lock(lock, holder.pid)
        refused = catalog(podcast_config, "sync", "--no-media")
        assert holder.poll() is None, "the holder must still be running while the second sync is refused"
        assert refused.returncode == 5
        assert refused.stdout == ""
        assert refused.stderr == (
            f"Error: another catalog sync is already running on this catalogue (pid {holder.pid})\n"
            "Hint: this run did nothing; the next scheduled run will pick up the work\n"
        )
        assert lock.read_text().strip() == str(holder.pid)
    finally:
        holder.kill()
        finish(holder)
    assert holder.returncode == -9
    assert lock.read_text().strip() == str(holder.pid), "a killed holder leaves its pid, but not its lock"
    del server.routes["/podcast.xml"]
    after = catalog(podcast_config, "sync", "--no-media", "--json")
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout)["feeds_checked"] == 2
    counts = {feed["name"]: feed["counts"] for feed in status(podcast_config)["feeds"]}
    assert counts == {
        "nonzero": {"article": 0, "podcast": 2, "video": 0},
        "statecraft": {"article": 3, "podcast": 0, "video": 0},
    }
    assert lock.read_text().strip() != str(holder.pid)  # the new holder wrote its own pid


def _many_feeds(site: Path, server: LocalServer, count: int) -> list[dict[str, str]]:
    for n in range(count):
        items = "".join(
            f"<item><title>Feed {n} item {i}</title><guid>f{n}-{i}</guid><description>truce talk {n} {i}</description>"
            f"<pubDate>Mon, 0{i + 1} Sep 2026 10:00:00 GMT</pubDate></item>"
            for i in range(3)
        )
        (site / f"many{n}.xml").write_text(
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>F{n}</title>{items}</channel></rss>'
        )
    return [{"name": f"many{n}", "url": server.url(f"many{n}.xml")} for n in range(count)]


_PARENT = os.getpid()
_REAL_PARSE: Any = None
_PARSED_LOG: Path | None = None


def _record_parse(fetched: Any) -> Any:
    """Stands in for feed_stage.parse_fetched (module level, so it pickles): notes which process parsed which
    feed, one line per feed, appended to a file (a worker process cannot send anything else back)."""
    assert _PARSED_LOG is not None
    with _PARSED_LOG.open("a") as log:
        log.write(f"{os.getpid()} {fetched.source.name}\n")
    return _REAL_PARSE(fetched)


def _dies_in_a_child(fetched: Any) -> Any:
    """A parser process crashes on one feed."""
    if os.getpid() != _PARENT and fetched.source.name == "many7":
        os._exit(1)
    return _record_parse(fetched)


def _parsed_by(log: Path) -> tuple[list[str], list[str]]:
    """(feeds parsed in this process, feeds parsed in worker processes)."""
    here, workers = [], []
    for line in log.read_text().splitlines():
        pid, name = line.split()
        (here if int(pid) == _PARENT else workers).append(name)
    return sorted(here), sorted(workers)


@pytest.fixture
def parse_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import catalog.sync.feed_stage as jobs

    log = tmp_path / "parsed.log"
    monkeypatch.setitem(globals(), "_REAL_PARSE", jobs.parse_fetched)
    monkeypatch.setitem(globals(), "_PARSED_LOG", log)
    monkeypatch.setattr(jobs, "parse_fetched", _record_parse)
    return log


def _items_per_feed(config: Path) -> dict[str, int]:
    with driver.sqlite.connect(config.parent / "catalog.db") as conn:
        rows = conn.execute(
            "SELECT f.name, COUNT(i.id) FROM feeds f LEFT JOIN items i ON i.feed_id = f.id GROUP BY f.id"
        )
        return dict(rows.fetchall())


needs_cores = pytest.mark.skipif(
    (os.cpu_count() or 1) < 2 or not sys.platform.startswith("linux"),
    reason="parser processes are used on Linux with 2 cores or more",
)


@needs_cores
def test_many_feeds_are_parsed_in_parser_processes(
    server: LocalServer, site: Path, write_config: WriteConfig, parse_log: Path
) -> None:
    from catalog.app import Catalog
    from catalog.sync.report import SyncOptions

    config = write_config(_many_feeds(site, server, 45))
    names = sorted(f"many{n}" for n in range(45))
    with Catalog.open(config) as cat:
        report = cat.sync(SyncOptions(media=False))
        assert report.ok and report.items_new == 135
        assert report.parsed_in_workers == 45
        assert _parsed_by(parse_log) == ([], names), "every feed is parsed in a worker process, none in this one"
        hits = cat.search('"truce talk 44"')
        assert sorted(hit.title or "" for hit in hits) == ["Feed 44 item 0", "Feed 44 item 1", "Feed 44 item 2"]
        # Nothing changed: 45 not-modified answers, nothing to parse anywhere.
        parse_log.unlink()
        again = cat.sync(SyncOptions(media=False))
        assert (again.feeds_unchanged, again.parsed_in_workers, again.items_new) == (45, 0, 0)
        assert not parse_log.exists()
    assert _items_per_feed(config) == dict.fromkeys(names, 3)


def test_few_feeds_are_parsed_in_process(
    server: LocalServer, site: Path, write_config: WriteConfig, parse_log: Path
) -> None:
    from catalog.app import Catalog
    from catalog.sync.feed_stage import ParserPool
    from catalog.sync.report import SyncOptions

    few = 5
    assert few < ParserPool.MIN_FEEDS
    config = write_config(_many_feeds(site, server, few))
    with Catalog.open(config) as cat:
        report = cat.sync(SyncOptions(media=False))
    assert report.ok and report.items_new == 3 * few
    assert report.parsed_in_workers == 0
    assert _parsed_by(parse_log) == (sorted(f"many{n}" for n in range(few)), [])


@needs_cores
def test_a_parser_process_that_dies_costs_no_feed(
    server: LocalServer,
    site: Path,
    write_config: WriteConfig,
    parse_log: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import catalog.sync.feed_stage as jobs
    from catalog.app import Catalog
    from catalog.sync.report import SyncOptions

    monkeypatch.setattr(jobs, "parse_fetched", _dies_in_a_child)
    config = write_config(_many_feeds(site, server, 45))
    names = sorted(f"many{n}" for n in range(45))
    with caplog.at_level(logging.WARNING, logger="catalog.sync.feed_stage"), Catalog.open(config) as cat:
        report = cat.sync(SyncOptions(media=False))
    assert report.ok and report.items_new == 135
    # The pool broke once, and from then on this process parsed: many7 (whose worker died) among them.
    broke = [r for r in caplog.records if r.name == "catalog.sync.feed_stage" and r.levelno == logging.WARNING]
    assert [r.getMessage() for r in broke] == ["a feed parser process died; parsing the rest in this process"]
    here, workers = _parsed_by(parse_log)
    assert "many7" in here and "many7" not in workers
    assert sorted(set(here) | set(workers)) == names, "every feed was parsed somewhere"
    # sent to workers: the feeds they parsed, many7, and any that were queued behind it when the pool broke
    assert len(workers) + 1 <= report.parsed_in_workers <= 45
    # ... and every feed's items arrived, none twice.
    assert _items_per_feed(config) == dict.fromkeys(names, 3)
