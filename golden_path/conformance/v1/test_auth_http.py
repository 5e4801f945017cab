"""§3 over real HTTP: accounts, token pairs, refresh rotation and theft detection, logout,
tickets and tiers.

Shipped: what any protocol v1 server must pass; what needs golden-path's reference
server itself stays in this repository's ``tests/e2e/test_auth_http.py``.
"""

from __future__ import annotations

import httpx
import pytest

from golden_path.client import GoldenPathSocket, TokenSet
from golden_path.conformance.support import (
    BAD_TOKEN_KINDS,
    forge,
    http,
    new_email,
    refusal,
)
from golden_path.conformance.v1 import bvj
from golden_path.conformance.v1.http_helpers import login, refresh, signup, threads_status
from golden_path.ids import UserID
from golden_path.protocol import TICKET_TTL_SECONDS, CloseCode
from golden_path.testing.identity.users import TEST_PASSWORD
from golden_path.tiers import TIER_ORDER, Tier

pytestmark = [
    # Protocol v1, much of it over raw HTTP on gp_base_url: --gp-protocol=ag-ui skips it.
    pytest.mark.protocol("v1"),
    pytest.mark.e2e,
    pytest.mark.stage("auth"),
    pytest.mark.security,
    bvj.AUTH_HTTP,
]

# §3: passwords have at least this many characters.
MIN_PASSWORD_CHARS = 10


# --- signup ---------------------------------------------------------------------------


async def test_signup_answers_201_with_a_user_id_on_the_free_tier(gp_api):
    answer = await signup(gp_api, new_email())
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert UserID.is_valid(body["user_id"]), body
    assert body["tier"] == Tier.FREE.value


@pytest.mark.parametrize("spelling", ["same", "upper", "lower", "swapcase"])
async def test_signup_with_a_taken_email_answers_409_in_any_letter_case(gp_api, spelling):
    email = new_email("Taken")
    assert (await signup(gp_api, email)).status_code == 201
    again = {"same": email, "upper": email.upper(), "lower": email.lower()}.get(
        spelling, email.swapcase()
    )
    answer = await signup(gp_api, again)
    assert answer.status_code == 409, answer.text


@pytest.mark.parametrize(
    "email",
    ["plainaddress", "@users.example", "someone@", "someone@localhost", "two@@x.example", ""],
)
async def test_signup_with_an_invalid_email_answers_422(gp_api, email):
    answer = await signup(gp_api, email)
    assert answer.status_code == 422, answer.text


@pytest.mark.parametrize(
    ("length", "status"),
    [(0, 422), (MIN_PASSWORD_CHARS - 1, 422), (MIN_PASSWORD_CHARS, 201)],
    ids=["empty", "one-short", "exactly-the-minimum"],
)
async def test_signup_refuses_passwords_shorter_than_10_characters(gp_api, length, status):
    answer = await signup(gp_api, new_email(), "p" * length)
    assert answer.status_code == status, answer.text


# --- login ----------------------------------------------------------------------------


async def test_login_answers_a_bearer_pair_with_its_lifetime(gp_api, gp_server):
    email = new_email()
    await signup(gp_api, email)
    answer = await login(gp_api, email)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) >= {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert isinstance(body["expires_in"], int)
    assert body["expires_in"] > 0
    if gp_server.is_reference:
        assert body["expires_in"] == gp_server.settings.access_ttl_s
    assert body["access_token"] != body["refresh_token"]
    assert await threads_status(gp_api, body["access_token"]) == 200


async def test_login_matches_the_email_in_any_letter_case(gp_api):
    email = new_email("MixedCase")
    await signup(gp_api, email)
    answer = await login(gp_api, email.swapcase())
    assert answer.status_code == 200, answer.text


async def test_login_refusals_do_not_tell_a_wrong_password_from_an_unknown_email(gp_api):
    email = new_email()
    await signup(gp_api, email)
    wrong_password = await login(gp_api, email, TEST_PASSWORD + "-wrong")
    unknown_email = await login(gp_api, new_email("nobody"), TEST_PASSWORD)
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()


# --- refresh: rotation and theft detection ---------------------------------------------


async def test_refresh_returns_a_new_pair_and_spends_the_presented_token(gp_api, gp_user):
    user = await gp_user("free")
    answer = await refresh(gp_api, user.refresh_token)
    assert answer.status_code == 200, answer.text
    pair = answer.json()
    assert pair["token_type"] == "bearer"
    assert pair["refresh_token"] != user.refresh_token
    assert pair["access_token"] != user.access_token
    assert await threads_status(gp_api, pair["access_token"]) == 200
    assert (await refresh(gp_api, pair["refresh_token"])).status_code == 200


async def test_reusing_a_spent_refresh_token_revokes_its_whole_family(gp_api, gp_user):
    user = await gp_user("free")
    rotated = (await refresh(gp_api, user.refresh_token)).json()

    reuse = await refresh(gp_api, user.refresh_token)

    assert reuse.status_code == 401
    assert (await refresh(gp_api, rotated["refresh_token"])).status_code == 401
    assert await threads_status(gp_api, rotated["access_token"]) == 401
    assert await threads_status(gp_api, user.access_token) == 401


async def test_a_family_revoked_for_refresh_reuse_is_refused_at_the_websocket(
    gp_api, gp_user, gp_server
):
    user = await gp_user("mid")
    rotated = (await refresh(gp_api, user.refresh_token)).json()
    assert (await refresh(gp_api, user.refresh_token)).status_code == 401
    code = await refusal(gp_server.ws_url, rotated["access_token"])
    assert code == CloseCode.UNAUTHORIZED


async def test_refresh_reuse_leaves_the_users_other_sessions_working(gp_api, gp_user):
    user = await gp_user("free")
    other = (await login(gp_api, user.email)).json()
    await refresh(gp_api, user.refresh_token)
    assert (await refresh(gp_api, user.refresh_token)).status_code == 401
    assert await threads_status(gp_api, other["access_token"]) == 200
    assert (await refresh(gp_api, other["refresh_token"])).status_code == 200


async def test_an_access_token_is_refused_where_a_refresh_token_is_due(gp_api, gp_user):
    user = await gp_user("free")
    assert (await refresh(gp_api, user.access_token)).status_code == 401


async def test_a_refresh_token_is_refused_where_an_access_token_is_due(gp_api, gp_user):
    user = await gp_user("free")
    assert await threads_status(gp_api, user.refresh_token) == 401
    ticket = await http(gp_api, "POST", "/auth/ws-ticket", token=user.refresh_token)
    assert ticket.status_code == 401


# --- logout -----------------------------------------------------------------------------


async def test_logout_answers_204_and_its_access_token_is_refused_over_http(gp_api, gp_user):
    user = await gp_user("free")
    answer = await http(gp_api, "POST", "/auth/logout", token=user.access_token)
    assert answer.status_code == 204
    assert answer.content == b""
    assert await threads_status(gp_api, user.access_token) == 401


async def test_a_logged_out_access_token_is_refused_4401_at_the_websocket(
    gp_api, gp_user, gp_server
):
    user = await gp_user("early")
    await gp_api.logout(user.access_token)
    assert await refusal(gp_server.ws_url, user.access_token) == CloseCode.UNAUTHORIZED


async def test_logout_revokes_the_refresh_token_of_its_family(gp_api, gp_user):
    user = await gp_user("free")
    await gp_api.logout(user.access_token)
    assert (await refresh(gp_api, user.refresh_token)).status_code == 401


async def test_logout_leaves_the_users_other_sessions_working(gp_api, gp_user):
    user = await gp_user("free")
    other = (await login(gp_api, user.email)).json()
    await gp_api.logout(user.access_token)
    assert await threads_status(gp_api, other["access_token"]) == 200
    assert (await refresh(gp_api, other["refresh_token"])).status_code == 200


async def test_a_ws_ticket_issued_before_logout_is_refused_after_it(gp_api, gp_user, gp_server):
    user = await gp_user("free")
    ticket = await gp_api.ws_ticket(user.access_token)
    await gp_api.logout(user.access_token)
    code = await refusal(gp_server.ws_url, None, method="ticket", ticket=ticket)
    assert code == CloseCode.UNAUTHORIZED


# --- WebSocket tickets --------------------------------------------------------------------


async def test_ws_ticket_answers_a_ticket_valid_for_30_seconds(gp_api, gp_user, gp_server):
    user = await gp_user("free")
    answer = await http(gp_api, "POST", "/auth/ws-ticket", token=user.access_token)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["expires_in"] == TICKET_TTL_SECONDS
    assert isinstance(body["ticket"], str)
    assert body["ticket"]
    assert user.access_token not in body["ticket"]
    sock = await GoldenPathSocket.connect(gp_server.ws_url, method="ticket", ticket=body["ticket"])
    try:
        assert sock.established["user_id"] == user.user_id
    finally:
        await sock.close()


async def test_ws_ticket_needs_an_access_token(gp_api):
    assert (await http(gp_api, "POST", "/auth/ws-ticket")).status_code == 401


# --- tiers ------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", [t.value for t in TIER_ORDER if t is not Tier.FREE])
async def test_upgrade_returns_a_pair_whose_sockets_carry_the_new_tier(
    gp_api, gp_user, gp_client, tier
):
    user = await gp_user("free")
    answer = await http(
        gp_api, "POST", "/billing/upgrade", token=user.access_token, json={"tier": tier}
    )
    assert answer.status_code == 200, answer.text
    pair = answer.json()
    assert pair["token_type"] == "bearer"
    sock = await gp_client(user.with_tokens(TokenSet.from_answer(pair), Tier(tier)))
    assert sock.established["tier"] == tier
    renewed = await gp_api.refresh(pair["refresh_token"])
    again = await gp_client(user.with_tokens(renewed, Tier(tier)))
    assert again.established["tier"] == tier


@pytest.mark.parametrize(
    ("start", "target"),
    [("early", "free"), ("mid", "early"), ("enterprise", "free")],
)
async def test_upgrade_to_a_lower_tier_answers_422_and_keeps_the_tier(
    gp_api, gp_user, gp_client, start, target
):
    user = await gp_user(start)
    answer = await http(
        gp_api, "POST", "/billing/upgrade", token=user.access_token, json={"tier": target}
    )
    assert answer.status_code == 422, answer.text
    renewed = user.with_tokens(await gp_api.refresh(user.refresh_token))
    sock = await gp_client(renewed)
    assert sock.established["tier"] == start


async def test_upgrade_to_an_unknown_tier_answers_422(gp_api, gp_user):
    user = await gp_user("free")
    answer = await http(
        gp_api, "POST", "/billing/upgrade", token=user.access_token, json={"tier": "platinum"}
    )
    assert answer.status_code == 422


@pytest.mark.parametrize("kind", BAD_TOKEN_KINDS)
async def test_a_bearer_endpoint_answers_401_to_a_bad_token(gp_api, gp_user, gp_jwt, kind):
    user = await gp_user("free")
    answer = await http(gp_api, "GET", "/threads", token=forge(gp_jwt, kind, user))
    assert answer.status_code == 401, answer.text
    # Every kind of failure gets the answer a request without any token gets.
    assert answer.json() == (await http(gp_api, "GET", "/threads")).json()


@pytest.mark.parametrize(
    "authorization",
    ["", "Basic dXNlcjpwYXNz", "Bearer", "Token abc.def.ghi"],
    ids=["none", "basic", "empty-bearer", "other-scheme"],
)
async def test_a_bearer_endpoint_answers_401_without_a_bearer_token(gp_server, authorization):
    headers = {"authorization": authorization} if authorization else {}
    async with httpx.AsyncClient(base_url=gp_server.base_url) as client:
        answer = await client.get("/threads", headers=headers)
    assert answer.status_code == 401
