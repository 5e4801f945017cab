"""§6 over real sockets: every error code, each answered on a connection that stays open.

Shipped: what any protocol v1 server must pass; what needs golden-path's reference
server itself stays in this repository's ``tests/e2e/test_errors.py``.
"""

from __future__ import annotations

import pytest

from golden_path.conformance.support import (
    QUESTION,
    TIERS,
    assert_open,
    burst_in_one_minute,
    message,
    send_expecting_error,
)
from golden_path.conformance.v1 import bvj
from golden_path.ids import ThreadID
from golden_path.protocol import ErrorCode, EventType
from golden_path.tiers import TIER_LIMITS, Tier

pytestmark = [
    # Protocol v1, much of it over raw HTTP on gp_base_url: --gp-protocol=ag-ui skips it.
    pytest.mark.protocol("v1"),
    pytest.mark.e2e,
    pytest.mark.stage("websocket"),
    bvj.ERRORS,
]


# --- protocol errors ----------------------------------------------------------------------


@pytest.mark.security
@pytest.mark.parametrize(
    "text", ["{", "not json", '{"type": "ping"', "", "{'type': 'ping'}"], ids=repr
)
async def test_a_text_frame_that_is_not_json_is_answered_invalid_json(gp_user, gp_client, text):
    sock = await gp_client(await gp_user("free"))
    error = await send_expecting_error(sock, text)
    assert error["code"] == ErrorCode.INVALID_JSON.value
    await assert_open(sock)


@pytest.mark.security
@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ({"type": "user_message"}, "content"),
        ({"type": "user_message", "content": 42}, "content"),
        ({"type": "user_message", "content": ["a", "b"]}, "content"),
        ({"type": "user_message", "content": ""}, "content"),
        ({"type": "user_message", "content": "hi", "thread_id": "thread-1"}, "thread_id"),
        ({"type": "user_message", "content": "hi", "thread_id": 123}, "thread_id"),
        ({"type": "user_message", "content": "hi", "thread_id": "thr_XYZ"}, "thread_id"),
        ({"type": "user_message", "content": "hi", "request_id": "has spaces"}, "request_id"),
        ({"type": "user_message", "content": "hi", "request_id": "r" * 65}, "request_id"),
        ({"type": "resume"}, "after_seq"),
        ({"type": "resume", "after_seq": -1}, "after_seq"),
        ({"type": "resume", "after_seq": "3"}, "after_seq"),
        ({"type": "resume", "after_seq": True}, "after_seq"),
        ({"type": "cancel"}, "run_id"),
        ({"type": "cancel", "run_id": "run-1"}, "run_id"),
        ({"type": "authenticate"}, "token"),
        ({"type": "authenticate", "token": ""}, "token"),
        ({"content": "hi"}, "type"),
        ({"type": 7}, "type"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
async def test_an_invalid_frame_is_answered_invalid_message_naming_the_field(
    gp_user, gp_client, frame, field
):
    sock = await gp_client(await gp_user("free"))
    error = await send_expecting_error(sock, frame)
    assert error["code"] == ErrorCode.INVALID_MESSAGE.value
    assert field in [d["field"] for d in error["details"]], error
    await assert_open(sock)
    assert sock.events() == []


@pytest.mark.parametrize("text", ["[1, 2]", '"user_message"', "42", "null"])
async def test_json_that_is_not_an_object_is_answered_invalid_message(gp_user, gp_client, text):
    sock = await gp_client(await gp_user("free"))
    error = await send_expecting_error(sock, text)
    assert error["code"] == ErrorCode.INVALID_MESSAGE.value
    await assert_open(sock)


async def test_an_invalid_user_message_echoes_its_valid_request_id(gp_user, gp_client):
    sock = await gp_client(await gp_user("free"))
    error = await send_expecting_error(
        sock, {"type": "user_message", "content": 3, "request_id": "retry-me_7"}
    )
    assert error["code"] == ErrorCode.INVALID_MESSAGE.value
    assert error["request_id"] == "retry-me_7"


@pytest.mark.parametrize("kind", ["subscribe", "USER_MESSAGE", "pong", "error"])
async def test_an_unknown_frame_type_is_answered_unknown_type(gp_user, gp_client, kind):
    sock = await gp_client(await gp_user("free"))
    error = await send_expecting_error(sock, {"type": kind, "content": "hi"})
    assert error["code"] == ErrorCode.UNKNOWN_TYPE.value
    await assert_open(sock)


async def test_a_binary_frame_is_answered_unsupported_frame(gp_user, gp_client):
    sock = await gp_client(await gp_user("free"))
    error = await send_expecting_error(sock, b'{"type": "ping"}')
    assert error["code"] == ErrorCode.UNSUPPORTED_FRAME.value
    await assert_open(sock)


# --- message length -----------------------------------------------------------------------


@pytest.mark.parametrize("tier", TIERS)
async def test_content_one_character_over_the_tier_limit_is_refused_message_too_long(
    gp_user, gp_client, gp_api, tier
):
    user = await gp_user(tier)
    sock = await gp_client(user)
    frame = message("x" * (TIER_LIMITS[Tier(tier)].max_message_chars + 1))
    error = await send_expecting_error(sock, frame)
    assert error["code"] == ErrorCode.MESSAGE_TOO_LONG.value
    assert error["request_id"] == frame["request_id"]
    await assert_open(sock)
    assert sock.events() == []
    assert (await gp_api.threads(user.access_token))["threads"] == []


@pytest.mark.parametrize("tier", TIERS)
async def test_content_of_exactly_the_tier_limit_is_accepted_and_answered(gp_user, gp_client, tier):
    sock = await gp_client(await gp_user(tier))
    limit = TIER_LIMITS[Tier(tier)].max_message_chars
    content = (QUESTION + " " + "x" * limit)[:limit]
    run = await sock.ask(content)
    assert run.terminal["type"] == EventType.AGENT_COMPLETED.value


@pytest.mark.tier("free")
async def test_the_length_limit_counts_characters_not_bytes(gp_user, gp_client):
    sock = await gp_client(await gp_user("free"))
    limit = TIER_LIMITS[Tier.FREE].max_message_chars
    run = await sock.ask("€" * limit)
    assert run.terminal["type"] == EventType.AGENT_COMPLETED.value
    error = await send_expecting_error(sock, message("€" * (limit + 1)))
    assert error["code"] == ErrorCode.MESSAGE_TOO_LONG.value


# --- per-minute rate (support.burst_in_one_minute times each burst) -----------------------


@pytest.mark.parametrize(
    "tier",
    # Enterprise allows 600 messages a minute: its burst is 601 admissions, about 3 s.
    [t if t != Tier.ENTERPRISE.value else pytest.param(t, marks=pytest.mark.slow) for t in TIERS],
)
async def test_one_message_more_than_the_tier_allows_a_minute_is_refused_rate_limited(
    gp_user, gp_client, gp_server, tier
):
    limit = TIER_LIMITS[Tier(tier)].messages_per_minute

    async def new_socket():
        return await gp_client(await gp_user(tier))

    # Messages naming a thread that does not exist are refused after the rate check, so they
    # count towards the rate without starting runs (which the daily quota would cap).
    sock, answers = await burst_in_one_minute(
        new_socket,
        limit + 1,
        0.0 if gp_server.is_reference else 2.0,
        thread_id=str(ThreadID.new()),
    )

    assert [a["code"] for a in answers[:limit]] == [ErrorCode.THREAD_NOT_FOUND.value] * limit
    refused = answers[limit]
    assert refused["code"] == ErrorCode.RATE_LIMITED.value
    assert 0 < refused["retry_after_ms"] <= 60_000
    assert refused["retryable"] is True
    await assert_open(sock)
    assert sock.events() == []


@pytest.mark.tier("free")
async def test_a_free_user_pushing_past_every_limit_gets_rate_limited_on_the_21st_message(
    gp_user, gp_client, gp_server
):
    # On the fast node a free user's burst meets its one-run concurrency (the next message
    # arrives while a run is going) and possibly its quota; whatever each of the first 20
    # messages gets, all of them count, and the 21st is refused for the rate.
    limits = TIER_LIMITS[Tier.FREE]

    async def new_socket():
        return await gp_client(await gp_user("free"))

    sock, answers = await burst_in_one_minute(
        new_socket, limits.messages_per_minute + 1, 0.0 if gp_server.is_reference else 2.0
    )

    allowed = {
        EventType.AGENT_STARTED.value,
        ErrorCode.CONCURRENCY_LIMIT.value,
        ErrorCode.QUOTA_EXCEEDED.value,
    }
    first = [a.get("code", a["type"]) for a in answers[: limits.messages_per_minute]]
    assert set(first) <= allowed, first
    assert first.count(EventType.AGENT_STARTED.value) <= limits.runs_per_day
    refused = answers[limits.messages_per_minute]
    assert refused["code"] == ErrorCode.RATE_LIMITED.value
    assert refused["retry_after_ms"] > 0
    await assert_open(sock)


@pytest.mark.tier("free")
async def test_the_11th_run_of_a_free_users_day_is_refused_with_an_upgrade_to_early(
    gp_user, gp_client, gp_api
):
    user = await gp_user("free")
    sock = await gp_client(user)
    quota = TIER_LIMITS[Tier.FREE].runs_per_day
    for _ in range(quota):
        run = await sock.ask(QUESTION)
        assert run.terminal["type"] == EventType.AGENT_COMPLETED.value

    frame = message()
    error = await send_expecting_error(sock, frame)

    assert error["code"] == ErrorCode.QUOTA_EXCEEDED.value
    assert error["request_id"] == frame["request_id"]
    assert error["upgrade"]["required_tier"] == Tier.EARLY.value
    assert error["upgrade"]["message"]
    await assert_open(sock)
    assert (await gp_api.usage(user.access_token))["totals"]["runs"] == quota


# --- threads ----------------------------------------------------------------------------


@pytest.mark.security
async def test_another_users_thread_is_answered_exactly_like_a_missing_one(
    gp_user, gp_client, gp_api
):
    owner, intruder = await gp_user("early"), await gp_user("early")
    owned = await (await gp_client(owner)).ask(QUESTION)
    theirs = owned.events[0]["thread_id"]
    missing = str(ThreadID.new())
    sock = await gp_client(intruder)

    for_missing = await send_expecting_error(sock, message(thread_id=missing))
    for_theirs = await send_expecting_error(sock, message(thread_id=theirs))

    assert for_missing["code"] == for_theirs["code"] == ErrorCode.THREAD_NOT_FOUND.value
    assert for_missing["message"].replace(missing, "<id>") == for_theirs["message"].replace(
        theirs, "<id>"
    )
    assert set(for_missing) == set(for_theirs)
    await assert_open(sock)
    thread = await gp_api.thread(owner.access_token, theirs)
    assert len(thread["messages"]) == 2


async def test_a_message_to_an_archived_thread_is_refused_thread_archived(
    gp_user, gp_client, gp_api
):
    user = await gp_user("mid")
    sock = await gp_client(user)
    run = await sock.ask(QUESTION)
    thread_id = run.events[0]["thread_id"]
    assert (await gp_api.archive(user.access_token, thread_id))["archived"] is True

    frame = message(thread_id=thread_id)
    error = await send_expecting_error(sock, frame)

    assert error["code"] == ErrorCode.THREAD_ARCHIVED.value
    assert error["request_id"] == frame["request_id"]
    await assert_open(sock)
    thread = await gp_api.thread(user.access_token, thread_id)
    assert len(thread["messages"]) == 2
