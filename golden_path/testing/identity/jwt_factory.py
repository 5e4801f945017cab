"""Tokens signed like the team's server signs them, and each broken in one way.

``JWTFactory`` signs with the server's own key (its secret, or the private half
of its key pair: every algorithm pyjwt signs, see :mod:`.keys`), issuer,
audience, claim names and extra claims (the ``gp_jwt_*`` ini settings say them
for a team's server), then breaks exactly one thing. Which claim each bad token
changes:

=====================  =====================================================
``valid``              nothing (the control of every negative case)
``expired``            ``iat`` an hour ago, ``exp`` ``by_s`` seconds ago
``expiring_in``        ``exp`` ``seconds`` from now
``not_yet_valid``      ``iat`` and ``exp`` in the future
``wrong_audience``     ``aud`` = ``someone-else``
``wrong_issuer``       ``iss`` = ``https://evil.example``
``wrong_type``         ``typ`` = ``refresh`` (servers that type their tokens)
``other_key``          nothing: signed with a key the server does not know
``alg_none``           the header's ``alg`` = ``none``, no signature
``tampered_tier``      the segment claim, the original signature kept
``tampered``           any claims, the original signature kept
``missing_claim``      one claim removed (so does ``valid(..., without=...)``)
=====================  =====================================================

Tokens that need no key to break (``alg_none``, ``other_key``, a tampered
payload) work against any deployment. The factory assumes nothing of the
reference server: its claims are the registered ones (``iss aud sub iat exp
jti``) and the segment claim; golden-path's own ``typ`` comes in
``extra_claims`` like any team's.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jwt

from golden_path.testing.identity.keys import check_algorithm, generate


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT_SEGMENT"


DEFAULT_SEGMENT: Any = _Default()
"""The segment a token names when none is given: the first of ``segments``, else none."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@dataclass(frozen=True)
class JWTFactory:
    """``secret``: the HS* secret, or the PEM private key of the other algorithms.

    ``segments`` are the project's segments (``gp_segments``): a token names the first
    unless told another, and ``tampered_tier`` moves a token to another one of them.
    """

    secret: str
    issuer: str = "golden-path"
    audience: str = "golden-path-api"
    algorithm: str = "HS256"
    access_ttl_s: int = 900
    subject_claim: str = "sub"
    tier_claim: str = "tier"
    extra_claims: Mapping[str, Any] = field(default_factory=dict)
    segments: Sequence[str] = ()
    key_id: str | None = None

    def __post_init__(self) -> None:
        check_algorithm(self.algorithm)

    def claims(
        self,
        user_id: str,
        tier: Any = DEFAULT_SEGMENT,
        *,
        without: Iterable[str] = (),
        **overrides: Any,
    ) -> dict[str, Any]:
        """The claims of a valid token, ``overrides`` applied, the ``without`` claims dropped.

        ``tier`` is the segment claim's value: a segment's name, or any JSON value for a
        negative test (``0``, ``None``, ``[]``).
        """
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            self.subject_claim: str(user_id),
            "iat": now,
            "exp": now + self.access_ttl_s,
            "jti": uuid.uuid4().hex,
        }
        if tier is DEFAULT_SEGMENT:
            if self.segments:
                claims[self.tier_claim] = self.segments[0]
        else:
            claims[self.tier_claim] = str(tier) if isinstance(tier, str) else tier
        claims.update(self.extra_claims)
        claims.update(overrides)
        for name in without:
            claims.pop(name, None)
        return claims

    def sign(self, claims: Mapping[str, Any], key: str | None = None) -> str:
        headers = {"kid": self.key_id} if self.key_id else None
        return jwt.encode(dict(claims), key or self.secret, self.algorithm, headers=headers)

    def valid(
        self,
        user_id: str,
        tier: Any = DEFAULT_SEGMENT,
        *,
        without: Iterable[str] = (),
        **overrides: Any,
    ) -> str:
        """A token the server accepts (the control for each negative case)."""
        return self.sign(self.claims(user_id, tier, without=without, **overrides))

    def expired(self, user_id: str, tier: Any = DEFAULT_SEGMENT, by_s: int = 60) -> str:
        now = int(time.time())
        return self.valid(user_id, tier, iat=now - 3600, exp=now - by_s)

    def expiring_in(self, user_id: str, seconds: float, tier: Any = DEFAULT_SEGMENT) -> str:
        """Valid now, expired ``seconds`` from now (counting the server's clock-skew allowance)."""
        return self.valid(user_id, tier, exp=int(time.time() + seconds))

    def not_yet_valid(self, user_id: str, tier: Any = DEFAULT_SEGMENT, by_s: int = 3600) -> str:
        now = int(time.time())
        return self.valid(user_id, tier, iat=now + by_s, exp=now + by_s + 900)

    def wrong_audience(self, user_id: str, tier: Any = DEFAULT_SEGMENT) -> str:
        return self.valid(user_id, tier, aud="someone-else")

    def wrong_issuer(self, user_id: str, tier: Any = DEFAULT_SEGMENT) -> str:
        return self.valid(user_id, tier, iss="https://evil.example")

    def wrong_type(self, user_id: str, tier: Any = DEFAULT_SEGMENT) -> str:
        """A refresh token where an access token is due (for servers that type tokens)."""
        return self.valid(user_id, tier, typ="refresh")

    def other_key(self, user_id: str, tier: Any = DEFAULT_SEGMENT) -> str:
        """Signed with a fresh key the server does not know (same algorithm)."""
        return self.sign(self.claims(user_id, tier), key=generate(self.algorithm).private)

    def alg_none(self, user_id: str, tier: Any = DEFAULT_SEGMENT) -> str:
        header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
        body = _b64(json.dumps(self.claims(user_id, tier)).encode())
        return f"{header}.{body}."

    def tampered_tier(self, token: str, to: str | None = None) -> str:
        """``token`` moved to segment ``to`` (by default another of ``segments`` than its
        own), its original signature kept: only signature verification can refuse it."""
        if to is None:
            current = _unb64(token.split(".")[1]).get(self.tier_claim)
            others = [s for s in self.segments if s != current]
            if not others:
                raise ValueError(
                    "tampered_tier needs to= or another segment to move to (gp_segments)"
                )
            to = others[-1]
        return self.tampered(token, **{self.tier_claim: str(to)})

    def tampered(self, token: str, **changes: Any) -> str:
        header, body, signature = token.split(".")
        data = _unb64(body)
        data.update(changes)
        return f"{header}.{_b64(json.dumps(data).encode())}.{signature}"

    def missing_claim(self, user_id: str, claim: str, tier: Any = DEFAULT_SEGMENT) -> str:
        return self.valid(user_id, tier, without=(claim,))


def foreign_key(algorithm: str) -> str:
    """A signing key no server knows: what ``gp_jwt`` signs with when it has no key."""
    return generate(algorithm).private


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
