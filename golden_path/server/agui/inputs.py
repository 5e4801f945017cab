"""A ``RunAgentInput`` read as what the run service takes: the content, the thread, the key.

* **content**: the text of the input's last message, which must be a user message
  (its string, or its text parts joined; none, or no text, is ``invalid_message``,
  as in protocol v1); earlier messages are the client's copy
  of the conversation, which the server keeps itself, and are not read.
* **thread**: AG-UI clients choose their ``threadId``. One that is a server thread
  id (``thr_`` + 32 hex digits) names that thread of the user (another user's, or
  none, is ``thread_not_found``, as in protocol v1). Any other string is the
  client's own name for a conversation: it maps to a thread of the user derived
  from it (the same string, the same thread), created by the first run that names it.
* **idempotency**: the ``runId`` is the run's ``request_id`` (protocol §6.3) when it
  is one (1-64 of ``[A-Za-z0-9_-]``), else a key derived from it; the same ``runId``
  again replays that run instead of starting another.
* **resume** (§12.1): an input with ``resume`` entries answers the interrupt a run
  paused on, and its messages are not read. This server pauses on one interrupt at a
  time, so it takes exactly one entry: ``status`` ``cancelled``, or ``resolved`` with
  the payload ``{"approved": false}``, denies the tool; ``resolved`` with
  ``{"approved": true}`` approves it; anything else is ``invalid_message``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ag_ui.core import RunAgentInput, TextPart, UserMessage

from golden_path.ids import RequestID, ThreadID, UserID
from golden_path.protocol import ErrorCode
from golden_path.server.refusal import Refusal

# Fixed forever: derived thread ids and request keys must not change between versions.
_NAMESPACE = uuid.UUID("8f8a6f0e-5b1f-4c53-9a55-2b8f2a4f6c11")


@dataclass(frozen=True, slots=True)
class RunRequest:
    """What a ``RunAgentInput`` asks of the run service."""

    content: str
    thread_id: ThreadID
    create_thread: bool  # True: the thread is the client's own, created on first use
    request_id: RequestID


def user_content(run_input: RunAgentInput) -> str | None:
    """The text of the input's last message if it is a user message (None otherwise)."""
    if not run_input.messages:
        return None
    last = run_input.messages[-1]
    if not isinstance(last, UserMessage):
        return None
    if isinstance(last.content, str):
        return last.content
    return "".join(part.text for part in last.content if isinstance(part, TextPart))


def thread_for(user_id: UserID, agui_thread_id: str) -> tuple[ThreadID, bool]:
    """The thread ``agui_thread_id`` names for ``user_id``, and whether it may be created."""
    if ThreadID.is_valid(agui_thread_id):
        return ThreadID(agui_thread_id), False
    derived = uuid.uuid5(_NAMESPACE, f"thread\n{user_id}\n{agui_thread_id}")
    return ThreadID(f"{ThreadID.prefix}{derived.hex}"), True


def request_for(agui_run_id: str) -> RequestID:
    """The idempotency key of the run ``agui_run_id`` names."""
    if RequestID.is_valid(agui_run_id):
        return RequestID(agui_run_id)
    derived = uuid.uuid5(_NAMESPACE, f"run\n{agui_run_id}")
    return RequestID(f"agui-{derived.hex}")


@dataclass(frozen=True, slots=True)
class ResumeRequest:
    """What a ``RunAgentInput`` with ``resume`` asks: answer this interrupt, so."""

    interrupt_id: str
    approved: bool
    thread_id: ThreadID
    request_id: RequestID


def _invalid(problem: str, field: str = "messages") -> Refusal:
    return Refusal(ErrorCode.INVALID_MESSAGE, problem, [{"field": field, "problem": problem}])


def read_resume(user_id: UserID, run_input: RunAgentInput) -> ResumeRequest | Refusal:
    """The answer ``run_input.resume`` gives, or ``invalid_message`` naming what is wrong."""
    entries = run_input.resume or []
    if len(entries) != 1:
        return _invalid(
            f"resume has {len(entries)} entries; this server pauses on one interrupt at a "
            "time: answer it with exactly one",
            "resume",
        )
    entry = entries[0]
    payload = entry.payload
    if entry.status == "cancelled":
        approved = False
    elif isinstance(payload, dict) and isinstance(payload.get("approved"), bool):
        approved = payload["approved"]
    else:
        return _invalid(
            'a resolved approval needs the payload {"approved": true} or {"approved": false}',
            "resume[0].payload",
        )
    thread_id, _ = thread_for(user_id, run_input.thread_id)
    return ResumeRequest(entry.interrupt_id, approved, thread_id, request_for(run_input.run_id))


def read_input(user_id: UserID, run_input: RunAgentInput) -> RunRequest | Refusal:
    """What ``run_input`` asks of the run service, or ``invalid_message`` (as v1 would)."""
    content = user_content(run_input)
    if content is None:
        return _invalid("the last message must be a user message")
    if not content:
        return _invalid("the last user message has no text")
    if "\x00" in content:
        return _invalid("the last user message contains NUL characters")
    thread_id, create = thread_for(user_id, run_input.thread_id)
    return RunRequest(content, thread_id, create, request_for(run_input.run_id))
