"""How a reply is delivered, faults included: SSE framing, pacing, a cut, a broken event.

``hang`` delays the first byte (the status line too); ``pace.ttft`` the first event
and ``pace.tps`` each one after it; ``malformed_at=N`` sends a broken event after N
good ones; ``cut_after=N`` closes the connection after N events (the response is
never finished, so the client sees the stream end mid-way). All waits are
``asyncio.sleep``: a client that goes away cancels them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any

from golden_path.testing.model.reply import Reply

Event = tuple[str | None, Any]
MALFORMED = b'data: {"this event is cut": \n\n'
BATCH_BYTES = 16 * 1024
# An unpaced stream's first write holds at most this many events: the first byte is not
# held back by a long answer, and a short one goes out whole in one write.
FIRST_EVENTS = 8


class LastBatch(bytes):
    """A stream's last bytes: its response can end in the same write."""


class StreamCut(Exception):
    """Raised inside a response body to close the connection mid-way (a scripted cut)."""


class _QuietCuts(logging.Filter):
    """uvicorn logs an app exception after the response started; a scripted cut is not one."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None:
            if isinstance(exc, StreamCut):
                return False
            exc = exc.__cause__ or exc.__context__ or _first(exc)
        return True


def _first(exc: BaseException) -> BaseException | None:
    group = getattr(exc, "exceptions", None)
    return group[0] if group else None


def quiet_scripted_cuts() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietCuts) for f in logger.filters):
        logger.addFilter(_QuietCuts())


def encode(name: str | None, data: Any) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {payload}\n\n".encode()


async def stream(events: Iterable[Event], reply: Reply) -> AsyncIterator[bytes]:
    """The events as SSE, made as they are sent. Unpaced, they go out in writes of up to
    ``BATCH_BYTES`` (one syscall for many events; a slow reader still holds the server to
    one batch), the first after at most ``FIRST_EVENTS`` events; the stream's last bytes
    come as a :class:`LastBatch`."""
    pace = reply.pace
    gap = 1 / pace.tps if pace is not None and pace.tps else None
    if pace is not None and pace.ttft:
        await asyncio.sleep(pace.ttft)
    batch = bytearray()
    for index, (name, data) in enumerate(events):
        if reply.cut_after is not None and index >= reply.cut_after:
            if batch:
                yield bytes(batch)
            raise StreamCut(f"scripted cut after {reply.cut_after} events")
        if reply.malformed_at is not None and index == reply.malformed_at:
            batch += (f"event: {name}\n".encode() if name else b"") + MALFORMED
        if index and gap is not None:
            await asyncio.sleep(gap)
        batch += encode(name, data)
        if gap is not None or len(batch) >= BATCH_BYTES or index == FIRST_EVENTS - 1:
            yield bytes(batch)
            batch.clear()
    yield LastBatch(batch)


async def plain_body(body: bytes, reply: Reply) -> AsyncIterator[bytes]:
    """A plain (not streamed) answer's body: cut half-way, or broken, when scripted."""
    if reply.pace is not None and reply.pace.ttft:
        await asyncio.sleep(reply.pace.ttft)
    if reply.malformed_at is not None:
        yield body[: len(body) // 2]
        return
    if reply.cut_after is not None:
        yield body[: len(body) // 2]
        raise StreamCut("scripted cut of a plain answer")
    yield body
