"""``POST /agui``: a ``RunAgentInput`` in, the run's AG-UI events out over SSE (protocol §12).

The bearer token is the HTTP API's (401 without one). The input's last user
message is submitted to the run service exactly as a socket's ``user_message``
is: the same tier limits, quotas, rate limit, persistence and billing. A refusal
is a stream of one ``RUN_ERROR`` carrying the v1 error code; an admitted run's
persisted events are translated as they are published (``mapping``). A client
that disconnects stops its stream only: the run goes on and stays in the
history, as with a dropped socket. A body that is not a ``RunAgentInput``
is answered 422, like any other bad body of the HTTP API. A stream ends with its
session (``server.agui_streams``): a logout, logout-all or the token's expiry sends
``RUN_ERROR`` ``4401`` and closes it, on every node. A user holds at most the
tier's ``open_agui_streams`` streams at once, on every node.

A run pauses before a tool priced above the tier's approval threshold: its stream
ends with ``RUN_FINISHED`` outcome ``interrupt`` (protocol §12.1). An input with
``resume`` answers it (``inputs.read_resume``): the same server run goes on
(``RunService.resume``) and its events after the pause are streamed, opened by a
``RUN_STARTED`` of the answering run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any

from ag_ui.core import BaseEvent, RunAgentInput, RunErrorEvent
from ag_ui.encoder import EventEncoder
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from golden_path.db import events
from golden_path.db.errors import DatabaseUnavailable
from golden_path.ids import ConnectionID
from golden_path.protocol import ErrorCode
from golden_path.server.agui.feed import RunFeed
from golden_path.server.agui.inputs import ResumeRequest, RunRequest, read_input, read_resume
from golden_path.server.agui.mapping import (
    AGUI_PATH,
    METADATA_KEY,
    AGUIRunIds,
    refusal_to_agui,
    resumed_to_agui,
    to_agui,
)
from golden_path.server.agui_streams import END_CODE, OpenStream, watch
from golden_path.server.api.deps import Bearer, State
from golden_path.server.auth.tokens import Claims
from golden_path.server.refusal import Refusal, unavailable
from golden_path.server.runs.admission import quota_upgrade
from golden_path.server.runs.pause import Answered
from golden_path.server.runs.service import Submitted
from golden_path.server.state import ServerState

log = logging.getLogger(__name__)
router = APIRouter()
# How much longer than the run's own time limit a stream waits for the run's end (its node
# may have stopped, or Redis lost the event) before it gives up with RUN_ERROR.
STREAM_GRACE_S = 30.0
# SSE through proxies: no caching, no buffering.
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@router.post(AGUI_PATH, tags=["ag-ui"], response_class=StreamingResponse)
async def run_agent(
    run_input: RunAgentInput, claims: Bearer, state: State, request: Request
) -> StreamingResponse:
    """Run the agent on the input's last user message; stream the run as AG-UI events."""
    encoder = EventEncoder(accept=request.headers.get("accept", ""))
    asked: RunRequest | ResumeRequest | Refusal = (
        read_resume(claims.user_id, run_input)
        if run_input.resume
        else read_input(claims.user_id, run_input)
    )
    if isinstance(asked, Refusal):
        return _respond(encoder, _once(refusal_to_agui(asked)))
    stream_id = ConnectionID.new()
    limit_count = claims.tier.limits.open_agui_streams
    if not await state.stream_presence.admit(claims.user_id, stream_id, limit_count):
        return _respond(encoder, _once(refusal_to_agui(_too_many_streams(claims, limit_count))))
    stream = OpenStream(str(claims.user_id), claims.family, claims.expires_at)
    state.streams.add(stream)  # a logout from now on ends it

    def release() -> None:
        state.streams.discard(stream)
        _spawn(state.stream_presence.release(claims.user_id, stream_id))

    once = _Once(release)
    try:
        return await _start(run_input, claims, state, encoder, asked, stream, once)
    except BaseException:
        once()
        raise


_BACKGROUND: set[asyncio.Task[None]] = set()


def _spawn(work: Coroutine[Any, Any, None]) -> None:
    task = asyncio.get_running_loop().create_task(work)
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


def _too_many_streams(claims: Claims, limit: int) -> Refusal:
    return Refusal(
        ErrorCode.CONCURRENCY_LIMIT,
        f"the {claims.tier.value} plan allows {limit} open AG-UI streams",
        upgrade=quota_upgrade(claims.tier),
    )


async def _start(
    run_input: RunAgentInput,
    claims: Claims,
    state: ServerState,
    encoder: EventEncoder,
    asked: RunRequest | ResumeRequest,
    stream: OpenStream,
    once: Callable[[], None],
) -> StreamingResponse:
    ids = AGUIRunIds(thread_id=run_input.thread_id, run_id=run_input.run_id)
    feed = RunFeed()
    user = str(claims.user_id)
    state.hub.attach(user, feed)  # before the run can publish anything
    opening: list[BaseEvent] = []
    after_seq = 0
    try:
        outcome = await _submit(state, claims, asked)
        if isinstance(outcome, Refusal):
            state.hub.detach(user, feed)
            once()
            return _respond(encoder, _once(refusal_to_agui(outcome.for_request(asked.request_id))))
        feed.follow(str(outcome.run.id))
        if isinstance(outcome, Answered):
            assert isinstance(asked, ResumeRequest)
            after_seq = outcome.seq
            opening.append(
                resumed_to_agui(
                    outcome.run.to_dict(), str(asked.request_id), asked.interrupt_id, ids
                )
            )
        # A replay's events so far, and an answered run's (it may be under way already).
        replayed = isinstance(outcome, Answered) or outcome.replayed
        stored = await _stored(state, claims, str(outcome.run.id)) if replayed else []
    except BaseException:
        state.hub.detach(user, feed)
        raise
    if isinstance(stored, Refusal):
        state.hub.detach(user, feed)
        once()
        return _respond(encoder, _once(refusal_to_agui(stored)))
    limit = state.settings.run_timeout_s + STREAM_GRACE_S

    def closed() -> None:
        state.hub.detach(user, feed)
        once()

    async def is_revoked() -> bool:
        return await state.sessions.is_revoked(claims)

    def watchdog() -> Coroutine[Any, Any, None]:  # made when the body starts, not before
        return watch(stream, is_revoked, clock_skew_s=state.settings.clock_skew_s)

    return _respond(
        encoder,
        _follow(feed, stored, ids, limit, stream, watchdog, opening, after_seq),
        # However the response ends (a client gone before its first byte included).
        closed=closed,
    )


async def _submit(
    state: ServerState, claims: Claims, asked: RunRequest | ResumeRequest
) -> Submitted | Answered | Refusal:
    """A new run (AG-UI runs ask approval before a costly tool), or the answer to one."""
    if isinstance(asked, ResumeRequest):
        return await state.runs.resume(
            user_id=claims.user_id,
            interrupt_id=asked.interrupt_id,
            approved=asked.approved,
            request_id=asked.request_id,
            thread_id=asked.thread_id,
        )
    return await state.runs.submit(
        user_id=claims.user_id,
        tier=claims.tier,
        content=asked.content,
        thread_id=asked.thread_id,
        request_id=asked.request_id,
        create_thread=asked.create_thread,
        ask_approval=True,
    )


class _Once:
    """``release`` called once, however many ways the response ends."""

    def __init__(self, release: Callable[[], None]) -> None:
        self._release: Callable[[], None] | None = release

    def __call__(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()


async def _stored(state: ServerState, claims: Claims, run_id: str) -> list[Any] | Refusal:
    """A replayed run's events persisted so far (its request id had been seen)."""
    try:
        async with state.db.as_user(claims.user_id) as conn:
            return list(await events.for_run(conn, claims.user_id, run_id))
    except DatabaseUnavailable:
        return unavailable("the event store is unavailable")


async def _once(event: BaseEvent) -> AsyncIterator[BaseEvent]:
    yield event


async def _follow(
    feed: RunFeed,
    stored: Sequence[dict[str, Any]],
    ids: AGUIRunIds,
    limit_s: float,
    stream: OpenStream,
    watchdog: Callable[[], Coroutine[Any, Any, None]],
    opening: Sequence[BaseEvent] = (),
    after_seq: int = 0,
) -> AsyncIterator[BaseEvent]:
    """The run's events (after ``opening``, from after ``after_seq``), until its end, its
    pause, the time limit, or the end of the session."""
    for first in opening:
        yield first
    source = feed.events(stored, timeout_s=limit_s, after_seq=after_seq)
    watching = asyncio.ensure_future(watchdog())
    ended = asyncio.ensure_future(stream.ended.wait())
    try:
        while True:
            step = asyncio.ensure_future(anext(source))
            done, _ = await asyncio.wait({step, ended}, return_when=asyncio.FIRST_COMPLETED)
            if step not in done:
                step.cancel()
                with contextlib.suppress(BaseException):
                    await step
                yield session_end_to_agui(stream.reason)
                return
            try:
                event = step.result()
            except StopAsyncIteration:
                return
            for translated in to_agui(event, ids):
                yield translated
    except TimeoutError:
        log.warning("AG-UI run %s: no end within %.0f s; the stream gives up", ids.run_id, limit_s)
        yield refusal_to_agui(
            unavailable("the run's events stopped arriving; its outcome is in GET /runs/{id}")
        )
    finally:
        for task in (watching, ended):
            task.cancel()
        await _aclose(source)


async def _aclose(iterator: AsyncIterator[Any]) -> None:
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()


def session_end_to_agui(reason: str) -> RunErrorEvent:
    """The stream's session ended: ``RUN_ERROR`` with v1's close code and reason (§7)."""
    return RunErrorEvent(
        message=reason,
        code=END_CODE,
        metadata={METADATA_KEY: {"close_code": int(END_CODE), "reason": reason}},
    )


def _respond(
    encoder: EventEncoder,
    stream: AsyncIterator[BaseEvent],
    closed: Callable[[], None] | None = None,
) -> StreamingResponse:
    async def body() -> AsyncIterator[str]:
        try:
            async for event in stream:
                yield encoder.encode(event)
        finally:
            if closed is not None:
                closed()

    return StreamingResponse(
        body(),
        media_type=encoder.get_content_type(),
        headers=dict(STREAM_HEADERS),
        background=BackgroundTask(closed) if closed is not None else None,
    )
