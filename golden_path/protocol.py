"""The names and numbers of protocol v1, defined once: event types, frames, error and close codes.

The server, the harness's client, the event-contract checker and the docs all
read these; none of them spells a type or a code as a literal of its own.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

PROTOCOL_NAME = "golden-path.v1"
BEARER_SUBPROTOCOL_PREFIX = "bearer."
MAX_FRAME_BYTES = 64 * 1024
PROTOCOL_ERRORS_PER_MINUTE = 20
TICKET_TTL_SECONDS = 30
WEBSOCKET_PATH = "/ws"


def websocket_url(base_url: str) -> str:
    """The protocol's WebSocket URL on the server at ``base_url`` (``http(s)`` → ``ws(s)``)."""
    base = base_url.rstrip("/")
    for plain, secure in (("http://", "ws://"), ("https://", "wss://")):
        if base.startswith(plain):
            base = secure + base[len(plain) :]
    return base + WEBSOCKET_PATH


class EventType(StrEnum):
    """Run events (§5). The first five are the golden path; a successful run emits all five."""

    AGENT_STARTED = "agent_started"
    AGENT_THINKING = "agent_thinking"
    TOOL_EXECUTING = "tool_executing"
    TOOL_COMPLETED = "tool_completed"
    AGENT_COMPLETED = "agent_completed"
    AGENT_ERROR = "agent_error"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_EVENTS


GOLDEN_EVENTS: tuple[EventType, ...] = (
    EventType.AGENT_STARTED,
    EventType.AGENT_THINKING,
    EventType.TOOL_EXECUTING,
    EventType.TOOL_COMPLETED,
    EventType.AGENT_COMPLETED,
)
TERMINAL_EVENTS: frozenset[EventType] = frozenset(
    {EventType.AGENT_COMPLETED, EventType.AGENT_ERROR}
)

# Fields every run event carries, whatever its type.
COMMON_EVENT_FIELDS: tuple[str, ...] = (
    "type",
    "seq",
    "event_id",
    "user_id",
    "thread_id",
    "run_id",
    "request_id",
    "agent_name",
    "timestamp",
)

# Each event type's own fields; a trailing "?" marks an optional one.
EVENT_FIELDS: dict[EventType, tuple[str, ...]] = {
    EventType.AGENT_STARTED: ("message_id",),
    EventType.AGENT_THINKING: ("reasoning", "step"),
    EventType.TOOL_EXECUTING: ("tool_call_id", "tool_name", "parameters"),
    EventType.TOOL_COMPLETED: ("tool_call_id", "tool_name", "results", "success", "duration_ms"),
    EventType.AGENT_COMPLETED: ("final_response", "result", "usage", "duration_ms", "upgrade?"),
    EventType.AGENT_ERROR: ("code", "message", "retryable"),
}


# The field of a ``tool_executing`` event whose tool waits for the user's approval: the
# run pauses there (only runs started over AG-UI, §12.1).
APPROVAL_FIELD = "approval_required"


class AgentErrorCode(StrEnum):
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    INTERRUPTED = "interrupted"
    INTERNAL = "internal"


class ClientFrame(StrEnum):
    USER_MESSAGE = "user_message"
    RESUME = "resume"
    CANCEL = "cancel"
    AUTHENTICATE = "authenticate"
    PING = "ping"


class ServerFrame(StrEnum):
    CONNECTION_ESTABLISHED = "connection_established"
    PONG = "pong"
    ERROR = "error"
    AUTHENTICATED = "authenticated"


class ErrorCode(StrEnum):
    """Errors that keep the connection open (§6)."""

    INVALID_JSON = "invalid_json"
    INVALID_MESSAGE = "invalid_message"
    UNKNOWN_TYPE = "unknown_type"
    UNSUPPORTED_FRAME = "unsupported_frame"
    MESSAGE_TOO_LONG = "message_too_long"
    RATE_LIMITED = "rate_limited"
    CONCURRENCY_LIMIT = "concurrency_limit"
    QUOTA_EXCEEDED = "quota_exceeded"
    THREAD_NOT_FOUND = "thread_not_found"
    THREAD_ARCHIVED = "thread_archived"
    UNAVAILABLE = "unavailable"


# Errors that count towards the "more than 20 protocol errors a minute" close (4400).
PROTOCOL_ERROR_CODES: frozenset[ErrorCode] = frozenset(
    {
        ErrorCode.INVALID_JSON,
        ErrorCode.INVALID_MESSAGE,
        ErrorCode.UNKNOWN_TYPE,
        ErrorCode.UNSUPPORTED_FRAME,
    }
)


# Errors whose frame always says (``retryable``) whether sending again can succeed.
RETRYABLE_REPORTED: frozenset[ErrorCode] = frozenset(
    {ErrorCode.UNAVAILABLE, ErrorCode.RATE_LIMITED}
)


class CloseCode(IntEnum):
    """WebSocket close codes (§7)."""

    NORMAL = 1000
    GOING_AWAY = 1001
    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011
    SLOW_CONSUMER = 1013
    PROTOCOL_ERRORS = 4400
    UNAUTHORIZED = 4401
    FORBIDDEN_ORIGIN = 4403
    TOO_MANY_CONNECTIONS = 4429


class MessageRole(StrEnum):
    """Who wrote a message of a thread (``GET /threads/{id}``)."""

    USER = "user"
    ASSISTANT = "assistant"


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
