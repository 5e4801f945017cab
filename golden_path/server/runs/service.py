"""Runs from a user message to a persisted answer: admit, execute the agent, emit its events.

Every event is persisted (``golden_path.db.events.append``) before it is
published. The terminal event, the run's final status, the usage ledger row
and the assistant's message are written in one transaction, so a run is billed
exactly once and never half-finished.

The service publishes through an :class:`EventBus` (the socket layer's hub
implements it), so runs never depend on sockets. A cancel is the service's
business end to end: here if the run executes on this node, else forwarded to
the node that runs it over the bus's control channel (:meth:`RunService.on_control`).
An AG-UI run may pause for the user's approval (``pause``, protocol §12.1):
:meth:`RunService.resume` continues it, on any node; a cancel ends it where it waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

import asyncpg

from golden_path.agent import (
    AgentRequest,
    Completion,
    DailyUsage,
    SpendOptimizationAgent,
    Thinking,
    ToolCall,
    ToolOutcome,
)
from golden_path.db import events, interrupts, runs, usage
from golden_path.db.errors import DatabaseUnavailable
from golden_path.db.scope import Database, as_database
from golden_path.ids import InterruptID, RequestID, RunID, ThreadID, ToolCallID, UserID
from golden_path.protocol import AgentErrorCode, ErrorCode, EventType, RunStatus
from golden_path.server.clock import utcnow
from golden_path.server.refusal import Refusal, unavailable
from golden_path.server.runs import orphans, pause
from golden_path.server.runs.admission import Admitted, Duplicate, admit
from golden_path.server.runs.completion import record_completion
from golden_path.server.runs.events import RunScope
from golden_path.server.runs.limits import MessageRateLimiter
from golden_path.tiers import Tier

log = logging.getLogger(__name__)
ORPHAN_TIMEOUT_S = 10.0  # to end one run of a stopped node at start, before moving on
HISTORY_DAYS = 30
# How long a failed run keeps trying to record its end while PostgreSQL is away (~2 min).
END_RETRY_DELAYS_S = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, *(8.0,) * 14)


@dataclass(frozen=True, slots=True)
class Submitted:
    """A message became a run (``replayed`` True: its request id had been seen)."""

    run: runs.Run
    replayed: bool


class EventBus(Protocol):
    """Where a run's persisted events go, and how nodes ask each other to act."""

    async def publish(self, event: dict[str, Any]) -> None:
        """Deliver a persisted event to every open socket of its user, on every node."""

    async def send_control(self, message: dict[str, Any]) -> bool:
        """Send ``message`` to every other node's :meth:`RunService.on_control`."""


class RunService:
    def __init__(
        self,
        pool: asyncpg.Pool | Database,
        bus: EventBus,
        limiter: MessageRateLimiter,
        node_id: str,
        *,
        run_timeout_s: float,
        step_delay_s: float = 0.0,
        agent: SpendOptimizationAgent | None = None,
        orphan_timeout_s: float = ORPHAN_TIMEOUT_S,
    ) -> None:
        self._db = as_database(pool)
        self._orphan_timeout_s = orphan_timeout_s
        self._bus = bus
        self._limiter = limiter
        self._node_id = node_id
        self._timeout_s = run_timeout_s
        self._step_delay_s = step_delay_s
        self.agent = agent or SpendOptimizationAgent()
        self._tasks: dict[RunID, asyncio.Task[None]] = {}
        self._owners: dict[RunID, UserID] = {}
        self.accepting = True

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def submit(
        self,
        *,
        user_id: UserID,
        tier: Tier,
        content: str,
        thread_id: str | None,
        request_id: RequestID | None,
        create_thread: bool = False,
        ask_approval: bool = False,
    ) -> Submitted | Refusal:
        """Admit ``content`` as a run and start it, or say why not (see ``admission.admit``).

        ``ask_approval`` (AG-UI runs): the run pauses before a tool priced above the tier's
        ``approval_above_usd``, until :meth:`resume` answers it."""
        if not self.accepting:
            return unavailable("the server is shutting down")
        limit = tier.limits.max_message_chars
        if len(content) > limit:
            return Refusal(
                ErrorCode.MESSAGE_TOO_LONG,
                f"content is {len(content)} characters; the {tier.value} plan allows {limit}",
            )
        rate = await self._limiter.check(user_id, tier)
        if not rate.allowed:
            return Refusal(
                ErrorCode.RATE_LIMITED,
                f"more than {tier.limits.messages_per_minute} messages this minute",
                retry_after_ms=rate.retry_after_ms,
                retryable=True,
            )
        request_id = request_id or RequestID.new()
        try:
            async with self._db.as_user(user_id) as conn:
                outcome = await admit(
                    conn,
                    user_id=user_id,
                    tier=tier,
                    content=content,
                    thread_id=thread_id,
                    request_id=request_id,
                    node_id=self._node_id,
                    now=utcnow(),
                    create_thread=create_thread,
                )
        except asyncpg.UniqueViolationError:
            # The same request id admitted concurrently on another connection: a duplicate.
            async with self._db.as_user(user_id) as conn:
                earlier = await runs.by_request(conn, user_id, request_id)
            if earlier is None:
                raise
            return Submitted(earlier, replayed=True)
        except DatabaseUnavailable as exc:
            log.warning("run admission failed, nothing was written: %s", exc)
            return unavailable("the database is unavailable; nothing was saved, try again")
        if isinstance(outcome, Refusal):
            return outcome
        if isinstance(outcome, Duplicate):
            return Submitted(outcome.run, replayed=True)
        assert isinstance(outcome, Admitted)
        scope = self._scope(outcome.run)
        self._launch(scope, self._execute(scope, outcome.run, tier, content, ask_approval))
        return Submitted(outcome.run, replayed=False)

    async def resume(
        self,
        *,
        user_id: UserID,
        interrupt_id: str,
        approved: bool,
        request_id: RequestID,
        thread_id: ThreadID,
    ) -> pause.Answered | Refusal:
        """Answer ``user_id``'s paused run and let it go on (or replay, if ``request_id``
        answered it already), or say why not; see ``pause.answer``."""
        if not self.accepting:
            return unavailable("the server is shutting down")
        try:
            async with self._db.as_user(user_id) as conn:
                answered = await pause.answer(
                    conn,
                    user_id=user_id,
                    interrupt_id=interrupt_id,
                    approved=approved,
                    request_id=request_id,
                    thread_id=thread_id,
                    node_id=self._node_id,
                )
        except DatabaseUnavailable:
            return unavailable("the database is unavailable; nothing was saved, try again")
        if isinstance(answered, pause.Answered) and answered.continuation is not None:
            scope = self._scope(answered.run)
            self._launch(scope, self._continue(scope, answered.continuation))
        return answered

    def _scope(self, run: runs.Run) -> RunScope:
        return RunScope(
            user_id=run.user_id,
            thread_id=run.thread_id,
            run_id=run.id,
            request_id=run.request_id,
            agent_name=self.agent.name,
        )

    def _launch(self, scope: RunScope, work: Coroutine[Any, Any, None]) -> None:
        run_id = scope.run_id
        task = asyncio.create_task(work, name=str(run_id))
        self._tasks[run_id] = task
        self._owners[run_id] = scope.user_id
        task.add_done_callback(lambda _: self._forget(run_id))

    def _forget(self, run_id: RunID) -> None:
        self._tasks.pop(run_id, None)
        self._owners.pop(run_id, None)

    async def cancel(self, run_id: RunID, user_id: UserID) -> bool:
        """Cancel ``user_id``'s run if it executes on this node; ``False`` otherwise.

        A run of another user is treated as absent: no one cancels what is not theirs.
        """
        task = self._tasks.get(run_id)
        if task is None or task.done() or self._owners.get(run_id) != user_id:
            return False
        task.cancel()
        return True

    async def request_cancel(self, run_id: RunID, user_id: UserID) -> Refusal | None:
        """Cancel ``user_id``'s running run wherever it executes; ``None`` once asked.

        On this node the run is cancelled at once; on another, that node is asked over
        the bus (it checks the owner too). A run that is not this user's running run
        is refused, and so is a cancel that cannot reach the run's node.
        """
        if await self.cancel(run_id, user_id):
            return None
        try:
            async with self._db.as_user(user_id) as conn:
                run = await runs.get(conn, user_id, run_id)
                paused = run is not None and await interrupts.withdraw(conn, run.id)
        except DatabaseUnavailable:
            return unavailable("the database is unavailable")
        if paused and run is not None:  # waiting for approval (§12.1): no node runs it
            cancelled = AgentErrorCode.CANCELLED
            await self._fail(self._scope(run), cancelled, "the run was cancelled", 0.0)
            return None
        if run is None or run.status != RunStatus.RUNNING:
            return Refusal(
                ErrorCode.INVALID_MESSAGE,
                f"no running run {run_id}",
                [{"field": "run_id", "problem": "not a running run of this user"}],
            )
        if not await self._bus.send_control({"cancel": str(run_id), "user_id": str(user_id)}):
            return unavailable("the run is on another server and cannot be reached now; retry")
        return None

    async def on_control(self, message: dict[str, Any]) -> None:
        """A message from another node: a request to cancel a run running here."""
        run_id, user_id = message.get("cancel"), message.get("user_id")
        if RunID.is_valid(run_id) and UserID.is_valid(user_id):
            await self.cancel(RunID(run_id), UserID(user_id))

    async def drain(self, grace_s: float) -> None:
        """Stop admitting; wait up to ``grace_s`` for runs in flight, then interrupt the rest."""
        self.accepting = False
        pending = [t for t in self._tasks.values() if not t.done()]
        if pending:
            _, still = await asyncio.wait(pending, timeout=grace_s)
            for task in still:
                task.cancel()
            if still:
                await asyncio.wait(still, timeout=5)

    async def interrupt_orphans(self) -> int:
        """End the runs that died with their node as ``interrupted``; how many were ended."""

        async def end(scope: RunScope) -> bool:
            return await self._fail(
                scope,
                AgentErrorCode.INTERRUPTED,
                "the server stopped during this run; send the message again",
                time.perf_counter(),
            )

        return await orphans.end_orphans(
            self._db, self._node_id, self.agent.name, self._orphan_timeout_s, end
        )

    async def _emit(self, scope: RunScope, event: dict[str, Any]) -> dict[str, Any]:
        async with self._db.as_user(scope.user_id) as conn:
            stored = await events.append(conn, scope.user_id, scope.run_id, event)
        await self._bus.publish(stored)
        _honour_cancellation()
        return stored

    async def _history(self, user_id: UserID) -> tuple[DailyUsage, ...]:
        since = utcnow().date() - timedelta(days=HISTORY_DAYS)
        async with self._db.as_user(user_id) as conn:
            rows = await usage.by_day(conn, user_id, since, None)
        return tuple(
            DailyUsage(
                day=date.fromisoformat(r["day"]),
                runs=r["runs"],
                input_tokens=r["input_tokens"],
                output_tokens=r["output_tokens"],
                cost_usd=r["cost_usd"],
            )
            for r in rows
        )

    async def _execute(
        self, scope: RunScope, run: runs.Run, tier: Tier, content: str, ask_approval: bool
    ) -> None:
        async def work(started: float) -> None:
            await self._emit(
                scope, scope.event(EventType.AGENT_STARTED, message_id=str(run.message_id))
            )
            history = await self._history(scope.user_id)
            request = AgentRequest(content, tier, history, ask_approval=ask_approval)
            await self._drive(scope, request, started)

        await self._guarded(scope, work)

    async def _continue(self, scope: RunScope, go: pause.Continuation) -> None:
        """A paused run, answered: the same steps, from the paused tool's outcome on."""

        async def work(started: float) -> None:
            paused = {go.tool.value: (go.tool_call_id, started)}
            await self._drive(scope, go.request, started, skip=go.emitted, pending=paused)

        await self._guarded(scope, work)

    async def _guarded(
        self, scope: RunScope, work: Callable[[float], Coroutine[Any, Any, None]]
    ) -> None:
        """Run ``work`` within the run's time limit; any way it fails ends the run."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._timeout_s):
                await work(started)
        except asyncio.CancelledError:
            reason = AgentErrorCode.CANCELLED if self.accepting else AgentErrorCode.INTERRUPTED
            await self._fail(scope, reason, f"the run was {reason.value}", started)
        except TimeoutError:
            await self._fail(
                scope, AgentErrorCode.TIMEOUT, f"no answer within {self._timeout_s:g} s", started
            )
        except Exception:
            log.exception("run %s failed", scope.run_id)
            await self._fail(scope, AgentErrorCode.INTERNAL, "the agent failed", started)

    async def _drive(
        self,
        scope: RunScope,
        request: AgentRequest,
        started: float,
        *,
        skip: int = 0,
        pending: dict[str, tuple[ToolCallID, float]] | None = None,
    ) -> None:
        """Emit the agent's steps after the first ``skip`` (emitted before a pause)."""
        pending = dict(pending or {})
        for index, step in enumerate(self.agent.steps(request), start=1):
            if index <= skip:
                continue
            _honour_cancellation()
            if self._step_delay_s:
                await asyncio.sleep(self._step_delay_s)  # simulated model latency (config)
            if isinstance(step, Thinking):
                await self._emit(
                    scope,
                    scope.event(EventType.AGENT_THINKING, reasoning=step.reasoning, step=step.step),
                )
            elif isinstance(step, ToolCall) and step.approval is not None:
                await self._pause(scope, request, step, index)
                return  # the run waits for the user's answer (§12.1)
            elif isinstance(step, ToolCall):
                call_id = ToolCallID.new()
                pending[step.tool.value] = (call_id, time.perf_counter())
                await self._emit(
                    scope,
                    scope.event(
                        EventType.TOOL_EXECUTING,
                        tool_call_id=str(call_id),
                        tool_name=step.tool.value,
                        parameters=step.parameters,
                    ),
                )
            elif isinstance(step, ToolOutcome):
                call_id, began = pending.pop(step.tool.value)
                await self._emit(
                    scope,
                    scope.event(
                        EventType.TOOL_COMPLETED,
                        tool_call_id=str(call_id),
                        tool_name=step.tool.value,
                        results=step.results,
                        success=step.success,
                        duration_ms=_ms_since(began),
                    ),
                )
            elif isinstance(step, Completion):
                await self._complete(scope, step, started)

    async def _pause(
        self, scope: RunScope, request: AgentRequest, step: ToolCall, emitted: int
    ) -> None:
        event = scope.event(
            EventType.TOOL_EXECUTING,
            tool_call_id=str(ToolCallID.new()),
            tool_name=step.tool.value,
            parameters=step.parameters,
            **pause.approval_fields(InterruptID.new(), step, request.tier),
        )
        async with self._db.as_user(scope.user_id) as conn:
            stored = await pause.pause(conn, scope, event, request=request, emitted=emitted)
        await self._ended(scope.run_id, stored)  # nothing of it runs until it is answered

    async def _complete(self, scope: RunScope, done: Completion, started: float) -> None:
        fields: dict[str, Any] = {
            "final_response": done.final_response,
            "result": done.result,
            "usage": done.usage.to_dict(),
            "duration_ms": _ms_since(started),
        }
        if done.upgrade is not None:
            fields["upgrade"] = done.upgrade.to_dict()
        event = scope.event(EventType.AGENT_COMPLETED, **fields)
        _honour_cancellation()
        async with self._db.as_user(scope.user_id) as conn:
            stored = await record_completion(conn, scope, done, event, utcnow().date())
        if stored is None:
            return  # ended elsewhere (cancelled or interrupted): nothing more to write
        await self._ended(scope.run_id, stored)

    async def _fail(
        self, scope: RunScope, code: AgentErrorCode, message: str, started: float
    ) -> bool:
        """End the run with ``agent_error`` ``code``; ``False`` if it had ended already."""
        status = {
            AgentErrorCode.CANCELLED: RunStatus.CANCELLED,
            AgentErrorCode.INTERRUPTED: RunStatus.INTERRUPTED,
        }.get(code, RunStatus.FAILED)
        event = scope.event(
            EventType.AGENT_ERROR,
            code=code.value,
            message=message,
            retryable=code in (AgentErrorCode.TIMEOUT, AgentErrorCode.INTERRUPTED),
        )
        # A run must end even if the database is away when it fails (that is often why it
        # failed): keep trying, with backoff, for as long as the run is still ours to end.
        for attempt, delay in enumerate(END_RETRY_DELAYS_S):
            try:
                async with self._db.as_user(scope.user_id) as conn:
                    ended = await runs.finish(
                        conn, scope.run_id, status=status, error_code=code.value
                    )
                    if not ended:
                        return False
                    stored = await events.append(conn, scope.user_id, scope.run_id, event)
                break
            except DatabaseUnavailable as exc:
                if attempt == len(END_RETRY_DELAYS_S) - 1:
                    # Still 'running': the next server to start after this one ends it.
                    log.error("run %s: could not record its end (%s): %s", scope.run_id, code, exc)
                    return False
                await asyncio.sleep(delay)
        await self._ended(scope.run_id, stored)
        return True

    async def _ended(self, run_id: RunID, terminal: dict[str, Any]) -> None:
        """The run's end is committed: it can no longer be cancelled, and its last event
        goes out even if the run's task is cancelled meanwhile."""
        self._forget(run_id)
        with contextlib.suppress(Exception):
            await asyncio.shield(self._bus.publish(terminal))


def _honour_cancellation() -> None:
    """Raise if this task was asked to stop, even if an await swallowed the request.

    On Python 3.11, ``asyncio.wait_for`` (which redis-py wraps around its I/O) drops a
    cancellation that arrives as its inner call completes; ``cancelling()`` still
    counts it, so checking between steps makes a cancel (or a timeout) stick.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _ms_since(began: float) -> float:
    return round((time.perf_counter() - began) * 1000, 3)
