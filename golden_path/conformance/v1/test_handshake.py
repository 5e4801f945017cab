"""§4 handshake over real sockets: the three ways in, every way refused, and
connection_established.

Shipped: what any protocol v1 server must pass; what needs golden-path's reference
server itself stays in this repository's ``tests/e2e/test_handshake.py``.
"""

from __future__ import annotations

import pytest

from golden_path.client import GoldenPathSocket
from golden_path.conformance.support import (
    BAD_TOKEN_KINDS,
    assert_open,
    forge,
    refusal,
)
from golden_path.conformance.v1 import bvj
from golden_path.ids import ConnectionID
from golden_path.protocol import BEARER_SUBPROTOCOL_PREFIX, PROTOCOL_NAME, CloseCode, ServerFrame
from golden_path.tiers import TIER_ORDER

pytestmark = [
    # Protocol v1, much of it over raw HTTP on gp_base_url: --gp-protocol=ag-ui skips it.
    pytest.mark.protocol("v1"),
    pytest.mark.e2e,
    pytest.mark.stage("websocket"),
    pytest.mark.security,
    bvj.HANDSHAKE,
]


# --- accepted -----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["header", "subprotocol", "ticket"])
async def test_each_auth_method_opens_a_socket_announced_by_connection_established(
    gp_user, gp_client, method
):
    user = await gp_user("mid")
    sock = await gp_client(user, method=method)
    established = sock.established
    assert established["type"] == ServerFrame.CONNECTION_ESTABLISHED.value
    assert ConnectionID.is_valid(established["connection_id"]), established
    assert established["user_id"] == user.user_id
    assert established["tier"] == user.tier.value
    assert established["protocol"] == PROTOCOL_NAME
    assert established["last_seq"] == 0
    await assert_open(sock)


async def test_subprotocol_auth_selects_the_protocol_and_never_echoes_the_token(gp_user, gp_client):
    user = await gp_user("free")
    sock = await gp_client(user, method="subprotocol")
    assert sock.subprotocol == PROTOCOL_NAME
    assert user.access_token not in (sock.subprotocol or "")
    assert not (sock.subprotocol or "").startswith(BEARER_SUBPROTOCOL_PREFIX)


async def test_header_auth_offering_the_protocol_gets_it_selected(gp_user, gp_client):
    user = await gp_user("free")
    sock = await gp_client(user, subprotocols=[PROTOCOL_NAME])
    assert sock.subprotocol == PROTOCOL_NAME


@pytest.mark.parametrize("tier", [t.value for t in TIER_ORDER])
async def test_connection_established_reports_the_tier_of_the_token(gp_user, gp_client, tier):
    user = await gp_user(tier)
    sock = await gp_client(user)
    assert sock.established["tier"] == tier


async def test_each_socket_gets_its_own_connection_id(gp_user, gp_client):
    user = await gp_user("early")
    first = await gp_client(user)
    second = await gp_client(user, method="ticket")
    assert first.established["connection_id"] != second.established["connection_id"]
    assert first.established["user_id"] == second.established["user_id"] == user.user_id


async def test_last_seq_is_the_users_newest_seq_after_a_run(gp_user, gp_client, gp_api):
    user = await gp_user("free")
    sock = await gp_client(user)
    assert sock.established["last_seq"] == 0
    run = await sock.ask("We spend $3k a month on gpt-4o. Where can we save?")
    newest = run.events[-1]["seq"]
    assert newest == len(run.events)
    later = await gp_client(user)
    assert later.established["last_seq"] == newest
    assert (await gp_api.events(user.access_token))["last_seq"] == newest


async def test_a_client_without_origin_is_accepted(gp_user, gp_client):
    user = await gp_user("free")
    sock = await gp_client(user, origin=None)
    await assert_open(sock)


# --- refused ------------------------------------------------------------------------------


async def test_a_foreign_browser_origin_is_refused_4403_even_with_a_valid_token(gp_user, gp_server):
    user = await gp_user("free")
    code = await refusal(gp_server.ws_url, user.access_token, origin="https://evil.example")
    assert code == CloseCode.FORBIDDEN_ORIGIN


@pytest.mark.parametrize("name", ["token", "access_token"])
async def test_a_valid_token_in_the_query_string_is_refused_4401(gp_user, gp_server, name):
    user = await gp_user("free")
    code = await refusal(gp_server.ws_url, None, method="none", query={name: user.access_token})
    assert code == CloseCode.UNAUTHORIZED


async def test_a_query_string_token_is_refused_4401_even_beside_a_valid_header(gp_user, gp_server):
    user = await gp_user("free")
    code = await refusal(gp_server.ws_url, user.access_token, query={"token": user.access_token})
    assert code == CloseCode.UNAUTHORIZED


async def test_no_credentials_are_refused_4401(gp_server):
    assert await refusal(gp_server.ws_url, None, method="none") == CloseCode.UNAUTHORIZED


@pytest.mark.parametrize(
    "authorization",
    ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Token abc.def.ghi"],
    ids=["basic", "bearer-without-token", "bearer-blank", "other-scheme"],
)
async def test_an_authorization_header_without_a_bearer_token_is_refused_4401(
    gp_server, authorization
):
    code = await refusal(
        gp_server.ws_url, None, method="none", extra_headers={"Authorization": authorization}
    )
    assert code == CloseCode.UNAUTHORIZED


async def test_an_unknown_ticket_is_refused_4401(gp_server):
    code = await refusal(gp_server.ws_url, None, method="ticket", ticket="no-such-ticket-" * 2)
    assert code == CloseCode.UNAUTHORIZED


async def test_a_ticket_opens_one_socket_only(gp_user, gp_api, gp_server):
    user = await gp_user("free")
    ticket = await gp_api.ws_ticket(user.access_token)
    sock = await GoldenPathSocket.connect(gp_server.ws_url, method="ticket", ticket=ticket)
    try:
        assert sock.established["user_id"] == user.user_id
        second = await refusal(gp_server.ws_url, None, method="ticket", ticket=ticket)
        assert second == CloseCode.UNAUTHORIZED
    finally:
        await sock.close()


@pytest.mark.parametrize("kind", BAD_TOKEN_KINDS)
async def test_a_bad_bearer_token_is_refused_4401(gp_user, gp_jwt, gp_server, kind):
    user = await gp_user("free")
    code = await refusal(gp_server.ws_url, forge(gp_jwt, kind, user))
    assert code == CloseCode.UNAUTHORIZED


@pytest.mark.parametrize("kind", ["expired", "other_key", "alg_none", "tampered_tier"])
async def test_a_bad_token_in_the_bearer_subprotocol_is_refused_4401(
    gp_user, gp_jwt, gp_server, kind
):
    user = await gp_user("free")
    code = await refusal(gp_server.ws_url, forge(gp_jwt, kind, user), method="subprotocol")
    assert code == CloseCode.UNAUTHORIZED


async def test_a_refresh_token_is_refused_4401_as_a_socket_credential(gp_user, gp_server):
    user = await gp_user("free")
    for method in ("header", "subprotocol"):
        code = await refusal(gp_server.ws_url, user.refresh_token, method=method)
        assert code == CloseCode.UNAUTHORIZED, method
