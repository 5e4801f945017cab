"""One golden-path run of AG-UI over HTTP and Server-Sent Events, read to its end and checked.

``POST /agui`` with a ``RunAgentInput`` (a fresh ``threadId`` and ``runId``) and a bearer
token; the response is the run's event stream, read chunk by chunk as the server flushes
it (``requests`` with ``stream=True``: Locust's own session inside a simulated user, so
gevent keeps it cooperative). With ``drop_after``, the response is closed once that many
events have arrived and the same input is posted again: the same ``runId`` is the same
run, whose stream starts over (its persisted events, then the live ones; docs/protocol.md
§12). Each stream is checked by the harness's AG-UI checker with the ids the client sent;
the cut one without asking for its end.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

from golden_path.load.sse import json_events
from golden_path.load.timing import Arrivals, RunOutcome
from golden_path.load.v1_run import ABANDONED, ProtocolMismatch
from golden_path.testing.agui.contract import Stage, check_agui_events
from golden_path.testing.violation import Violation

TERMINAL = frozenset({"RUN_FINISHED", "RUN_ERROR"})
SLOW_CHUNK = 256  # bytes a slow reader takes at a time
GOLDEN_STAGES = (
    Stage.STARTED,
    Stage.THINKING,
    Stage.TOOL_EXECUTING,
    Stage.TOOL_COMPLETED,
    Stage.COMPLETED,
)


class Streamed(Protocol):
    """A streamed HTTP response (``requests.Response``, Locust's included)."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def text(self) -> str: ...

    def iter_content(self, chunk_size: int | None = ...) -> Iterator[bytes]: ...

    def close(self) -> None: ...


PostStream = Callable[[dict[str, Any]], AbstractContextManager[Streamed]]


def run_input(content: str, thread_id: str | None = None) -> dict[str, Any]:
    """A ``RunAgentInput`` as the wire carries it: one user message, a fresh ``runId``, and
    a fresh ``threadId`` unless ``thread_id`` continues a conversation."""
    return {
        "threadId": thread_id or f"load-{uuid.uuid4().hex}",
        "runId": f"load-{uuid.uuid4().hex}",
        "messages": [{"id": f"msg-{uuid.uuid4().hex}", "role": "user", "content": content}],
        "tools": [],
        "context": [],
        "state": {},
        "forwardedProps": {},
    }


def _slowly(chunks: Iterator[bytes], delay: float) -> Iterator[bytes]:
    """The chunks, each read only after ``delay`` seconds: a slow reader."""
    for chunk in chunks:
        yield chunk
        time.sleep(delay)


def read_stream(
    response: Streamed,
    arrivals: Arrivals,
    stop_after: int | None,
    deadline: float,
    read_delay: float = 0.0,
) -> tuple[list[Any], bool]:
    """The stream's events (added to ``arrivals``); True if it ended with a terminal event.
    ``read_delay``: a slow reader, which reads :data:`SLOW_CHUNK` bytes at a time and waits
    that many seconds after each read."""
    if response.status_code != 200:
        raise ProtocolMismatch(
            f"POST /agui answered HTTP {response.status_code}: {response.text[:200]!r}"
        )
    kind = response.headers.get("content-type", "")
    if not kind.startswith("text/event-stream"):
        raise ProtocolMismatch(
            f"POST /agui answered {kind or 'no content type'}, not text/event-stream"
        )
    events: list[Any] = []
    chunks = response.iter_content(chunk_size=SLOW_CHUNK if read_delay else None)
    for event in json_events(_slowly(chunks, read_delay) if read_delay else chunks):
        events.append(event)
        arrivals.add(event)
        if isinstance(event, Mapping) and event.get("type") in TERMINAL:
            return events, True
        if stop_after is not None and len(events) >= stop_after:
            return events, False
        if time.monotonic() > deadline:
            break
    return events, False


def _check(body: dict[str, Any], events: list[Any], complete: bool) -> list[Violation]:
    return check_agui_events(
        events,
        require_complete=complete,
        thread_id=body["threadId"],
        run_id=body["runId"],
        stages=GOLDEN_STAGES if complete and _finished(events) else (),
    )


def _finished(events: list[Any]) -> bool:
    return (
        bool(events)
        and isinstance(events[-1], Mapping)
        and events[-1].get("type") == ("RUN_FINISHED")
    )


def run_agui(
    post: PostStream,
    content: str,
    *,
    drop_after: int | None = None,
    timeout: float = 30.0,
    thread_id: str | None = None,
    read_delay: float = 0.0,
    abandon: bool = False,
) -> RunOutcome:
    """One run, from its request to its terminal event (or ``timeout`` seconds);
    ``thread_id`` continues that conversation (AG-UI's ``threadId``).

    ``read_delay``: a slow reader (see :func:`read_stream`); a stream the server ends
    before its terminal event is posted again, as a dropped one is. ``abandon``: close the
    response after ``drop_after`` events and never post again (error ``abandoned``).
    """
    deadline = time.monotonic() + timeout
    body = run_input(content, thread_id)
    arrivals = Arrivals()
    violations: list[Violation] = []
    resumed = False
    with post(body) as response:
        events, ended = read_stream(response, arrivals, drop_after, deadline, read_delay)
        response.close()
    cut = drop_after is not None and len(events) >= drop_after
    if not ended and abandon and cut:
        violations += _check(body, events, complete=False)
        return RunOutcome(arrivals, violations, False, False, ABANDONED)
    if not ended and (cut or read_delay) and time.monotonic() < deadline:
        violations += _check(body, events, complete=False)
        resumed = True
        with post(body) as response:
            events, ended = read_stream(response, arrivals, None, deadline, read_delay)
    violations += _check(body, events, complete=ended)
    completed = ended and _finished(events)
    error = None
    if not ended:
        error = f"no RUN_FINISHED or RUN_ERROR within {timeout:.0f} s"
    elif not completed:
        last = events[-1]
        error = f"RUN_ERROR {last.get('code')}: {last.get('message')}"
    return RunOutcome(arrivals, violations, completed, resumed, error)
