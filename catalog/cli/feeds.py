"""`catalog feeds list` and `catalog feeds add`: the sources in feeds.yaml."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import click

from catalog.cli.context import State, global_options, print_json, reported_errors
from catalog.cli.terminal import clean
from catalog.config import load_config
from catalog.errors import ConfigError
from catalog.models import KINDS


@click.group()
def feeds() -> None:
    """List the feeds in feeds.yaml, or add one (YouTube channel and playlist pages become feeds).

    \b
    Example:
        catalog feeds list
        catalog feeds add https://feeds.megaphone.fm/stuffyoushouldknow --name sysk --kind podcast
    """


@feeds.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the feeds as JSON.")
@global_options
@click.pass_obj
def feeds_list(state: State, as_json: bool) -> None:
    """The feeds in feeds.yaml, with the URL catalog fetches.

    \b
    Example:
        catalog feeds list
        catalog feeds list --json
    """
    from catalog.sources.locations import feed_url

    with reported_errors():
        config = load_config(state.config_path)
        rows = [
            {"name": f.name, "url": feed_url(config, f), "kind": f.kind, "enabled": f.enabled} for f in config.feeds
        ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        flag = "" if row["enabled"] else "  (disabled)"
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
    A feed already in the file (even disabled) is not added twice: the message says how to enable it.

    \b
    Example:
        catalog feeds add https://feeds.megaphone.fm/stuffyoushouldknow --name sysk --kind podcast
        catalog feeds add https://www.youtube.com/channel/UCupvZG-5ko_eiXAupbDfxWw --name cnn-video
        catalog feeds add "https://www.youtube.com/playlist?list=PL…"
    """
    from catalog.sources.subscribe import add_feed
    from catalog.sources.youtube import feed_url_for

    with reported_errors():
        check_feed_address(url, Path(state.config_path))
        feed_url, implied = feed_url_for(url)
        chosen = name or unused_name(name_for(feed_url), Path(state.config_path))
        add_feed(Path(state.config_path), chosen, feed_url, kind or implied)
    click.echo(clean(f"Added {chosen}: {feed_url}"))


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
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name}-{number}"
    return candidate


def name_for(url: str) -> str:
    """A feed name from its URL: the site's first label (`nonzero`), a YouTube id's tail, or an address."""
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    for key in ("channel_id", "playlist_id", "user"):
        if key in query:
            return f"youtube-{query[key][0][-8:]}"
    host = (parsed.hostname or "").removeprefix("www.")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        label = host.split(".")[0]
    else:  # 127.0.0.1 must not become the name "127" (YAML would read it back as a number)
        label = "feed-" + host.replace(".", "-").replace(":", "-")
    if not label:
        label = Path(parsed.path).stem or "feed"
    return label
