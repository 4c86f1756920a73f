"""`catalog feeds import` and `catalog feeds export`: the OPML podcast apps and feed readers write, in and out,
through the `feeds add` code path (comments kept), with nothing fetched."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import listparser
import pytest
from click.testing import CliRunner, Result

from catalog.cli import cli
from catalog.config import load_config
from tests.conftest import ROOT

YAML_HEAD = "# my feeds\nfeeds:\n  - name: kept  # a comment to keep\n    url: https://kept.example/feed\n"

# Nested category outlines (Pocket Casts / Apple Podcasts style, a category inside a category).
NESTED = """<?xml version="1.0" encoding="utf-8"?>
<opml version="1.0"><head><title>Pocket Casts Feeds</title></head><body>
  <outline text="News">
    <outline text="World">
      <outline type="rss" text="The Daily &amp; More" xmlUrl="https://feeds.example.com/daily"/>
    </outline>
    <outline type="rss" text="Kept again" xmlUrl="HTTPS://KEPT.example/feed"/>
  </outline>
</body></opml>
"""
# AntennaPod: flat, text and title, htmlUrl.
ANTENNAPOD = """<?xml version='1.0' encoding='UTF-8' standalone='no' ?>
<opml version="2.0"><head><title>AntennaPod Subscriptions</title>
<dateCreated>29 Nov 26 17:00:00 +0000</dateCreated></head>
<body>
<outline text="Nonzero" title="Nonzero" type="rss" xmlUrl="https://www.nonzero.org/feed" htmlUrl="https://www.nonzero.org"/>
<outline text="Radiolab" title="Radiolab" type="rss" xmlUrl="http://feeds.example.org/radiolab" htmlUrl="https://radiolab.example"/>
</body></opml>
"""
# Overcast: type="rss" with extra attributes (overcastId, subscribed), episodes nested under the feed.
OVERCAST = """<?xml version="1.0" encoding="utf-8"?>
<opml version="1.0"><head><title>Overcast Podcast Subscriptions</title></head><body>
<outline text="feeds">
<outline type="rss" text="Conversations" title="Conversations" xmlUrl="https://conv.example/rss"
  htmlUrl="https://conv.example/" overcastId="123" subscribed="1" notifications="0">
  <outline type="podcast-episode" text="Ep 1" overcastId="9" url="https://overcast.fm/+9" played="1"/>
</outline>
<outline type="rss" text="Broken one"/>
<outline type="rss" text="Gopher" xmlUrl="gopher://old.example/feed"/>
</outline>
</body></opml>
"""
# Miniflux / FreshRSS: category outlines, and FreshRSS's `category` attribute.
MINIFLUX = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>Miniflux</title><dateCreated>Sun, 29 Nov 2026 17:00:00 UTC</dateCreated></head><body>
  <outline text="Tech" title="Tech">
    <outline title="LWN.net" text="LWN.net" xmlUrl="https://lwn.net/headlines/rss" htmlUrl="https://lwn.net"
      type="rss"/>
  </outline>
  <outline text="Politics">
    <outline text="Responsible Statecraft" type="rss" xmlUrl="https://responsiblestatecraft.org/feed/"
      category="/Politics" xmlns:frss="https://freshrss.org/opml" frss:cssFullContent=""/>
  </outline>
</body></opml>
"""


def _run(config: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--config", str(config), "feeds", *args])
    assert "Traceback" not in result.output and "Traceback" not in result.stderr, result.output
    return result


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(YAML_HEAD, encoding="utf-8")
    return path


def _opml(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_of_every_dialect_keeps_the_file_and_a_second_import_adds_nothing(
    tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("an import must not fetch anything")

    monkeypatch.setattr("httpx.Client.send", no_network)
    files = [_opml(tmp_path, f"{n}.opml", t) for n, t in (("a", NESTED), ("b", ANTENNAPOD), ("c", OVERCAST))]
    files.append(_opml(tmp_path, "d.opml", MINIFLUX))
    reports = []
    for path in files:
        result = _run(config, "import", str(path), "--json")
        assert result.exit_code == 0, result.stderr
        reports.append(json.loads(result.stdout))
    assert config.read_text(encoding="utf-8") == YAML_HEAD + (
        "  - name: the-daily-more\n    url: https://feeds.example.com/daily\n"
        "  - name: nonzero\n    url: https://www.nonzero.org/feed\n"
        "  - name: radiolab\n    url: http://feeds.example.org/radiolab\n"
        "  - name: conversations\n    url: https://conv.example/rss\n"
        "  - name: lwn-net\n    url: https://lwn.net/headlines/rss\n"
        "  - name: responsible-statecraft\n    url: https://responsiblestatecraft.org/feed/\n"
    )
    assert reports[0]["already_present"] == [
        {"title": "Kept again", "url": "HTTPS://KEPT.example/feed", "listed_as": "kept"}
    ]
    assert sorted((row["title"], row["reason"]) for row in reports[2]["invalid"]) == [
        ("Broken one", "no xmlUrl"),
        ("Gopher", "not an http(s) URL"),
    ]
    before = config.read_text(encoding="utf-8")
    for path in files:
        report = json.loads(_run(config, "import", str(path), "--json").stdout)
        assert report["added"] == [] and report["already_present"]
    assert config.read_text(encoding="utf-8") == before


def test_dry_run_and_text_report(tmp_path: Path, config: Path) -> None:
    result = _run(config, "import", str(_opml(tmp_path, "o.opml", OVERCAST)), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Would add conversations: https://conv.example/rss\n"
        "Skipped Broken one: no xmlUrl\n"
        "Skipped Gopher gopher://old.example/feed: not an http(s) URL\n"
        "Would add 1 feed(s), 0 already present, 2 invalid; feeds.yaml not changed.\n"
    )
    assert config.read_text(encoding="utf-8") == YAML_HEAD


@pytest.mark.parametrize("content", ["not xml at all <<", "<html><body><p>hi</p></body></html>"])
def test_a_file_that_is_not_opml_exits_2_naming_it(tmp_path: Path, config: Path, content: str) -> None:
    path = _opml(tmp_path, "bad.opml", content)
    result = _run(config, "import", str(path))
    assert result.exit_code == 2
    assert f"{path}: not an OPML file" in result.stderr
    assert config.read_text(encoding="utf-8") == YAML_HEAD


def test_a_title_taken_as_a_name_gets_a_number(tmp_path: Path, config: Path) -> None:
    opml = '<opml version="2.0"><body><outline type="rss" text="Kept" xmlUrl="https://other.example/f"/></body></opml>'
    report = json.loads(_run(config, "import", str(_opml(tmp_path, "k.opml", opml)), "--json").stdout)
    assert [row["name"] for row in report["added"]] == ["kept-2"]


def test_export_round_trips_through_listparser(tmp_path: Path, config: Path) -> None:
    _run(config, "import", str(_opml(tmp_path, "m.opml", MINIFLUX)))
    out = tmp_path / "out.opml"
    result = _run(config, "export", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    parsed = listparser.parse(out.read_bytes())
    expected = [(feed.name, feed.url) for feed in load_config(config).feeds]
    assert [(feed.title, feed.url) for feed in parsed.feeds] == expected
    assert _run(config, "export").stdout == out.read_text(encoding="utf-8")


def test_export_escapes_and_skips_local_files(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    shutil.copy(ROOT / "feeds.yaml", config)
    _run(config, "add", "https://x.example/feed?a=1&b=<2>", "--name", "odd")
    result = _run(config, "export")
    assert result.exit_code == 0
    assert 'xmlUrl="https://x.example/feed?a=1&amp;b=&lt;2&gt;"' in result.stdout
    assert (
        result.stderr
        == "Note: not exported (local files, not http(s)): sample-statecraft, sample-nonzero, sample-talks\n"
    )
    urls = [feed.url for feed in listparser.parse(result.stdout).feeds]
    assert urls == [
        "https://www.nonzero.org/feed",
        "https://responsiblestatecraft.org/feed/",
        "https://www.youtube.com/feeds/videos.xml?channel_id=UC9PBzalIcEQCsiIkq36PyUA",
        "https://x.example/feed?a=1&b=<2>",
    ]
