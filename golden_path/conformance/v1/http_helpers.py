"""The HTTP requests the v1 modules make by hand, whatever the server answers: the auth
routes (§3), an upgrade, a bearer route's status, and a request body written raw.

Used by the shipped modules and by this repository's ``tests/e2e`` halves of the same
topics (auth, security sessions, security limits); each returns the answer and the test
asserts the status it expects.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httpx

from golden_path.client import GoldenPathHTTP
from golden_path.conformance.support import WAIT_S, http
from golden_path.testing.identity.users import TEST_PASSWORD


async def signup(
    gp_api: GoldenPathHTTP, email: str, password: str = TEST_PASSWORD
) -> httpx.Response:
    return await http(gp_api, "POST", "/auth/signup", json={"email": email, "password": password})


async def login(
    gp_api: GoldenPathHTTP, email: str, password: str = TEST_PASSWORD
) -> httpx.Response:
    return await http(gp_api, "POST", "/auth/login", json={"email": email, "password": password})


async def refresh(gp_api: GoldenPathHTTP, refresh_token: str) -> httpx.Response:
    return await http(gp_api, "POST", "/auth/refresh", json={"refresh_token": refresh_token})


async def upgrade(gp_api: GoldenPathHTTP, access_token: str, tier: str) -> httpx.Response:
    return await http(gp_api, "POST", "/billing/upgrade", token=access_token, json={"tier": tier})


async def threads_status(gp_api: GoldenPathHTTP, token: str) -> int:
    """The status of ``GET /threads`` with ``token``: 200 for a live session, 401 for none."""
    return (await http(gp_api, "GET", "/threads", token=token)).status_code


async def raw_post(base_url: str, head: bytes, body: bytes = b"") -> bytes:
    """``POST /auth/login`` by hand: ``head`` headers, ``body`` (never finished); the answer.

    Only what the server will read is sent, so closing after its answer resets nothing.
    """
    parts = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(
            f"POST /auth/login HTTP/1.1\r\nHost: {parts.netloc}\r\n".encode()
            + head
            + b"Content-Type: application/json\r\n\r\n"
            + body
        )
        await writer.drain()
        return await asyncio.wait_for(reader.read(4096), WAIT_S)
    finally:
        writer.close()
