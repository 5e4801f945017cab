"""Progress on stderr: one-off lines (``say``) and one updating line of runs and their rate."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import deque


def say(text: str) -> None:
    """One line of progress on stderr (stdout is for the table)."""
    print(text, file=sys.stderr, flush=True)


class Progress:
    """One updating line on stderr: runs completed (of how many) and the current rate."""

    def __init__(self) -> None:
        self.label = ""
        self.total: int | None = None
        self.done = 0
        self.detail = ""
        self._samples: deque[tuple[float, int]] = deque()
        self._task: asyncio.Task[None] | None = None
        self._tty = sys.stderr.isatty()
        self._width = 0

    def begin(self, label: str, total: int | None) -> None:
        self.end()
        self.label, self.total, self.done, self.detail = label, total, 0, ""
        self._samples.clear()
        self._task = asyncio.create_task(self._show())

    def tick(self) -> None:
        self.done += 1

    def end(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        self._task = None
        self._draw()
        sys.stderr.write("\n")
        sys.stderr.flush()
        self._width = 0

    def _rate(self) -> float:
        now = time.perf_counter()
        self._samples.append((now, self.done))
        while len(self._samples) > 2 and self._samples[1][0] <= now - 1.0:
            self._samples.popleft()  # keep the newest sample at least a second old
        (t0, d0), (t1, d1) = self._samples[0], self._samples[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 else 0.0

    def _draw(self) -> None:
        total = f"/{self.total}" if self.total is not None else ""
        text = f"{self.label}: {self.done}{total} runs, {self._rate():.0f} runs/s {self.detail}"
        text = text.rstrip()
        pad = max(0, self._width - len(text))
        self._width = len(text)
        sys.stderr.write("\r" + text + " " * pad)
        sys.stderr.flush()

    async def _show(self) -> None:
        interval = 0.25 if self._tty else 2.0
        while True:
            self._draw()
            await asyncio.sleep(interval)
