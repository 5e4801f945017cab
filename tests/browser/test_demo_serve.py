"""``golden-path demo --serve``: after the scripted journeys, a person can use the chat page.

The demo runs as its own process, as a person would start it; the test reads the
URL it prints, uses the page there in Chromium, then stops it with SIGINT (Ctrl-C)
and expects a clean exit (the embedded services stop with it).
"""

from __future__ import annotations

import asyncio
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from playwright.async_api import Page

from tests.browser.support import SAVINGS_QUESTION, ChatPage, new_email

pytestmark = [
    pytest.mark.browser,
    pytest.mark.golden_path,
    pytest.mark.slow,
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="The demo ends on a page a person can sign up on and ask, on the same "
        "machine, with nothing else to start",
        revenue_impact="The demo is how teams evaluate the product: a demo that stops at a "
        "terminal transcript sells less than one they can click through",
    ),
]

START_TIMEOUT_S = 120.0  # embedded services plus one journey per tier, on a loaded machine
STOP_TIMEOUT_S = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Demo:
    """``golden-path demo --serve --port PORT`` in its own process group, its output in a queue."""

    def __init__(self, port: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "golden_path.cli", "demo", "--serve", "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for_line(self, prefix: str) -> str:
        while True:
            try:
                line = self.lines.get(timeout=START_TIMEOUT_S)
            except queue.Empty:
                raise AssertionError(f"no {prefix!r} line; output: {self.seen[-20:]}") from None
            if line is None:
                code = self.process.wait()
                raise AssertionError(f"the demo exited {code} first: {self.seen[-20:]}")
            self.seen.append(line)
            if line.startswith(prefix):
                return line

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(STOP_TIMEOUT_S)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT_S)


@pytest.fixture
def demo() -> Iterator[Demo]:
    process = Demo(_free_port())
    try:
        yield process
    finally:
        process.kill()  # only if the test did not stop it


async def test_the_demo_prints_the_chat_page_url_and_serves_it_until_ctrl_c(
    demo: Demo, page: Page
) -> None:
    line = await asyncio.to_thread(demo.wait_for_line, "chat page: ")
    url = line.split()[2].rstrip("/")
    assert url.startswith("http://127.0.0.1:"), line
    assert any("Every journey behaved as the protocol says." in seen for seen in demo.seen), (
        "".join(demo.seen[-40:])
    )

    chat = ChatPage(page)
    await (await chat.open(url)).sign_up(new_email("demo"))
    await chat.expect_online()  # the page's origin is on the demo server's allow-list
    run = await chat.ask_and_wait(SAVINGS_QUESTION)
    assert [kind for _, kind in await chat.shown_events(run)][-1] == "agent_completed"

    assert await asyncio.to_thread(demo.interrupt) == 0, demo.seen[-20:]
