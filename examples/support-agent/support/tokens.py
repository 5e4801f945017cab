"""Who is chatting: the bearer token, verified with the support desk's own JWT settings.

Our identity provider signs HS384 tokens for the audience ``support-agent``; the
customer is the ``customer_id`` claim, their plan the ``plan`` claim, and a chat token
has ``token_use: access`` and the ``support:chat`` scope.
"""

from __future__ import annotations

from dataclasses import dataclass

import jwt

from support.plans import PLANS

ISSUER = "https://id.support-desk.example"
AUDIENCE = "support-agent"
ALGORITHM = "HS384"
SCOPE = "support:chat"
REQUIRED = ("iss", "aud", "customer_id", "iat", "exp", "plan", "token_use", "scope")


class Unauthorized(Exception):
    """The request carries no token this service accepts (answered with 401)."""


@dataclass(frozen=True, slots=True)
class Caller:
    customer: str
    plan: str


def bearer(header: str | None) -> str:
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("expected Authorization: Bearer <token>")
    return token.strip()


def verify(token: str, secret: str) -> Caller:
    """The caller named by ``token``: signed with ``secret`` by our issuer for this
    audience, in date, an access token with the chat scope and one of our plans."""
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
    if claims["token_use"] != "access":  # noqa: S105 (a claim's value, not a password)
        raise Unauthorized("invalid token: not an access token")
    if SCOPE not in str(claims["scope"]).split():
        raise Unauthorized(f"invalid token: scope {SCOPE!r} is missing")
    if claims["plan"] not in PLANS:
        raise Unauthorized(f"invalid token: unknown plan {claims['plan']!r}")
    customer = claims["customer_id"]
    if not isinstance(customer, str) or not customer:
        raise Unauthorized("invalid token: empty customer_id")
    return Caller(customer=customer, plan=claims["plan"])
