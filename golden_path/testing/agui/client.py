"""A client for any AG-UI server: POST a ``RunAgentInput``, read the run's events over SSE.

``run = await agui.run("What is the weather in Paris?", thread_id=...)`` sends one
user message and returns an :class:`AGUIRun`: every event as it arrived (the
wire's JSON objects), the golden-path stages they show, and the contract check
(:mod:`golden_path.testing.agui.contract`) with the ids the client sent.
``async with agui.stream(...) as stream: async for event in stream: ...`` reads
events as they arrive; leaving the block (or ``await stream.close()``) closes
the HTTP response, which is how an AG-UI client cancels a run.

Events are decoded by ``httpx-sse`` as they arrive. Everything sent and
received is kept in ``transcript``; a read that times out raises
:class:`AGUITimeout` naming what did arrive, so a failing test shows the
conversation rather than "timed out".
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from ag_ui.core import RunAgentInput
from httpx_sse import EventSource, SSEError, aconnect_sse
from pydantic import ValidationError

from golden_path.testing.agui.contract import (
    Stage,
    assert_agui_events,
    check_agui_events,
    expand_chunks,
    read_stages,
)
from golden_path.testing.transcripts import format_lines, track
from golden_path.testing.violation import Violation

__all__ = [
    "AGUIClient",
    "AGUIError",
    "AGUIHTTPError",
    "AGUIRun",
    "AGUIStream",
    "AGUITimeout",
]

DEFAULT_TIMEOUT_S = 30.0
TERMINAL_TYPES = frozenset({"RUN_FINISHED", "RUN_ERROR"})
Event = Any  # a JSON object as the server sent it (a dict), or whatever else it sent


class AGUIError(Exception):
    """The server did not answer with an AG-UI event stream."""


class AGUIHTTPError(AGUIError):
    """The server refused the request: ``status`` is its HTTP status, ``body`` its answer."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"the AG-UI server answered HTTP {status}: {body[:300]!r}")
        self.status = status
        self.body = body


class AGUITimeout(AssertionError):
    """The run's events did not arrive in time; the message lists what did."""


@dataclass
class TranscriptEntry:
    direction: Literal["sent", "received", "closed"]
    payload: Any
    at: float


@dataclass
class AGUIRun:
    """One run as the client saw it: the input it sent and every event it received."""

    input: dict[str, Any]
    events: list[Event] = field(default_factory=list)
    status_code: int | None = None
    closed_early: bool = False  # the client closed the stream before the run's end

    @property
    def thread_id(self) -> str:
        return str(self.input["threadId"])

    @property
    def run_id(self) -> str:
        return str(self.input["runId"])

    @property
    def types(self) -> list[str]:
        return [str(e.get("type")) if isinstance(e, Mapping) else repr(e) for e in self.events]

    @property
    def terminal(self) -> Mapping[str, Any] | None:
        """The run's ``RUN_FINISHED`` or ``RUN_ERROR``, if it arrived."""
        for event in reversed(self.events):
            if isinstance(event, Mapping) and event.get("type") in TERMINAL_TYPES:
                return event
        return None

    @property
    def stages(self) -> tuple[Stage, ...]:
        return read_stages(self._objects())

    @property
    def text(self) -> str:
        """The assistant's text: every ``TEXT_MESSAGE_CONTENT`` delta (chunks expanded)."""
        return "".join(
            str(e.get("delta", ""))
            for e in expand_chunks(self._objects())
            if e["type"] == "TEXT_MESSAGE_CONTENT"
        )

    @property
    def tool_calls(self) -> list[dict[str, Any]]:
        """Each tool call: ``toolCallId``, ``name``, ``parentMessageId``, ``args`` (the joined
        deltas), ``result``."""
        calls: dict[str, dict[str, Any]] = {}
        for event in expand_chunks(self._objects()):
            kind, call_id = event["type"], str(event.get("toolCallId"))
            if kind == "TOOL_CALL_START":
                calls[call_id] = {
                    "toolCallId": call_id,
                    "name": event.get("toolCallName"),
                    "parentMessageId": event.get("parentMessageId"),
                    "args": "",
                    "result": None,
                }
            elif kind == "TOOL_CALL_ARGS" and call_id in calls:
                calls[call_id]["args"] += event.get("delta", "")
            elif kind == "TOOL_CALL_RESULT" and call_id in calls:
                calls[call_id]["result"] = event.get("content")
        return list(calls.values())

    @property
    def interrupts(self) -> list[Mapping[str, Any]]:
        """The ``Interrupt`` objects of a paused run (``RUN_FINISHED`` outcome ``interrupt``)."""
        outcome = self.terminal.get("outcome") if self.terminal is not None else None
        if isinstance(outcome, Mapping) and outcome.get("type") == "interrupt":
            return [i for i in outcome.get("interrupts") or [] if isinstance(i, Mapping)]
        return []

    @property
    def prior_tool_calls(self) -> set[str]:
        """The tool calls of the history the client sent: a resumed run may answer them."""
        ids = set()
        for message in self.input.get("messages") or []:
            for call in message.get("toolCalls") or [] if isinstance(message, Mapping) else []:
                if isinstance(call, Mapping) and isinstance(call.get("id"), str):
                    ids.add(call["id"])
        return ids

    def history(self) -> list[dict[str, Any]]:
        """The messages the run added to the conversation, as a client keeps them: assistant
        messages (text, tool calls, keyed by ``parentMessageId``) and tool results."""
        messages: dict[str, dict[str, Any]] = {}
        for event in expand_chunks(self._objects()):
            kind = event["type"]
            if kind == "TEXT_MESSAGE_START":
                messages.setdefault(
                    str(event["messageId"]),
                    {"id": event["messageId"], "role": event.get("role", "assistant")},
                )
            elif kind == "TEXT_MESSAGE_CONTENT" and str(event["messageId"]) in messages:
                message = messages[str(event["messageId"])]
                message["content"] = message.get("content", "") + str(event.get("delta", ""))
        for call in self.tool_calls:
            parent = call["parentMessageId"] or f"msg-{call['toolCallId']}"
            owner = messages.setdefault(parent, {"id": parent, "role": "assistant"})
            owner.setdefault("toolCalls", []).append(
                {
                    "id": call["toolCallId"],
                    "type": "function",
                    "function": {"name": call["name"], "arguments": call["args"]},
                }
            )
            if call["result"] is not None:
                messages[f"result-{call['toolCallId']}"] = {
                    "id": f"result-{call['toolCallId']}",
                    "role": "tool",
                    "toolCallId": call["toolCallId"],
                    "content": call["result"],
                }
        return list(messages.values())

    def _objects(self) -> list[Mapping[str, Any]]:
        return [e for e in self.events if isinstance(e, Mapping)]

    def violations(
        self, *, stages: Collection[Stage | str] = (), non_empty_deltas: bool = False
    ) -> list[Violation]:
        """The AG-UI contract check of this run, with the ids the client asked for (and the
        tool calls its history holds, which a resumed run may answer)."""
        return check_agui_events(
            self.events,
            require_complete=not self.closed_early,
            thread_id=self.thread_id,
            run_id=self.run_id,
            stages=stages,
            non_empty_deltas=non_empty_deltas,
            prior_tool_calls=self.prior_tool_calls,
        )

    def assert_contract(
        self,
        *,
        stages: Collection[Stage | str] = (),
        non_empty_deltas: bool = False,
        require_protocol_version: bool = False,
        strict: bool = False,
    ) -> None:
        """Raise :class:`~golden_path.testing.violation.ContractViolation` if the run breaks
        a MUST of the contract (and, with ``strict=True``, on a warning too)."""
        assert_agui_events(
            self.events,
            require_complete=not self.closed_early,
            thread_id=self.thread_id,
            run_id=self.run_id,
            stages=stages,
            non_empty_deltas=non_empty_deltas,
            require_protocol_version=require_protocol_version,
            prior_tool_calls=self.prior_tool_calls,
            strict=strict,
        )


class AGUIStream:
    """The events of one run, as they arrive: ``async for event in stream``."""

    def __init__(self, client: AGUIClient, source: EventSource, run: AGUIRun) -> None:
        self._client = client
        self._source = source
        self._iterator = source.aiter_sse()
        self.run = run
        self.closed = False

    def __aiter__(self) -> AGUIStream:
        return self

    async def __anext__(self) -> Event:
        if self.closed:
            raise StopAsyncIteration
        try:
            sse = await self._iterator.__anext__()
        except SSEError as exc:
            raise AGUIError(f"not an AG-UI event stream: {exc}") from exc
        try:
            event: Event = json.loads(sse.data)
        except json.JSONDecodeError:
            event = sse.data  # the checker reports it as not_an_object
        self.run.events.append(event)
        self._client._record("received", event)
        return event

    async def close(self) -> None:
        """Stop reading and close the HTTP response: the client's way to cancel the run."""
        if self.closed:
            return
        self.closed = True
        if self.run.terminal is None:
            self.run.closed_early = True
        await self._iterator.aclose()
        await self._source.response.aclose()
        self._client._record("closed", f"after {len(self.run.events)} events")


class AGUIClient:
    """A client of one AG-UI endpoint (the URL the ``RunAgentInput`` is POSTed to).

    Made while a test runs (by ``gp_agui``, ``gp_agui_factory`` or by hand), its transcript
    is in the test's failure report. ``await client.aclose()`` (or ``async with``) closes
    its HTTP connections; the fixtures close theirs after the test.
    """

    transcript_kind = "AG-UI"

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """``transport``: httpx's, e.g. ``httpx.ASGITransport(app)`` for an app in-process."""
        self.url = url
        self.timeout = timeout
        self.headers = dict(headers or {})
        if token is not None:
            self.headers["Authorization"] = f"Bearer {token}"
        self.transcript: list[TranscriptEntry] = []
        self.runs: list[AGUIRun] = []
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=10.0), transport=transport
        )
        track(self)

    async def __aenter__(self) -> AGUIClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client's HTTP connections (a run still streaming is cut)."""
        await self._http.aclose()

    def _record(self, direction: Literal["sent", "received", "closed"], payload: Any) -> None:
        self.transcript.append(TranscriptEntry(direction, payload, time.monotonic()))

    @staticmethod
    def make_input(
        message: str | None = None,
        *,
        thread_id: str | None = None,
        run_id: str | None = None,
        messages: list[Mapping[str, Any]] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A ``RunAgentInput`` as the wire carries it, checked by the ag-ui-protocol model.

        ``message`` is appended to ``messages`` as a user message. Other fields
        (``tools``, ``context``, ``state``, ``forwardedProps``, ...) are passed through
        by their wire names; ``tools``, ``context``, ``state`` and ``forwardedProps``
        default to empty, as the AG-UI TypeScript client sends them.
        """
        history = [dict(m) for m in messages or ()]
        if message is not None:
            history.append({"id": f"msg-{uuid.uuid4()}", "role": "user", "content": message})
        body: dict[str, Any] = {
            "threadId": thread_id or f"thread-{uuid.uuid4()}",
            "runId": run_id or f"run-{uuid.uuid4()}",
            "messages": history,
            "tools": [],
            "context": [],
            "state": {},
            "forwardedProps": {},
            **fields,
        }
        try:
            RunAgentInput.model_validate(body, by_alias=True, by_name=False)
        except ValidationError as exc:
            raise ValueError(f"not a valid AG-UI RunAgentInput: {exc}") from exc
        return body

    @asynccontextmanager
    async def stream(
        self,
        message: str | None = None,
        *,
        input: Mapping[str, Any] | None = None,
        **input_fields: Any,
    ) -> AsyncIterator[AGUIStream]:
        """Start a run and read its events as they arrive; the response closes on exit.

        Give a ``message`` (and :meth:`make_input`'s keywords), or a whole ``input``
        body, sent as is (a test of a server's input handling may send an invalid one).
        """
        body = dict(input) if input is not None else self.make_input(message, **input_fields)
        run = AGUIRun(input=body)
        self.runs.append(run)
        self._record("sent", {"POST": self.url, "body": body})
        async with aconnect_sse(
            self._http, "POST", self.url, json=body, headers=dict(self.headers)
        ) as source:
            response = source.response
            run.status_code = response.status_code
            if response.status_code >= 400:
                text = (await response.aread()).decode(errors="replace")
                self._record("received", {"HTTP": response.status_code, "body": text[:500]})
                raise AGUIHTTPError(response.status_code, text)
            stream = AGUIStream(self, source, run)
            try:
                yield stream
            finally:
                await stream.close()

    async def run(
        self,
        message: str | None = None,
        *,
        timeout: float | None = None,
        input: Mapping[str, Any] | None = None,
        **input_fields: Any,
    ) -> AGUIRun:
        """Send one run and read it to its end (the server closing the stream)."""
        limit = self.timeout if timeout is None else timeout
        started = time.monotonic()
        run: AGUIRun | None = None
        try:
            async with asyncio.timeout(limit):
                async with self.stream(message, input=input, **input_fields) as stream:
                    run = stream.run
                    async for _ in stream:
                        pass
        except TimeoutError:
            seen = run.types if run is not None else []
            raise AGUITimeout(
                f"the run did not end within {limit:.1f} s "
                f"({time.monotonic() - started:.1f} s); received {len(seen)} events: {seen}"
            ) from None
        assert run is not None
        return run

    async def resume(
        self,
        paused: AGUIRun,
        *,
        approve: bool | None = None,
        payload: Any = None,
        status: Literal["resolved", "cancelled"] = "resolved",
        timeout: float | None = None,
        **input_fields: Any,
    ) -> AGUIRun:
        """The next run on ``paused``'s thread, answering each of its interrupts.

        It sends the conversation so far (``paused``'s input messages and
        :meth:`AGUIRun.history`) and one ``resume`` entry per interrupt, with ``status``
        and ``payload``; ``approve=True``/``False`` is the payload of AG-UI's approval
        pattern, ``{"approved": ...}``. Raises ``ValueError`` if ``paused`` did not pause.
        """
        if not paused.interrupts:
            raise ValueError(f"run {paused.run_id} ended without an interrupt: {paused.terminal}")
        answer = {"approved": approve} if approve is not None else payload
        entries = []
        for interrupt in paused.interrupts:
            entry: dict[str, Any] = {"interruptId": interrupt["id"], "status": status}
            if answer is not None:
                entry["payload"] = answer
            entries.append(entry)
        body = self.make_input(
            thread_id=paused.thread_id,
            messages=[*paused.input.get("messages", []), *paused.history()],
            resume=entries,
            **input_fields,
        )
        return await self.run(input=body, timeout=timeout)

    def format_transcript(self, limit: int = 200) -> str:
        """The last ``limit`` entries: what was sent, each event received, when it closed."""
        origin = self.transcript[0].at if self.transcript else None
        entries = ((e.direction, e.payload, e.at) for e in self.transcript[-limit:])
        return format_lines(entries, "(nothing sent)", origin)
