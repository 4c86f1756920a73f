from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog.app import Catalog
from catalog.asr.transcriber import WhisperTranscriber
from catalog.testing.localserver import LocalServer

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests talk to 127.0.0.1 only; anything else is a bug in the test."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("::1", "localhost")) and "/" not in host:
            raise OSError(f"tests must not reach the network ({host})")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / "manifest.json").read_text())
    return data


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A private copy of the sample set that a test may change."""
    target = tmp_path / "site"
    shutil.copytree(SAMPLES, target)
    return target


@pytest.fixture
def server(site: Path) -> Iterator[LocalServer]:
    srv = LocalServer(site).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def whisper() -> WhisperTranscriber:
    """The real bundled tiny.en model, loaded once for the whole session."""
    return WhisperTranscriber("tiny.en", cpu_threads=2)


WriteConfig = Callable[..., Path]


@pytest.fixture
def write_config(tmp_path: Path) -> WriteConfig:
    def write(feeds: list[dict[str, Any]], **settings: Any) -> Path:
        path = tmp_path / "feeds.yaml"
        settings.setdefault("timeout_seconds", 5)
        path.write_text(yaml.safe_dump({**settings, "feeds": feeds}, sort_keys=False))
        return path

    return write


@pytest.fixture
def open_catalog(whisper: WhisperTranscriber) -> Iterator[Callable[[Path], Catalog]]:
    opened: list[Catalog] = []

    def open_(config: Path) -> Catalog:
        cat = Catalog.open(config)
        cat.transcriber = lambda: whisper  # type: ignore[method-assign]
        opened.append(cat)
        return cat

    yield open_
    for cat in opened:
        cat.close()


@pytest.fixture(scope="session")
def synced_samples(tmp_path_factory: pytest.TempPathFactory, whisper: WhisperTranscriber) -> Path:
    """feeds.yaml of the shipped samples (articles, podcast, video) synced once per session with the bundled
    Whisper model, for tests that only read the catalogue (catalog serve, Datasette). Item 5 is episode 1."""
    folder = tmp_path_factory.mktemp("synced-samples")
    config = folder / "feeds.yaml"
    feeds = [
        {"name": "statecraft", "url": str(SAMPLES / "articles.xml")},
        {"name": "nonzero", "url": str(SAMPLES / "podcast.xml")},
        {"name": "talks", "url": str(SAMPLES / "video.xml")},
    ]
    config.write_text(yaml.safe_dump({"timeout_seconds": 5, "feeds": feeds}, sort_keys=False))
    with Catalog.open(config) as cat:
        report = cat.sync(transcriber_factory=lambda: whisper)
    assert report.ok and report.media_done == 3, report.failures
    return config


HOSTILE_FEED = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>&lt;script&gt;window.pwned = "feed"&lt;/script&gt; Evil feed</title>
<item><title>&lt;script&gt;window.pwned = "title"; alert(1)&lt;/script&gt; Pineapple report</title>
<link>javascript:window.pwned='link';alert(2)</link><guid>evil-1</guid><pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate>
<description>&lt;img src=x onerror="window.pwned='img'"&gt; The pineapple harvest failed.</description></item>
</channel></rss>
"""


@pytest.fixture(scope="session")
def hostile_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """feeds.yaml of one article feed written to attack a web page: `<script>` in the feed's and the item's
    titles, a `javascript:` item link, an `onerror=` in the description; synced (no media)."""
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "evil.xml").write_text(HOSTILE_FEED)
    config = folder / "feeds.yaml"
    config.write_text(yaml.safe_dump({"feeds": [{"name": "evil", "url": "evil.xml", "kind": "article"}]}))
    with Catalog.open(config) as cat:
        report = cat.sync()
    assert report.ok, report.failures
    return config
