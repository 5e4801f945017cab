"""One worker can read, write, flush, observe or block nothing of another on the shared Redis.

A neighbour worker is made the way the harness makes every worker (its two ACL users,
two databases of its own, a key and channel namespace), with a secret in each of its
databases and a subscriber on its channel. Then this worker's two identities, the one
``gp_redis`` uses and the one in ``gp_services.redis_url`` (which the reference server,
or a team's server, gets), try every way across: each attack is carried out for real.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis.asyncio as aioredis
from redis.exceptions import AuthenticationError, NoPermissionError, ResponseError

from golden_path.services.model import Services
from golden_path.testing.services.redis_acl import WorkerRedis, remove_users, url_for
from golden_path.testing.services.session import shared_services

pytestmark = [
    pytest.mark.integration,
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="parallel test workers share one Redis but none can read, flush, watch "
        "or stall another's keys and channels, so a test's result is its own",
        revenue_impact="a test that reads or wipes another worker's sessions passes or fails "
        "by chance, and a suite nobody trusts lets real regressions ship",
    ),
]

SECRET = b"the neighbour's secret"


@dataclass
class Neighbour:
    redis: WorkerRedis
    namespace: str
    admin_url: str

    @property
    def databases(self) -> tuple[int, int]:
        return _db(self.redis.services_url), _db(self.redis.data_url)

    @property
    def services_user(self) -> str:
        return str(urlsplit(self.redis.services_url).username)

    @property
    def channel(self) -> str:
        return self.namespace + "events"


def _db(url: str) -> int:
    return int(urlsplit(url).path.lstrip("/"))


@pytest.fixture
async def neighbour(
    request: pytest.FixtureRequest, gp_services: Services
) -> AsyncIterator[Neighbour]:
    shared = shared_services(request.config)
    admin_url = shared.redis_admin_url
    worker = f"neighbour{secrets.token_hex(4)}"
    made = await asyncio.to_thread(shared.grant_redis, admin_url, worker)
    assert made.isolated, "the run's Redis gave no ACLs: nothing here would be isolated"
    found = Neighbour(made, shared.redis_namespace(worker), admin_url)
    services = aioredis.Redis.from_url(made.services_url)
    data = aioredis.Redis.from_url(made.data_url)
    try:
        await services.set(found.namespace + "secret", SECRET)
        await data.set("secret", SECRET)
        yield found
    finally:
        # Only what it wrote: on a Redis with few databases its pair may be a reused one.
        await services.delete(found.namespace + "secret")
        await data.delete("secret")
        await services.aclose()
        await data.aclose()
        await remove_users(admin_url, f"gp-{shared.run_id[:12]}-{worker}")


@pytest.fixture
async def services_client(gp_services: Services) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(gp_services.redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture(params=["gp_redis", "gp_services"])
async def attacker(
    request: pytest.FixtureRequest, gp_redis: aioredis.Redis, services_client: aioredis.Redis
) -> aioredis.Redis:
    """Each of this worker's two Redis identities in turn."""
    return gp_redis if request.param == "gp_redis" else services_client


def test_tests_get_a_restricted_user_never_the_runs_admin_url(
    request: pytest.FixtureRequest, gp_services: Services
) -> None:
    admin = urlsplit(shared_services(request.config).redis_admin_url)
    given = urlsplit(gp_services.redis_url)
    assert str(given.username).startswith("gp-")
    assert (given.username, given.password) != (admin.username, admin.password)
    assert given.path not in ("", "/", "/0")


# Every command that reaches past a worker's own databases, observes the server or other
# clients, or can stop them. Each must be refused to both identities.
ACROSS = [
    ("SYNC",),
    ("PSYNC", "?", "-1"),
    ("MONITOR",),
    ("CLIENT", "LIST"),
    ("CLIENT", "KILL", "TYPE", "normal"),
    ("CLIENT", "PAUSE", "5000"),
    ("CLIENT", "TRACKING", "on", "BCAST"),
    ("CLIENT", "UNBLOCK", "1"),
    ("CONFIG", "GET", "*"),
    ("CONFIG", "SET", "maxmemory", "1"),
    ("REPLICAOF", "127.0.0.1", "1"),
    ("SLAVEOF", "127.0.0.1", "1"),
    ("SCRIPT", "FLUSH"),
    ("SCRIPT", "KILL"),
    ("SLOWLOG", "GET"),
    ("DEBUG", "SLEEP", "0"),
    ("INFO",),
    ("FLUSHALL",),
    ("SWAPDB", "0", "1"),
    ("MIGRATE", "127.0.0.1", "1", "k", "0", "100"),
    ("SHUTDOWN", "NOSAVE"),
    ("ACL", "LIST"),
    ("LATENCY", "LATEST"),
    ("PUBSUB", "CHANNELS"),
    ("PUBSUB", "NUMSUB", "x"),
    ("MEMORY", "STATS"),
    ("BGSAVE",),
    ("SAVE",),
    ("ROLE",),
]


@pytest.mark.parametrize("command", ACROSS, ids=lambda c: " ".join(c[:2]))
async def test_no_command_reaches_past_the_workers_own_databases(
    attacker: aioredis.Redis, command: tuple[str, ...]
) -> None:
    with pytest.raises(ResponseError) as refused:
        await attacker.execute_command(*command)
    # Refused by the ACL; Redis 7 refuses DEBUG before asking the ACL (it is off unless
    # enable-debug-command allows it), and the ACL refuses it there too (below).
    assert isinstance(refused.value, NoPermissionError) or (
        command[0] == "DEBUG" and "not allowed" in str(refused.value)
    ), refused.value


async def test_the_acl_itself_refuses_what_redis_7_refuses_earlier(
    gp_services: Services, request: pytest.FixtureRequest
) -> None:
    admin = aioredis.Redis.from_url(shared_services(request.config).redis_admin_url)
    try:
        version = str((await admin.info("server"))["redis_version"])
        if int(version.split(".")[0]) < 7:
            pytest.skip(
                f"ACL DRYRUN is Redis 7's; this Redis is {version} (6.2 checks DEBUG by ACL)"
            )
        user = str(urlsplit(gp_services.redis_url).username)
        for command in (("DEBUG", "SLEEP", "0"), ("CLIENT", "TRACKING", "on")):
            answer = await admin.execute_command("ACL", "DRYRUN", user, *command)
            assert b"no permissions" in bytes(answer), (command, answer)
    finally:
        await admin.aclose()


async def test_no_select_of_a_neighbours_database(
    attacker: aioredis.Redis, neighbour: Neighbour
) -> None:
    for database in neighbour.databases:
        with pytest.raises(NoPermissionError):
            await attacker.execute_command("SELECT", database)
        for key in ("secret", neighbour.namespace + "secret"):
            with pytest.raises(NoPermissionError):
                await attacker.execute_command("MOVE", key, database)
            with pytest.raises(NoPermissionError):
                await attacker.execute_command("COPY", key, "stolen", "DB", database)


async def test_the_default_user_opens_nothing(gp_services: Services, neighbour: Neighbour) -> None:
    # Without a password on the default user, AUTH default <anything> then SELECT <n>
    # reads any worker's keys.
    for url in (gp_services.redis_url, url_for(gp_services.redis_url, 0)):
        client = aioredis.Redis.from_url(url)
        try:
            for attempt in (("AUTH", "default", "x"), ("HELLO", "2", "AUTH", "default", "")):
                with pytest.raises((AuthenticationError, ResponseError)):
                    await client.execute_command(*attempt)
            with pytest.raises((AuthenticationError, ResponseError)):
                await client.execute_command("AUTH", neighbour.services_user, "guess")
            with pytest.raises(NoPermissionError):
                await client.execute_command("SELECT", neighbour.databases[0])
        finally:
            await client.aclose()


async def test_database_zero_where_every_connection_starts_holds_nothing_of_anyone(
    gp_services: Services, gp_redis: aioredis.Redis, neighbour: Neighbour
) -> None:
    # A connection that never SELECTs stays in database 0: nobody's data lives there.
    data_user = gp_redis.connection_pool.connection_kwargs
    data_url = url_for(gp_services.redis_url, 0, data_user["username"], data_user["password"])
    for url in (gp_services.redis_url, data_url):
        client = aioredis.Redis.from_url(url_for(url, 0))
        try:
            assert await client.get(neighbour.namespace + "secret") is None
            assert await client.get("secret") is None
        except NoPermissionError:
            pass  # the services user may not even name a key outside its namespace
        finally:
            await client.aclose()


async def test_the_services_user_names_no_key_outside_its_namespace(
    services_client: aioredis.Redis, gp_services: Services, neighbour: Neighbour
) -> None:
    await services_client.set(gp_services.redis_key("mine"), b"1")
    for key in (neighbour.namespace + "secret", "secret", "gp:anything"):
        with pytest.raises(NoPermissionError):
            await services_client.get(key)
        with pytest.raises(NoPermissionError):
            await services_client.set(key, b"overwritten")
    with pytest.raises(NoPermissionError):
        await services_client.flushdb()
    await services_client.delete(gp_services.redis_key("mine"))


async def _subscribe(pubsub: Any, how: str, channel: str) -> None:
    """Subscribe and read the server's reply (where a refusal arrives)."""
    await getattr(pubsub, how)(channel)
    await pubsub.get_message(timeout=5.0)


async def _next_message(pubsub: Any, timeout_s: float = 5.0) -> bytes:
    async with asyncio.timeout(timeout_s):
        while True:
            message = await pubsub.get_message(timeout=timeout_s)
            if message is not None:
                return bytes(message["data"])


async def test_no_channel_of_a_neighbour_can_be_heard_or_spoken_on(
    attacker: aioredis.Redis, gp_services: Services, neighbour: Neighbour
) -> None:
    listener = aioredis.Redis.from_url(neighbour.redis.services_url)
    heard = listener.pubsub(ignore_subscribe_messages=True)
    await heard.subscribe(neighbour.channel)
    try:
        with pytest.raises(NoPermissionError):
            await attacker.publish(neighbour.channel, b"forged")
        for subscribe, channel in (
            ("subscribe", neighbour.channel),
            ("psubscribe", "*"),
            ("psubscribe", neighbour.namespace + "*"),
            ("subscribe", "__keyspace@0__:x"),
        ):
            sneaky = attacker.pubsub()
            try:
                with pytest.raises(NoPermissionError):
                    await _subscribe(sneaky, subscribe, channel)
            finally:
                await sneaky.aclose()
        # Its own namespace works, and what it says there never reaches the neighbour.
        # (a channel of its own: the worker's servers listen on `<namespace>events`)
        own = gp_services.redis_namespace + f"isolation-{secrets.token_hex(4)}"
        assert await attacker.publish(own, b"mine") == 0
        # The neighbour's own marker comes next: nothing of ours arrived before it.
        assert await listener.publish(neighbour.channel, b"marker") == 1
        assert await _next_message(heard) == b"marker"
    finally:
        await heard.aclose()
        await listener.aclose()


async def test_the_neighbours_secrets_are_intact(
    attacker: aioredis.Redis, neighbour: Neighbour
) -> None:
    # After the attempts, what the neighbour wrote is still there, unread by us.
    for attempt in (
        ("FLUSHALL",),
        ("FLUSHALL", "ASYNC"),
        ("SWAPDB", *map(str, neighbour.databases)),
    ):
        with pytest.raises(NoPermissionError):
            await attacker.execute_command(*attempt)
    admin = aioredis.Redis.from_url(neighbour.admin_url)
    try:
        services_db, data_db = neighbour.databases
        await admin.execute_command("SELECT", services_db)
        assert await admin.get(neighbour.namespace + "secret") == SECRET
        await admin.execute_command("SELECT", data_db)
        assert await admin.get("secret") == SECRET
    finally:
        await admin.aclose()
