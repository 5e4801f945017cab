"""Bodies, pages and an evicted family (security review, issue 13 §5 and §6), for real.

Here only what needs golden-path's reference server itself (a second node, other
settings, its services); what any server must pass ships in the package, in
``golden_path/conformance/v1/test_security_limits.py``.
"""

from __future__ import annotations

import asyncio
import uuid

import jwt
import pytest
import redis
import redis.asyncio as aioredis

from golden_path.client import GoldenPathHTTP, GoldenPathSocket
from golden_path.conformance.support import WAIT_S, http, until
from golden_path.conformance.v1 import bvj
from golden_path.conformance.v1.http_helpers import raw_post
from golden_path.server.redis_keys import RedisKeys
from golden_path.services.embedded import EmbeddedProvider
from golden_path.testing.identity.users import create_user
from golden_path.testing.server.reference import start_reference_server

pytestmark = [
    pytest.mark.stage("auth"),
    pytest.mark.security,
    bvj.SECURITY_LIMITS,
]


CROWD = 300  # sockets, 50 a user (the enterprise limit): three times the Redis pool


@pytest.mark.reference_only
async def test_a_chunked_body_is_cut_off_at_the_cap(gp_server):
    # One chunk just over the cap, of a body that never ends.
    size = gp_server.settings.max_body_bytes + 1024
    chunk = f"{size:x}\r\n".encode() + b"a" * size + b"\r\n"
    answer = await raw_post(gp_server.base_url, b"Transfer-Encoding: chunked\r\n", chunk)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


@pytest.mark.reference_only
async def test_an_evicted_family_does_not_bring_a_logged_out_token_back(
    gp_api, gp_user, gp_server, gp_services
):
    user = await gp_user("free")
    earlier_access = user.access_token
    renewed = await gp_api.refresh(user.refresh_token)  # same family, a second access token
    await gp_api.logout(renewed.access_token)
    assert (await http(gp_api, "GET", "/threads", token=earlier_access)).status_code == 401
    # Redis loses the family's record, as an eviction would.
    family = jwt.decode(earlier_access, options={"verify_signature": False})["fam"]
    client = aioredis.Redis.from_url(gp_services.redis_url)
    try:
        key = RedisKeys(gp_server.settings.redis_prefix).family(family)
        assert await client.delete(key) == 1
    finally:
        await client.aclose()
    assert (await http(gp_api, "GET", "/threads", token=earlier_access)).status_code == 401
    answer = await http(
        gp_api, "POST", "/auth/refresh", json={"refresh_token": renewed.refresh_token}
    )
    assert answer.status_code == 401


def test_the_embedded_redis_never_evicts():
    provider = EmbeddedProvider()
    services = provider.start()
    try:
        client = redis.Redis.from_url(services.redis_url, decode_responses=True)
        try:
            policy = client.config_get("maxmemory-policy")
        finally:
            client.close()
    finally:
        provider.stop()
    assert policy == {"maxmemory-policy": "noeviction"}


@pytest.mark.reference_only
async def test_hundreds_of_sockets_at_once_open_and_leave_no_presence_behind(gp_services):
    """Each handshake checks Redis and each close releases its presence there. 300 at
    once are more than the server's Redis connections: they must wait their turn, not
    fail (a refused handshake is a 1011; a failed release holds a place of the user's
    socket limit until its lease runs out)."""
    prefix = f"{gp_services.redis_namespace or 'gp:'}crowd-{uuid.uuid4().hex[:8]}:"
    endpoint = start_reference_server(gp_services, redis_prefix=prefix)
    counted = redis.Redis.from_url(gp_services.redis_url)  # read by a condition: sync
    try:
        async with GoldenPathHTTP(endpoint.base_url) as api:
            people = [await create_user(api, "enterprise") for _ in range(CROWD // 50)]
        sockets = await asyncio.gather(
            *(
                GoldenPathSocket.connect(endpoint.ws_url, person.access_token)
                for person in people
                for _ in range(50)
            )
        )
        keys = [RedisKeys(prefix).sockets(person.user_id) for person in people]
        assert sum(counted.zcard(key) for key in keys) == CROWD
        await asyncio.gather(*(sock.close() for sock in sockets))
        await until(
            lambda: sum(counted.zcard(key) for key in keys) == 0,
            WAIT_S,
            "every closed socket's presence to be released",
        )
    finally:
        counted.close()
        endpoint.thread.stop()
