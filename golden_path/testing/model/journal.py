"""The journal: every request the model received, per namespace (per test).

Each :class:`JournalEntry` keeps the request's headers with credentials redacted, its
body, which script answered (or the autopilot), the status and any problem (a
request no script matched, a scripted call of a tool the request did not offer).
A :class:`Namespace` owns a test's scripts, journal and problems.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from golden_path.testing.model.script import Entry, Script

SECRET_HEADERS = frozenset(
    {"authorization", "x-api-key", "api-key", "cookie", "proxy-authorization", "x-goog-api-key"}
)
REDACTED = "[redacted]"
MAX_ENTRIES = 1000  # a namespace's journal keeps the most recent ones
MAX_BODY_CHARS = 64 * 1024  # a body longer than this is kept cut, in the report too


def redact(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        name: (REDACTED if name.lower() in SECRET_HEADERS else value)
        for name, value in headers.items()
    }


@dataclass
class JournalEntry:
    method: str
    path: str
    wire: str | None
    headers: dict[str, str]
    body: Any
    script: str | None = None  # the label of the script that answered, "autopilot", or None
    status: int = 200
    problem: str | None = None

    def format(self) -> str:
        body = json.dumps(self.body, indent=1, default=str)
        if len(body) > 4000:
            body = body[:4000] + " ... (cut)"
        answered = self.script or "nothing"
        lines = [f"{self.method} {self.path} -> {self.status} (answered by {answered})"]
        if self.problem:
            lines.append(f"  PROBLEM: {self.problem}")
        lines.append("  headers: " + json.dumps(self.headers))
        lines.append("  body: " + body.replace("\n", "\n  "))
        return "\n".join(lines)


@dataclass
class Namespace:
    name: str
    scripts: list[Entry] = field(default_factory=list)
    journal: list[JournalEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, script: Script) -> Entry:
        with self.lock:
            label = script.name or f"#{len(self.scripts) + 1}"
            entry = Entry(script, repr(label) if script.name else label)
            self.scripts.append(entry)
            return entry

    def record(self, entry: JournalEntry) -> None:
        with self.lock:
            self.journal.append(entry)
            del self.journal[:-MAX_ENTRIES]
            if entry.problem:
                self.problems.append(f"{entry.method} {entry.path}: {entry.problem}")

    def format(self) -> str:
        with self.lock:
            entries = list(self.journal)
        if not entries:
            return "(the model received no request)"
        return "\n\n".join(f"[{i}] {e.format()}" for i, e in enumerate(entries))


def clip_body(raw: bytes) -> Any:
    """The body as the journal keeps it: parsed JSON, else text, cut at ``MAX_BODY_CHARS``."""
    text = raw[:MAX_BODY_CHARS].decode("utf-8", "replace")
    if len(raw) <= MAX_BODY_CHARS:
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text + " ... (cut)"
