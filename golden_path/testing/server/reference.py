"""The reference server for a test run: its settings, and starting it in this process."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import replace
from typing import Any

from golden_path.protocol import websocket_url
from golden_path.server.config import SUITE_LIMITS, Settings
from golden_path.server.runner import ServerThread
from golden_path.services.model import Services
from golden_path.testing.identity.jwt_factory import JWTFactory
from golden_path.testing.server.endpoint import ServerEndpoint
from golden_path.tiers import TIER_ORDER

# Shared by every reference server of this process, in-process or not, so a user's
# tokens work on every node a test starts.
TEST_JWT_SECRET = secrets.token_urlsafe(48)


def reference_settings(services: Services, **overrides: Any) -> Settings:
    """Settings for a reference server on ``services`` (fast password hashing: test users)."""
    settings = Settings(
        postgres_dsn=services.postgres_dsn,
        redis_url=services.redis_url,
        redis_prefix=services.redis_namespace or "gp:",
        jwt_secret=TEST_JWT_SECRET,
        password_hash_profile="fast",  # noqa: S106 - a profile name, not a password
    )
    return replace(settings, **{**SUITE_LIMITS, **overrides}).validated()


def start_reference_server(services: Services, **overrides: Any) -> ServerEndpoint:
    """A reference server in this process on ``services``; ``endpoint.stop()`` stops it."""
    thread = ServerThread(reference_settings(services, **overrides)).start()
    return ServerEndpoint(thread.base_url, thread.ws_url, thread.settings, thread)


def endpoint_for_url(url: str) -> ServerEndpoint:
    base = url.rstrip("/")
    return ServerEndpoint(base, websocket_url(base))


# The reference product as one configured user of the harness: its segments are its four
# tiers, and its access tokens carry protocol v1's typ claim and a refresh family's fam
# (docs/protocol.md §3).
REFERENCE_SEGMENTS: tuple[str, ...] = tuple(t.value for t in TIER_ORDER)
REFERENCE_CLAIMS: dict[str, str] = {"typ": "access"}


def reference_jwt(settings: Settings) -> JWTFactory:
    """``gp_jwt`` for a reference server: its own key, issuer, audience and lifetime."""
    return JWTFactory(
        secret=settings.jwt_secret
        if settings.jwt_algorithm == "HS256"
        else settings.jwt_private_key,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        algorithm=settings.jwt_algorithm,
        access_ttl_s=settings.access_ttl_s,
        extra_claims={**REFERENCE_CLAIMS, "fam": uuid.uuid4().hex},
        segments=REFERENCE_SEGMENTS,
    )
