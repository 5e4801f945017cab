"""The browser tier: Debian's Chromium, headless, driven by Playwright, against the chat page.

The browser is installed by ``bash scripts/install-browser.sh`` (``make test`` runs
it). Where it is missing, every browser test ERRORS with what to install; none is
ever skipped. ``GOLDEN_PATH_CHROMIUM`` names another Chromium binary.

Servers: each ``PageServer`` is a reference server on this worker's services
(``gp_services``), reached through a ``CuttableProxy`` whose URL is the one origin
on the server's allow-list. The page is loaded through the proxy, so the test can
cut the page's network. ``evil.test`` resolves to 127.0.0.1 in this browser: the
same page loaded from ``http://evil.test:PORT`` has an origin off the allow-list.

Artifacts (a screenshot of every failing test's page, and what tests save on
purpose) go to ``DIR/browser-artifacts`` with ``--gp-report=DIR``, else to pytest's
temporary directory.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from golden_path.server.config import SUITE_LIMITS, Settings
from golden_path.server.runner import ServerThread
from golden_path.services.model import Services
from tests.browser.support import WAIT_MS, ChatPage, CuttableProxy, PageServer

CHROMIUM_ENV = "GOLDEN_PATH_CHROMIUM"
DEBIAN_CHROMIUM = "/usr/lib/chromium/chromium"
INSTALL_HINT = "install chromium: bash scripts/install-browser.sh"
FOREIGN_HOST = "evil.test"
# The slow node's agent waits this long before each step, so a run lasts about 3 s: long
# enough to cut the network after its first event and have the rest happen meanwhile.
SLOW_STEP_DELAY_MS = 500


def _start_page_server(services: Services, **overrides: object) -> PageServer:
    """A reference server on ``services`` whose allow-list holds only its proxy's URL."""
    proxy = CuttableProxy().start()
    try:
        # Like the harness's reference servers: fast hashing for test users, and the
        # throttles far above what a suite signing users up from 127.0.0.1 does.
        settings = Settings(
            postgres_dsn=services.postgres_dsn,
            redis_url=services.redis_url,
            redis_prefix=services.redis_namespace or "gp:",
            password_hash_profile="fast",
            allowed_origins=(proxy.url,),
            **{**SUITE_LIMITS, **overrides},  # type: ignore[arg-type]
        ).validated()
        server = ServerThread(settings).start()
    except BaseException:
        proxy.stop()
        raise
    proxy.forward_to(server.host, server.port)
    return PageServer(server, proxy)


def _stop_page_server(server: PageServer) -> None:
    try:
        server.thread.stop()
    finally:
        server.proxy.stop()


@pytest.fixture(scope="session")
def page_server(gp_services: Services) -> Iterator[PageServer]:
    """A reference server whose allow-list holds the page's origin (its proxy's URL)."""
    server = _start_page_server(gp_services)
    try:
        yield server
    finally:
        _stop_page_server(server)


@pytest.fixture(scope="session")
def slow_page_server(gp_services: Services) -> Iterator[PageServer]:
    """Like ``page_server``, with an agent that takes ``SLOW_STEP_DELAY_MS`` per step."""
    server = _start_page_server(gp_services, agent_step_delay_ms=SLOW_STEP_DELAY_MS)
    try:
        yield server
    finally:
        _stop_page_server(server)


@pytest.fixture(autouse=True)
def _network_restored(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that cut a proxy's network never leaves it cut for the next one."""
    yield
    for name in ("page_server", "slow_page_server"):
        if name in request.fixturenames:
            server: PageServer = request.getfixturevalue(name)
            server.proxy.restore()


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The Chromium binary: a test that needs it ERRORS (never skips) when it is missing."""
    binary = Path(os.environ.get(CHROMIUM_ENV) or DEBIAN_CHROMIUM)
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        pytest.fail(
            f"the browser tests need Chromium at {binary}, which is missing; {INSTALL_HINT}",
            pytrace=False,
        )
    return binary


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    """Headless Chromium for this test.

    One per test: Playwright's async API lives on the test's event loop (its sync API
    would block every asyncio test after it in the same worker).
    """
    expect.set_options(timeout=WAIT_MS)
    async with async_playwright() as playwright:
        try:
            # Playwright adds --no-sandbox (required as root) and --disable-dev-shm-usage.
            chromium = await playwright.chromium.launch(
                executable_path=str(chromium),
                args=[f"--host-resolver-rules=MAP {FOREIGN_HOST} 127.0.0.1"],
            )
        except Exception as exc:
            pytest.fail(f"Chromium at {chromium} did not start ({exc}); {INSTALL_HINT}")
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def page(
    browser: Browser, artifacts_dir: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Page]:
    """A fresh page; an uncaught JavaScript error fails the test, a failure leaves a screenshot."""
    context = await browser.new_context(viewport={"width": 1280, "height": 820})
    context.set_default_timeout(WAIT_MS)
    new_page = await context.new_page()
    errors: list[str] = []
    new_page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield new_page
        report = getattr(request.node, "gp_call_report", None)
        if report is not None and report.failed:
            shot = artifacts_dir / f"{request.node.name}.failed.png"
            await new_page.screenshot(path=str(shot), full_page=True)
            print(f"browser screenshot of the failed test: {shot}")
        assert not errors, f"the page raised JavaScript errors: {errors}"
    finally:
        await context.close()


@pytest.fixture
def chat(page: Page) -> ChatPage:
    return ChatPage(page)


@pytest.fixture(scope="session")
def artifacts_dir(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    report_dir = pytestconfig.getoption("gp_report")
    base = Path(report_dir) if report_dir else tmp_path_factory.getbasetemp()
    folder = base / "browser-artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep the call's report on the test, for the ``page`` fixture's teardown to read."""
    report = yield
    if report.when == "call":
        item.gp_call_report = report  # type: ignore[attr-defined]
    return report
