"""End to end through a real HTTP server on 127.0.0.1, real feedparser, real SQLite and real
Whisper (the bundled tiny.en) on the committed speech clips (mp3, m4a, mp4)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from catalog.cli import cli
from catalog.storage import driver
from catalog.testing.localserver import LocalServer, html_route, status_route
from tests.conftest import WriteConfig

SPOKEN = [
    ("media/nonzero-ep1.mp3", "podcast"),
    ("media/nonzero-ep2.m4a", "podcast"),
    ("media/lieven-talk.mp4", "video"),
]


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def search_json(config: Path, query: str, *extra: str) -> list[dict[str, Any]]:
    result = run(config, "search", query, "--json", *extra)
    assert result.exit_code == 0, result.output
    hits: list[dict[str, Any]] = json.loads(result.stdout)
    return hits


def table_counts(db: Path) -> dict[str, int]:
    with driver.sqlite.connect(db) as conn:
        return {
            table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("feeds", "items", "media", "passages", "transcripts")
        }


@pytest.fixture
def synced(server: LocalServer, write_config: WriteConfig) -> tuple[Path, LocalServer, Result]:
    server.routes["/broken.xml"] = status_route(500)
    config = write_config(
        [
            {"name": "statecraft", "url": server.url("articles.xml")},
            {"name": "nonzero", "url": server.url("podcast.xml")},
            {"name": "talks", "url": server.url("video.xml")},
            {"name": "broken", "url": server.url("broken.xml")},
        ]
    )
    return config, server, run(config, "sync")


def test_sync_then_search_finds_spoken_words_at_the_right_time(
    synced: tuple[Path, LocalServer, Result], manifest: dict[str, Any]
) -> None:
    config, _, result = synced
    assert result.exit_code == 4, result.output  # the broken feed is a partial failure ...
    assert "broken" in result.stderr and "500" in result.stderr
    for media, kind in SPOKEN:
        for keyword in manifest["media"][media]["keywords"]:
            hits = search_json(config, keyword["word"])
            spoken = [hit for hit in hits if "start" in hit]
            assert spoken, f"{keyword['word']!r} not found in the transcript of {media}"
            hit = spoken[0]
            assert hit["kind"] == kind
            assert not any(h["passage"] == "text" for h in hits), "keyword must be spoken only"
            assert abs(hit["start"] - keyword["start"]) <= 3.0, (hit, keyword)
            assert hit["end"] >= hit["start"]
            assert hit["link"].endswith(f"#t={int(hit['start'])}")
            assert hit["link"].startswith("http://127.0.0.1:")
            for field in ("item_id", "feed", "title", "url", "published", "snippet", "score"):
                assert field in hit


def test_articles_and_spoken_hits_rank_together(synced: tuple[Path, LocalServer, Result]) -> None:
    config, _, _ = synced
    hits = search_json(config, "ceasefire")
    kinds = {hit["kind"] for hit in hits}
    assert "article" in kinds and ({"podcast", "video"} & kinds), hits
    scores = [hit["score"] for hit in hits]
    assert scores == sorted(scores, reverse=True)
    assert search_json(config, "ceasefire", "--kind", "article")
    assert all(hit["kind"] == "article" for hit in search_json(config, "ceasefire", "--kind", "article"))
    assert all(hit["feed"] == "nonzero" for hit in search_json(config, "ceasefire", "--feed", "nonzero"))
    assert search_json(config, "ceasefire", "--since", "2999-01-01") == []
    assert len(search_json(config, "ceasefire", "--limit", "1")) == 1


def test_second_sync_adds_nothing_and_downloads_nothing(synced: tuple[Path, LocalServer, Result]) -> None:
    config, server, _ = synced
    db = config.parent / "catalog.db"
    before = table_counts(db)
    bodies_before = dict(server.bodies)
    result = run(config, "sync")
    assert result.exit_code in (0, 4)
    assert table_counts(db) == before
    assert dict(server.bodies) == bodies_before, "nothing may be downloaded again"
    assert before["transcripts"] == 3


def test_broken_feed_is_reported_in_status(synced: tuple[Path, LocalServer, Result]) -> None:
    config, _, _ = synced
    result = run(config, "status", "--json")
    report = json.loads(result.stdout)
    feeds = {feed["name"]: feed for feed in report["feeds"]}
    assert feeds["broken"]["last_result"] == "error"
    assert "HTTP 500" in feeds["broken"]["last_error"]
    assert feeds["statecraft"]["counts"]["article"] == 3
    assert feeds["nonzero"]["counts"]["podcast"] == 2
    assert feeds["talks"]["counts"]["video"] == 1
    assert report["media"]["counts"] == {"indexed": 3}
    assert report["runs"][0]["status"] == "partial"
    assert any("HTTP 500" in failure["message"] for failure in report["runs"][0]["failures"])
    human = run(config, "status")
    assert "broken" in human.stdout and "HTTP 500" in human.stdout


def test_show_prints_transcript_with_timestamps(synced: tuple[Path, LocalServer, Result]) -> None:
    config, _, _ = synced
    hit = search_json(config, "ceasefire", "--kind", "podcast")[0]
    shown = run(config, "show", str(hit["item_id"]))
    assert "[00:0" in shown.stdout and "Transcript" in shown.stdout
    item = json.loads(run(config, "show", str(hit["item_id"]), "--json").stdout)
    assert item["transcript_source"] == "whisper" and item["transcript_model"] == "tiny.en"
    assert item["language"] == "en" and item["duration"] > 5
    assert all(seg["end"] >= seg["start"] for seg in item["transcript"])
    article = search_json(config, '"European peacekeepers"', "--kind", "article")[0]
    text = json.loads(run(config, "show", str(article["item_id"]), "--json").stdout)["text"]
    assert "<" not in text and "&amp;" not in text and "\n\n" in text
    missing = run(config, "show", "9999")
    assert missing.exit_code == 1 and "no item with id 9999" in missing.stderr


def test_html_error_page_is_not_an_episode(server: LocalServer, site: Path, write_config: WriteConfig) -> None:
    server.routes["/media/nonzero-ep2.m4a"] = html_route
    server.routes["/media/nonzero-ep1.mp3"] = status_route(404)
    config = write_config([{"name": "nonzero", "url": server.url("podcast.xml")}])
    result = run(config, "sync")
    assert result.exit_code == 4
    report = json.loads(run(config, "status", "--json").stdout)
    failed = {row["url"].rsplit("/", 1)[1]: row for row in report["media"]["failed"]}
    assert "not audio or video" in failed["nonzero-ep2.m4a"]["reason"]
    assert "HTTP 404" in failed["nonzero-ep1.mp3"]["reason"]
    assert not list((config.parent / "media").rglob("*.part"))
    assert not [p for p in (config.parent / "media").rglob("*") if p.is_file()]
