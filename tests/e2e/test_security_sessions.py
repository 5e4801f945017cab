"""Sessions that really end (security review, issue 13 §1), each attack carried out for real.

A stolen access token must not become a session of its own: an upgrade stays in the
bearer's family and refuses the current tier; ``/auth/logout-all`` ends every family;
a logged-out family's open sockets close 4401 at once, on every node, not at expiry.

Here only what needs golden-path's reference server itself (a second node, other
settings, its services); what any server must pass ships in the package, in
``golden_path/conformance/v1/test_security_sessions.py``.
"""

from __future__ import annotations

import time

import pytest

from golden_path.client import GoldenPathSocket
from golden_path.conformance.support import (
    WAIT_S,
    assert_open,
    http,
    refusal,
    server_connection,
    until,
)
from golden_path.conformance.v1 import bvj
from golden_path.conformance.v1.http_helpers import threads_status
from golden_path.protocol import CloseCode

pytestmark = [
    pytest.mark.stage("auth"),
    pytest.mark.security,
    bvj.SECURITY_SESSIONS,
]


@pytest.mark.reference_only
async def test_logout_all_ends_every_family_and_closes_every_socket_at_once(
    gp_api, gp_user, gp_server, origin_server
):
    user = await gp_user("mid")
    phone = await gp_api.login(user.email, user.password)  # a second family
    laptop_socket = await GoldenPathSocket.connect(gp_server.ws_url, user.access_token)
    phone_socket = await GoldenPathSocket.connect(origin_server.ws_url, phone.access_token)
    try:
        answer = await http(gp_api, "POST", "/auth/logout-all", token=phone.access_token)
        assert answer.status_code == 204, answer.text
        # Both sockets, on two nodes, close now: long before their tokens expire.
        assert await laptop_socket.wait_closed(WAIT_S) == CloseCode.UNAUTHORIZED
        assert await phone_socket.wait_closed(WAIT_S) == CloseCode.UNAUTHORIZED
    finally:
        await laptop_socket.close()
        await phone_socket.close()
    for tokens in (user.tokens, phone):
        assert await threads_status(gp_api, tokens.access_token) == 401
        refreshed = await http(
            gp_api, "POST", "/auth/refresh", json={"refresh_token": tokens.refresh_token}
        )
        assert refreshed.status_code == 401
        assert await refusal(gp_server.ws_url, tokens.access_token) == CloseCode.UNAUTHORIZED
    # A login after it starts a session that works.
    fresh = await gp_api.login(user.email, user.password)
    assert await threads_status(gp_api, fresh.access_token) == 200


@pytest.mark.reference_only
async def test_logout_closes_that_familys_sockets_on_another_node_and_only_those(
    gp_api, gp_user, origin_server
):
    user = await gp_user("mid")
    other_login = await gp_api.login(user.email, user.password)
    ended = await GoldenPathSocket.connect(origin_server.ws_url, user.access_token)
    kept = await GoldenPathSocket.connect(origin_server.ws_url, other_login.access_token)
    try:
        await gp_api.logout(user.access_token)  # on gp_server: the socket is on the other node
        assert await ended.wait_closed(WAIT_S) == CloseCode.UNAUTHORIZED
        assert ended.close_reason == "session ended"
        await assert_open(kept)
    finally:
        await ended.close()
        await kept.close()


@pytest.mark.reference_only
async def test_a_message_on_a_token_that_has_expired_starts_no_run_and_closes_4401(
    gp_server, gp_user, gp_api
):
    """The watchdog closes a socket when its token expires, but a timer can fire late (a
    busy loop, a suspended host). A message that arrives in that gap must not start a
    run: every message checks the token again. The gap is made for real here: the open
    connection's expiry is moved into the past behind the watchdog, which sleeps on."""
    user = await gp_user("mid")
    sock = await GoldenPathSocket.connect(gp_server.ws_url, user.access_token)
    try:
        await until(lambda: server_connection(gp_server, user) is not None, WAIT_S, "the socket")
        connection = server_connection(gp_server, user)
        skew = gp_server.settings.clock_skew_s
        connection.principal.expires_at = int(time.time()) - skew - 1
        await sock.send_message("How much did we spend on AI this month?")
        assert await sock.wait_closed(WAIT_S) == CloseCode.UNAUTHORIZED
        assert sock.close_reason == "token expired"
    finally:
        await sock.close()
    assert sock.events() == []
    assert (await gp_api.events(user.access_token))["events"] == []
