"""Crash and resume: kill -9 a real sync at random moments (20 times), then let it finish."""

from __future__ import annotations

import os
from pathlib import Path

from catalog.testing.crash import crash_test
from tests.conftest import SAMPLES

SEED = int(os.environ.get("CATALOG_CRASH_SEED", "20261124"))


def test_kill_9_at_random_moments_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    result = crash_test(SAMPLES, tmp_path, episodes=3, kills=20, seed=SEED, window=(0.2, 2.5))
    assert not result.problems, result.problems
    assert result.kills == 20, f"only {result.kills} of {result.runs} runs were killed mid-way (seed {SEED})"
