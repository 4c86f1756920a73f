"""Benchmark: `catalog sync` on the shipped sample set, as a user runs it.

Prints, for a cold sync (fresh catalogue) and a warm re-sync (nothing changed), the wall time,
the audio seconds transcribed per wall second, and the peak memory (max RSS) of the sync process.
Each sync runs as its own `catalog` process, so start-up and model loading are counted.

    python bench/pipeline.py [--repeat 3] [--samples samples/]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_sync(workdir: Path) -> tuple[float, float, dict[str, object]]:
    """(wall seconds, peak RSS MiB, the run report) of one `catalog sync --json` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "catalog", "--config", str(workdir / "feeds.yaml"), "sync", "--json"],
        capture_output=True,
        text=True,
        cwd=workdir,
        check=False,
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"sync failed ({proc.returncode}):\n{proc.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest child so far: measure cold runs before warm ones
    return wall, max(peak, before) / 1024, json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--samples", type=Path, default=ROOT / "samples")
    args = parser.parse_args()

    cold, warm, peaks, audio = [], [], [], 0.0
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            shutil.copytree(args.samples, work / "samples")
            (work / "feeds.yaml").write_text(
                "feeds:\n"
                "  - {name: statecraft, url: samples/articles.xml, kind: article}\n"
                "  - {name: nonzero, url: samples/podcast.xml, kind: podcast}\n"
                "  - {name: talks, url: samples/video.xml, kind: video}\n"
            )
            wall, peak, report = run_sync(work)
            cold.append(wall)
            peaks.append(peak)
            audio = float(report["audio_seconds"])  # type: ignore[arg-type]
            wall, _, report = run_sync(work)
            assert report["items_new"] == 0 and report["media_done"] == 0, report
            warm.append(wall)

    cold_s, warm_s = statistics.median(cold), statistics.median(warm)
    print(f"catalog sync on {args.samples} ({args.repeat} runs, median; {os.cpu_count()} CPUs)")
    print(f"  cold sync      : {cold_s:6.2f} s wall  ({min(cold):.2f}-{max(cold):.2f})")
    print(f"  audio          : {audio:6.1f} s transcribed -> {audio / cold_s:5.1f} audio s per wall s")
    print(f"  warm re-sync   : {warm_s:6.2f} s wall  ({min(warm):.2f}-{max(warm):.2f})")
    print(f"  ratio          : cold / warm = {cold_s / warm_s:.1f}x")
    print(f"  peak memory    : {max(peaks):6.0f} MiB max RSS (sync process)")


if __name__ == "__main__":
    main()
