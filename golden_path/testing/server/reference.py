"""The reference server for a test run: its settings, and starting it in this process."""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from golden_path.protocol import websocket_url
from golden_path.server.config import SUITE_LIMITS, Settings
from golden_path.server.runner import ServerThread
from golden_path.services.model import Services
from golden_path.testing.server.endpoint import ServerEndpoint

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
