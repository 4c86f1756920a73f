"""`python -m catalog` is the `catalog` command, and click's shell completion works through it (as the README
says), lazy-loaded commands and subcommands included."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from catalog import __version__


def _catalog(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "catalog", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_python_m_catalog_is_the_command() -> None:
    result = _catalog("--version")
    assert (result.returncode, result.stdout) == (0, f"catalog, version {__version__}\n")


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [
        ("catalog fe", "1", ["plain,fetch", "plain,feeds"]),
        ("catalog feeds re", "2", ["plain,remove"]),
        ("catalog feeds di", "2", ["plain,disable"]),
    ],
)
def test_bash_completion(words: str, cword: str, expected: list[str]) -> None:
    result = _catalog(_CATALOG_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=cword)
    assert result.returncode == 0 and result.stdout.split() == expected


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_completion_scripts_are_printed(shell: str) -> None:
    result = _catalog(_CATALOG_COMPLETE=f"{shell}_source")
    assert result.returncode == 0 and "_CATALOG_COMPLETE=" in result.stdout and "_catalog_completion" in result.stdout
