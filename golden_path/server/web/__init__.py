"""The chat page at ``/``: static HTML, CSS and JavaScript shipped in the package.

``GET /`` answers ``static/index.html``; ``/static/*`` serves the page's script and
style sheet. Nothing is built and nothing is fetched from elsewhere: the page is a
plain browser client of protocol golden-path.v1 (``static/app.js``). Its
WebSocket is refused 4403 unless the page's origin (``http://HOST:PORT`` it was
loaded from) is on ``GOLDEN_PATH_ALLOWED_ORIGINS``; the page then says so.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.responses import FileResponse
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent / "static"
INDEX = STATIC_DIR / "index.html"

# The page loads only its own script and style sheet and talks only to its own origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


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
