"""JWT access and refresh tokens (pyjwt), issued and verified strictly.

Verification pins the algorithm allow-list to the one configured algorithm,
requires every claim of protocol v1 (``iss aud sub tier typ iat exp jti``),
checks ``iss`` and ``aud`` exactly, allows at most the configured clock skew,
and never accepts a refresh token where an access token is due, nor the reverse.
Every failure is one :class:`TokenError`; callers answer 401 or close 4401
without telling the kinds of failure apart.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import jwt

from golden_path.errors import GoldenPathError
from golden_path.ids import UserID
from golden_path.server.config import Settings
from golden_path.tiers import Tier

TokenType = Literal["access", "refresh"]
REQUIRED_CLAIMS: tuple[str, ...] = ("iss", "aud", "sub", "tier", "typ", "iat", "exp", "jti")


class TokenError(GoldenPathError):
    """The token is not acceptable (the reason is for logs, never for the client)."""


@dataclass(frozen=True, slots=True)
class Claims:
    user_id: UserID
    tier: Tier
    typ: TokenType
    jti: str
    family: str
    issued_at: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    access_claims: Claims
    refresh_claims: Claims
    expires_in: int

    def to_response(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": "bearer",
            "expires_in": self.expires_in,
        }


def payload(
    *,
    issuer: str,
    audience: str,
    subject: str,
    tier: str,
    typ: str,
    issued_at: int,
    expires_at: int,
    jti: str,
    family: str,
) -> dict[str, Any]:
    """The claims of a protocol v1 token: :data:`REQUIRED_CLAIMS`, plus ``fam`` (its family).

    The one place they are spelled: the server signs these, and the harness's
    ``JWTFactory`` starts from the same dict before it breaks one thing.
    """
    return {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "tier": tier,
        "typ": typ,
        "iat": issued_at,
        "exp": expires_at,
        "jti": jti,
        "fam": family,
    }


class Tokens:
    """Issues and verifies this server's JWTs."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._algorithm = settings.jwt_algorithm
        if self._algorithm == "HS256":
            self._signing_key: Any = settings.jwt_secret
            self._verifying_key: Any = settings.jwt_secret
        else:
            self._signing_key = settings.jwt_private_key
            self._verifying_key = settings.jwt_public_key

    def issue_pair(
        self, user_id: UserID, tier: Tier, family: str | None = None, now: float | None = None
    ) -> TokenPair:
        family = family or uuid.uuid4().hex
        issued = int(now if now is not None else time.time())
        access, access_claims = self._issue(user_id, tier, "access", family, issued)
        refresh, refresh_claims = self._issue(user_id, tier, "refresh", family, issued)
        return TokenPair(
            access, refresh, access_claims, refresh_claims, self._settings.access_ttl_s
        )

    def _issue(
        self, user_id: UserID, tier: Tier, typ: TokenType, family: str, issued: int
    ) -> tuple[str, Claims]:
        ttl = self._settings.access_ttl_s if typ == "access" else self._settings.refresh_ttl_s
        claims = Claims(user_id, tier, typ, uuid.uuid4().hex, family, issued, issued + ttl)
        body = payload(
            issuer=self._settings.jwt_issuer,
            audience=self._settings.jwt_audience,
            subject=str(user_id),
            tier=tier.value,
            typ=typ,
            issued_at=claims.issued_at,
            expires_at=claims.expires_at,
            jti=claims.jti,
            family=family,
        )
        token = jwt.encode(body, self._signing_key, algorithm=self._algorithm)
        return token, claims

    def verify(self, token: str, expected: TokenType) -> Claims:
        """The claims of a valid token of type ``expected``; :class:`TokenError` otherwise."""
        if not isinstance(token, str) or not token or len(token) > 8192 or not token.isascii():
            raise TokenError("no token, or not a compact JWT")
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != self._algorithm:
                raise TokenError(f"algorithm {header.get('alg')!r} is not allowed")
            payload = jwt.decode(
                token,
                self._verifying_key,
                algorithms=[self._algorithm],
                audience=self._settings.jwt_audience,
                issuer=self._settings.jwt_issuer,
                leeway=self._settings.clock_skew_s,
                options={"require": list(REQUIRED_CLAIMS), "strict_aud": True},
            )
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from exc
        return self._claims(payload, expected)

    def _claims(self, payload: dict[str, Any], expected: TokenType) -> Claims:
        if payload.get("typ") != expected:
            raise TokenError(f"a {payload.get('typ')!r} token where {expected!r} is due")
        for name in ("iat", "exp"):
            if not isinstance(payload[name], int) or isinstance(payload[name], bool):
                raise TokenError(f"claim {name} is not an integer")
        if payload["iat"] - self._settings.clock_skew_s > time.time():
            raise TokenError("issued in the future")
        jti = payload["jti"]
        if not isinstance(jti, str) or not 8 <= len(jti) <= 128:
            raise TokenError("bad jti")
        family = payload.get("fam", "")
        if not isinstance(family, str):
            raise TokenError("bad family")
        try:
            return Claims(
                user_id=UserID(payload["sub"]),
                tier=Tier.parse(payload["tier"]),
                typ=expected,
                jti=jti,
                family=family,
                issued_at=payload["iat"],
                expires_at=payload["exp"],
            )
        except ValueError as exc:
            raise TokenError(str(exc)) from exc
