"""Every client a test makes, kept so that a failing test's report shows its transcript.

A client of the harness (an ``AGUIClient``, a ``gp_ws`` socket) calls :func:`track`
when it is made; while a test runs (its setup, call and teardown) the plugin
collects them in the test's own list (:func:`collecting`), so a client the test
builds by hand, outside any fixture, is in its report too. Outside a test
nothing is kept. No I/O, no import of any client: the clients come to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Literal, Protocol

__all__ = ["Transcribed", "collecting", "format_lines", "report_sections", "track"]

ARROWS = {"sent": "->", "received": "<-", "closed": "xx"}
MAX_SHOWN_CHARS = 300


class Transcribed(Protocol):
    """What a client shows in a report: its kind (``AG-UI``, ``WebSocket``), where it talks
    to, and its last exchanges."""

    transcript_kind: str
    url: str

    def format_transcript(self, limit: int = 200) -> str: ...


_current: list[Transcribed] | None = None


def format_lines(
    entries: Iterable[tuple[Literal["sent", "received", "closed"], Any, float]],
    empty: str,
    origin: float | None = None,
) -> str:
    """A transcript as text: one line per ``(direction, payload, at)``, its time from
    ``origin`` (default: the first entry's), an arrow (-> sent, <- received, xx closed)
    and the payload (JSON unless it is text, cut at 300 characters); ``empty`` when there
    are no entries."""
    lines: list[str] = []
    for direction, payload, at in entries:
        origin = at if origin is None else origin
        text = payload if isinstance(payload, str) else json.dumps(payload)
        if len(text) > MAX_SHOWN_CHARS:
            text = text[: MAX_SHOWN_CHARS - 3] + "..."
        lines.append(f"{at - origin:8.3f}s {ARROWS[direction]} {text}")
    return "\n".join(lines) if lines else empty


def track(client: Transcribed) -> None:
    """Keep ``client`` for the running test's report (nothing outside a test)."""
    if _current is not None:
        _current.append(client)


@contextmanager
def collecting(into: list[Transcribed]) -> Iterator[list[Transcribed]]:
    """While the block runs, every client made is appended to ``into``."""
    global _current
    previous, _current = _current, into
    try:
        yield into
    finally:
        _current = previous


def report_sections(clients: list[Transcribed], limit: int = 200) -> list[tuple[str, str]]:
    """One report section per client, ``golden-path AG-UI client 0 transcript (URL)``: the
    clients of each kind numbered in the order they were made."""
    sections = []
    counts: dict[str, int] = {}
    for client in clients:
        n = counts[client.transcript_kind] = counts.get(client.transcript_kind, -1) + 1
        title = f"golden-path {client.transcript_kind} client {n} transcript ({client.url})"
        sections.append((title, client.format_transcript(limit)))
    return sections
