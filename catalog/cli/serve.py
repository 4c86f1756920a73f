"""`catalog serve`: the search page in a browser (catalog.web), served by uvicorn, read-only."""

from __future__ import annotations

import importlib.util
import ipaddress
import socket

import click

from catalog.cli.context import State, fail, global_options, reported_errors
from catalog.cli.terminal import clean

WEB_LIBRARIES = ("starlette", "jinja2", "uvicorn")
INSTALL_HINT = "pip install 'catalog[web]'"


def is_loopback(host: str) -> bool:
    """Only this machine can reach `host` (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_can_listen(host: str, port: int, shown: str) -> int:
    """Exit 3 with a catalog error, not uvicorn's log line, when `host:port` cannot be listened on
    (a name that does not resolve, a port in use, a privileged port). The port (a free one for 0)."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind(address)
            return int(probe.getsockname()[1])
    except OSError as exc:
        why = exc.strerror or str(exc)
        fail(
            f"cannot listen on {shown}: {why}",
            "pick another --port (above 1023 needs no privileges), or another --host",
            3,
        )


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but loopback makes the catalogue reachable from the network.",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="Port to listen on.")
@global_options
@click.pass_obj
def serve(state: State, host: str, port: int) -> None:
    """Search the catalogue in a browser: the search page (same query language and filters as
    `catalog search`, results grouped by item), each spoken hit playing in the page from its second,
    item pages with the transcript (click a line to seek) and chapters, and the status page.

    Read-only, and on this machine only unless --host says otherwise. Pages run no script from
    feeds: feed text is escaped, only http(s) addresses are links, and a strict
    Content-Security-Policy allows only the server's own script. Needs the `web` extra
    (pip install 'catalog[web]'). Stop it with Ctrl-C.

    \b
    Example:
        catalog serve                       # http://127.0.0.1:8080/
        catalog serve --port 8000
        catalog serve --host 0.0.0.0        # reachable from the network: a warning says so
    """
    missing = [name for name in WEB_LIBRARIES if importlib.util.find_spec(name) is None]
    if missing:
        fail(f"catalog serve needs {', '.join(missing)}, not installed here", f"install the extra: {INSTALL_HINT}", 2)
    with reported_errors(), state.open(config_must_exist=False) as cat:
        cat.db  # noqa: B018 - opened here so that a missing catalogue is an error now, and an old one is migrated
        db_path, media_dir = cat.db_path, cat.config.media_dir
    import uvicorn

    from catalog.web import create_app

    shown = f"[{host}]" if ":" in host else host
    port = check_can_listen(host, port, f"{shown}:{port}")
    if not is_loopback(host):
        click.echo(
            clean(f"Warning: listening on {host}: the catalogue is reachable from the network, without a password"),
            err=True,
        )
    click.echo(clean(f"Serving {db_path} at http://{shown}:{port}/ (Ctrl-C to stop)"), err=True)
    app = create_app(db_path, media_dir, loopback_only=is_loopback(host))
    uvicorn.run(app, host=host, port=port, log_level="warning")
