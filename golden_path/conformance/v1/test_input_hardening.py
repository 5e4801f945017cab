"""Input PostgreSQL cannot store, ids that are not ids and forged cursors get clear answers,
never "the database is unavailable" (which tells a client to retry forever)."""

import base64
import json

import pytest

from golden_path.client import ApiError
from golden_path.protocol import ErrorCode
from golden_path.testing.identity.users import TEST_PASSWORD

pytestmark = [
    # Protocol v1, much of it over raw HTTP on gp_base_url: --gp-protocol=ag-ui skips it.
    pytest.mark.protocol("v1"),
    pytest.mark.e2e,
    pytest.mark.security,
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="Bad input gets an answer that says what is wrong, and loses nothing",
        revenue_impact="A client told to retry a request that can never succeed hammers "
        "the service and never shows its user the real problem",
    ),
]


def cursor(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def test_a_message_with_a_nul_character_is_invalid_not_unavailable(gp_user, gp_client):
    user = await gp_user("free")
    sock = await gp_client(user)
    handle = await sock.send_message("cost of gpt-4o\x00 please")
    error = await sock.error_for(handle.request_id)
    assert error["code"] == ErrorCode.INVALID_MESSAGE
    assert [d["field"] for d in error["details"]] == ["content"]
    assert (await sock.ask("gpt-4o at 1M tokens/day")).terminal["type"] == "agent_completed"


@pytest.mark.parametrize("path", ["/threads/thr_%00", "/runs/run_%00", "/threads/x%00y"])
async def test_an_id_with_a_nul_character_is_simply_not_found(gp_user, gp_api, path):
    user = await gp_user("free")
    with pytest.raises(ApiError) as answer:
        await gp_api.call("GET", path, token=user.access_token)
    assert answer.value.status == 404


async def test_a_search_for_a_nul_character_is_refused_422(gp_user, gp_api):
    user = await gp_user("free")
    with pytest.raises(ApiError) as answer:
        await gp_api.search(user.access_token, "spend\x00")
    assert answer.value.status == 422


async def test_a_search_in_a_thread_id_that_is_no_id_matches_nothing(gp_user, gp_api):
    user = await gp_user("free")
    answer = await gp_api.search(user.access_token, "spend", thread_id="thr_\x00")
    assert answer == {"results": [], "next_cursor": None}


async def test_signup_with_a_control_character_in_the_email_is_422(gp_api):
    with pytest.raises(ApiError) as answer:
        await gp_api.signup("a\x00b@example.com", TEST_PASSWORD)
    assert answer.value.status == 422


async def test_login_with_a_nul_in_the_email_is_the_one_login_failure(gp_api):
    with pytest.raises(ApiError) as answer:
        await gp_api.login("a\x00b@example.com", TEST_PASSWORD)
    assert answer.value.status == 401
    assert answer.value.detail == "invalid email or password"


@pytest.mark.parametrize(
    "forged",
    [
        {"t": "2026-01-01T00:00:00+00:00", "id": 5},
        {"t": "2026-01-01T00:00:00", "id": "thr_" + "0" * 32},
        {"t": "2026-01-01T00:00:00+00:00", "id": None},
        {"t": "2026-01-01T00:00:00+00:00", "id": "a\x00b"},
        {"t": 17, "id": "thr_" + "0" * 32},
    ],
)
async def test_a_forged_threads_cursor_is_422(gp_user, gp_api, forged):
    user = await gp_user("free")
    with pytest.raises(ApiError) as answer:
        await gp_api.threads(user.access_token, cursor=cursor(forged))
    assert answer.value.status == 422


@pytest.mark.parametrize("offset", [True, -1, 10_001, 2**63, 10**20, "3"])
async def test_a_forged_search_cursor_is_422(gp_user, gp_api, offset):
    user = await gp_user("free")
    with pytest.raises(ApiError) as answer:
        await gp_api.search(user.access_token, "spend", cursor=cursor({"o": offset}))
    assert answer.value.status == 422


async def test_words_joined_by_a_slash_are_found_one_by_one(gp_user, gp_client, gp_api):
    user = await gp_user("free")
    sock = await gp_client(user)
    await sock.ask("We send 2M tokens/day to gpt-4o")
    for word in ("tokens", "day", "tokens/day"):
        hits = (await gp_api.search(user.access_token, word, role="user"))["results"]
        assert [h["content"] for h in hits] == ["We send 2M tokens/day to gpt-4o"], word
