"""What HTTP handlers depend on: the server state and the bearer's verified identity."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from golden_path.db.pool import Conn
from golden_path.server.auth.sessions import SessionStoreUnavailable
from golden_path.server.auth.tokens import Claims, TokenError
from golden_path.server.runs.service import DB_ERRORS
from golden_path.server.state import ServerState

UNAUTHORIZED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="invalid or missing credentials",
    headers={"WWW-Authenticate": "Bearer"},
)


def get_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.gp
    return state


State = Annotated[ServerState, Depends(get_state)]


async def get_bearer(request: Request, state: State) -> Claims:
    """The verified access token of the request; 401 for any kind of failure."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UNAUTHORIZED
    try:
        claims = state.tokens.verify(token.strip(), "access")
    except TokenError:
        raise UNAUTHORIZED from None
    try:
        revoked = await state.sessions.is_revoked(claims)
    except SessionStoreUnavailable:
        raise HTTPException(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="authentication is unavailable; retry shortly",
        ) from None
    if revoked:
        raise UNAUTHORIZED
    return claims


Bearer = Annotated[Claims, Depends(get_bearer)]


@asynccontextmanager
async def own_rows(state: ServerState, claims: Claims) -> AsyncIterator[Conn]:
    """A transaction that sees only the bearer's rows; 503 if PostgreSQL does not answer."""
    try:
        async with state.db.as_user(claims.user_id) as conn:
            yield conn
    except DB_ERRORS:
        raise unavailable() from None


def unavailable(what: str = "the database") -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        detail=f"{what} is unavailable; nothing was changed, retry shortly",
    )
