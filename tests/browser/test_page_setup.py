"""Without a browser the browser tier errors, saying what to install; the page ships whole.

Neither test needs Chromium: one runs an inner pytest whose Chromium is missing, the
other reads the page's files over HTTP as a browser would fetch them.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.browser.conftest import CHROMIUM_ENV
from tests.browser.support import PageServer

pytestmark = [
    pytest.mark.stage("websocket"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="The browser tier cannot pass by not running: a machine without "
        "Chromium fails it with the command that installs it; the page needs nothing "
        "from any other host",
        revenue_impact="A silently skipped browser tier would ship a broken sign-up page "
        "with a green build",
    ),
]


def test_a_missing_chromium_is_an_error_naming_the_install_script(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeconftest("from tests.browser.conftest import browser, chromium  # noqa: F401\n")
    pytester.makepyfile(test_needs_a_browser="def test_page(browser):\n    assert browser\n")
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
        "asyncio_default_test_loop_scope = function\n"
    )
    monkeypatch.setenv(CHROMIUM_ENV, str(pytester.path / "no-such-chromium"))
    result = pytester.runpytest_inprocess("-p", "no:randomly", "--gp-bvj=off")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*install chromium: bash scripts/install-browser.sh*"])
    assert "skipped" not in result.stdout.str()


def test_the_page_and_its_files_come_from_the_server_and_reference_no_other_host(
    page_server: PageServer,
) -> None:
    with httpx.Client(base_url=page_server.direct_url, timeout=10) as http:
        index = http.get("/")
        script = http.get("/static/app.js")
        style = http.get("/static/style.css")
        missing = http.get("/static/nothing.js")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    policy = index.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert style.status_code == 200
    assert style.headers["content-type"].startswith("text/css")
    assert missing.status_code == 404
    assert 'src="/static/app.js"' in index.text
    assert 'href="/static/style.css"' in index.text
    for name, body in (
        ("index.html", index.text),
        ("app.js", script.text),
        ("style.css", style.text),
    ):
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", body), f"{name} names a host"
    # Server text reaches the page as text: the script never assigns markup.
    assert "innerHTML" not in script.text.replace("never innerHTML", "")
    assert "localStorage" not in script.text.replace("never localStorage", "")
