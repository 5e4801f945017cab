"""The one thing the harness cannot know: our JWT secret. A fresh one per run, set before
any server starts, so the app (in-process or its own process) and gp_jwt share it."""

from __future__ import annotations

import os
import secrets

import pytest


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("ORDERS_JWT_SECRET", secrets.token_urlsafe(32))
