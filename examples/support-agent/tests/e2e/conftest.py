"""The desk's client and a fresh thread and customer per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from agui_desk import Desk


@pytest.fixture
async def desk(gp_base_url: str) -> AsyncIterator[Desk]:
    async with httpx.AsyncClient(base_url=gp_base_url, timeout=20) as client:
        yield Desk(client)


@pytest.fixture
def thread() -> str:
    return f"thread-{uuid.uuid4().hex}"


@pytest.fixture
def customer() -> str:
    return f"customer-{uuid.uuid4().hex}"
