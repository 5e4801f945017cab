"""One run's persisted events, in ``seq`` order, for the HTTP response that streams them.

A :class:`RunFeed` is a subscriber of the hub, like a socket: attached to its
user before the message is submitted, so no event of the run can go out
unseen. Until it knows its run (:meth:`RunFeed.follow`) it keeps every event of
the user; from then on only the run's. :meth:`RunFeed.events` yields the events
already persisted (a replayed run's) and then the live ones, each once, until
the run's terminal event (or the event it pauses at, §12.1). A run has a
bounded number of events, so the queue is bounded by the run itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from golden_path.server.agui.mapping import ends_stream


class RunFeed:
    def __init__(self) -> None:
        self._run_id: str | None = None
        self._early: list[dict[str, Any]] = []
        self._live: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def push_live(self, event: dict[str, Any]) -> None:
        """The hub's delivery of a persisted event of this feed's user."""
        if self._run_id is None:
            self._early.append(event)
        elif event.get("run_id") == self._run_id:
            self._live.put_nowait(event)

    def follow(self, run_id: str) -> None:
        """From now on, the events of ``run_id`` only (those already seen included)."""
        self._run_id = run_id
        early, self._early = self._early, []
        for event in early:
            self.push_live(event)

    async def events(
        self,
        stored: Sequence[dict[str, Any]] = (),
        *,
        timeout_s: float | None = None,
        after_seq: int = 0,
    ) -> AsyncIterator[dict[str, Any]]:
        """``stored`` (the run's events read after :meth:`follow`), then the live ones; each
        once, in ``seq`` order, from after ``after_seq`` (where a paused run was answered) up
        to and including the terminal event, or the event the run pauses at.
        ``TimeoutError`` if that has not come ``timeout_s`` after the start."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout_s is None else loop.time() + timeout_s
        last = after_seq
        for event in sorted(stored, key=lambda e: int(e["seq"])):
            if int(event["seq"]) <= last:
                continue
            last = int(event["seq"])
            yield event
            if ends_stream(event):
                return
        while True:
            left = None if deadline is None else max(0.0, deadline - loop.time())
            event = await asyncio.wait_for(self._live.get(), left)
            if int(event["seq"]) <= last:
                continue  # read from the store already
            last = int(event["seq"])
            yield event
            if ends_stream(event):
                return
