"""Crash-and-resume soak: kill -9 `catalog sync` many times at random moments, then check that
the catalogue is intact, every item is present once with its transcript, every stored file
matches its recorded sha256, and no .part file is left.

    python bench/crash.py [--kills 100] [--episodes 12] [--seed N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runs from a checkout too


from catalog.testing.crash import crash_test  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--episodes", type=int, default=4)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        result = crash_test(
            ROOT / "samples", Path(tmp), episodes=args.episodes, kills=args.kills, seed=args.seed, window=(0.3, 5.0)
        )
    print(
        f"seed {args.seed}: {result.kills} runs killed with SIGKILL, {result.finished_early} finished first, "
        f"{time.monotonic() - started:.0f} s"
    )
    moments = Counter(
        "mid-download" if ".part" in state else "before any media row" if "=" not in state else "between steps"
        for state in result.after_kill
    )
    print("where the kills left the queue:", dict(moments))
    for delay, state in list(zip(result.kill_times, result.after_kill, strict=True))[:12]:
        print(f"  killed at {delay:4.2f} s -> {state}")
    print("problems:", result.problems or "none")
    sys.exit(1 if result.problems else 0)


if __name__ == "__main__":
    main()
