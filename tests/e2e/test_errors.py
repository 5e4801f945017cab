"""§6 over real sockets: every error code, each answered on a connection that stays open.

Here only what needs golden-path's reference server itself (a second node, other
settings, its services); what any server must pass ships in the package, in
``golden_path/conformance/v1/test_errors.py``.
"""

from __future__ import annotations

import pytest

from golden_path.client import GoldenPathHTTP
from golden_path.conformance.support import (
    TIERS,
    answer_to,
    assert_open,
    burst,
    burst_in_one_minute,
    message,
    send_expecting_error,
)
from golden_path.conformance.v1 import bvj
from golden_path.protocol import ErrorCode, EventType
from golden_path.testing.identity.users import create_user
from golden_path.tiers import TIER_LIMITS, Tier

pytestmark = [
    pytest.mark.stage("websocket"),
    bvj.ERRORS,
]


# --- per-minute rate (support.burst_in_one_minute times each burst) -----------------------


@pytest.mark.reference_only
@pytest.mark.tier("free")
async def test_messages_refused_for_concurrency_count_towards_the_rate(
    gp_user, connect_to, slow_server
):
    # A free user runs one run at a time. On the slow node the first message's run lasts
    # well beyond the burst, so each following message is refused concurrency_limit, and
    # each of those still counts as a message of this minute: the 21st is rate_limited.
    limits = TIER_LIMITS[Tier.FREE]

    async def new_socket():
        return await connect_to(slow_server, await gp_user("free"))

    sock, answers = await burst_in_one_minute(new_socket, limits.messages_per_minute + 1, 0.0)

    assert limits.concurrent_runs == 1
    assert answers[0]["type"] == EventType.AGENT_STARTED.value
    concurrency = [a.get("code") for a in answers[1 : limits.messages_per_minute]]
    assert concurrency == [ErrorCode.CONCURRENCY_LIMIT.value] * (limits.messages_per_minute - 1)
    refused = answers[limits.messages_per_minute]
    assert refused["code"] == ErrorCode.RATE_LIMITED.value
    assert refused["retry_after_ms"] > 0
    await assert_open(sock)


# --- concurrency and quota ----------------------------------------------------------------


@pytest.mark.reference_only
@pytest.mark.parametrize("tier", TIERS)
async def test_one_run_more_than_the_tier_runs_at_once_is_refused_concurrency_limit(
    gp_user, connect_to, slow_server, tier
):
    limit = TIER_LIMITS[Tier(tier)].concurrent_runs
    sock = await connect_to(slow_server, await gp_user(tier))
    answers = await burst(sock, limit)
    assert [a["type"] for a in answers] == [EventType.AGENT_STARTED.value] * limit
    assert len({a["run_id"] for a in answers}) == limit

    frame = message()
    error = await send_expecting_error(sock, frame)

    assert error["code"] == ErrorCode.CONCURRENCY_LIMIT.value
    assert error["request_id"] == frame["request_id"]
    await assert_open(sock)


# --- unavailable ----------------------------------------------------------------------------


@pytest.mark.reference_only
async def test_a_message_while_postgres_is_down_is_refused_unavailable_and_nothing_is_saved(
    isolated_stack, connect_to
):
    stack = isolated_stack
    async with GoldenPathHTTP(stack.endpoint.base_url) as api:
        user = await create_user(api, "early")
        sock = await connect_to(stack.endpoint, user)
        stack.provider.stop_postgres()

        frame = message()
        error = await send_expecting_error(sock, frame)

        assert error["code"] == ErrorCode.UNAVAILABLE.value
        assert error["retryable"] is True
        assert error["request_id"] == frame["request_id"]
        await assert_open(sock)
        assert sock.events() == []

        stack.provider.start_postgres()
        assert (await api.threads(user.access_token))["threads"] == []
        assert (await api.events(user.access_token))["events"] == []
        assert (await api.usage(user.access_token))["totals"]["runs"] == 0
        # Resent with the same request_id once PostgreSQL is back, the message runs once.
        since = len(sock.received())
        await sock.send(frame)
        answer = await answer_to(sock, frame["request_id"], since)
        assert answer["type"] == EventType.AGENT_STARTED.value
        assert answer["seq"] == 1
