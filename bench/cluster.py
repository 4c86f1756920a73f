"""Benchmark: an hour of speech through `catalog sync` in-process, then on a Dask LocalCluster of 1 and 2 workers.

    python bench/cluster.py [--minutes 60] [--corpus ../shared/corpus/speech] [--modes local,1,2]

Audio: the real speech clips of `--corpus` (manifest.csv order), decoded to 16 kHz mono and joined with
1 s of silence into one ~311 s episode (the shape bench/transcribe.py uses); each episode rotates the
clip order, so no two are the same file, and there are as many as make `--minutes` of speech (12 for
an hour). They are served as a podcast feed from local files, as WAV (the bytes a task carries are
therefore the largest they would be: 10 MB per episode).

Each mode is one real `catalog sync` (fresh catalogue) run by this process, which is the coordinator:

* `local`: the in-process executor (no Dask at all);
* `1`, `2`: `sync --cluster` to a LocalCluster on 127.0.0.1 with that many worker processes, one thread
  each. Workers get this process's environment (Dask's nanny would otherwise set OMP_NUM_THREADS=1),
  so the arithmetic is the same and the transcripts are equal. The cluster is started before the sync
  (a real cluster is already running); the sync's time includes connecting and the worker plugin
  loading the model on each worker, once.

Printed per mode: wall seconds of the sync; CPU seconds it cost (coordinator plus workers: on a machine
shared with other work, wall time moves a lot and CPU time much less); throughput (audio seconds per
wall second); the overhead against in-process (total, and per task = per episode); and peak memory
(VmHWM) of each worker process, and of this coordinator process. On a 2-core machine 2 workers cannot be faster than one
process already using both cores; the figure to watch is the 1-worker overhead (goal: <= 5 %).

Figures on the 2-core development machine (shared, load average 2-4; one run each), 62.5 min of speech:
in-process 94.6 s wall / 97.6 CPU s (39.6 audio s/s); 1 worker 83.4 s / 103.8 CPU s (44.9 audio s/s,
-11.8 % wall, +6 % CPU); 2 workers 77.9 s / 108.1 CPU s; peak memory ~750 MiB per worker. Why wall time
goes down while CPU goes up, and the run before a task waited on each worker: docs/scaling.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import tempfile
import time
import wave
from pathlib import Path

import dask
import numpy as np
from distributed import Client, LocalCluster

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog.app import Catalog  # noqa: E402
from catalog.asr.engine import decode_audio  # noqa: E402
from catalog.sync.report import SyncOptions  # noqa: E402

RATE = 16000
SAME_ENVIRONMENT: dict[str, object] = {"distributed.nanny.pre-spawn-environ": {}}
FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>An hour of speech</title><language>en</language>
{items}
</channel></rss>"""
ITEM = """<item><title>Episode {n}</title><guid>hour-{n}</guid>
<pubDate>Mon, {day:02d} Jan 2026 10:00:00 GMT</pubDate>
<enclosure url="media/ep{n:02d}.wav" type="audio/wav" length="{size}"/></item>"""


def build_site(corpus: Path, root: Path, minutes: float) -> float:
    """Episodes of the joined clips, enough for `minutes` of audio; returns the seconds of audio."""
    with (corpus / "manifest.csv").open(newline="") as handle:
        files = [row["file"] for row in csv.DictReader(handle)]
    clips = [decode_audio(str(corpus / name), RATE) for name in files]
    pause = np.zeros(RATE, dtype=np.float32)
    (root / "media").mkdir(parents=True)
    items, total, n = [], 0.0, 0
    while total < minutes * 60:
        n += 1
        order = clips[n % len(clips) :] + clips[: n % len(clips)]
        audio = np.concatenate([part for clip in order for part in (clip, pause)])
        path = root / "media" / f"ep{n:02d}.wav"
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
        total += len(audio) / RATE
        items.append(ITEM.format(n=n, day=n % 28 + 1, size=path.stat().st_size))
    (root / "podcast.xml").write_text(FEED.format(items="\n".join(items)))
    return total


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_sync(site: Path, work: Path, cluster: str | None) -> tuple[float, float, int]:
    """(wall seconds, audio seconds, items) of one sync into a fresh catalogue."""
    work.mkdir()
    config = work / "feeds.yaml"
    config.write_text(f"keep_media: false\nfeeds:\n  - name: hour\n    url: {site / 'podcast.xml'}\n")
    started = time.perf_counter()
    with Catalog.open(config) as cat:
        report = cat.sync(SyncOptions(cluster=cluster))
    wall = time.perf_counter() - started
    if report.failures:
        raise SystemExit(f"sync failed: {report.failures}")
    return wall, report.audio_seconds, report.media_done


def max_rss_mib() -> float:
    """This process's peak resident memory: VmHWM, which (unlike ru_maxrss) starts afresh at exec, so a
    worker spawned from a big coordinator does not report the coordinator's memory as its own (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "speech")
    parser.add_argument("--modes", default="local,1,2")
    args = parser.parse_args()
    modes = args.modes.split(",")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        audio = build_site(args.corpus, root / "site", args.minutes)
        print(
            f"{audio / 60:.1f} min of speech in {len(list((root / 'site' / 'media').iterdir()))} episodes; "
            f"{os.cpu_count()} CPUs; tiny.en int8, cpu_threads 0 (one per core)"
        )
        results: dict[str, tuple[float, float, int, list[float], float]] = {}
        for mode in modes:
            cpu = cpu_seconds()
            if mode == "local":
                wall, seconds, items = run_sync(root / "site", root / "local", None)
                results[mode] = (wall, seconds, items, [max_rss_mib()], cpu_seconds() - cpu)
                continue
            with (
                dask.config.set(SAME_ENVIRONMENT),
                LocalCluster(
                    n_workers=int(mode),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    scheduler_port=0,
                    dashboard_address=None,
                    worker_dashboard_address=None,
                ) as cluster,
            ):
                with Client(cluster.scheduler_address, set_as_default=False) as client:
                    workers_cpu = sum(client.run(cpu_seconds).values())
                    cpu = cpu_seconds()
                    wall, seconds, items = run_sync(root / "site", root / f"cluster{mode}", cluster.scheduler_address)
                    cpu = cpu_seconds() - cpu + sum(client.run(cpu_seconds).values()) - workers_cpu
                    peaks = client.run(max_rss_mib)
                results[mode] = (wall, seconds, items, sorted(peaks.values()), cpu)

        base = results.get("local")
        print(
            f"{'mode':<22} {'wall s':>8} {'CPU s':>7} {'audio s/s':>10} {'overhead':>10} {'per task':>9}  peak RSS MiB"
        )
        for mode, (wall, seconds, items, peaks, cpu) in results.items():
            label = "in-process" if mode == "local" else f"LocalCluster, {mode} worker{'s' if mode != '1' else ''}"
            over = per_task = ""
            if base is not None and mode != "local":
                over = f"{(wall - base[0]) / base[0] * 100:+.1f} %"
                per_task = f"{(wall - base[0]) / items:+.2f} s"
            memory = ", ".join(f"{peak:.0f}" for peak in peaks)
            who = "this process" if mode == "local" else "per worker"
            print(
                f"{label:<22} {wall:8.1f} {cpu:7.1f} {seconds / wall:10.1f} {over:>10} {per_task:>9}  {memory} ({who})"
            )
        print(f"coordinator (this process) peak RSS over all modes: {max_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
