"""Human-readable output: search hits, one item, the status report, sync progress on a terminal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from catalog.cli.terminal import clean
from catalog.storage.search import MARK_END, MARK_START, Hit, ItemHits

LIST_LIMIT = 20
RUN_FAILURES_LIMIT = 5


def _text(value: str) -> str:
    """Feed text for rich: control characters dropped, markup escaped."""
    return escape(clean(value))


def _when(iso: str) -> str:
    return iso.replace("T", " ")[:16] + " UTC"


BACKLOG = "not fetched (backlog)"  # media state 'skipped': a `backlog:` left it out; `catalog fetch ID`


def media_word(state: str | None) -> str | None:
    """A media state as people read it."""
    return BACKLOG if state == "skipped" else state


def _media_state(row: dict[str, Any]) -> str:
    if row["held"]:
        return "held"
    attempts = f", {row['attempts']} attempt(s)" if row["attempts"] else ""
    return f"{row['state']}{attempts}"


def _media_reason(row: dict[str, Any]) -> str:
    if row["held"]:
        return f": {row['held']}"
    reason = f": {row['reason']}" if row["reason"] else ""
    if row["state"] == "failed":
        return f"{reason} (given up; `catalog retry {row['item_id']}` to try again)"
    if row["next_attempt_at"]:
        return f"{reason} (next try after {_when(row['next_attempt_at'])})"
    return reason


def timestamp(seconds: float | None) -> str:
    """mm:ss, or h:mm:ss from an hour on."""
    if seconds is None:
        return "--:--"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


_SEEN = " (first seen: the feed gives no date)"


def day(published: str | None, published_is: str | None = "feed") -> str:
    """The day an item was published, as a line shows it: `~` before a first-seen date (no date in the feed)."""
    if not published:
        return "undated"
    return ("~" if published_is == "first_seen" else "") + published[:10]


def _highlight(snippet: str) -> str:
    """The snippet for rich: each piece escaped on its own, then the marks made bold (escaping the
    whole first would let a backslash before `<mark>` escape the markup that replaces it)."""
    out = []
    pieces = snippet.replace(MARK_END, MARK_START).split(MARK_START)
    for i, piece in enumerate(pieces):
        # k backslashes before a tag are k/2 literal ones to rich (an odd one escapes the tag): doubled
        # where a tag follows (a marked piece, or any but the last)
        body = piece.rstrip("\\")
        tagged = i % 2 == 1 or i < len(pieces) - 1
        text = _text(body) + "\\" * ((2 if tagged else 1) * (len(piece) - len(body)))
        out.append(f"[bold yellow]{text}[/bold yellow]" if i % 2 else text)
    return "".join(out)


def _by_meaning(hit: Hit) -> str:
    """A hit found by meaning alone says so: none of the query's words is in it."""
    return "  [dim](by meaning)[/dim]" if hit.match == "semantic" else ""


def print_hits(console: Console, hits: list[Hit]) -> None:
    for number, hit in enumerate(hits, 1):
        when = day(hit.published, hit.published_is)
        where = f" at [bold]{timestamp(hit.start)}[/bold]" if hit.start is not None else ""
        console.print(
            f"[bold]{number}.[/bold] [cyan]{_text(hit.title or '(untitled)')}[/cyan]{where}"
            f"  [dim]{hit.kind} · {_text(hit.feed)} · {when} · item {hit.item_id}[/dim]"
        )
        speaker = f"[green]{_text(hit.speaker)}:[/green] " if hit.speaker else ""
        console.print(f"   {speaker}{_highlight(hit.snippet.replace(chr(10), ' '))}{_by_meaning(hit)}")
        target = hit.link or hit.url
        if target:
            console.print(f"   [blue]{_text(target)}[/blue]", soft_wrap=True)


def print_items(console: Console, items: list[ItemHits]) -> None:
    """One entry per item, best first, with its best moments under it (time, snippet, link)."""
    for number, item in enumerate(items, 1):
        when = day(item.published, item.published_is)
        console.print(
            f"[bold]{number}.[/bold] [cyan]{_text(item.title or '(untitled)')}[/cyan]"
            f"  [dim]{item.kind} · {_text(item.feed)} · {when} · item {item.item_id}[/dim]"
        )
        for moment in item.moments:
            if moment.start is None and moment.snippet.strip() == (item.title or "").strip():
                continue  # the title, found by meaning: it is the line above
            speaker = f"[green]{_text(moment.speaker)}:[/green] " if moment.speaker else ""
            snippet = _highlight(moment.snippet.replace(chr(10), " ")) + _by_meaning(moment)
            if moment.start is None:
                console.print(f"   {snippet}")
                continue
            console.print(f"   [bold]{timestamp(moment.start)}[/bold]  {speaker}{snippet}")
            if moment.link:
                console.print(f"          [blue]{_text(moment.link)}[/blue]", soft_wrap=True)
        if item.url and not any(moment.link for moment in item.moments):
            console.print(f"   [blue]{_text(item.url)}[/blue]", soft_wrap=True)


def print_list(console: Console, rows: list[dict[str, Any]]) -> None:
    """`catalog list`: one line per item, newest first."""
    for row in rows:
        when = day(row["published"], row.get("published_is"))
        source = row["transcript_source"]
        state = (source and f"transcript: {source}") or media_word(row["media_state"]) or ""
        length = f" · {timestamp(row['duration'])}" if row["duration"] else ""
        console.print(
            f"[bold]{row['item_id']:>6}[/bold]  {when}  [cyan]{_text(row['title'] or '(untitled)')}[/cyan]"
            f"  [dim]{row['kind']} · {_text(row['feed'])}{length}{' · ' + _text(state) if state else ''}[/dim]"
        )


def print_item(console: Console, item: dict[str, Any]) -> None:
    console.print(f"[bold]{_text(item['title'] or '(untitled)')}[/bold]")
    fields = [
        ("item", item["item_id"]),
        ("kind", item["kind"]),
        ("feed", item["feed"]),
        (
            "published",
            item["published"] and f"{item['published']}{_SEEN if item.get('published_is') == 'first_seen' else ''}",
        ),
        ("author", item["author"]),
        ("url", item["url"]),
        ("media", item["media_url"]),
        (
            "media state",
            f"{BACKLOG}: `catalog fetch {item['item_id']}` gets it"
            if item["media_state"] == "skipped"
            else item["media_state"],
        ),
        ("duration", timestamp(item["duration"]) if item["duration"] else None),
        ("transcript", _source(item)),
        ("error", item["media_error"]),
    ]
    for label, value in fields:
        if value not in (None, ""):
            console.print(f"[dim]{label:>11}:[/dim] {_text(str(value))}", soft_wrap=True)
    if item["chapters"]:
        console.print("\n[bold]Chapters[/bold]")
        for chapter in item["chapters"]:
            console.print(f"[{timestamp(chapter['start'])}] {_text(chapter['title'])}", highlight=False)
    if item["text"]:
        console.print()
        console.print(_text(item["text"]), highlight=False)
    if item["transcript"]:
        console.print("\n[bold]Transcript[/bold]")
        for seg in item["transcript"]:
            speaker = f"{seg['speaker']}: " if seg["speaker"] else ""
            console.print(f"\\[{timestamp(seg['start'])}] {_text(speaker + seg['text'])}", highlight=False)


def _duration(run: dict[str, Any]) -> str:
    took = datetime.fromisoformat(run["finished_at"]) - datetime.fromisoformat(run["started_at"])
    return f"{took.total_seconds():.0f} s"


def _source(item: dict[str, Any]) -> str | None:
    source = item["transcript_source"]
    if not source:
        return None
    origin = [item.get("transcript_format"), item.get("transcript_url")]
    detail = item["transcript_model"] or " ".join(part for part in origin if part)
    return f"{source} ({detail})" if detail else source


def moved_line(name: str, moved: dict[str, Any]) -> str:
    """One moved feed in `catalog status`: where to, how and when, and the command that updates feeds.yaml."""
    return (
        f"  {_text(name)}: moved to {_text(moved['to'])} ({_text(moved['how'])}, {_when(moved['at'])});"
        f" `catalog feeds update-moved {_text(name)}` writes it into feeds.yaml"
    )


def print_status(console: Console, report: dict[str, Any]) -> None:
    table = Table(title="Feeds", title_justify="left", show_edge=False)
    for column in ("feed", "last fetch", "result", "articles", "podcasts", "videos"):
        table.add_column(column, no_wrap=True)
    problems, moves = [], []
    for feed in report["feeds"]:
        counts = feed["counts"]
        state = feed.get("state", "active")
        result = "disabled" if feed["disabled_reason"] else _text(feed["last_result"] or "-")
        if state != "active":  # inactive: no longer in feeds.yaml; disabled: enabled: false there
            result = state
        table.add_row(
            _text(feed["name"]),
            (feed["last_fetch_at"] or "never").replace("T", " ")[:16],
            result,
            str(counts["article"]),
            str(counts["podcast"]),
            str(counts["video"]),
        )
        problem = feed["disabled_reason"] or feed["last_error"]
        if problem and state == "active":  # a feed that is not fetched any more is not failing
            retry = ""
            if feed["failures"] and feed["next_fetch_at"] and not feed["disabled_reason"]:
                retry = f" (failure {feed['failures']}; next try after {feed['next_fetch_at'].replace('T', ' ')[:16]})"
            problems.append(f"  {_text(feed['name'])}: {_text(problem)}{retry}")
        if feed.get("moved"):
            moves.append(moved_line(feed["name"], feed["moved"]))
    console.print(table)
    off = [name for name in report.get("disabled", []) if name not in {feed["name"] for feed in report["feeds"]}]
    if off:
        console.print(f"Disabled in feeds.yaml, not fetched: {_text(', '.join(off))}", highlight=False)
    if problems:
        console.print("[bold]Feed problems[/bold]")
        for line in problems:
            console.print(line, highlight=False)
    if moves:
        console.print("[bold]Moved feeds[/bold] (fetched from the new address; feeds.yaml still has the old one)")
        for line in moves:
            console.print(line, highlight=False)
    media = report["media"]
    summary = ", ".join(f"{count} {media_word(state)}" for state, count in sorted(media["counts"].items())) or "none"
    console.print(f"\n[bold]Media[/bold]: {summary}")
    made = report["transcripts"]
    by_model = ", ".join(f"{count} {_text(model)}" for model, count in made["by_model"].items()) or "none"
    console.print(f"[bold]Transcripts[/bold] by model: {by_model}", highlight=False)
    if made["queued"]:
        queued = ", ".join(f"{count} with {_text(model)}" for model, count in made["queued"].items())
        console.print(f"[bold]Queued to transcribe again[/bold]: {queued}", highlight=False)
    for label, rows in (("Pending", media["pending"]), ("Failed", media["failed"])):
        if rows:
            console.print(f"[bold]{label}[/bold]")
        for row in rows[:LIST_LIMIT]:
            console.print(
                f"  item {row['item_id']} \\[{_text(_media_state(row))}] {_text(row['feed'])} · "
                f"{_text(row['title'] or '')}{_text(_media_reason(row))}",
                highlight=False,
            )
        if len(rows) > LIST_LIMIT:
            console.print(f"  … and {len(rows) - LIST_LIMIT} more (use --json for all)")
    if report["runs"]:
        console.print("\n[bold]Last runs[/bold]")
    for run in report["runs"]:
        took = f", {_duration(run)}" if run["finished_at"] else ""
        console.print(
            f"  #{run['id']} {run['started_at'].replace('T', ' ')[:19]} {run['status']}{took}: "
            f"{run['feeds_checked']} feeds ({run['feeds_unchanged']} unchanged), {run['items_new']} new items, "
            f"{run['media_done']} transcribed, {run['media_failed']} failed"
            + (f" — {_text(run['message'])}" if run["message"] else ""),
            highlight=False,
        )
        for failure in run["failures"][:RUN_FAILURES_LIMIT]:
            item = failure.get("item_id")
            named = item is None or str(failure["message"]).startswith(f"item {item}")
            what = f"{failure['stage']}: " + ("" if named else f"item {item}: ")
            console.print(f"     {what}{_text(failure['message'])}", highlight=False)
        if len(run["failures"]) > RUN_FAILURES_LIMIT:
            console.print(f"     … and {len(run['failures']) - RUN_FAILURES_LIMIT} more (use --json for all)")
