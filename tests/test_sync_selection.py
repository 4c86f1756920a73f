"""What a sync is allowed to touch: --feed and `enabled: false` limit every stage; the model is checked
first; a feed in a language the model cannot transcribe is held, not turned into nonsense; a body that
did not change is not parsed again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from catalog.sync.report import SyncOptions
from catalog.testing.localserver import LocalServer
from tests.conftest import WriteConfig

EPISODE = "media/nonzero-ep1.mp3"


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "catalog", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def podcast(site: Path, server: LocalServer, name: str, *, language: str = "en", episodes: int = 1) -> str:
    items = "".join(
        f"<item><title>{name} episode {n}</title><guid>{name}-{n}</guid>"
        f"<pubDate>Mon, 0{n + 1} Sep 2026 10:00:00 GMT</pubDate>"
        f'<enclosure url="{server.url(EPISODE)}?{name}={n}" type="audio/mpeg" length="73240"/></item>'
        for n in range(episodes)
    )
    (site / f"{name}.xml").write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title>'
        f"<language>{language}</language>{items}</channel></rss>"
    )
    return server.url(f"{name}.xml")


def status(config: Path) -> dict[str, Any]:
    result = run(config, "status", "--json")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_feed_option_limits_the_media_stage_too(server: LocalServer, site: Path, write_config: WriteConfig) -> None:
    config = write_config(
        [
            {"name": "omni", "url": podcast(site, server, "omni"), "kind": "podcast"},
            {"name": "other", "url": podcast(site, server, "other"), "kind": "podcast"},
        ]
    )
    assert run(config, "sync", "--no-media").returncode == 0  # both feeds' episodes are queued
    result = run(config, "sync", "--feed", "omni", "--max-items", "1", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["media_done"] == 1
    pending = {row["feed"]: row["state"] for row in status(config)["media"]["pending"]}
    assert pending == {"other": "new"}  # the other feed's episode was not downloaded
    assert server.bodies["/" + EPISODE] == 1


def test_a_disabled_feed_has_none_of_its_media_worked(
    server: LocalServer, site: Path, write_config: WriteConfig, open_catalog: Any
) -> None:
    url = podcast(site, server, "paused")
    with open_catalog(write_config([{"name": "paused", "url": url, "kind": "podcast"}])) as cat:
        cat.sync(SyncOptions(media=False))
    config = write_config([{"name": "paused", "url": url, "kind": "podcast", "enabled": False}])
    with open_catalog(config) as cat:
        report = cat.sync()
    assert (report.feeds_checked, report.media_done) == (0, 0)
    assert server.bodies["/" + EPISODE] == 0
    named = run(config, "sync", "--feed", "paused")
    assert named.returncode == 3
    assert "feed paused is disabled (enabled: false in" in named.stderr and "enabled: true" in named.stderr


def test_an_unknown_feed_is_a_config_error(server: LocalServer, site: Path, write_config: WriteConfig) -> None:
    config = write_config([{"name": "omni", "url": podcast(site, server, "omni")}])
    result = run(config, "sync", "--feed", "nosuch")
    assert result.returncode == 3
    assert "Error: no feed named nosuch in" in result.stderr and "the feeds are: omni" in result.stderr


def test_a_missing_model_is_one_config_error_before_any_work(
    server: LocalServer, site: Path, write_config: WriteConfig, tmp_path: Path
) -> None:
    config = write_config([{"name": "omni", "url": podcast(site, server, "omni")}], model=str(tmp_path / "nothing"))
    result = run(config, "sync")
    assert result.returncode == 3
    assert result.stderr.splitlines()[0] == f"Error: Whisper model folder {tmp_path / 'nothing'} has no model.bin"
    assert "Traceback" not in result.stderr
    assert server.bodies == {} and not (tmp_path / "catalog.db").exists()  # nothing fetched, nothing written
    named = write_config([{"name": "omni", "url": podcast(site, server, "omni")}], model="medium.en")
    result = run(named, "sync")
    assert result.returncode == 3
    assert "Whisper model 'medium.en' is not on this machine" in result.stderr
    assert "catalog models pull medium.en" in result.stderr
    assert run(named, "sync", "--no-media").returncode == 0  # no media work: the model is not needed


def test_a_model_that_cannot_be_loaded_costs_no_attempts(
    server: LocalServer, site: Path, write_config: WriteConfig, tmp_path: Path
) -> None:
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "model.bin").write_bytes(b"not a model")
    config = write_config([{"name": "omni", "url": podcast(site, server, "omni", episodes=2)}], model=str(broken))
    result = run(config, "sync")
    assert result.returncode == 3
    assert "cannot load Whisper model 'broken-model'" in result.stderr
    assert [row["attempts"] for row in status(config)["media"]["pending"]] == [0, 0]


def test_a_german_feed_on_an_english_model_is_held_not_garbled(
    server: LocalServer, site: Path, write_config: WriteConfig
) -> None:
    config = write_config(
        [
            {"name": "dlf", "url": podcast(site, server, "dlf", language="de-DE"), "kind": "podcast"},
            {"name": "omni", "url": podcast(site, server, "omni"), "kind": "podcast"},
        ]
    )
    first = run(config, "sync", "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert (report["media_done"], report["media_held"]) == (1, 1)
    assert "Warning: item" in first.stderr and "language 'de-DE' and the English-only model 'tiny.en'" in first.stderr
    assert server.bodies["/" + EPISODE] == 1  # the German episode was not even downloaded
    [held] = status(config)["media"]["pending"]
    assert held["feed"] == "dlf" and held["state"] == "new" and "English-only" in held["held"]
    text_status = run(config, "status").stdout
    assert "[held] dlf · dlf episode 0: language 'de-DE'" in text_status
    second = run(config, "sync")
    assert second.returncode == 0 and second.stderr == ""  # said once; status keeps showing it


def test_a_body_that_did_not_change_is_not_parsed_again(
    server: LocalServer, site: Path, write_config: WriteConfig, open_catalog: Any
) -> None:
    """The local server sends no ETag for this route, as many servers do: the bytes decide."""
    body = (site / "podcast.xml").read_bytes()
    server.routes["/no-etag.xml"] = lambda handler: _plain(handler, body)
    config = write_config([{"name": "plain", "url": server.url("no-etag.xml"), "kind": "podcast"}])
    with open_catalog(config) as cat:
        first = cat.sync(SyncOptions(media=False))
        again = cat.sync(SyncOptions(media=False))
    assert (first.items_new, first.feeds_unchanged) == (2, 0)
    assert (again.items_new, again.items_updated, again.feeds_unchanged) == (0, 0, 1)


def _plain(handler: Any, body: bytes) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
