"""Every command example in the README runs, as written, against the sample catalogue.

The README's ```sh blocks are read line by line; each line that runs `catalog` (alone, or after
`&&` in the quick start, or before a `|`) is run with bash in a fresh folder holding the shipped
feeds.yaml and samples, after one `catalog sync`. It must exit 0 with no traceback, except the
examples that need the internet, which must fail with a clear message instead, and `catalog serve`,
which runs until stopped: it is started on a free port, must answer its search page, and is stopped.
The quick-start line's own output is checked against the output the README shows.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from catalog.testing.webserver import free_port
from tests.conftest import ROOT, SAMPLES

README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```sh\n(.*?)```", README, re.S)
# Examples that reach the network: offline they must fail cleanly (exit code, message), never hang.
NEEDS_NETWORK = {"catalog models pull small.en"}
# Servers run until stopped: each is started on a free port (`--port` added; the last one given wins),
# its page fetched, then stopped.
LONG_RUNNING = ("catalog serve",)
EXPECTED_EXIT = re.compile(r"#\s*exit (\d+)")


def commands() -> dict[str, int]:
    """Each example and the exit code it must give (0, or what its comment says: `# exit 3: ...`)."""
    found: dict[str, int] = {}
    for block in BLOCKS:
        for line in block.splitlines():
            expected = EXPECTED_EXIT.search(line)
            line = re.sub(r"\s+#.*$", "", line).strip()
            for part in line.split("&&"):
                part = part.strip()
                if part.startswith("catalog ") or part == "catalog":
                    found.setdefault(part, int(expected.group(1)) if expected else 0)
    return found


COMMANDS = commands()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("readme")
    shutil.copytree(SAMPLES, folder / "samples")
    shutil.copy(ROOT / "feeds.yaml", folder / "feeds.yaml")
    assert shell(folder, "catalog sync").returncode == 0
    return folder


def environment(command: str) -> tuple[dict[str, str], str]:
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    env["HF_HUB_OFFLINE"] = "1"  # `models pull` must fail here as it does offline, even where a network is
    env.pop("CATALOG_CONFIG", None)
    env.pop("CATALOG_DB", None)
    if not shutil.which("catalog", path=env["PATH"]):  # not installed as a script: the module is the same
        command = re.sub(r"^catalog\b", f"{sys.executable} -m catalog", command)
    return env, command


def shell(cwd: Path, command: str) -> subprocess.CompletedProcess[str]:
    env, command = environment(command)
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def serve(cwd: Path, command: str) -> tuple[int, str]:
    """Start a long-running example on a free port: (the status of its page, what it wrote on stderr)."""
    port = free_port()
    env, command = environment(f"{command} --port {port}")
    process = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=cwd, env=env, stderr=subprocess.PIPE, text=True)
    status = 0
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None and not status:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/?q=armistice", timeout=5).status_code
            except httpx.TransportError:
                time.sleep(0.2)
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=10)
    return status, err


def test_the_readme_has_examples_of_every_command() -> None:
    named = {command.split()[1] for command in COMMANDS if len(command.split()) > 1}
    assert {"sync", "search", "show", "status", "export", "feeds", "retry", "models"} <= named
    assert len(COMMANDS) >= 25


@pytest.mark.parametrize("command", list(COMMANDS))
def test_readme_example_runs(home: Path, tmp_path: Path, command: str) -> None:
    # examples that change feeds.yaml or write files get a copy of their own
    cwd = home
    if command.startswith(
        (
            "catalog feeds add",
            "catalog feeds remove",
            "catalog feeds enable",
            "catalog feeds disable",
            "catalog fetch",
            "catalog feeds update-moved",
            "catalog feeds import",
            "catalog feeds export",
            "catalog export",
            "catalog datasette -o",
            "catalog retry",
            "catalog retranscribe",
            "catalog watch ",
        )
    ):
        cwd = tmp_path / "copy"
        shutil.copytree(home, cwd)
    if command.startswith(LONG_RUNNING):
        status, err = serve(cwd, command)
        assert status == 200 and "Traceback" not in err, err
        return
    if command.startswith("catalog watch remove"):  # the saved search the README's `watch add` example makes
        assert shell(cwd, "catalog watch add 'European peacekeepers' --name peace").returncode == 0
    result = shell(cwd, command)
    assert "Traceback" not in result.stderr, result.stderr
    if command in NEEDS_NETWORK:
        assert result.returncode == 3 and "cannot download Whisper model" in result.stderr
        return
    assert result.returncode == COMMANDS[command], f"{command}\n{result.stderr}"
    if command.startswith("catalog search") and "--json" not in command:
        assert result.stdout.startswith("1. "), result.stdout + result.stderr  # every search example finds something


def test_the_quick_start_prints_what_the_readme_shows(home: Path) -> None:
    shown = re.search(r"```\n(1\. Episode 1.*?)```", README, re.S)
    assert shown is not None
    result = shell(home, "catalog search armistice")
    expected = shown.group(1).replace("file:///…/", f"file://{home}/")
    assert result.stdout == expected
