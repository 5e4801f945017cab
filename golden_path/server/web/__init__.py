"""The chat page at ``/``: static HTML, CSS and JavaScript shipped in the package.

``GET /`` answers ``static/index.html``; ``/static/*`` serves the page's script and
style sheet. Nothing is built and nothing is fetched from elsewhere: the page is a
plain browser client of protocol golden-path.v1 (``static/app.js``). Its
WebSocket is refused 4403 unless the page's origin (``http://HOST:PORT`` it was
loaded from) is on ``GOLDEN_PATH_ALLOWED_ORIGINS``; the page then says so.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import FileResponse
from starlette.staticfiles import StaticFiles

from golden_path.server.config import Settings

STATIC_DIR = Path(__file__).resolve().parent / "static"
INDEX = STATIC_DIR / "index.html"

# The page loads only its own script and style sheet and talks only to its own origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - names, nothing is bound here


def page_origin(host: str, port: int) -> str | None:
    """The origin of the chat page a server bound to ``host:port`` serves at ``/``, which
    its allow-list should admit; ``None`` when the address does not name one (a wildcard
    host, or port 0) and the operator must list the origin browsers will use.

    An exact origin, not "whatever the Host header says": that would let a page whose
    name an attacker rebinds to this address (DNS rebinding) pass as the server's own.
    """
    if host in WILDCARD_HOSTS or port == 0:
        return None
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def with_page_origin(settings: Settings, host: str, port: int) -> Settings:
    """``settings`` whose allow-list also admits the page this server serves."""
    origin = page_origin(host, port)
    if origin is None or origin in settings.allowed_origins:
        return settings
    return replace(settings, allowed_origins=(*settings.allowed_origins, origin))


async def index() -> FileResponse:
    return FileResponse(
        INDEX,
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
        },
    )


def mount(app: FastAPI) -> None:
    """Serve the chat page at ``/`` and its files under ``/static`` (left out of OpenAPI)."""
    app.add_api_route("/", index, methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
