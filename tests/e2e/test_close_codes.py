"""§7 over real sockets: each close code, brought about the way a real client meets it.

Here only what needs golden-path's reference server itself (a second node, other
settings, its services); what any server must pass ships in the package, in
``golden_path/conformance/v1/test_close_codes.py``.
"""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest

from golden_path.client import GoldenPathHTTP, GoldenPathSocket
from golden_path.conformance.support import (
    WAIT_S,
    assert_open,
    family_of,
    refusal,
)
from golden_path.conformance.v1 import bvj
from golden_path.protocol import CloseCode
from golden_path.testing.identity.users import create_user
from golden_path.tiers import TIER_LIMITS, Tier

pytestmark = [
    pytest.mark.stage("websocket"),
    bvj.CLOSE_CODES,
]


@pytest.mark.reference_only
async def test_a_server_that_stops_closes_its_open_sockets_with_1001(
    gp_user, connect_to, dedicated_server
):
    user = await gp_user("early")
    sock = await connect_to(dedicated_server, user)
    other = await connect_to(dedicated_server, user, method="ticket")
    stopping = asyncio.ensure_future(asyncio.to_thread(dedicated_server.thread.stop))
    try:
        assert await sock.wait_closed(WAIT_S) == CloseCode.GOING_AWAY
        assert await other.wait_closed(WAIT_S) == CloseCode.GOING_AWAY
    finally:
        await stopping


@pytest.mark.reference_only
async def test_with_redis_down_a_handshake_closes_1011_and_an_open_socket_keeps_working(
    isolated_stack, connect_to
):
    stack = isolated_stack
    async with GoldenPathHTTP(stack.endpoint.base_url) as api:
        user = await create_user(api, "mid")
        open_sock = await connect_to(stack.endpoint, user)
        stack.provider.stop_redis()

        code = await refusal(stack.endpoint.ws_url, user.access_token)

        assert code == CloseCode.INTERNAL_ERROR
        await assert_open(open_sock)
        stack.provider.start_redis()
        tokens = await api.login(user.email, user.password)
        back = await connect_to(stack.endpoint, user.with_tokens(tokens))
        await assert_open(back)


# --- 4401 ---------------------------------------------------------------------------------
#
# The server accepts a token until exp + its clock-skew allowance (10 s). ``exp`` is whole
# seconds, so a token made to expire "skew - 1.5 s ago" passes the handshake and then really
# expires between 0.5 s and 1.5 s later; the test reads the exact moment from the token.


def expiring_token(gp_jwt, gp_server, user) -> tuple[str, float]:
    """A token of ``user`` that the server stops accepting within 0.5 to 1.5 s: (token, when)."""
    skew = gp_server.settings.clock_skew_s
    token = gp_jwt.valid(
        user.user_id, user.tier, exp=int(time.time() + 1.5 - skew), fam=family_of(user)
    )
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    return token, expires + skew


@pytest.mark.reference_only
@pytest.mark.security
async def test_a_token_that_expires_on_an_open_socket_closes_it_4401(gp_user, gp_jwt, gp_server):
    user = await gp_user("mid")
    token, expires_at = expiring_token(gp_jwt, gp_server, user)
    sock = await GoldenPathSocket.connect(gp_server.ws_url, token)
    try:
        code = await sock.wait_closed(expires_at - time.time() + WAIT_S)
        closed_at = time.time()
    finally:
        await sock.close()
    assert code == CloseCode.UNAUTHORIZED
    assert closed_at >= expires_at - 0.05


@pytest.mark.reference_only
async def test_authenticate_before_expiry_keeps_the_socket_open_past_it(
    gp_user, gp_jwt, gp_server, gp_api
):
    user = await gp_user("mid")
    token, expires_at = expiring_token(gp_jwt, gp_server, user)
    sock = await GoldenPathSocket.connect(gp_server.ws_url, token)
    try:
        renewed = await gp_api.refresh(user.refresh_token)
        await sock.authenticate(renewed.access_token)
        with pytest.raises(TimeoutError):
            await sock.wait_closed(expires_at - time.time() + 0.5)
        await assert_open(sock)
    finally:
        await sock.close()


@pytest.mark.reference_only
@pytest.mark.security
async def test_a_socket_opened_with_a_ticket_expires_with_the_token_that_got_it(
    gp_user, gp_jwt, gp_server, gp_api
):
    user = await gp_user("free")
    token, expires_at = expiring_token(gp_jwt, gp_server, user)
    ticket = await gp_api.ws_ticket(token)
    sock = await GoldenPathSocket.connect(gp_server.ws_url, method="ticket", ticket=ticket)
    try:
        assert await sock.wait_closed(expires_at - time.time() + WAIT_S) == (CloseCode.UNAUTHORIZED)
    finally:
        await sock.close()


@pytest.mark.reference_only
@pytest.mark.tier("free")
async def test_the_socket_limit_counts_sockets_on_every_server_node(
    gp_user, gp_client, connect_to, dedicated_server, gp_server
):
    user = await gp_user("free")
    here = await gp_client(user)
    there = await connect_to(dedicated_server, user)
    assert TIER_LIMITS[Tier.FREE].open_websockets == 2
    for endpoint in (gp_server, dedicated_server):
        code = await refusal(endpoint.ws_url, user.access_token)
        assert code == CloseCode.TOO_MANY_CONNECTIONS
    await assert_open(here)
    await assert_open(there)
