"""The one type for "no" that a client hears as an ``error`` frame (protocol §6).

Admission (a quota, a limit, a missing thread), the run service (a message too
long, the rate limit, an outage), a frame that does not parse and a cancel that
finds nothing all answer with a :class:`Refusal`; the socket sends
``refusal.to_frame()`` and the connection stays open. (A handshake that fails
answers with a close code instead: ``ws.handshake.Denied``.)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from golden_path.protocol import RETRYABLE_REPORTED, ErrorCode, ServerFrame


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request was not carried out, with what the client needs to act on it."""

    code: ErrorCode
    message: str
    details: list[dict[str, str]] | None = None
    request_id: str | None = None
    retry_after_ms: int | None = None
    upgrade: dict[str, str] | None = None
    retryable: bool = False

    def for_request(self, request_id: str | None) -> Refusal:
        """This refusal, answering the request ``request_id`` (kept if already set)."""
        return self if self.request_id or not request_id else replace(self, request_id=request_id)

    def to_frame(self) -> dict[str, Any]:
        """The ``error`` frame; ``retryable`` only for the codes that always carry it."""
        frame: dict[str, Any] = {
            "type": ServerFrame.ERROR.value,
            "code": self.code.value,
            "message": self.message,
        }
        if self.details:
            frame["details"] = self.details
        if self.request_id:
            frame["request_id"] = self.request_id
        if self.retry_after_ms is not None:
            frame["retry_after_ms"] = self.retry_after_ms
        if self.upgrade is not None:
            frame["upgrade"] = self.upgrade
        if self.code in RETRYABLE_REPORTED:
            frame["retryable"] = self.retryable
        return frame


def unavailable(what: str, *, retryable: bool = True) -> Refusal:
    """``unavailable``: a backing service is away; nothing was changed."""
    return Refusal(ErrorCode.UNAVAILABLE, what, retryable=retryable)
