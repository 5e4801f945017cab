"""Building run events: the common fields of protocol §5 once, each type's own fields by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from golden_path.ids import EventID, RequestID, RunID, ThreadID, UserID
from golden_path.protocol import EventType
from golden_path.server.clock import rfc3339, utcnow


@dataclass(frozen=True, slots=True)
class RunScope:
    """The identifiers every event of one run carries."""

    user_id: UserID
    thread_id: ThreadID
    run_id: RunID
    request_id: RequestID
    agent_name: str

    def event(self, event_type: EventType, **fields: Any) -> dict[str, Any]:
        """A run event without its ``seq`` (the database assigns it when persisting)."""
        return {
            "type": event_type.value,
            "event_id": str(EventID.new()),
            "user_id": str(self.user_id),
            "thread_id": str(self.thread_id),
            "run_id": str(self.run_id),
            "request_id": str(self.request_id),
            "agent_name": self.agent_name,
            "timestamp": rfc3339(utcnow()),
            **fields,
        }
