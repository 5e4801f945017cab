"""This node's open ``POST /agui`` streams, ended with their session as sockets are (§12).

A stream is registered with its bearer's user, login family and token expiry.
A logout or logout-all ends the user's streams of that family (or all of them)
on every node at once (the control message that closes sockets 4401 reaches
:meth:`OpenStreams.end_sessions` too); a stream's own watchdog ends it when its
token expires, and, should a control message be lost, when a periodic check
finds its session revoked. An ended stream sends ``RUN_ERROR`` with code
``"4401"`` and the v1 close reason (``session ended``, ``token expired``), then
closes; the run itself goes on, as after a dropped socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

from golden_path.ids import UserID
from golden_path.protocol import CloseCode
from golden_path.server.auth.sessions import SessionStoreUnavailable

log = logging.getLogger(__name__)
SESSION_ENDED = "session ended"
TOKEN_EXPIRED = "token expired"  # noqa: S105 - a close reason, not a password
# How often an open stream asks the session store whether its session still stands (a
# logout whose control message was lost ends the stream within this period).
RECHECK_S = 30.0
END_CODE = str(int(CloseCode.UNAUTHORIZED))


@dataclass(eq=False)
class OpenStream:
    """One open response: whose, which login, until when; ``ended`` once it must stop."""

    user_id: str
    family: str
    expires_at: float
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    reason: str = ""

    def end(self, reason: str) -> None:
        if not self.ended.is_set():
            self.reason = reason
            self.ended.set()


class OpenStreams:
    """Every open AG-UI stream of this node."""

    def __init__(self) -> None:
        self._open: set[OpenStream] = set()

    def add(self, stream: OpenStream) -> None:
        self._open.add(stream)

    def discard(self, stream: OpenStream) -> None:
        self._open.discard(stream)

    def __iter__(self) -> Iterator[OpenStream]:
        return iter(list(self._open))

    def __len__(self) -> int:
        return len(self._open)

    def end_sessions(self, user_id: UserID | str, family: str | None) -> int:
        """End the user's streams of ``family`` (None: all of them); how many."""
        ended = 0
        for stream in list(self._open):
            if stream.user_id == str(user_id) and (family is None or stream.family == family):
                stream.end(SESSION_ENDED)
                ended += 1
        return ended


async def watch(
    stream: OpenStream,
    is_revoked: Callable[[], Awaitable[bool]],
    *,
    clock_skew_s: float,
    recheck_s: float = RECHECK_S,
) -> None:
    """End ``stream`` when its token expires (plus the clock-skew allowance, as sockets
    do) or a periodic check finds its session revoked; return once it has ended."""
    while not stream.ended.is_set():
        remaining = stream.expires_at + clock_skew_s - time.time()
        if remaining <= 0:
            stream.end(TOKEN_EXPIRED)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stream.ended.wait(), timeout=min(remaining, recheck_s))
        if stream.ended.is_set() or stream.expires_at + clock_skew_s <= time.time():
            continue
        try:
            revoked = await is_revoked()
        except SessionStoreUnavailable as exc:  # keep streaming, as a socket stays open
            log.warning("AG-UI stream: could not check its session: %s", exc)
            continue
        if revoked:
            stream.end(SESSION_ENDED)
