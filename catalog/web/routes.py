"""The web app: a search page, an item page, the status page, and the media they play.

Starlette routes over `Catalogue` (read-only). Endpoints are plain functions: Starlette runs them in
its thread pool, and SQLite work is synchronous anyway. Pages are rendered on the server by Jinja2
with autoescape on; the little script there is lives in static/app.js (the CSP allows no other).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from catalog.dates import read_date, read_since
from catalog.errors import CatalogError, NotFoundError
from catalog.models import KINDS
from catalog.web import views
from catalog.web.catalogue import Catalogue, SearchForm
from catalog.web.security import MEDIA_POLICY, LoopbackHostsOnly, SecurityHeaders, media_type

STATIC = Path(__file__).parent / "static"
SORTS = ("relevance", "date")
MODES = ("auto", "lexical", "semantic", "hybrid")


def environment() -> Environment:
    env = Environment(loader=PackageLoader("catalog.web", "templates"), autoescape=select_autoescape(default=True))
    env.globals.update(
        timestamp=views.timestamp,
        day=views.day,
        marked=views.marked,
        safe_url=views.safe_url,
        moment_href=views.moment_href,
        kinds=KINDS,
        sorts=SORTS,
        modes=MODES,
    )
    return env


class FormError(ValueError):
    """A search form field that cannot be read (a date that is not YYYY-MM-DD)."""


def _until(value: str | None) -> date | None:
    """`until` as the command line's --until reads it: YYYY-MM-DD."""
    try:
        return read_date(value) if value else None
    except ValueError as exc:
        raise FormError(f"until: {exc}") from None


def _since(value: str | None) -> date | None:
    """`since` as the command line's --since reads it: a date, or a time ago (7d, 2w, 12h)."""
    try:
        return read_since(value) if value else None
    except ValueError as exc:
        raise FormError(f"since: {exc}") from None


def read_form(request: Request) -> SearchForm:
    params = request.query_params
    choice = {"kind": KINDS, "sort": SORTS, "mode": MODES}
    for name, allowed in choice.items():
        if params.get(name) and params[name] not in allowed:
            raise FormError(f"{name}: {params[name]!r} is not one of {', '.join(allowed)}")
    return SearchForm(
        q=params.get("q", "").strip(),
        kind=params.get("kind") or None,
        feed=params.get("feed", "").strip() or None,
        since=_since(params.get("since")),
        until=_until(params.get("until")),
        sort=params.get("sort") or "relevance",
        mode=params.get("mode") or "auto",
    )


def create_app(db_path: Path | str, media_dir: Path | str | None = None, *, loopback_only: bool = False) -> Starlette:
    """The web app over the catalogue at `db_path`; media files are served only from `media_dir`.
    `loopback_only` (a server listening on loopback): requests for any other host name are refused."""
    catalogue = Catalogue(Path(db_path), Path(media_dir) if media_dir else None)
    templates = Jinja2Templates(env=environment())

    def search_page(request: Request) -> Response:
        context: dict[str, object] = {"form": SearchForm(), "items": [], "players": {}, "error": None}
        status = 200
        try:
            form = read_form(request)
            context["form"] = form
            if form.q:
                items, sources, warning = catalogue.search(form)
                players = {}
                for item in items:
                    source = sources.get(item.item_id)
                    players[item.item_id] = views.player_for(source, catalogue.kept_file(source) is not None)
                context.update(items=items, players=players, warning=warning, searched=True)
        except (CatalogError, FormError) as exc:
            context["error"] = _message(exc)
            status = 400
        return templates.TemplateResponse(request, "search.html", context, status_code=status)

    def item_page(request: Request) -> Response:
        item_id = request.path_params["item_id"]
        try:
            item, source = catalogue.item(item_id)
        except NotFoundError as exc:
            return templates.TemplateResponse(request, "error.html", {"error": _message(exc)}, status_code=404)
        except OverflowError:  # an id beyond any SQLite integer: no such item either
            error = {"error": f"no item with id {item_id}"}
            return templates.TemplateResponse(request, "error.html", error, status_code=404)
        at = _seconds(request.query_params.get("t"))
        segments = item["transcript"] or []
        hit_index = _line_at(segments, at) if at is not None else None
        player = views.player_for(source, catalogue.kept_file(source) is not None)
        context = {"item": item, "player": player, "segments": segments, "hit_index": hit_index, "at": at}
        return templates.TemplateResponse(request, "item.html", context)

    def status_page(request: Request) -> Response:
        return templates.TemplateResponse(request, "status.html", {"report": catalogue.status()})

    def media(request: Request) -> Response:
        try:
            found = catalogue.media_file(request.path_params["item_id"])
        except OverflowError:  # an id beyond any SQLite integer
            found = None
        if found is None:
            return Response("no media kept for this item", status_code=404, media_type="text/plain")
        path, content_type = found
        # answers Range requests (206) so players can seek; the publisher's bytes never run as a page of ours
        return FileResponse(
            path, media_type=media_type(content_type, path.name), headers={"content-security-policy": MEDIA_POLICY}
        )

    routes = [
        Route("/", search_page),
        Route("/item/{item_id:int}", item_page),
        Route("/status", status_page),
        Route("/media/{item_id:int}", media),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        catalogue.close()

    middleware = [Middleware(LoopbackHostsOnly)] if loopback_only else []
    return Starlette(routes=routes, middleware=[*middleware, Middleware(SecurityHeaders)], lifespan=lifespan)


def _message(exc: Exception) -> str:
    hint = getattr(exc, "hint", None)
    return f"{exc} ({hint})" if hint else str(exc)


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _line_at(segments: list[dict[str, object]], seconds: float) -> int | None:
    """The transcript line being said at `seconds`: the last one that starts at or before it."""
    found = None
    for index, segment in enumerate(segments):
        start = segment["start"]
        if isinstance(start, (int, float)) and start <= seconds + 0.5:
            found = index
        else:
            break
    return found
