"""Who is opening this WebSocket: the three ways to authenticate, and the origin allow-list.

* ``Authorization: Bearer <access token>`` (non-browser clients);
* subprotocols ``["golden-path.v1", "bearer.<access token>"]`` (the server selects
  ``golden-path.v1`` and never echoes the token);
* ``?ticket=<ticket>`` from ``POST /auth/ws-ticket`` (single use).

Tokens in the query string are refused. A browser ``Origin`` must be on the
allow-list. Every refusal happens after the upgrade, with a close code the
client can read (4401, 4403), never as an HTTP error the browser would hide.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.websockets import WebSocket

from golden_path.ids import UserID
from golden_path.protocol import BEARER_SUBPROTOCOL_PREFIX, PROTOCOL_NAME, CloseCode
from golden_path.server.auth.sessions import SessionStore, SessionStoreUnavailable
from golden_path.server.auth.tokens import Claims, TokenError, Tokens
from golden_path.tiers import Tier

QUERY_TOKEN_NAMES = ("token", "access_token", "jwt", "bearer", "authorization")


@dataclass
class Principal:
    """The authenticated user of a connection; ``expires_at`` moves on ``authenticate``."""

    user_id: UserID
    tier: Tier
    jti: str
    family: str
    expires_at: int

    @classmethod
    def from_claims(cls, claims: Claims) -> Principal:
        return cls(claims.user_id, claims.tier, claims.jti, claims.family, claims.expires_at)

    def as_claims(self) -> Claims:
        return Claims(self.user_id, self.tier, "access", self.jti, self.family, 0, self.expires_at)


@dataclass(frozen=True, slots=True)
class Denied:
    """The handshake is refused: the socket is accepted, then closed with this code."""

    close_code: CloseCode
    reason: str


def selected_subprotocol(websocket: WebSocket) -> str | None:
    offered: list[str] = list(websocket.scope.get("subprotocols") or [])
    return PROTOCOL_NAME if PROTOCOL_NAME in offered else None


def origin_allowed(origin: str | None, allowed: tuple[str, ...]) -> bool:
    """Non-browser clients send no Origin; a browser's must be listed exactly (or ``*``)."""
    if origin is None:
        return True
    return "*" in allowed or origin.rstrip("/") in {a.rstrip("/") for a in allowed}


def _credentials(websocket: WebSocket) -> tuple[str, str] | None:
    header = websocket.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return "bearer", token.strip()
        return "invalid", ""
    for offered in websocket.scope.get("subprotocols") or []:
        if offered.startswith(BEARER_SUBPROTOCOL_PREFIX):
            return "bearer", offered[len(BEARER_SUBPROTOCOL_PREFIX) :]
    ticket = websocket.query_params.get("ticket")
    if ticket:
        return "ticket", ticket
    return None


async def authenticate(
    websocket: WebSocket,
    tokens: Tokens,
    sessions: SessionStore,
    allowed_origins: tuple[str, ...],
) -> Principal | Denied:
    if not origin_allowed(websocket.headers.get("origin"), allowed_origins):
        return Denied(CloseCode.FORBIDDEN_ORIGIN, "origin not allowed")
    if any(name in websocket.query_params for name in QUERY_TOKEN_NAMES):
        return Denied(CloseCode.UNAUTHORIZED, "tokens are not accepted in the query string")
    credentials = _credentials(websocket)
    if credentials is None:
        return Denied(CloseCode.UNAUTHORIZED, "authentication required")
    kind, secret = credentials
    try:
        if kind == "ticket":
            ticket = await sessions.redeem_ticket(secret)
            if ticket is None:
                return Denied(CloseCode.UNAUTHORIZED, "invalid ticket")
            principal = Principal(
                ticket.user_id, ticket.tier, ticket.jti, ticket.family, ticket.expires_at
            )
        elif kind == "bearer":
            principal = Principal.from_claims(tokens.verify(secret, "access"))
        else:
            return Denied(CloseCode.UNAUTHORIZED, "invalid authorization header")
        if await sessions.is_revoked(principal.as_claims()):
            return Denied(CloseCode.UNAUTHORIZED, "token revoked")
    except TokenError:
        return Denied(CloseCode.UNAUTHORIZED, "invalid token")
    except SessionStoreUnavailable:
        return Denied(CloseCode.INTERNAL_ERROR, "authentication unavailable, retry shortly")
    return principal
