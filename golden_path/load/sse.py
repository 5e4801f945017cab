"""Server-Sent Events decoded from a streamed HTTP body, one JSON event at a time.

The event stream format (WHATWG HTML, "Server-sent events"): lines end in CRLF, LF or CR;
``data:`` lines of one event are joined with a newline; a blank line dispatches it;
a line starting with ``:`` is a comment. AG-UI sends one ``data: {json}`` per event.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

MAX_EVENT_BYTES = 16 * 1024 * 1024  # one event's text; more is refused, memory stays bounded


class EventTooLarge(ValueError):
    """An event (or a line) longer than :data:`MAX_EVENT_BYTES`."""


class SSEDecoder:
    """Feed it chunks of bytes as they arrive; it yields each complete event's ``data``."""

    def __init__(self) -> None:
        self._buffer = ""
        self._data: list[str] = []
        self._pending_cr = False
        self._size = 0  # the characters of the event being read

    def feed(self, chunk: bytes | str) -> Iterator[str]:
        text = chunk.decode("utf-8", "replace") if isinstance(chunk, bytes) else chunk
        if self._pending_cr and text.startswith("\n"):
            text = text[1:]
        self._pending_cr = text.endswith("\r")
        self._buffer += text.replace("\r\n", "\n").replace("\r", "\n")
        self._size += len(text)
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            if not line:
                if self._data:
                    yield "\n".join(self._data)
                    self._data = []
                self._size = len(self._buffer)
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            if name == "data":
                self._data.append(value[1:] if value.startswith(" ") else value)
        if self._size > MAX_EVENT_BYTES:
            raise EventTooLarge(f"an SSE event longer than {MAX_EVENT_BYTES} characters")


def json_events(chunks: Iterable[bytes | str]) -> Iterator[Any]:
    """Each event's ``data`` as JSON (or the raw text, when it is not JSON)."""
    decoder = SSEDecoder()
    for chunk in chunks:
        for data in decoder.feed(chunk):
            try:
                yield json.loads(data)
            except ValueError:
                yield data
