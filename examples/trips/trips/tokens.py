"""Who is asking: an RS256 access token from our identity provider, verified with its
public key only (this service never holds the private half)."""

from __future__ import annotations

from dataclasses import dataclass

import jwt

from trips.plans import PLANS

ISSUER = "https://id.trips.example"
AUDIENCE = "trips"
ALGORITHM = "RS256"
REQUIRED = ("iss", "aud", "sub", "iat", "exp", "plan")


class Unauthorized(Exception):
    """The request carries no token this service accepts (401 over HTTP, 4401 on /stream)."""


@dataclass(frozen=True, slots=True)
class Traveller:
    subject: str
    plan: str


def bearer(header: str | None) -> str:
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("expected Authorization: Bearer <token>")
    return token.strip()


def verify(token: str, public_key_pem: str) -> Traveller:
    """The traveller named by ``token``: RS256-signed by our issuer's key, for this
    audience, in date, on one of our plans."""
    try:
        claims = jwt.decode(
            token,
            public_key_pem,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            audience=AUDIENCE,
            options={"require": list(REQUIRED)},
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"invalid token: {exc}") from exc
    if claims["plan"] not in PLANS:
        raise Unauthorized(f"invalid token: unknown plan {claims['plan']!r}")
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise Unauthorized("invalid token: empty subject")
    return Traveller(subject=claims["sub"], plan=claims["plan"])
