"""The correctness check after every phase: what each socket received against what was stored.

``lost``: an event the server persisted for the user (read back with ``GET /events``)
that one of the user's sockets never received; ``duplicated``: a ``seq`` received twice
on one socket; ``misdelivered``: an event of another user.
"""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.load.settings import MAX_EVENT_PAGES, SETTLE_TIMEOUT_S
from bench.load.sockets import Tracked
from golden_path.client import GoldenPathHTTP, WaitTimeout
from golden_path.testing.identity.users import GoldenPathUser


@dataclass
class Delivery:
    """The counts of one phase (or, summed, of all): each of the last three must be 0."""

    sockets: int = 0
    expected: int = 0
    lost: int = 0
    duplicated: int = 0
    misdelivered: int = 0

    def add(self, other: Delivery) -> None:
        self.sockets += other.sockets
        self.expected += other.expected
        self.lost += other.lost
        self.duplicated += other.duplicated
        self.misdelivered += other.misdelivered


async def persisted_events(
    api: GoldenPathHTTP, user: GoldenPathUser, after_seq: int
) -> list[dict[str, Any]]:
    """The user's events with ``seq > after_seq`` as the server stored them (every page)."""
    found: list[dict[str, Any]] = []
    for _ in range(MAX_EVENT_PAGES):
        page = await api.events(user.access_token, after_seq=after_seq)
        found.extend(page["events"])
        if not page["more"]:
            break
        after_seq = int(page["last_seq"])
    return found


def _seq_is(seq: int) -> Callable[[dict[str, Any]], bool]:
    return lambda frame: frame.get("seq") == seq


async def check_delivery(api: GoldenPathHTTP, tracked: Sequence[Tracked]) -> Delivery:
    """Compare what each socket received with what the server persisted for its user."""
    by_user: dict[str, list[Tracked]] = defaultdict(list)
    for t in tracked:
        by_user[str(t.user.user_id)].append(t)
    result = Delivery(sockets=len(tracked))
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    for user_id, sockets in by_user.items():
        stored = await persisted_events(api, sockets[0].user, min(s.after_seq for s in sockets))
        stored_seqs = [int(e["seq"]) for e in stored]
        for t in sockets:
            expected = {s for s in stored_seqs if s > t.after_seq}
            if expected:
                top = max(expected)
                with contextlib.suppress(WaitTimeout):  # what never came is counted as lost
                    await t.sock.wait_for(
                        _seq_is(top),
                        max(0.01, deadline - time.monotonic()),
                        what=f"event {top}",
                    )
            frames = t.sock.events()
            seqs = [int(f["seq"]) for f in frames]
            result.expected += len(expected)
            result.lost += len(expected - set(seqs))
            result.duplicated += len(seqs) - len(set(seqs))
            result.misdelivered += sum(1 for f in frames if f.get("user_id") != user_id)
    return result
