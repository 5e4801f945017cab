"""Outages brought about for real: this module's server runs on services of its own, and the
tests stop and restart its Redis or its PostgreSQL while clients are connected."""

from dataclasses import dataclass

import pytest

from golden_path.client import ApiError, ConnectionRefused, GoldenPathHTTP, GoldenPathSocket
from golden_path.protocol import CloseCode, ErrorCode, EventType
from golden_path.services.embedded import EmbeddedProvider
from golden_path.testing.identity.users import create_user
from golden_path.testing.server.reference import ServerEndpoint, start_reference_server
from golden_path.testing.v1.contract import assert_events

pytestmark = [
    pytest.mark.reference_only,
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="A Redis or PostgreSQL outage costs no answer and no data: runs "
        "complete, refusals say retry, and the server heals when the service returns",
        revenue_impact="Outages are when customers decide whether to trust the product",
    ),
]

WORKLOAD = "We run claude-3-5-sonnet at 3M tokens/day. How can we save?"


@dataclass
class Isolated:
    provider: EmbeddedProvider
    server: ServerEndpoint


@pytest.fixture
def isolated():
    provider = EmbeddedProvider()
    services = provider.start()
    try:
        server = start_reference_server(services)
        try:
            yield Isolated(provider, server)
        finally:
            assert server.thread is not None
            server.thread.stop()
    finally:
        provider.stop()


async def test_with_redis_down_a_run_completes_persists_and_reaches_its_socket(isolated):
    async with GoldenPathHTTP(isolated.server.base_url) as api:
        user = await create_user(api, "early")
        sock = await GoldenPathSocket.connect(isolated.server.ws_url, user.access_token)
        try:
            isolated.provider.stop_redis()
            run = await sock.ask(WORKLOAD)
            assert run.events[-1]["type"] == EventType.AGENT_COMPLETED
            assert_events(run.events)
            # Bearer checks consult Redis (they fail closed), so read it back after. The new
            # Redis is empty: the family is gone and so revoked (§10): log in again.
            isolated.provider.start_redis()
            tokens = await api.login(user.email, user.password)
            stored = await api.run(tokens.access_token, run.run_id)
            assert [e["event_id"] for e in stored["events"]] == [e["event_id"] for e in run.events]
        finally:
            await sock.close()


async def test_with_redis_down_login_fails_closed_and_new_handshakes_close_1011(isolated):
    async with GoldenPathHTTP(isolated.server.base_url) as api:
        user = await create_user(api, "free")
        isolated.provider.stop_redis()
        with pytest.raises(ApiError) as login:
            await api.login(user.email, user.password)
        assert login.value.status == 503
        with pytest.raises(ApiError) as refresh:
            await api.refresh(user.refresh_token)
        assert refresh.value.status == 503
        with pytest.raises(ConnectionRefused) as handshake:
            await GoldenPathSocket.connect(isolated.server.ws_url, user.access_token)
        assert handshake.value.code == CloseCode.INTERNAL_ERROR


async def test_when_redis_returns_logins_and_handshakes_work_again_without_a_restart(isolated):
    async with GoldenPathHTTP(isolated.server.base_url) as api:
        user = await create_user(api, "mid")
        isolated.provider.stop_redis()
        with pytest.raises(ApiError):
            await api.login(user.email, user.password)
        isolated.provider.start_redis()
        tokens = await api.login(user.email, user.password)
        sock = await GoldenPathSocket.connect(isolated.server.ws_url, tokens.access_token)
        try:
            run = await sock.ask(WORKLOAD)
            assert run.events[-1]["type"] == EventType.AGENT_COMPLETED
        finally:
            await sock.close()


async def test_with_postgres_down_a_message_is_refused_retryable_and_nothing_is_written(
    isolated,
):
    async with GoldenPathHTTP(isolated.server.base_url) as api:
        user = await create_user(api, "early")
        sock = await GoldenPathSocket.connect(isolated.server.ws_url, user.access_token)
        try:
            before = await api.events(user.access_token)
            isolated.provider.stop_postgres()
            handle = await sock.send_message(WORKLOAD)
            error = await sock.error_for(handle.request_id)
            assert error["code"] == ErrorCode.UNAVAILABLE
            assert error["retryable"] is True
            isolated.provider.start_postgres()
            after = await api.events(user.access_token)
            assert after["events"] == before["events"]
            assert (await api.threads(user.access_token))["threads"] == []
        finally:
            await sock.close()


async def test_when_postgres_returns_the_next_message_succeeds_without_a_restart(isolated):
    async with GoldenPathHTTP(isolated.server.base_url) as api:
        user = await create_user(api, "enterprise")
        sock = await GoldenPathSocket.connect(isolated.server.ws_url, user.access_token)
        try:
            await sock.ask(WORKLOAD)
            isolated.provider.stop_postgres()
            isolated.provider.start_postgres()
            run = await sock.ask(WORKLOAD)
            assert run.events[-1]["type"] == EventType.AGENT_COMPLETED
            usage = await api.usage(user.access_token)
            assert usage["totals"]["runs"] == 2
        finally:
            await sock.close()


async def test_with_postgres_down_http_reads_answer_503_and_readiness_says_why(isolated):
    async with GoldenPathHTTP(isolated.server.base_url) as api:
        user = await create_user(api, "free")
        isolated.provider.stop_postgres()
        with pytest.raises(ApiError) as threads:
            await api.threads(user.access_token)
        assert threads.value.status == 503
        ready = await api.request("GET", "/readyz", expect=(503,))
        assert ready.json()["checks"] == {"postgres": False, "redis": True}
