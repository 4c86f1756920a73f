"""Transcription on a real Dask LocalCluster (2 worker processes, every listener on 127.0.0.1).

The same episodes are synced in-process once (the expected transcripts), then through the cluster:
plainly, with a worker process killed mid-task, and with the coordinator killed (kill -9) mid-run and
synced again. Whatever happens, every item ends with the transcript the in-process path made, once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask
import pytest
from distributed import Client, LocalCluster

from catalog.app import Catalog
from catalog.asr.model_store import bundled_model_path
from catalog.errors import ModelError
from catalog.models import MediaJob
from catalog.storage import driver, leases, runs
from catalog.storage.database import write
from catalog.sync import transcription
from catalog.sync.cluster import DaskExecutor, worker_overrides
from catalog.sync.events import SyncEvents
from catalog.sync.executor import transcriber_settings
from catalog.sync.media_stage import STOPPED, MediaWorker
from catalog.sync.report import SyncOptions, SyncReport
from catalog.testing.crash import build_site
from catalog.testing.localserver import LocalServer
from tests.conftest import ROOT, SAMPLES

EPISODES = 6


# Dask's nanny starts workers with OMP/MKL/OPENBLAS_NUM_THREADS=1 (and a low MALLOC_TRIM_THRESHOLD_); the
# numerical libraries then sum in another order and word times move by 0.02 s. Same settings means the same
# environment as this process.
SAME_ENVIRONMENT: dict[str, object] = {"distributed.nanny.pre-spawn-environ": {}}


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with (
        dask.config.set(SAME_ENVIRONMENT),
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            scheduler_port=0,
            dashboard_address=None,
            worker_dashboard_address=None,
        ) as local,
    ):
        yield local


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    root = tmp_path_factory.mktemp("site")
    build_site(SAMPLES, root, EPISODES)
    server = LocalServer(root).start()
    yield server
    server.stop()


def write_config(folder: Path, site: LocalServer) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "feeds.yaml"
    feed = site.url("podcast.xml")
    config.write_text(f"cpu_threads: 1\ntimeout_seconds: 10\nfeeds:\n  - name: show\n    url: {feed}\n")
    return config


def transcripts(db_path: Path) -> dict[str, Any]:
    """Each item's transcript as stored: model, then every indexed segment with its word times."""
    with driver.sqlite.connect(db_path) as conn:
        rows = conn.execute(
            """SELECT i.guid, t.model, p.seq, p.text, p.words FROM items i JOIN transcripts t ON t.item_id = i.id
               JOIN passages p ON p.item_id = i.id AND p.kind = 'segment' ORDER BY i.guid, p.seq"""
        ).fetchall()
    found: dict[str, Any] = {}
    for guid, model, seq, text, words in rows:
        found.setdefault(guid, [model]).append((seq, text, words))
    return found


def sync(config: Path, cluster: str | None = None) -> SyncReport:
    with Catalog.open(config) as cat:
        return cat.sync(SyncOptions(cluster=cluster))


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory, site: LocalServer) -> dict[str, Any]:
    """The in-process path's transcripts, same model and settings."""
    config = write_config(tmp_path_factory.mktemp("local"), site)
    report = sync(config)
    assert (report.media_done, report.failures) == (EPISODES, [])
    found = transcripts(config.parent / "catalog.db")
    assert sorted(found) == [f"crash-{n}" for n in range(1, EPISODES + 1)]
    assert {entry[0] for entry in found.values()} == {"tiny.en"}
    return found


def check_catalogue(db_path: Path) -> None:
    """Every item indexed once: one transcript, its passages exactly its segments, nothing leased, FTS sound."""
    with driver.sqlite.connect(db_path) as conn:
        assert conn.execute("SELECT state, COUNT(*) FROM media GROUP BY state").fetchall() == [("indexed", EPISODES)]
        assert conn.execute(
            """SELECT COUNT(*) FROM transcripts t WHERE t.segments != (SELECT COUNT(*) FROM passages p
               WHERE p.item_id = t.item_id AND p.kind = 'segment')"""
        ).fetchone() == (0,)
        assert conn.execute("SELECT COUNT(*) FROM transcription_leases").fetchone() == (0,)
        conn.execute("INSERT INTO search_index(search_index, rank) VALUES ('integrity-check', 1)")


def test_cluster_transcripts_equal_the_in_process_ones_and_retranscribe_there(
    tmp_path: Path, site: LocalServer, cluster: LocalCluster, expected: dict[str, Any]
) -> None:
    config = write_config(tmp_path, site)
    report = sync(config, cluster.scheduler_address)
    assert (report.media_done, report.failures) == (EPISODES, [])
    assert transcripts(tmp_path / "catalog.db") == expected
    check_catalogue(tmp_path / "catalog.db")

    # the model upgrade path on the cluster: `tiny-copy` is tiny.en in a folder of its own name
    bundled = bundled_model_path()
    assert bundled is not None
    copy = tmp_path / "tiny-copy"
    copy.mkdir()
    for part in bundled.iterdir():
        (copy / part.name).symlink_to(part)
    with Catalog.open(config) as cat:
        assert cat.retranscribe(str(copy), where_model="tiny.en") == EPISODES
        report = cat.sync(SyncOptions(cluster=cluster.scheduler_address))
        assert (report.media_done, report.failures) == (EPISODES, [])
        assert cat.status()["transcripts"] == {"by_model": {"tiny-copy": EPISODES}, "queued": {}}
    again = transcripts(tmp_path / "catalog.db")
    assert {guid: found[1:] for guid, found in again.items()} == {guid: found[1:] for guid, found in expected.items()}
    check_catalogue(tmp_path / "catalog.db")


def test_a_worker_killed_mid_task_still_completes_the_sync(
    tmp_path: Path, site: LocalServer, cluster: LocalCluster, expected: dict[str, Any]
) -> None:
    config = write_config(tmp_path, site)
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["report"] = sync(config, cluster.scheduler_address)
        except BaseException as exc:  # shown by the assertion below
            outcome["error"] = exc

    with Client(cluster.scheduler_address, set_as_default=False) as client:
        pids = client.run(os.getpid)
        coordinator = threading.Thread(target=run)
        coordinator.start()
        killed = None
        deadline = time.monotonic() + 60
        while killed is None and time.monotonic() < deadline and coordinator.is_alive():
            busy = [worker for worker, keys in client.processing().items() if keys]
            if busy:
                time.sleep(0.3)  # well into the task: tiny.en needs about a second per episode here
                killed = pids[busy[0]]
                os.kill(killed, signal.SIGKILL)
            time.sleep(0.02)
        coordinator.join(timeout=120)
    assert killed is not None, "no task was seen running"
    assert "error" not in outcome, outcome.get("error")
    report = outcome["report"]
    assert (report.media_done, report.failures) == (EPISODES, [])
    assert transcripts(tmp_path / "catalog.db") == expected
    check_catalogue(tmp_path / "catalog.db")


def test_a_coordinator_killed_mid_run_resumes_without_repeats_or_duplicates(
    tmp_path: Path, site: LocalServer, cluster: LocalCluster, expected: dict[str, Any]
) -> None:
    config = write_config(tmp_path, site)
    db_path = tmp_path / "catalog.db"
    command = [sys.executable, "-m", "catalog", "--config", str(config), "sync", "--cluster", cluster.scheduler_address]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    in_flight = 0
    try:
        deadline = time.monotonic() + 90
        while proc.poll() is None and time.monotonic() < deadline:
            if db_path.exists():
                with driver.sqlite.connect(db_path) as conn:
                    try:
                        done = conn.execute("SELECT COUNT(*) FROM transcripts").fetchone()[0]
                        in_flight = conn.execute(
                            "SELECT COUNT(*) FROM transcription_leases WHERE owner IS NOT NULL"
                        ).fetchone()[0]
                    except driver.OperationalError:  # not migrated yet
                        done = in_flight = 0
                if done >= 1 and in_flight >= 1:
                    proc.send_signal(signal.SIGKILL)
                    break
            time.sleep(0.02)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the coordinator finished before it could be killed mid-run"
    with driver.sqlite.connect(db_path) as conn:
        finished = conn.execute("SELECT item_id, created_at FROM transcripts ORDER BY item_id").fetchall()
    assert 1 <= len(finished) < EPISODES and in_flight >= 1

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 0, again.stderr
    with driver.sqlite.connect(db_path) as conn:
        kept = conn.execute(
            f"SELECT item_id, created_at FROM transcripts WHERE item_id IN ({','.join('?' * len(finished))})",
            [item for item, _at in finished],
        ).fetchall()
        runs = conn.execute("SELECT media_done FROM runs ORDER BY id").fetchall()
    assert sorted(kept) == finished  # finished transcriptions were not done again
    assert runs[-1] == (EPISODES - len(finished),)
    assert transcripts(db_path) == expected
    check_catalogue(db_path)


class Clock(SyncEvents):
    """Time runs out as soon as the first task is handed to a worker."""

    def __init__(self) -> None:
        self.started = 0

    def item_started(self, job: MediaJob, what: str) -> None:
        self.started += what == "transcribing"

    def out_of_time(self) -> bool:
        return self.started > 0


def test_out_of_time_no_new_work_starts_and_the_tasks_out_are_waited_for(
    tmp_path: Path, site: LocalServer, cluster: LocalCluster, expected: dict[str, Any]
) -> None:
    config = write_config(tmp_path, site)
    clock = Clock()
    with Catalog.open(config) as cat:
        cat.sync(SyncOptions(media=False))
        executor = DaskExecutor(cluster.scheduler_address, preload=transcriber_settings(cat.config))
        try:
            stage = MediaWorker(
                cat.db,
                cat.config,
                client=cat.client,
                transcriber=cat.transcriber,
                events=clock,
                out_of_time=clock.out_of_time,
                executor=executor,
            )
            with write(cat.db):
                report = SyncReport(run_id=runs.start_run(cat.db, os.getpid()))
            stage.run(report, None)
        finally:
            executor.close()
        assert (report.stopped_early, report.media_done, report.failures) == (STOPPED, 1, [])
        # the task handed out before the deadline came back and was stored: no lease is left behind
        assert cat.db.execute("SELECT COUNT(*) FROM transcription_leases").fetchone() == (0,)
        assert cat.db.execute("SELECT state, COUNT(*) FROM media GROUP BY state").fetchall() == [
            ("indexed", 1),
            ("new", EPISODES - 1),
        ]
    assert sync(config, cluster.scheduler_address).media_done == EPISODES - 1
    assert transcripts(tmp_path / "catalog.db") == expected
    check_catalogue(tmp_path / "catalog.db")


def test_a_worker_takes_device_settings_from_its_own_feeds_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker_yaml = tmp_path / "worker.yaml"
    worker_yaml.write_text("device: cuda\ncompute_type: float16\nmodel: ignored-here\n")
    monkeypatch.setenv("CATALOG_CONFIG", str(worker_yaml))
    assert worker_overrides() == {"device": "cuda", "compute_type": "float16"}
    monkeypatch.delenv("CATALOG_CONFIG")
    assert worker_overrides() == {}


def test_a_lease_that_runs_out_is_handed_out_again_and_one_result_is_used(
    tmp_path: Path, site: LocalServer, cluster: LocalCluster, expected: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Leases of 0.3 s, for tasks of about a second: every task is handed out again while it runs (as for a
    hung worker), and both attempts may come back; each item is stored once, from the first."""
    monkeypatch.setattr(transcription, "LEASE_BASE_S", 0.3)
    monkeypatch.setattr(transcription, "LEASE_PER_AUDIO_S", 0.0)
    monkeypatch.setattr(transcription, "MAX_ATTEMPTS", 100)  # handed out every 0.3 s: not a hung worker here
    handed_out: list[int] = []
    acquire = leases.acquire

    def counting(db: Any, item_id: int, *args: Any) -> int:
        handed_out.append(item_id)
        return acquire(db, item_id, *args)

    monkeypatch.setattr(leases, "acquire", counting)
    config = write_config(tmp_path, site)
    report = sync(config, cluster.scheduler_address)
    assert (report.media_done, report.failures) == (EPISODES, [])
    assert len(handed_out) > EPISODES and set(handed_out) == set(range(1, EPISODES + 1))
    assert transcripts(tmp_path / "catalog.db") == expected
    check_catalogue(tmp_path / "catalog.db")


def test_a_model_the_workers_do_not_have_is_a_configuration_error_that_spends_no_attempt(
    tmp_path: Path, site: LocalServer, cluster: LocalCluster
) -> None:
    """On a cluster the model is checked where it runs: the coordinator need not have it, the workers must."""
    config = write_config(tmp_path, site)
    config.write_text(config.read_text() + "model: ./no-such-model\n")
    with Catalog.open(config) as cat, pytest.raises(ModelError, match=r"no-such-model has no model\.bin"):
        cat.sync(SyncOptions(cluster=cluster.scheduler_address))
    with driver.sqlite.connect(tmp_path / "catalog.db") as conn:
        # the four tasks handed out (a thread and a waiting task on each of 2 workers) had their media
        # downloaded; no item was counted as failing
        assert conn.execute("SELECT state, attempts, COUNT(*) FROM media GROUP BY 1, 2").fetchall() == [
            ("downloaded", 0, 4),
            ("new", 0, EPISODES - 4),
        ]
