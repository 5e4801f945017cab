"""Event fan-out between server nodes through real Redis pub/sub.

Two ``Hub`` instances with different node ids stand for two server nodes on one
Redis and key prefix. Each node delivers to its own subscribers at once and to
the other node's through Redis; a node ignores its own echoes; a user's events
reach only that user's subscribers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from golden_path.ids import EventID, RunID, UserID
from golden_path.server.redis_keys import RedisKeys
from golden_path.server.ws.hub import Hub
from golden_path.services.model import Services
from tests.integration.server.conftest import WAIT_S, Recorder

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="a user with tabs on two server nodes sees every event of their runs live, "
        "and never anyone else's",
        revenue_impact="multi-node deployments are how the product scales; an event that "
        "stays on one node looks like a stuck agent, one that crosses users is a data leak",
    ),
]


class ControlRecorder:
    """A node's control handler: keeps the messages and wakes whoever waits for one."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self._changed = asyncio.Event()

    async def __call__(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        self._changed.set()

    async def wait_for_count(self, count: int) -> list[dict[str, Any]]:
        async def until() -> None:
            while len(self.messages) < count:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(until(), WAIT_S)
        return self.messages


class Node:
    def __init__(self, client: aioredis.Redis, keys: RedisKeys, node_id: str) -> None:
        self.client = client
        self.hub = Hub(client, keys, node_id)
        self.control = ControlRecorder()


@pytest.fixture
async def nodes(gp_services: Services, keys: RedisKeys) -> AsyncIterator[tuple[Node, Node]]:
    """Two started nodes, each with its own Redis client, listening before the test runs."""
    made = [
        Node(aioredis.Redis.from_url(gp_services.redis_url), keys, name)
        for name in ("node-a", "node-b")
    ]
    try:
        for node in made:
            node.hub.start(node.control)
        await asyncio.wait_for(
            asyncio.gather(*(node.hub.listening.wait() for node in made)), WAIT_S
        )
        yield made[0], made[1]
    finally:
        for node in made:
            await node.hub.stop()
            await node.client.aclose()


def _event(user_id: str, seq: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": "agent_thinking",
        "seq": seq,
        "event_id": str(EventID.new()),
        "user_id": user_id,
        "run_id": str(RunID.new()),
        "reasoning": f"thought {seq}",
        "step": seq,
        **extra,
    }


def _listener_tasks() -> int:
    return sum(1 for t in asyncio.all_tasks() if t.get_name() == "hub-listener" and not t.done())


async def test_an_event_reaches_local_subscribers_at_once_and_remote_ones_via_redis(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    user_id = str(UserID.new())
    here, there = Recorder("node-a tab"), Recorder("node-b tab")
    a.hub.attach(user_id, here)
    b.hub.attach(user_id, there)

    event = _event(user_id, 1)
    await a.hub.publish(event)
    assert here.events == [event]  # delivered before publish returned, Redis or not
    assert await there.wait_for(lambda e: e["event_id"] == event["event_id"]) == event


async def test_a_node_does_not_receive_its_own_events_twice(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    user_id = str(UserID.new())
    here, there = Recorder("node-a tab"), Recorder("node-b tab")
    a.hub.attach(user_id, here)
    b.hub.attach(user_id, there)

    mine = _event(user_id, 1)
    await a.hub.publish(mine)
    # Redis delivers a subscriber's messages in publish order: once node A has B's
    # later event, it has already seen (and must have ignored) its own echo.
    theirs = _event(user_id, 2)
    await b.hub.publish(theirs)
    await here.wait_for(lambda e: e["event_id"] == theirs["event_id"])
    await there.wait_for(lambda e: e["event_id"] == mine["event_id"])
    assert [e["event_id"] for e in here.events] == [mine["event_id"], theirs["event_id"]]
    assert [e["event_id"] for e in there.events] == [theirs["event_id"], mine["event_id"]]


async def test_events_never_reach_another_users_subscribers(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    alice, bob = str(UserID.new()), str(UserID.new())
    alice_on_b, bob_on_b, bob_on_a = Recorder("alice@b"), Recorder("bob@b"), Recorder("bob@a")
    b.hub.attach(alice, alice_on_b)
    b.hub.attach(bob, bob_on_b)
    a.hub.attach(bob, bob_on_a)

    for seq in range(1, 4):
        await a.hub.publish(_event(alice, seq))
    marker = _event(bob, 1)
    await a.hub.publish(marker)

    await bob_on_b.wait_for(lambda e: e["event_id"] == marker["event_id"])
    await alice_on_b.wait_for(lambda e: e["seq"] == 3)
    assert {e["user_id"] for e in alice_on_b.events} == {alice}
    assert [e["seq"] for e in alice_on_b.events] == [1, 2, 3]
    assert bob_on_b.events == [marker]
    assert bob_on_a.events == [marker]


async def test_every_subscriber_of_the_user_on_every_node_gets_the_event(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    user_id = str(UserID.new())
    tabs = {name: Recorder(name) for name in ("a1", "a2", "b1", "b2")}
    for name, tab in tabs.items():
        (a if name.startswith("a") else b).hub.attach(user_id, tab)
    assert a.hub.local_count(user_id) == b.hub.local_count(user_id) == 2

    event = _event(user_id, 1)
    await b.hub.publish(event)
    for tab in tabs.values():
        assert await tab.wait_for(lambda e: e["event_id"] == event["event_id"]) == event
        assert len(tab.events) == 1


async def test_events_arrive_on_the_other_node_in_publish_order(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    user_id = str(UserID.new())
    there = Recorder("node-b tab")
    b.hub.attach(user_id, there)
    sent = [_event(user_id, seq) for seq in range(1, 51)]
    for event in sent:
        await a.hub.publish(event)
    await there.wait_for(lambda e: e["seq"] == 50)
    assert [e["seq"] for e in there.events] == list(range(1, 51))
    assert there.events == sent


async def test_a_detached_subscriber_gets_nothing_more(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    user_id = str(UserID.new())
    gone, staying = Recorder("closed tab"), Recorder("open tab")
    b.hub.attach(user_id, gone)
    b.hub.attach(user_id, staying)
    b.hub.detach(user_id, gone)
    assert b.hub.local_count(user_id) == 1
    event = _event(user_id, 1)
    await a.hub.publish(event)
    await staying.wait_for(lambda e: e["event_id"] == event["event_id"])
    assert gone.events == []
    b.hub.detach(user_id, staying)
    assert b.hub.local_count(user_id) == 0


async def test_control_messages_reach_the_other_node_only(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    run_id = str(RunID.new())
    assert await a.hub.send_control({"cancel": run_id})
    received = await b.control.wait_for_count(1)
    assert received == [{"cancel": run_id}]
    # B answers; once A has B's message it has already skipped its own.
    assert await b.hub.send_control({"cancel": "marker"})
    assert await a.control.wait_for_count(1) == [{"cancel": "marker"}]
    assert b.control.messages == [{"cancel": run_id}]


async def test_control_messages_are_not_delivered_as_events(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    user_id = str(UserID.new())
    tab = Recorder("tab")
    b.hub.attach(user_id, tab)
    await a.hub.send_control({"cancel": str(RunID.new()), "user_id": user_id})
    await b.control.wait_for_count(1)
    marker = _event(user_id, 1)
    await a.hub.publish(marker)
    await tab.wait_for(lambda e: e["event_id"] == marker["event_id"])
    assert tab.events == [marker]


async def test_a_hub_on_another_prefix_hears_nothing(
    gp_services: Services, keys: RedisKeys, nodes: tuple[Node, Node]
) -> None:
    a, b = nodes
    user_id = str(UserID.new())
    client = aioredis.Redis.from_url(gp_services.redis_url)
    other_keys = RedisKeys(keys.prefix + "other:")
    stranger = Hub(client, other_keys, "node-x")
    stranger_control = ControlRecorder()
    outsider, insider = Recorder("other deployment"), Recorder("node-b tab")
    stranger.attach(user_id, outsider)
    b.hub.attach(user_id, insider)
    stranger.start(stranger_control)
    try:
        await asyncio.wait_for(stranger.listening.wait(), WAIT_S)
        event = _event(user_id, 1)
        await a.hub.publish(event)
        await a.hub.send_control({"cancel": "x"})
        await insider.wait_for(lambda e: e["event_id"] == event["event_id"])
        await b.control.wait_for_count(1)
        # A marker on the stranger's own prefix: when it arrives, earlier traffic would have too.
        own = _event(user_id, 2)
        helper = Hub(client, other_keys, "node-y")
        await helper.publish(own)
        await outsider.wait_for(lambda e: e["event_id"] == own["event_id"])
        assert outsider.events == [own]
        assert stranger_control.messages == []
    finally:
        await stranger.stop()
        await client.aclose()


async def test_stop_ends_the_listener(
    gp_services: Services, keys: RedisKeys, nodes: tuple[Node, Node]
) -> None:
    a, b = nodes
    user_id = str(UserID.new())
    stopped_tab = Recorder("tab on the stopped node")
    b.hub.attach(user_id, stopped_tab)
    before = _listener_tasks()
    await b.hub.stop()
    assert _listener_tasks() == before - 1
    await b.hub.stop()  # stopping twice is harmless

    # A third node joins; once it has A's event, the stopped node would have had it too.
    client = aioredis.Redis.from_url(gp_services.redis_url)
    c = Hub(client, keys, "node-c")
    witness = Recorder("witness on node-c")
    c.attach(user_id, witness)
    c.start(ControlRecorder())
    try:
        await asyncio.wait_for(c.listening.wait(), WAIT_S)
        event = _event(user_id, 1)
        await a.hub.publish(event)
        await witness.wait_for(lambda e: e["event_id"] == event["event_id"])
        assert stopped_tab.events == []
        # Its local delivery still works: a node that stops listening can still serve its own.
        await b.hub.publish(_event(user_id, 2))
        assert [e["seq"] for e in stopped_tab.events] == [2]
    finally:
        await c.stop()
        await client.aclose()


async def test_stop_wakes_the_listener_instead_of_waiting_out_its_read(
    gp_services: Services, keys: RedisKeys, caplog: pytest.LogCaptureFixture
) -> None:
    """A server's shutdown (and every test's teardown) does not wait for the read's timeout.

    The listener here reads with an hour's timeout: only the wake-up ``stop`` sends through
    Redis ends that read, and the listener then ends by itself, without being cancelled.
    """
    client = aioredis.Redis.from_url(gp_services.redis_url)
    hub = Hub(client, keys, "node-sleepy", poll_s=3600)
    hub.start(ControlRecorder())
    try:
        await asyncio.wait_for(hub.listening.wait(), WAIT_S)
        before = _listener_tasks()
        with caplog.at_level("WARNING", logger="golden_path.server.ws.hub"):
            await asyncio.wait_for(hub.stop(), WAIT_S)
        assert _listener_tasks() == before - 1
        assert not [r for r in caplog.records if "did not stop" in r.getMessage()]
    finally:
        await client.aclose()


async def test_without_redis_a_node_still_delivers_locally(
    dead_redis: aioredis.Redis, keys: RedisKeys
) -> None:
    hub = Hub(dead_redis, keys, "node-alone")
    user_id = str(UserID.new())
    tab = Recorder("tab")
    hub.attach(user_id, tab)
    event = _event(user_id, 1)
    await hub.publish(event)  # logs and carries on
    assert tab.events == [event]
    assert await hub.send_control({"cancel": str(RunID.new())}) is False
