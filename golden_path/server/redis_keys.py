"""Every Redis key and channel the server uses, under one configurable prefix.

Redis holds only what may be lost without losing data (protocol §9): refresh
families and denials, tickets, rate-limit counters, socket presence and the
channel that carries events between server nodes. Every channel is a plain name
under the prefix (no pattern subscription), so an ACL that allows the channels
``<prefix>*`` only (the test harness's per-worker users) allows all of them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RedisKeys:
    prefix: str = "gp:"

    def family(self, family: str) -> str:
        return f"{self.prefix}auth:family:{family}"

    def denied(self, jti: str) -> str:
        return f"{self.prefix}auth:denied:{jti}"

    def session_epoch(self, user_id: str) -> str:
        return f"{self.prefix}auth:epoch:{user_id}"

    def throttle(self, kind: str, subject: str, window: int) -> str:
        return f"{self.prefix}throttle:{kind}:{subject}:{window}"

    def ticket(self, ticket: str) -> str:
        return f"{self.prefix}auth:ticket:{ticket}"

    def message_rate(self, user_id: str, minute: int) -> str:
        return f"{self.prefix}rate:{user_id}:{minute}"

    def sockets(self, user_id: str) -> str:
        return f"{self.prefix}sockets:{user_id}"

    def agui_streams(self, user_id: str) -> str:
        return f"{self.prefix}agui-streams:{user_id}"

    def events_channel(self) -> str:
        """Every user's events, between nodes (each message names its user)."""
        return f"{self.prefix}events"

    def control_channel(self) -> str:
        return f"{self.prefix}control"
