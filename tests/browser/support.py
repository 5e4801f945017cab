"""What the browser tests share: a network the test can cut, and the chat page as a person uses it.

``CuttableProxy`` is a TCP proxy the page is loaded through. ``cut()`` resets every
connection through it and refuses new ones, which is what a browser sees when the
network drops (its WebSocket closes 1006, its requests fail); ``restore()`` lets
traffic through again. (Playwright's ``context.set_offline(True)`` does not do
this: measured on Chromium 156, an open WebSocket neither closes nor delivers.)

``ChatPage`` drives the page only through what a person sees and does: fields,
buttons, text. Each run event the page shows is an element with ``data-seq`` and
``data-type``, which is how the tests count what was shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from playwright.async_api import Locator, Page, expect

from golden_path.client import GoldenPathHTTP, GoldenPathSocket, TokenSet
from golden_path.protocol import TERMINAL_EVENTS, websocket_url
from golden_path.server.runner import ServerThread
from golden_path.testing.identity.users import EMAIL_DOMAIN

WAIT_MS = 15_000
WAIT_S = WAIT_MS / 1000
PASSWORD = "correct horse battery staple"
# The reference agent needs cost_optimizer (Early) for this question: its answer carries
# an upgrade prompt on the free plan, and every run of it emits all five golden events.
SAVINGS_QUESTION = "We send 2M tokens/day to gpt-4o. How can we save?"
TERMINAL_TYPES = frozenset(t.value for t in TERMINAL_EVENTS)


def new_email(label: str = "browser") -> str:
    return f"{label}-{uuid.uuid4().hex}@{EMAIL_DOMAIN}"


class CuttableProxy:
    """A TCP proxy on 127.0.0.1 in its own thread, whose network the test can cut and restore."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="browser-test-proxy", daemon=True
        )
        self._upstream: tuple[str, int] | None = None
        self._cut = False
        self._open: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    def start(self) -> CuttableProxy:
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    def forward_to(self, host: str, port: int) -> None:
        self._upstream = (host, port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def cut(self) -> None:
        """Reset every open connection (both ends) and refuse new ones until ``restore()``."""

        async def cut() -> None:
            self._cut = True
            for writer in list(self._open):
                writer.transport.abort()

        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(cut(), self._loop))

    def restore(self) -> None:
        self._cut = False

    def stop(self) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()
            for writer in list(self._open):
                writer.transport.abort()

        try:
            self._call(stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(WAIT_S)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._cut or self._upstream is None:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            writer.transport.abort()
            return
        self._open.update((writer, up_writer))
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            for end in (writer, up_writer):
                self._open.discard(end)
                end.transport.abort()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Copy until either side ends; then the other end is reset too (by ``_accept``)."""
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        sink.transport.abort()


@dataclass
class PageServer:
    """A reference server reached through a ``CuttableProxy``, whose allow-list holds its URL."""

    thread: ServerThread
    proxy: CuttableProxy

    @property
    def url(self) -> str:
        """Where the page is loaded from: its origin is the one the server allows."""
        return self.proxy.url

    @property
    def direct_url(self) -> str:
        """The server itself, bypassing the proxy (for the test's own checks)."""
        return self.thread.base_url


class ChatPage:
    """The chat page, as a person uses it."""

    def __init__(self, page: Page) -> None:
        self.page = page

    async def open(self, url: str) -> ChatPage:
        await self.page.goto(url + "/")
        heading = self.page.get_by_role("heading", name="Sign in or create an account")
        await expect(heading).to_be_visible()
        return self

    async def sign_up(self, email: str, password: str = PASSWORD) -> None:
        await self.page.get_by_label("Email").fill(email)
        await self.page.get_by_label("Password").fill(password)
        await self.page.get_by_role("button", name="Sign up", exact=True).click()
        await expect(self.page.locator("#who")).to_have_text(email)

    async def log_in(self, email: str, password: str = PASSWORD) -> None:
        await self.page.get_by_label("Email").fill(email)
        await self.page.get_by_label("Password").fill(password)
        await self.page.get_by_role("button", name="Log in", exact=True).click()
        await expect(self.page.locator("#who")).to_have_text(email)

    async def log_out(self) -> None:
        await self.page.get_by_role("button", name="Log out").click()
        heading = self.page.get_by_role("heading", name="Sign in or create an account")
        await expect(heading).to_be_visible()

    async def expect_online(self) -> None:
        await expect(self.connection).to_have_attribute("data-state", "online")

    @property
    def connection(self) -> Locator:
        return self.page.locator("#connection")

    @property
    def tier(self) -> Locator:
        return self.page.locator("#tier")

    async def ask(self, text: str) -> Locator:
        """Type and send ``text``; the page's element for that message."""
        await self.page.get_by_placeholder("Ask about your LLM spend").fill(text)
        await self.page.get_by_role("button", name="Send", exact=True).click()
        request_id = await self.page.locator("li.msg.user").last.get_attribute("data-request-id")
        # Pinned to this message (``.last`` would move on to the next one asked).
        return self.page.locator(f'li.msg.user[data-request-id="{request_id}"]')

    def run_after(self, message: Locator) -> Locator:
        """The run the page shows right after ``message``."""
        return message.locator("xpath=following-sibling::li[1][contains(@class, 'run')]")

    def notice_after(self, message: Locator) -> Locator:
        return message.locator("xpath=following-sibling::li[1][contains(@class, 'notice')]")

    async def ask_and_wait(self, text: str) -> Locator:
        """Ask, and wait until the page shows the run's answer; the run's element."""
        run = self.run_after(await self.ask(text))
        await expect(run).to_have_attribute("data-status", "succeeded")
        return run

    async def shown_events(self, scope: Locator | None = None) -> list[tuple[int, str]]:
        """Every event the page shows, in the page's order, as (seq, type)."""
        root = scope if scope is not None else self.page.locator("#messages")
        pairs = await root.locator("[data-seq]").evaluate_all(
            "nodes => nodes.map(n => [Number(n.dataset.seq), n.dataset.type])"
        )
        return [(int(seq), str(kind)) for seq, kind in pairs]


class Account:
    """The test's own access to a user the page signed up: straight to the server, no proxy."""

    def __init__(self, server: PageServer, api: GoldenPathHTTP, tokens: TokenSet) -> None:
        self.server = server
        self.api = api
        self.access_token = tokens.access_token

    @classmethod
    @contextlib.asynccontextmanager
    async def login(cls, server: PageServer, email: str) -> AsyncIterator[Account]:
        async with GoldenPathHTTP(server.direct_url) as api:
            yield cls(server, api, await api.login(email, PASSWORD))

    async def run(self, run_id: str) -> dict[str, Any]:
        return await self.api.run(self.access_token, run_id)

    async def threads(self) -> list[dict[str, Any]]:
        return list((await self.api.threads(self.access_token, limit=100))["threads"])

    async def wait_for_run_end(self, run_id: str) -> dict[str, Any]:
        """The run's terminal event, read on a socket of the test's own (from seq 0, then live)."""
        async with await GoldenPathSocket.connect(
            websocket_url(self.server.direct_url), self.access_token
        ) as sock:
            await sock.resume(0)
            return await sock.wait_for(
                lambda f: f.get("run_id") == run_id and f.get("type") in TERMINAL_TYPES,
                WAIT_S,
                what=f"the end of {run_id}",
            )
