"""§4 handshake over real sockets: the three ways in, every way refused, and
connection_established.

Here only what needs golden-path's reference server itself (a second node, other
settings, its services); what any server must pass ships in the package, in
``golden_path/conformance/v1/test_handshake.py``.
"""

from __future__ import annotations

import pytest

from golden_path.client import GoldenPathSocket
from golden_path.conformance.support import (
    ALLOWED_ORIGIN,
    assert_open,
    family_of,
    refusal,
)
from golden_path.conformance.v1 import bvj
from golden_path.protocol import CloseCode

pytestmark = [
    pytest.mark.stage("websocket"),
    pytest.mark.security,
    bvj.HANDSHAKE,
]


@pytest.mark.reference_only
async def test_an_origin_on_the_allow_list_is_accepted(gp_user, connect_to, origin_server):
    user = await gp_user("free")
    sock = await connect_to(origin_server, user, origin=ALLOWED_ORIGIN)
    assert sock.established["user_id"] == user.user_id
    await assert_open(sock)


@pytest.mark.reference_only
async def test_a_client_without_origin_is_accepted_by_a_server_with_an_allow_list(
    gp_user, connect_to, origin_server
):
    user = await gp_user("free")
    sock = await connect_to(origin_server, user)
    await assert_open(sock)


@pytest.mark.reference_only
@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://app.example",
        "https://app.example:8443",
        "https://app.example.evil.example",
        "https://sub.app.example",
        "null",
    ],
)
async def test_an_origin_off_the_allow_list_is_refused_4403(gp_user, origin_server, origin):
    user = await gp_user("free")
    for method in ("header", "subprotocol"):
        code = await refusal(origin_server.ws_url, user.access_token, method=method, origin=origin)
        assert code == CloseCode.FORBIDDEN_ORIGIN, method


@pytest.mark.reference_only
async def test_a_token_signed_like_the_server_opens_a_socket(gp_user, gp_jwt, gp_server):
    user = await gp_user("free")
    sock = await GoldenPathSocket.connect(
        gp_server.ws_url, gp_jwt.valid(user.user_id, fam=family_of(user))
    )
    try:
        assert sock.established["user_id"] == user.user_id
    finally:
        await sock.close()
