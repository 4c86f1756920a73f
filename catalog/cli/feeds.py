"""`catalog feeds list|add|import|export|update-moved` (and `remove|enable|disable`, in feed_state): the sources
in feeds.yaml."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import click

from catalog.cli.context import State, global_options, print_json, reported_errors
from catalog.cli.feed_state import feeds_disable, feeds_enable, feeds_remove
from catalog.cli.terminal import clean
from catalog.config import load_config
from catalog.errors import ConfigError
from catalog.models import KINDS
from catalog.sources.subscribe import name_for, unused


@click.group()
def feeds() -> None:
    """List the feeds in feeds.yaml, add one (YouTube channel and playlist pages become feeds, a web page
    its feed), remove, disable or enable one, import or export an OPML list, or write the new address of
    feeds that moved into it.

    \b
    Example:
        catalog feeds list
        catalog feeds add https://feeds.megaphone.fm/stuffyoushouldknow --name sysk --kind podcast
        catalog feeds disable sample-talks
        catalog feeds remove sample-talks --purge
        catalog feeds import subscriptions.opml --dry-run
        catalog feeds export -o feeds.opml
        catalog feeds update-moved --dry-run
    """


@feeds.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the feeds as JSON.")
@global_options
@click.pass_obj
def feeds_list(state: State, as_json: bool) -> None:
    """The feeds in feeds.yaml, with the URL catalog fetches, and their state: active, disabled
    (enabled: false), or inactive (in the catalogue, no longer in feeds.yaml; its items stay searchable).

    \b
    Example:
        catalog feeds list
        catalog feeds list --json
    """
    with reported_errors(), state.open() as cat:
        rows = cat.feeds()
    for row in rows:
        row["enabled"] = row["state"] == "active"
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo(
            "No feeds yet: add one with `catalog feeds add URL` (or `catalog feeds import FILE.opml`).", err=True
        )
    for row in rows:
        flag = "" if row["enabled"] else f"  ({row['state']})"
        click.echo(clean(f"{row['name']}  [{row['kind'] or 'auto'}]  {row['url']}{flag}"))


@feeds.command("add")
@click.argument("url")
@click.option("--name", help="Short unique name (default: made from the URL).")
@click.option("--kind", type=click.Choice(KINDS), help="article, podcast or video (default: inferred).")
@global_options
@click.pass_obj
def feeds_add(state: State, url: str, name: str | None, kind: str | None) -> None:
    """Add a feed to feeds.yaml, keeping its comments. YouTube channel (/channel/UC…), user and
    playlist pages are turned into their feed URLs; for an @handle it explains how to find the id.
    Any other web page is fetched and its feed found (<link rel="alternate" type="application/rss+xml">);
    when it links several, the first is added and the others are listed. An address that cannot be
    fetched now (offline) is added as given, with a note.
    A feed already in the file (even disabled) is not added twice: the message says how to enable it.

    \b
    Example:
        catalog feeds add https://feeds.megaphone.fm/stuffyoushouldknow --name sysk --kind podcast
        catalog feeds add https://www.youtube.com/channel/UCupvZG-5ko_eiXAupbDfxWw --name cnn-video
        catalog feeds add "https://www.youtube.com/playlist?list=PL…"
        catalog feeds add https://responsiblestatecraft.org/     # a web page: its feed is found
    """
    from catalog.sources.subscribe import add_feed, add_feeds
    from catalog.sources.youtube import feed_url_for

    config_path = Path(state.config_path)
    with reported_errors():
        check_feed_address(url, config_path)
        feed_url, implied = feed_url_for(url)
        chosen = name or unused_name(name_for(feed_url), config_path)
        add_feeds(config_path, [(chosen, feed_url, kind or implied)], write=False)  # listed already: no fetch
        if feed_url == url.strip() and urlparse(feed_url).scheme.lower() in ("http", "https"):
            from catalog.app import Catalog

            with Catalog.open(config_path, state.db_path, config_must_exist=False) as cat:  # a new file is fine
                found = cat.discover_feed(feed_url)
            if found.unchecked:
                click.echo(
                    clean(f"Note: could not fetch {url} to check it ({found.unchecked}); added as given."), err=True
                )
            if found.page is not None:
                feed_url = found.url
                click.echo(clean(f"Found the feed of {found.page}: {feed_url}"))
                for other in found.others:
                    click.echo(clean(f"  also offered, not added: {other}"))
                for refused in found.refused:
                    click.echo(clean(f"  refused (not a public address): {refused}"))
                chosen = name or unused_name(name_for(feed_url), config_path)
        add_feed(config_path, chosen, feed_url, kind or implied)
    click.echo(clean(f"Added {chosen}: {feed_url}"))


@feeds.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Say what would be added; leave feeds.yaml as it is.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@global_options
@click.pass_obj
def feeds_import(state: State, file: Path, dry_run: bool, as_json: bool) -> None:
    """Add the feeds of an OPML file (AntennaPod, Pocket Casts, Overcast, Apple Podcasts, Miniflux,
    FreshRSS...) to feeds.yaml, keeping its comments, as `feeds add` would; nothing is fetched.
    Names are made from the titles. Reports the feeds added, those already listed (same URL), and
    the entries that are not usable (no xmlUrl, not http(s)). A file that is not OPML exits 2.

    \b
    Example:
        catalog feeds import subscriptions.opml --dry-run
        catalog feeds import subscriptions.opml --json
    """
    from catalog.sources.opml import import_opml

    with reported_errors():
        report = import_opml(Path(state.config_path), file, dry_run=dry_run)
    if as_json:
        print_json(report)
        return
    verb = "Would add" if dry_run else "Added"
    for row in report["added"]:
        click.echo(clean(f"{verb} {row['name']}: {row['url']}"))
    for row in report["already_present"]:
        click.echo(clean(f"Already present as {row['listed_as']}: {row['url']}"))
    for row in report["invalid"]:
        what = " ".join(part for part in (row["title"] or "(untitled)", row["url"]) if part)
        click.echo(clean(f"Skipped {what}: {row['reason']}"))
    counts = f"{len(report['already_present'])} already present, {len(report['invalid'])} invalid"
    done = "feeds.yaml not changed" if dry_run or not report["added"] else "feeds.yaml updated"
    click.echo(f"{verb} {len(report['added'])} feed(s), {counts}; {done}.")


@feeds.command("export")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE (default: stdout)."
)
@global_options
@click.pass_obj
def feeds_export(state: State, output: Path | None) -> None:
    """Write the feeds of feeds.yaml as OPML, for a podcast app or feed reader to import. Disabled feeds
    are included; local files and file: URLs are not (a note on stderr names them).

    \b
    Example:
        catalog feeds export -o feeds.opml
        catalog feeds export > feeds.opml
    """
    from catalog.files import atomic_write_text
    from catalog.sources.opml import exportable, write_opml

    with reported_errors():
        web, local = exportable(load_config(state.config_path).feeds)
        document = write_opml(web)
        if output is None:
            click.echo(document, nl=False)
        else:
            atomic_write_text(output, document)
    if local:
        names = ", ".join(feed.name for feed in local)
        click.echo(clean(f"Note: not exported (local files, not http(s)): {names}"), err=True)
    if output is not None:
        click.echo(clean(f"Wrote {len(web)} feed(s) to {output}"), err=True)


@feeds.command("update-moved")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option("--dry-run", is_flag=True, help="Say what would change; leave feeds.yaml as it is.")
@click.option("--json", "as_json", is_flag=True, help="Print the moves as JSON.")
@global_options
@click.pass_obj
def feeds_update_moved(state: State, names: tuple[str, ...], dry_run: bool, as_json: bool) -> None:
    """Write the new address of feeds that moved into feeds.yaml (all of them, or the NAMEs given).

    A sync notices a feed that moved (an HTTP 301 or 308 redirect, or the feed's own
    <itunes:new-feed-url> or <newLocation>), fetches it from its new address from then on, and says so
    in `catalog sync` and `catalog status`; feeds.yaml still has the old address until this command
    changes it. Only the url: values change; comments, blank lines and quoting stay as they are.
    A NAME that is not in feeds.yaml is an error; one that did not move is listed as such.

    \b
    Example:
        catalog feeds update-moved --dry-run    # what would change
        catalog feeds update-moved              # every moved feed
        catalog feeds update-moved sysk --json  # one feed; JSON out
    """
    from catalog.sources.locations import feed_url
    from catalog.sources.subscribe import set_feed_urls
    from catalog.storage.feeds import moved_feeds

    with reported_errors():
        config = load_config(state.config_path)
        listed = {source.name: source for source in config.feeds}
        unknown = [name for name in names if name not in listed]
        if unknown:
            raise ConfigError(
                f"no feed named {', '.join(unknown)} in {config.path or state.config_path}",
                hint=f"the feeds are: {', '.join(listed) or 'none'} (`catalog feeds list`)",
            )
        with state.open() as cat:
            recorded = {row["name"]: row for row in moved_feeds(cat.db)}
        moves = []
        for name, source in listed.items():
            row = recorded.get(name)
            # a move seen for the URL feeds.yaml has now (not for one the user has since changed by hand)
            if row is None or (names and name not in names) or row["url"] != feed_url(config, source):
                continue
            moves.append({"name": name, "url": source.url, "moved_to": row["moved_to"], "how": row["moved_how"]})
            moves[-1]["moved_at"] = row["moved_at"]
        if moves and not dry_run:
            set_feed_urls(Path(state.config_path), {move["name"]: move["moved_to"] for move in moves})
    not_moved = [name for name in names if name not in {move["name"] for move in moves}]
    if as_json:
        print_json({"dry_run": dry_run, "moved": moves, "not_moved": not_moved})
        return
    for move in moves:
        click.echo(clean(f"{move['name']}: {move['url']} -> {move['moved_to']} ({move['how']}, {move['moved_at']})"))
    for name in not_moved:
        click.echo(clean(f"{name}: not moved"))
    if not moves:
        click.echo("No moved feeds to write into feeds.yaml.")
    elif dry_run:
        click.echo(f"Dry run: {len(moves)} feed(s) would be updated; feeds.yaml not changed.")
    else:
        click.echo(f"Updated {len(moves)} feed(s) in feeds.yaml.")


def check_feed_address(url: str, config_path: Path) -> None:
    """An http(s) URL with a host, a file: URL, or a local file that exists (relative to feeds.yaml)."""
    try:
        parsed = urlparse(url.strip())
        parsed.port  # noqa: B018 - raises ValueError on a malformed port or IPv6 address
    except ValueError as exc:
        raise ConfigError(f"{url!r} is not a valid URL: {exc}") from None
    scheme = parsed.scheme.lower()
    if scheme in ("http", "https"):
        if not parsed.hostname:
            raise ConfigError(f"{url!r} has no host name", hint="give the whole address: https://example.org/feed")
        return
    if scheme == "file" or (len(scheme) == 1 and url[1:2] == ":"):  # file: URLs and Windows drive letters
        return
    if scheme:
        raise ConfigError(f"{url!r}: unsupported URL scheme {scheme!r}", hint="use an http(s) address or a local file")
    local = Path(url).expanduser()
    if not url.strip() or not (local if local.is_absolute() else config_path.parent / local).is_file():
        raise ConfigError(
            f"{url!r} is neither an http(s) address nor a file that exists",
            hint="give the feed's address, e.g. https://example.org/feed, or the path of a feed file",
        )


def unused_name(name: str, config_path: Path) -> str:
    """`name`, or `name-2`, `name-3`... when feeds.yaml already has it (a made-up name must not collide)."""
    try:
        taken = {feed.name for feed in load_config(config_path, must_exist=False).feeds}
    except ConfigError:
        return name  # add_feed reports what is wrong with the file
    return unused(name, taken)


feeds.add_command(feeds_remove)
feeds.add_command(feeds_enable)
feeds.add_command(feeds_disable)
