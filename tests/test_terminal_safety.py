"""Hostile feed text never reaches the terminal as escape sequences or control characters.

A feed served on 127.0.0.1 carries, in titles, bodies, enclosure URLs, a publisher transcript and the reason
phrase of a failing server: a CSI colour (`ESC [31m`), a bell, an OSC window title (`ESC ]0;pwned BEL`) and a
right-to-left override. Every command's human output (stdout and stderr) is checked byte by byte: the
sequences are gone whole (an OSC's payload with it: it is an order to the terminal, never visible text), the
visible text around them stays. JSON output escapes rather than strips: it parses, and gives back the text
exactly as stored.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from rich.console import Console

from catalog.cli import cli
from catalog.cli.progress import LogEvents, ProgressEvents
from catalog.cli.terminal import clean, dumps
from catalog.models import MediaJob
from catalog.testing.localserver import LocalServer, send
from tests.conftest import SAMPLES

RED = "\x1b[31mRED\x1b[0m"
OSC = "\x1b]0;pwned\x07"
RLO = "\u202e"
TITLE = f"Episode {RED} bell\x07 {OSC} {RLO}evil"
SHOWN_TITLE = "Episode RED bell  evil"
BODY = f"Zeppelin notes {RED} ring\x07 {OSC} {RLO}reversed."
REASON = f"Server {RED} down\x07 {OSC}"
# A byte no terminal output of ours may hold: C0 controls but newline and tab, DEL, C1, bidi embeddings,
# overrides and isolates.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def xml_text(text: str) -> str:
    """Text as a feed carries it: control characters as character references (feedparser's loose parser
    accepts them; XML 1.0 does not). In an attribute it does not decode them: the enclosure URL holds raw bytes."""
    return "".join(f"&#{ord(ch)};" if ord(ch) < 32 or 0x202A <= ord(ch) <= 0x202E else ch for ch in text)


FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel><title>Hostile {red}</title><language>en</language>
<item><title>{title}</title><guid>hostile-1</guid><pubDate>Tue, 03 Mar 2026 08:00:00 GMT</pubDate>
<link>http://127.0.0.1/page?q={red}</link>
<description>{body}</description>
<enclosure url="media/nonzero-ep1.mp3?v={raw_red}" type="audio/mpeg" length="73240"/>
<podcast:transcript url="transcripts/ep1.vtt" type="text/vtt" language="en"/>
</item>
<item><title>Second {red} zeppelin</title><guid>hostile-2</guid><pubDate>Mon, 02 Mar 2026 08:00:00 GMT</pubDate>
<description>Nothing to hear.</description>
<enclosure url="media/gone.mp3" type="audio/mpeg" length="1000"/>
</item></channel></rss>"""

VTT = f"""WEBVTT

00:00:01.000 --> 00:00:04.000
<v Anna>Welcome to zeppelin talk {RED} ring\x07 {OSC} {RLO}reversed.

00:00:04.000 --> 00:00:09.500
<v Mark>Second\rcue overwritten\x08\x08 here.
"""


def failing(handler: BaseHTTPRequestHandler) -> None:
    """An HTTP error whose reason phrase is hostile (h11 accepts ESC and BEL there)."""
    body = b"<html>error</html>"
    handler.send_response(500, REASON)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A catalogue synced through the command line from the hostile feed, and a feed that fails hostilely."""
    root = tmp_path_factory.mktemp("hostile")
    site = root / "site"
    (site / "media").mkdir(parents=True)
    (site / "transcripts").mkdir()
    shutil.copy(SAMPLES / "media" / "nonzero-ep1.mp3", site / "media")
    (site / "transcripts" / "ep1.vtt").write_bytes(VTT.encode())
    (site / "hostile.xml").write_text(
        FEED.format(red=xml_text(RED), raw_red=RED, title=xml_text(TITLE), body=xml_text(BODY)), encoding="utf-8"
    )
    server = LocalServer(site).start()
    server.routes["/media/gone.mp3"] = failing
    server.routes["/broken.xml"] = failing
    server.routes["/notfound.xml"] = lambda handler: send(handler, 404, b"", "text/html")
    feeds = [
        {"name": "hostile", "url": server.url("hostile.xml"), "kind": "podcast"},
        {"name": "broken", "url": server.url("broken.xml")},
    ]
    config = root / "feeds.yaml"
    config.write_text(yaml.safe_dump({"timeout_seconds": 5, "feeds": feeds}, sort_keys=False))
    (root / "sync.json").write_text(json.dumps(run(config, "sync", "--json")._asdict()))
    yield config
    server.stop()


class Output:
    def __init__(self, result: Result) -> None:
        self.exit_code, self.stdout, self.stderr = result.exit_code, result.stdout, result.stderr

    def _asdict(self) -> dict[str, Any]:
        return {"exit_code": self.exit_code, "stdout": self.stdout, "stderr": self.stderr}


def run(config: Path, *args: str) -> Output:
    return Output(CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False))


@pytest.fixture(autouse=True)
def _plain_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """rich's own styling is off (not a terminal), so any ESC in the output came from a feed."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


def assert_safe(text: str) -> None:
    found = sorted({f"U+{ord(ch):04X}" for ch in UNSAFE.findall(text)})
    assert not found, f"{found} in {text!r}"
    assert "[31m" not in text and "[0m" not in text and "pwned" not in text, text


def strings(value: Any) -> Iterator[str]:
    """Every string in a JSON document."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def ids(config: Path) -> dict[str, int]:
    rows = json.loads(run(config, "list", "--json").stdout)
    return {row["title"]: row["item_id"] for row in rows}


def test_the_feed_delivers_the_hostile_text_and_json_gives_it_back_exactly(hostile: Path) -> None:
    titles = ids(hostile)
    assert TITLE in titles and f"Second {RED} zeppelin" in titles
    item = json.loads(run(hostile, "show", str(titles[TITLE]), "--json").stdout)
    assert item["title"] == TITLE and BODY in item["text"]
    assert item["media_url"].endswith(f"nonzero-ep1.mp3?v={RED}")
    assert item["transcript"][0]["text"].endswith(f"{RED} ring\x07 {OSC} {RLO}reversed.")


def test_sync_reports_failures_without_control_characters(hostile: Path) -> None:
    synced = json.loads((hostile.parent / "sync.json").read_text())
    assert synced["exit_code"] == 4
    assert_safe(synced["stderr"])
    assert "Failed: feed broken: HTTP 500 Server RED down " in synced["stderr"]
    assert "Failed: item" in synced["stderr"]
    report = json.loads(synced["stdout"])  # escaped, never raw: parses, and holds the reason as the server sent it
    assert not UNSAFE.search(synced["stdout"])
    assert any(REASON in failure["error"] for failure in report["failures"]), report["failures"]


def test_verbose_sync_and_its_log_lines_are_clean(hostile: Path) -> None:
    result = run(hostile, "sync", "--verbose", "--force")
    assert result.exit_code == 4
    assert_safe(result.stdout + result.stderr)
    assert "feed broken: error (HTTP 500 Server RED down  from" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("list",),
        ("search", "zeppelin"),
        ("status",),
        ("status", "--runs", "0"),
    ],
    ids=["list", "search", "status", "status-no-runs"],
)
def test_human_output_is_clean_and_keeps_the_visible_text(hostile: Path, args: tuple[str, ...]) -> None:
    result = run(hostile, *args)
    assert result.exit_code == 0, result.stderr
    assert_safe(result.stdout + result.stderr)
    if args[0] != "status":
        assert "RED" in result.stdout and "evil" in result.stdout


def test_show_is_clean_and_keeps_the_visible_text(hostile: Path) -> None:
    titles = ids(hostile)
    result = run(hostile, "show", str(titles[TITLE]))
    assert result.exit_code == 0, result.stderr
    assert_safe(result.stdout + result.stderr)
    assert result.stdout.startswith(SHOWN_TITLE + "\n")
    assert "Zeppelin notes RED ring  reversed." in result.stdout
    assert "Welcome to zeppelin talk RED ring  reversed." in result.stdout
    assert "Second cue overwritten here." in result.stdout  # backspaces gone (the VTT reader reads \r as a break)


def test_status_shows_the_server_reasons_cleaned(hostile: Path) -> None:
    result = run(hostile, "status")
    assert_safe(result.stdout)
    assert "broken: HTTP 500 Server RED down  from" in result.stdout
    assert "Second RED zeppelin: HTTP 500 Server RED down" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("list", "--json"),
        ("search", "zeppelin", "--json"),
        ("search", "zeppelin", "--json", "--by-item"),
        ("status", "--json"),
    ],
    ids=["list", "search", "search-by-item", "status"],
)
def test_json_output_escapes_and_round_trips(hostile: Path, args: tuple[str, ...]) -> None:
    result = run(hostile, *args)
    assert result.exit_code == 0, result.stderr
    assert not UNSAFE.search(result.stdout), result.stdout
    assert "\\u001b[31mRED\\u001b[0m" in result.stdout
    assert any(RED in text for text in strings(json.loads(result.stdout)))


@pytest.mark.parametrize("fmt", ["vtt", "srt", "txt"])
def test_export_to_stdout_in_a_text_format_is_clean(hostile: Path, fmt: str) -> None:
    result = run(hostile, "export", str(ids(hostile)[TITLE]), "--format", fmt, "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert_safe(result.stdout + result.stderr)
    assert "Welcome to zeppelin talk" in result.stdout and "RED ring" in result.stdout
    assert "reversed." in result.stdout


def test_export_to_stdout_as_json_escapes(hostile: Path) -> None:
    result = run(hostile, "export", str(ids(hostile)[TITLE]), "--format", "json", "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert not UNSAFE.search(result.stdout), result.stdout
    first = json.loads(result.stdout)["segments"][0]["body"]
    assert first.endswith(f"{RED} ring\x07 {OSC} {RLO}reversed.")


def test_export_to_a_file_keeps_the_transcript_as_stored(hostile: Path, tmp_path: Path) -> None:
    target = tmp_path / "t.vtt"
    result = run(hostile, "export", str(ids(hostile)[TITLE]), "--format", "vtt", "-o", str(target))
    assert result.exit_code == 0 and result.stderr == f"Wrote {target}\n"
    assert RED in target.read_text()  # a file is not a terminal: it keeps what the publisher sent


def test_an_error_quoting_feed_text_is_clean(hostile: Path) -> None:
    result = run(hostile, "export", str(ids(hostile)[f"Second {RED} zeppelin"]), "-o", "-")
    assert result.exit_code != 0
    assert_safe(result.stderr)
    assert result.stderr.startswith("Error: ")


def test_a_usage_error_quoting_what_was_typed_is_clean(hostile: Path) -> None:
    # click quotes most values with repr(), but not this one; and it strips CSI (only) when not on a terminal
    result = run(hostile, "show", "1", f"x{OSC}{RLO}{RED}")
    assert result.exit_code == 2
    assert_safe(result.stderr)
    assert "Error: Got unexpected extra argument (xRED)" in result.stderr


def job(title: str, url: str) -> MediaJob:
    return MediaJob(
        item_id=7, url=url, state="pending", kind="podcast", title=title, feed=f"f{RED}", path=None, attempts=0,
        youtube_id=None, language=None, enclosure_type=None, extra={}, feed_title=None,
    )  # fmt: skip


@pytest.mark.parametrize("verbose", [False, True])
def test_sync_progress_lines_and_bars_are_clean(verbose: bool) -> None:
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None, force_terminal=False)
    events = ProgressEvents(console, verbose=verbose)
    item = job(f"[bold]{TITLE}", f"http://127.0.0.1/{RED}")
    events.feeds_started(1)
    events.feed_skipped(f"n{RED}", REASON)
    events.feed_done(f"n{RED}", "failed", REASON)
    events.media_started(1)
    events.item_started(item, "transcribing")
    console.print(events.progress.get_renderable())  # the bars as a terminal would show them
    events.item_done(item, "failed", REASON)
    logs = LogEvents(console)
    logs.feed_skipped(f"n{RED}", REASON)
    logs.feed_done(f"n{RED}", "failed", REASON)
    logs.item_started(item, "downloading")
    logs.item_done(item, "failed", REASON)
    text = out.getvalue()
    assert_safe(text)
    assert "transcribing [bold]Episode RED bell  evil" in text  # markup in a title is printed, not obeyed
    assert "item 7: failed (Server RED down )" in text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (RED, "RED"),
        (OSC + "after", "after"),
        ("a\x1b]8;;http://evil/\x1b\\link\x1b]8;;\x1b\\b", "alinkb"),  # a hyperlink keeps its text
        ("\x9b2Jkept", "kept"),  # the 8-bit CSI
        ("\x1bcreset", "reset"),  # ESC c resets the terminal
        ("one\r\ntwo\tthree\x7f\x85", "one\ntwo\tthree"),
        ("\u2066iso\u2069 \u202aemb\u202c", "iso emb"),
        ("\x1b]unterminated", "unterminated"),
        ("plain Ελληνικά عربي 💥", "plain Ελληνικά عربي 💥"),
    ],
    ids=["csi", "osc", "hyperlink", "c1-csi", "reset", "cr-del-c1", "bidi", "unterminated-osc", "unicode"],
)
def test_clean(text: str, shown: str) -> None:
    assert clean(text) == shown


def test_dumps_escapes_what_json_dumps_leaves_raw() -> None:
    value = "\x1b\x07\x7f\x9b\u202e\u2028 é"
    document = dumps({"t": value})
    assert not UNSAFE.search(document) and "\u2028" not in document
    assert "\\u001b\\u0007\\u007f\\u009b\\u202e\\u2028 é" in document
    assert json.loads(document) == {"t": value}
