"""What HTTP handlers depend on: the server state and the bearer's verified identity."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from golden_path.db.pool import Conn
from golden_path.server.auth.tokens import Claims, TokenError
from golden_path.server.state import ServerState

UNAUTHORIZED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="invalid or missing credentials",
    headers={"WWW-Authenticate": "Bearer"},
)


async def get_state(request: Request) -> ServerState:
    # async, though it awaits nothing: FastAPI runs a plain ``def`` dependency on a worker
    # thread, a hand-off every request would pay for (a login flood showed it).
    state = request.app.state.gp
    if not isinstance(state, ServerState):  # only before the lifespan opened it
        raise TypeError("the server's state is not open")
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
    if await state.sessions.is_revoked(claims):  # Redis away: 503 (see api/errors.py)
        raise UNAUTHORIZED
    return claims


Bearer = Annotated[Claims, Depends(get_bearer)]


def own_rows(state: ServerState, claims: Claims) -> AbstractAsyncContextManager[Conn]:
    """A transaction that sees only the bearer's rows (an outage answers 503: api/errors.py)."""
    return state.db.as_user(claims.user_id)
