"""Fan-out of persisted events to every open connection of their user, on every node.

Each node delivers an event to its own connections first (so the connection
that started a run gets its events even with Redis down), then publishes it on
the deployment's events channel; every other node delivers it to its connections
of that user. Connections order and de-duplicate by ``seq`` (see ``window``), so a
late, early or repeated copy is harmless.

Nodes listen on one channel (simple and robust for a reference server; a large
deployment would subscribe per user); no pattern subscription, so an ACL that allows
only the prefix's channels (``&<prefix>*``) allows the hub. The listener reconnects
on its own when Redis comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from golden_path.server.redis_keys import RedisKeys

log = logging.getLogger(__name__)
RECONNECT_DELAYS_S = (0.05, 0.1, 0.25, 0.5, 1.0)
# Stopping does not rely on cancelling the listener's read: redis-py can swallow a
# CancelledError that lands at the wrong moment (redis/redis-py#2028, #2551), and a
# server's close then waited for ever. ``stop`` sets a flag and wakes the read with a
# message of the node's own; the read's timeout is the fallback when Redis cannot carry it.
LISTEN_POLL_S = 0.5
WAKE_TIMEOUT_S = 1.0
STOP_TIMEOUT_S = 5.0


class Subscriber(Protocol):
    def push_live(self, event: dict[str, Any]) -> None: ...


ControlHandler = Callable[[dict[str, Any]], Awaitable[None]]


class Hub:
    def __init__(
        self,
        client: aioredis.Redis,
        keys: RedisKeys,
        node_id: str,
        *,
        poll_s: float = LISTEN_POLL_S,
    ) -> None:
        self._redis = client
        self._poll_s = poll_s
        self._keys = keys
        self._node_id = node_id
        self._local: defaultdict[str, set[Subscriber]] = defaultdict(set)
        self._control: ControlHandler | None = None
        self._listener: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.listening = asyncio.Event()
        # Every message starts with its node's id, so a node skips its own without decoding.
        self._own_prefix = f"{node_id}|"
        self._publish_failing = False

    def attach(self, user_id: str, subscriber: Subscriber) -> None:
        self._local[user_id].add(subscriber)

    def detach(self, user_id: str, subscriber: Subscriber) -> None:
        subscribers = self._local.get(user_id)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self._local[user_id]

    def local_count(self, user_id: str) -> int:
        return len(self._local.get(user_id, ()))

    def deliver_local(self, event: dict[str, Any]) -> None:
        for subscriber in list(self._local.get(str(event["user_id"]), ())):
            subscriber.push_live(event)

    async def publish(self, event: dict[str, Any]) -> None:
        """Deliver a persisted event here, then to the other nodes (best effort)."""
        self.deliver_local(event)
        body = self._own_prefix + json.dumps(event)
        try:
            await self._redis.publish(self._keys.events_channel(), body)
        except RedisError as exc:
            if not self._publish_failing:
                log.warning(
                    "hub: Redis unavailable, events reach this node's sockets only: %s", exc
                )
            self._publish_failing = True
        else:
            if self._publish_failing:
                log.warning("hub: Redis is back, events reach every node again")
            self._publish_failing = False

    async def send_control(self, message: dict[str, Any]) -> bool:
        try:
            await self._redis.publish(
                self._keys.control_channel(), self._own_prefix + json.dumps(message)
            )
        except RedisError as exc:
            log.warning("hub: could not send a control message: %s", exc)
            return False
        return True

    def start(self, on_control: ControlHandler) -> None:
        self._control = on_control
        self._stopping.clear()
        self._listener = asyncio.create_task(self._listen(), name="hub-listener")

    async def stop(self) -> None:
        """Stop listening: at once normally, within ``poll_s`` without Redis, else
        cancelled; never hangs."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        self._stopping.set()
        await self._wake_listener()
        done, _ = await asyncio.wait({listener}, timeout=self._poll_s + STOP_TIMEOUT_S)
        if not done:
            log.warning("hub: the Redis listener did not stop; cancelling it")
            listener.cancel()
            await asyncio.wait({listener}, timeout=STOP_TIMEOUT_S)
        if listener.done() and not listener.cancelled() and listener.exception() is not None:
            log.warning("hub: the Redis listener ended with %r", listener.exception())

    async def _wake_listener(self) -> None:
        """End the listener's wait with a message it skips (its own prefix, no payload)."""
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            await asyncio.wait_for(
                self._redis.publish(self._keys.control_channel(), self._own_prefix),
                WAKE_TIMEOUT_S,
            )

    async def _listen(self) -> None:
        attempt = 0
        while not self._stopping.is_set():
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._keys.events_channel(), self._keys.control_channel())
                self.listening.set()
                attempt = 0
                while not self._stopping.is_set():
                    message = await pubsub.get_message(timeout=self._poll_s)
                    if message is not None:
                        await self._on_message(message)
            except (RedisError, OSError) as exc:
                self.listening.clear()
                delay = RECONNECT_DELAYS_S[min(attempt, len(RECONNECT_DELAYS_S) - 1)]
                attempt += 1
                log.warning("hub: Redis listener lost (%s); retrying in %.2fs", exc, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
            finally:
                # Through a typed name: redis-py before 8.2 leaves aclose untyped, 8.2 types
                # it, and a call site must type-check against both (the lock pins one,
                # `make test-latest` runs the newest).
                close: Callable[[], Awaitable[None]] = pubsub.aclose
                with contextlib.suppress(Exception):
                    await close()
        self.listening.clear()

    async def _on_message(self, message: dict[str, Any]) -> None:
        """Deliver another node's event (or act on its control message); skip our own."""
        if message.get("type") not in ("message", "pmessage"):
            return
        data = message.get("data")
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
        node, _, payload = text.partition("|")
        if node == self._node_id or not payload:
            return
        try:
            body = json.loads(payload)
        except (ValueError, RecursionError):
            return
        if not isinstance(body, dict):
            return
        channel = message.get("channel")
        if isinstance(channel, bytes):
            channel = channel.decode()
        if channel == self._keys.control_channel():
            if self._control is not None:
                await self._control(body)
        elif isinstance(body.get("user_id"), str) and "seq" in body:
            self.deliver_local(body)
