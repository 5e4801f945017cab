"""Access tokens minted like the team's server signs them (``--tokens gp_jwt``), in place
of signup and login, for a server that trusts its identity provider's tokens.

The settings are the project's ``gp_jwt_*`` ini settings (read by
:mod:`golden_path.load.jwt_settings` in the command's process), handed to every Locust
process as JSON in ``--gp-jwt``. The key is never on a command line: each process reads it
from the variable ``gp_jwt_secret_env`` names (a worker on another machine needs it set
too). The signing itself is the harness's own (:class:`JWTFactory`, the ``gp_jwt``
fixture's factory), imported without the pytest plugin: it needs only PyJWT.

Each simulated user gets a token of its own: a fresh subject (``usr_`` and 32 hex digits,
a valid UserID) and the tier asked for in the tier claim, plus the ini's extra claims.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import jwt

from golden_path.load.auth import LoginHook, SignInError
from golden_path.testing.identity.jwt_factory import JWTFactory
from golden_path.testing.identity.keys import key_id

TOKENS = ("signup", "gp_jwt")  # --tokens: protocol v1's signup and login, or minted


@dataclass(frozen=True)
class JWTSettings:
    """The ``gp_jwt_*`` settings that say how the team's server's tokens are signed."""

    issuer: str
    audience: str
    algorithm: str
    secret_env: str
    subject_claim: str = "sub"
    tier_claim: str = "tier"
    claims: dict[str, Any] = field(default_factory=dict)
    segments: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> JWTSettings:
        data = json.loads(text)
        data["segments"] = tuple(data.get("segments", ()))
        return cls(**data)


def minter(settings: JWTSettings, tier: str, environ: Mapping[str, str] | None = None) -> LoginHook:
    """A login hook that signs a fresh user's token; a clear error when the key is unset."""
    env = os.environ if environ is None else environ
    secret = env.get(settings.secret_env, "") if settings.secret_env else ""
    if not secret:
        raise SignInError(
            f"--tokens gp_jwt: the variable {settings.secret_env or '(none)'} "
            "(gp_jwt_secret_env) holds no key: set it to the secret (or PEM private key) "
            "the server under load verifies with"
        )
    try:
        factory = JWTFactory(
            secret=secret,
            issuer=settings.issuer,
            audience=settings.audience,
            algorithm=settings.algorithm,
            subject_claim=settings.subject_claim,
            tier_claim=settings.tier_claim,
            extra_claims=settings.claims,
            segments=settings.segments,
            key_id=key_id(settings.algorithm, secret),
        )
        factory.valid(f"usr_{uuid.uuid4().hex}", tier)  # a key that cannot sign fails here
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        raise SignInError(
            f"--tokens gp_jwt: cannot sign with ${settings.secret_env}: {exc}"
        ) from exc

    def hook(base_url: str) -> str:
        return factory.valid(f"usr_{uuid.uuid4().hex}", tier)

    return hook
