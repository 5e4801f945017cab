"""§7 over real sockets: each close code, brought about the way a real client meets it.

Shipped: what any protocol v1 server must pass; what needs golden-path's reference
server itself stays in this repository's ``tests/e2e/test_close_codes.py``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from golden_path.client import ConnectionRefused, GoldenPathSocket
from golden_path.conformance.support import (
    WAIT_S,
    assert_open,
    burst,
    new_request_id,
    refusal,
    send_expecting_error,
)
from golden_path.conformance.v1 import bvj
from golden_path.ids import ThreadID
from golden_path.protocol import MAX_FRAME_BYTES, PROTOCOL_ERRORS_PER_MINUTE, CloseCode, ErrorCode
from golden_path.tiers import TIER_LIMITS, TIER_ORDER, Tier

pytestmark = [
    # Protocol v1, much of it over raw HTTP on gp_base_url: --gp-protocol=ag-ui skips it.
    pytest.mark.protocol("v1"),
    pytest.mark.e2e,
    pytest.mark.stage("websocket"),
    bvj.CLOSE_CODES,
]

# Protocol errors of every kind, cycled through to make up a count.
PROTOCOL_ERRORS: tuple[str | bytes | dict[str, Any], ...] = (
    "not json",
    {"type": "user_message"},
    {"type": "frobnicate"},
    b"\x00binary",
)


def protocol_error(index: int) -> str | bytes | dict[str, Any]:
    return PROTOCOL_ERRORS[index % len(PROTOCOL_ERRORS)]


# --- 1000, 1001, 1009, 1011 ---------------------------------------------------------------


async def test_a_client_close_completes_with_1000_and_the_user_reconnects(gp_user, gp_client):
    user = await gp_user("mid")
    sock = await gp_client(user)
    await sock.close()
    assert sock.close_code == CloseCode.NORMAL
    again = await gp_client(user)
    await assert_open(again)


async def test_a_text_frame_over_64_kib_closes_1009(gp_user, gp_client):
    sock = await gp_client(await gp_user("enterprise"))
    await sock.send("x" * (MAX_FRAME_BYTES + 1))
    assert await sock.wait_closed(WAIT_S) == CloseCode.MESSAGE_TOO_BIG


async def test_a_user_message_over_64_kib_closes_1009(gp_user, gp_client):
    sock = await gp_client(await gp_user("enterprise"))
    await sock.send_message("y" * MAX_FRAME_BYTES)
    assert await sock.wait_closed(WAIT_S) == CloseCode.MESSAGE_TOO_BIG


async def test_a_frame_of_exactly_64_kib_is_read_and_answered(gp_user, gp_client):
    sock = await gp_client(await gp_user("enterprise"))
    frame = {"type": "user_message", "request_id": new_request_id(), "content": ""}
    overhead = len(json.dumps(frame).encode())
    frame["content"] = "z" * (MAX_FRAME_BYTES - overhead)
    text = json.dumps(frame)
    assert len(text.encode()) == MAX_FRAME_BYTES
    error = await send_expecting_error(sock, text)
    assert error["code"] == ErrorCode.MESSAGE_TOO_LONG.value
    await assert_open(sock)


# --- 4400 ---------------------------------------------------------------------------------


async def test_twenty_protocol_errors_within_a_minute_leave_the_socket_open(gp_user, gp_client):
    sock = await gp_client(await gp_user("free"))
    for index in range(PROTOCOL_ERRORS_PER_MINUTE):
        await send_expecting_error(sock, protocol_error(index))
    await assert_open(sock)


@pytest.mark.security
async def test_the_21st_protocol_error_within_a_minute_is_answered_then_closes_4400(
    gp_user, gp_client
):
    sock = await gp_client(await gp_user("free"))
    for index in range(PROTOCOL_ERRORS_PER_MINUTE):
        await send_expecting_error(sock, protocol_error(index))

    last = await send_expecting_error(sock, protocol_error(PROTOCOL_ERRORS_PER_MINUTE))

    assert last["code"] in {e.value for e in ErrorCode}
    assert await sock.wait_closed(WAIT_S) == CloseCode.PROTOCOL_ERRORS


async def test_refusals_that_are_not_protocol_errors_never_close_4400(gp_user, gp_client):
    sock = await gp_client(await gp_user("mid"))
    answers = await burst(sock, PROTOCOL_ERRORS_PER_MINUTE + 5, thread_id=str(ThreadID.new()))
    assert {a["code"] for a in answers} == {ErrorCode.THREAD_NOT_FOUND.value}
    await assert_open(sock)


@pytest.mark.security
async def test_a_socket_whose_token_was_logged_out_closes_4401_at_once(gp_user, gp_client, gp_api):
    user = await gp_user("early")
    sock = await gp_client(user)
    await gp_api.logout(user.access_token)
    # Closed by the logout itself, before the client sends anything (§3.4).
    assert await sock.wait_closed(WAIT_S) == CloseCode.UNAUTHORIZED
    assert sock.events() == []
    fresh = await gp_api.login(user.email, user.password)
    assert (await gp_api.events(fresh.access_token))["events"] == []


# --- 4429 ---------------------------------------------------------------------------------


async def connect_once_released(gp_client, user, attempts: int = 50) -> GoldenPathSocket:
    """Open a socket as soon as the server has released a slot (it does so asynchronously).

    Each attempt is a full handshake, refused 4429 while the slot is still held: the loop
    waits on each attempt's own answer, never on a clock.
    """
    codes: list[int | None] = []
    for _ in range(attempts):
        try:
            sock: GoldenPathSocket = await gp_client(user)
            return sock
        except ConnectionRefused as refused:
            codes.append(refused.code)
        if codes[-1] != CloseCode.TOO_MANY_CONNECTIONS:
            break
    pytest.fail(f"no slot was released after {len(codes)} handshakes; close codes: {codes}")


@pytest.mark.parametrize("tier", [t.value for t in TIER_ORDER])
async def test_one_socket_more_than_the_tier_allows_is_refused_4429(
    gp_user, gp_client, gp_server, tier
):
    user = await gp_user(tier)
    limit = TIER_LIMITS[Tier(tier)].open_websockets
    sockets = [await gp_client(user) for _ in range(limit)]

    code = await refusal(gp_server.ws_url, user.access_token)

    assert code == CloseCode.TOO_MANY_CONNECTIONS
    await assert_open(sockets[0])
    await assert_open(sockets[-1])


@pytest.mark.tier("free")
async def test_closing_a_socket_frees_its_slot_for_a_new_one(gp_user, gp_client, gp_server):
    user = await gp_user("free")
    limit = TIER_LIMITS[Tier.FREE].open_websockets
    sockets = [await gp_client(user) for _ in range(limit)]
    assert await refusal(gp_server.ws_url, user.access_token) == CloseCode.TOO_MANY_CONNECTIONS

    await sockets[0].close()

    replacement = await connect_once_released(gp_client, user)
    await assert_open(replacement)
    assert await refusal(gp_server.ws_url, user.access_token) == CloseCode.TOO_MANY_CONNECTIONS


@pytest.mark.tier("free")
async def test_a_dropped_socket_frees_its_slot(gp_user, gp_client):
    user = await gp_user("free")
    limit = TIER_LIMITS[Tier.FREE].open_websockets
    sockets = [await gp_client(user) for _ in range(limit)]

    await sockets[-1].drop()

    replacement = await connect_once_released(gp_client, user)
    await assert_open(replacement)
