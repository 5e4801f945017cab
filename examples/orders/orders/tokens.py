"""Who is asking: the bearer token, verified with this service's own JWT settings."""

from __future__ import annotations

from dataclasses import dataclass

import jwt

from orders.pricing import DISCOUNT_PERCENT

ISSUER = "orders"
AUDIENCE = "orders-api"
ALGORITHM = "HS256"
SCOPE = "orders:write"
REQUIRED = ("iss", "aud", "sub", "iat", "exp", "plan", "typ", "scope")


class Unauthorized(Exception):
    """The request carries no token this service accepts (answered with 401)."""


@dataclass(frozen=True, slots=True)
class Caller:
    subject: str
    plan: str


def bearer(header: str | None) -> str:
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("expected Authorization: Bearer <token>")
    return token.strip()


def verify(token: str, secret: str) -> Caller:
    """The caller named by ``token``: signed with ``secret``, for this audience, by this
    issuer, in date, an access token with the write scope and a known plan."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            audience=AUDIENCE,
            options={"require": list(REQUIRED)},
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"invalid token: {exc}") from exc
    if claims["typ"] != "access":
        raise Unauthorized("invalid token: not an access token")
    if SCOPE not in str(claims["scope"]).split():
        raise Unauthorized(f"invalid token: scope {SCOPE!r} is missing")
    if claims["plan"] not in DISCOUNT_PERCENT:
        raise Unauthorized(f"invalid token: unknown plan {claims['plan']!r}")
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise Unauthorized("invalid token: empty subject")
    return Caller(subject=claims["sub"], plan=claims["plan"])
