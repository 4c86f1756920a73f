"""Stage 8 (beside `cli`), the web: `catalog serve`'s app over the catalogue, read-only.

`routes` (the pages and the media they play), `catalogue` (read-only connections lent per request),
`views` (what templates show: times, marked snippets, http(s)-only links, players), `security` (the
Content-Security-Policy and friends); `templates/` and `static/` ship with the package. Needs the
`web` extra (starlette, jinja2, uvicorn).
"""

from catalog.web.routes import create_app

__all__ = ["create_app"]
