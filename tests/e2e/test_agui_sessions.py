"""An AG-UI stream ends with its session, is capped per tier, and shows a user only their own.

``POST /agui`` streams are held to what sockets are held to (protocol §3.4, §12): a
logout or logout-all, on any node, and the token's expiry end an open stream at once
with ``RUN_ERROR`` ``4401`` and the v1 reason, then the response closes; a user holds
at most the tier's ``open_agui_streams``; and another user's ``threadId`` or ``runId``
reaches nothing of theirs. The session tests stream from a second node whose agent is
slow, so each run is still going when its session ends.

Here only what needs golden-path's reference server itself (a second node, other
settings, its services); what any server must pass ships in the package, in
``golden_path/conformance/v1/test_agui_sessions.py``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import pytest
from ag_ui.core import EventType as AGUIType

from golden_path.client import GoldenPathHTTP
from golden_path.conformance.support import QUESTION, WAIT_S, http
from golden_path.conformance.v1.agui_helpers import agui_clients
from golden_path.protocol import ErrorCode
from golden_path.server.agui.mapping import AGUI_PATH, METADATA_KEY
from golden_path.services.model import Services
from golden_path.testing.agui.client import AGUIClient, AGUIStream
from golden_path.testing.identity.users import GoldenPathUser
from golden_path.testing.server.endpoint import ServerEndpoint
from golden_path.testing.server.reference import start_reference_server
from golden_path.tiers import TIER_LIMITS, Tier

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.stage("auth"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="a user who logs out, or whose token expires, stops receiving their "
        "conversation on every open AG-UI stream, as on every socket; no one reads another "
        "user's runs by naming their ids; no user holds streams without bound",
        revenue_impact="a stream that outlives logout leaks a conversation on a shared or "
        "stolen device, and unbounded streams let one account exhaust a node for everyone",
    ),
]

TOKEN_TTL_S = 5


@pytest.fixture(scope="module")
def slow_node(gp_services: Services) -> Iterator[ServerEndpoint]:
    """A node whose runs last long (2 s a step) and whose own logins expire in 5 s."""
    endpoint = start_reference_server(
        gp_services, agent_step_delay_ms=2000, access_ttl_s=TOKEN_TTL_S, clock_skew_s=0
    )
    try:
        yield endpoint
    finally:
        # Its 2 s steps would hold the stop for the whole grace period: no run here needs
        # to finish after its test.
        assert endpoint.thread is not None
        endpoint.thread.stop(grace_s=0.0)


@pytest.fixture
async def ui(slow_node: ServerEndpoint) -> AsyncIterator[Any]:
    """``client = ui(token)``: an AG-UI client of the slow node."""
    async with agui_clients() as clients:

        def make(token: str) -> AGUIClient:
            client = AGUIClient(slow_node.base_url + AGUI_PATH, token=token, timeout=WAIT_S)
            clients.append(client)
            return client

        yield make


async def until_started(stream: AGUIStream) -> Mapping[str, Any]:
    async for event in stream:
        if event["type"] == AGUIType.RUN_STARTED:
            return dict(event.get("metadata", {}).get(METADATA_KEY, {}))
    raise AssertionError(f"the stream ended before RUN_STARTED: {stream.run.types}")


async def rest_of(stream: AGUIStream) -> list[Mapping[str, Any]]:
    """Every event until the server closes the response (bounded by WAIT_S)."""
    return [event async for event in stream]


def assert_ended_with(events: list[Mapping[str, Any]], reason: str) -> None:
    assert events, "the stream closed without a word"
    last = events[-1]
    assert last["type"] == AGUIType.RUN_ERROR, [e["type"] for e in events]
    assert (last["code"], last["message"]) == ("4401", reason)
    assert last["metadata"][METADATA_KEY] == {"close_code": 4401, "reason": reason}
    assert AGUIType.RUN_FINISHED not in [e["type"] for e in events]


@pytest.mark.reference_only  # a second, slow node of the reference server
async def test_a_logout_on_another_node_ends_that_logins_stream_at_once(
    gp_api: GoldenPathHTTP, gp_user: Any, ui: Any
) -> None:
    user: GoldenPathUser = await gp_user(Tier.MID)
    other = await gp_api.login(user.email, user.password)
    async with (
        ui(user.access_token).stream(QUESTION) as ended,
        ui(other.access_token).stream(QUESTION) as kept,
    ):
        await until_started(ended)
        await until_started(kept)
        await gp_api.logout(user.access_token)  # on gp_server; the stream is on slow_node
        # The run goes on (2 s a step), but its stream ends now, closed by the server.
        assert_ended_with(await rest_of(ended), "session ended")
        # The other login's stream goes on.
        following = await anext(kept)
        assert following["type"] != AGUIType.RUN_ERROR


@pytest.mark.reference_only  # a second, slow node of the reference server
async def test_logout_all_ends_every_stream_of_the_user(
    gp_api: GoldenPathHTTP, gp_user: Any, ui: Any
) -> None:
    user: GoldenPathUser = await gp_user(Tier.MID)
    phone = await gp_api.login(user.email, user.password)
    async with (
        ui(user.access_token).stream(QUESTION) as first,
        ui(phone.access_token).stream(QUESTION) as second,
    ):
        await until_started(first)
        await until_started(second)
        answer = await http(gp_api, "POST", "/auth/logout-all", token=phone.access_token)
        assert answer.status_code == 204
        assert_ended_with(await rest_of(first), "session ended")
        assert_ended_with(await rest_of(second), "session ended")


@pytest.mark.reference_only  # a second, slow node of the reference server
async def test_a_stream_ends_when_its_token_expires(
    gp_user: Any, slow_node: ServerEndpoint, ui: Any
) -> None:
    user: GoldenPathUser = await gp_user(Tier.MID)
    async with GoldenPathHTTP(slow_node.base_url) as api:
        short = await api.login(user.email, user.password)  # expires in TOKEN_TTL_S
    async with ui(short.access_token).stream(QUESTION) as stream:
        await until_started(stream)
        assert_ended_with(await rest_of(stream), "token expired")


@pytest.mark.reference_only  # a second, slow node of the reference server
async def test_a_user_holds_at_most_the_tiers_open_agui_streams(gp_user: Any, ui: Any) -> None:
    user: GoldenPathUser = await gp_user(Tier.FREE)
    limit = TIER_LIMITS[Tier.FREE].open_agui_streams
    client = ui(user.access_token)
    body = client.make_input(QUESTION)  # the same runId: a replay, which runs nothing new
    async with contextlib.AsyncExitStack() as opened:
        for _ in range(limit):
            await until_started(await opened.enter_async_context(client.stream(input=body)))
        refused = await client.run(input=body)
    (only,) = refused.events
    assert only["type"] == AGUIType.RUN_ERROR
    assert only["code"] == ErrorCode.CONCURRENCY_LIMIT.value
    assert f"allows {limit} open AG-UI streams" in only["message"]
