"""Tokens that a strict server must refuse, one call each, for negative tests.

``JWTFactory`` signs like the server under test (same secret or private key,
issuer, audience, claim names and extra claims: the ``gp_jwt_*`` ini settings
say them for a team's own server), then breaks exactly one thing. Tokens that
need no secret to break (``alg: none``, another key, a tampered payload) work
against any deployment.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

from golden_path.server.auth.tokens import payload
from golden_path.tiers import Tier


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@dataclass(frozen=True)
class JWTFactory:
    """``secret`` is the HS256 secret, or the PEM private key for RS256 and EdDSA."""

    secret: str
    issuer: str = "golden-path"
    audience: str = "golden-path-api"
    algorithm: str = "HS256"
    access_ttl_s: int = 900
    subject_claim: str = "sub"
    tier_claim: str = "tier"
    extra_claims: Mapping[str, Any] = field(default_factory=dict)

    def claims(
        self, user_id: str, tier: Tier | str = Tier.FREE, **overrides: Any
    ) -> dict[str, Any]:
        now = int(time.time())
        claims = payload(
            issuer=self.issuer,
            audience=self.audience,
            subject=user_id,
            tier=str(tier),
            typ="access",
            issued_at=now,
            expires_at=now + self.access_ttl_s,
            jti=uuid.uuid4().hex,
            family=uuid.uuid4().hex,
        )
        claims[self.subject_claim] = claims.pop("sub")
        claims[self.tier_claim] = claims.pop("tier")
        claims.update(self.extra_claims)
        claims.update(overrides)
        return claims

    def sign(self, claims: dict[str, Any], key: str | None = None) -> str:
        return jwt.encode(claims, key or self.secret, algorithm=self.algorithm)

    def valid(self, user_id: str, tier: Tier | str = Tier.FREE, **overrides: Any) -> str:
        """A token the server accepts (the control for each negative case)."""
        return self.sign(self.claims(user_id, tier, **overrides))

    def expired(self, user_id: str, tier: Tier | str = Tier.FREE, by_s: int = 60) -> str:
        now = int(time.time())
        return self.valid(user_id, tier, iat=now - 3600, exp=now - by_s)

    def expiring_in(self, user_id: str, seconds: float, tier: Tier | str = Tier.FREE) -> str:
        """Valid now, expired ``seconds`` from now (counting the server's clock-skew allowance)."""
        return self.valid(user_id, tier, exp=int(time.time() + seconds))

    def not_yet_valid(self, user_id: str, tier: Tier | str = Tier.FREE, by_s: int = 3600) -> str:
        now = int(time.time())
        return self.valid(user_id, tier, iat=now + by_s, exp=now + by_s + 900)

    def wrong_audience(self, user_id: str, tier: Tier | str = Tier.FREE) -> str:
        return self.valid(user_id, tier, aud="someone-else")

    def wrong_issuer(self, user_id: str, tier: Tier | str = Tier.FREE) -> str:
        return self.valid(user_id, tier, iss="https://evil.example")

    def wrong_type(self, user_id: str, tier: Tier | str = Tier.FREE) -> str:
        """A refresh token where an access token is due."""
        return self.valid(user_id, tier, typ="refresh")

    def other_key(self, user_id: str, tier: Tier | str = Tier.FREE) -> str:
        """Signed with a key the server does not know (same algorithm)."""
        if self.algorithm == "HS256":
            return self.sign(self.claims(user_id, tier), key=secrets.token_urlsafe(48))
        return self.sign(self.claims(user_id, tier), key=_fresh_private_key(self.algorithm))

    def alg_none(self, user_id: str, tier: Tier | str = Tier.FREE) -> str:
        header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
        payload = _b64(json.dumps(self.claims(user_id, tier)).encode())
        return f"{header}.{payload}."

    def tampered_tier(self, token: str, tier: Tier | str = Tier.ENTERPRISE) -> str:
        """``token`` with its payload's tier changed and the original signature kept."""
        return self.tampered(token, **{self.tier_claim: Tier.parse(tier).value})

    def tampered(self, token: str, **changes: Any) -> str:
        header, payload, signature = token.split(".")
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        data.update(changes)
        return f"{header}.{_b64(json.dumps(data).encode())}.{signature}"

    def missing_claim(self, user_id: str, claim: str, tier: Tier | str = Tier.FREE) -> str:
        claims = self.claims(user_id, tier)
        claims.pop(claim)
        return self.sign(claims)


def _fresh_private_key(algorithm: str) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
    if algorithm == "EdDSA":
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def claims_from_lines(lines: tuple[str, ...]) -> dict[str, Any]:
    """``gp_jwt_claims`` lines (``name=value``; a JSON value is decoded) as a dict."""
    claims: dict[str, Any] = {}
    for line in lines:
        name, sep, raw = line.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"gp_jwt_claims line {line!r}: expected name=value")
        try:
            claims[name.strip()] = json.loads(raw)
        except ValueError:
            claims[name.strip()] = raw.strip()
    return claims
