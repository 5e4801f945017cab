"""How the HTTP API answers a backing service that is away: 503, in this one place.

Handlers and dependencies never catch an outage themselves: the database boundary
raises ``DatabaseUnavailable`` and the session store ``SessionStoreUnavailable``
(both :class:`golden_path.errors.Unavailable`), and this handler answers every one
with 503 and a ``Retry-After``. Nothing was changed: every write is one transaction.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from golden_path.errors import Unavailable
from golden_path.server.auth.throttle import Throttled

log = logging.getLogger(__name__)
RETRY_AFTER_S = 1


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Unavailable)
    log.warning("%s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": f"{exc.what} is unavailable; nothing was changed, retry shortly"},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def throttled(retry_after_s: int) -> JSONResponse:
    """The 429 of a throttled login or signup (also an ASGI app: ``throttle_gate``'s)."""
    return JSONResponse(
        {"detail": "too many attempts; retry later"},
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": str(retry_after_s)},
    )


async def _throttled(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Throttled)
    return throttled(exc.retry_after_s)


def install(app: FastAPI) -> None:
    """Answer every :class:`Unavailable` with 503, every :class:`Throttled` with 429."""
    app.add_exception_handler(Unavailable, _unavailable)
    app.add_exception_handler(Throttled, _throttled)
