"""The HTML report renders in a real browser: its coverage matrix reads as the run it reports.

An inner pytest run (``pytester``) of a small suite writes ``--gp-report=DIR``; the
browser opens ``DIR/report.html`` from disk (it needs no server and no network), and
a screenshot of its matrix is saved as a test artifact (``report-matrix.png``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from golden_path.testing.markers import STAGES

pytestmark = [
    pytest.mark.browser,
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="The report people open shows which plan's golden path is covered, "
        "which is broken and which is untested, as the run found it",
        revenue_impact="A matrix that renders wrong hides an untested or failing path of a "
        "paying plan from the people who decide a release",
    ),
]

# free: one passing test per stage; early: three for events; mid: agent fails; enterprise: none.
SUITE = """
import pytest

STAGES = ("auth", "websocket", "agent", "events", "persistence")


def bvj(segment):
    return pytest.mark.bvj(
        segment=segment, goal="stability", value_impact="cells", revenue_impact="every plan"
    )


@pytest.mark.parametrize(
    "stage", [pytest.param(s, marks=[pytest.mark.stage(s), bvj("free")]) for s in STAGES]
)
def test_free(stage):
    assert stage


@bvj("early")
@pytest.mark.stage("events")
@pytest.mark.parametrize("n", range(3))
def test_early_events(n):
    assert n >= 0


@bvj("mid")
@pytest.mark.stage("agent")
def test_mid_agent():
    assert False, "the mid plan's agent broke"
"""


@pytest.fixture
def report_dir(pytester: pytest.Pytester) -> Path:
    """``--gp-report=DIR`` of an inner run of ``SUITE`` (one test fails on purpose)."""
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
        "gp_segments = free early mid enterprise\n"
        "asyncio_default_test_loop_scope = function\n"
    )
    suite = pytester.path / "tests" / "e2e" / "test_cells.py"
    suite.parent.mkdir(parents=True)
    suite.write_text(SUITE)
    result = pytester.runpytest_inprocess("-p", "no:randomly", "--gp-report=out")
    result.assert_outcomes(passed=8, failed=1)
    out = pytester.path / "out"
    assert (out / "report.html").is_file(), f"--gp-report wrote no report.html: {os.listdir(out)}"
    return out


def _heat_cells(matrix: dict[str, Any]) -> list[list[str]]:
    return [[str(row[stage]) for stage in STAGES] for row in matrix.values()]


async def test_the_report_matrix_renders_the_run_and_links_each_cell_to_its_tests(
    page: Page, report_dir: Path, artifacts_dir: Path
) -> None:
    html = report_dir / "report.html"
    matrix = json.loads((report_dir / "report.json").read_text())["matrix"]
    await page.goto(html.as_uri())

    table = page.locator("table.heat")
    await expect(table).to_be_visible()
    await expect(table.locator("thead th")).to_have_text(["segment \\ stage", *STAGES])
    await expect(table.locator("tbody th")).to_have_text(["free", "early", "mid", "enterprise"])
    expected = _heat_cells(matrix)
    expected[2][STAGES.index("agent")] = "0 ✗1"  # the failed test shows in its cell
    rows = table.locator("tbody tr")
    for index, cells in enumerate(expected):
        await expect(rows.nth(index).locator("td")).to_have_text(cells)
    assert matrix["early"]["events"] == 3
    assert matrix["free"]["auth"] == 1

    # The cells are coloured by what happened there: the stylesheet applied, not just markup.
    def cell(segment: int, stage: str) -> Any:
        return rows.nth(segment).locator("td").nth(STAGES.index(stage))

    colours = [
        await cell(*where).evaluate("td => getComputedStyle(td).backgroundColor")
        for where in ((2, "agent"), (3, "auth"), (1, "events"), (0, "auth"))
    ]
    assert len(set(colours)) == 4, f"failed, empty, fullest and sparse cells look alike: {colours}"

    # A cell links to the list of its tests.
    await cell(2, "agent").get_by_role("link").click()
    await expect(page).to_have_url(html.as_uri() + "#cell-mid-agent")
    section = page.locator("#cell-mid-agent")
    await expect(section.locator("h3")).to_have_text("mid × agent")
    await expect(section).to_contain_text("test_mid_agent")
    await expect(section).to_be_in_viewport()

    shot = artifacts_dir / "report-matrix.png"
    await page.goto(html.as_uri())
    await table.screenshot(path=str(shot))
    assert shot.stat().st_size > 1000


# -- the gate's parts: flaky, quarantine, value at risk, trends ------------------------------

# SUITE plus a test that fails on its first attempt of each run (a file counts attempts)
# and a quarantined test that fails.
GATE_SUITE = """
from pathlib import Path

import pytest


@pytest.mark.bvj(segment="early", goal="stability", value_impact="v", revenue_impact="r")
@pytest.mark.stage("auth")
def test_flaky():
    counter = Path(__file__).with_name("attempts.txt")
    attempt = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(attempt))
    assert attempt % 2 == 0, f"attempt {attempt} fails on purpose"


@pytest.mark.bvj(segment="enterprise", goal="retention", value_impact="v", revenue_impact="r")
@pytest.mark.stage("events")
def test_quarantined():
    assert False, "known broken"
"""
GATE_INI = (
    "gp_quarantine = quarantine.toml\n"
    "gp_segment_value = free=0 early=120000 mid=180000 enterprise=200000\n"
)
QUARANTINE = """\
[[quarantine]]
test = "tests/e2e/test_gate.py::test_quarantined"
owner = "alice@example.com"
reason = "the provider times out"
link = "https://tracker.example.com/GP-1"
expires = 2999-12-31
"""


@pytest.fixture
def gate_report_dir(pytester: pytest.Pytester) -> Path:
    """Three runs of ``SUITE`` and ``GATE_SUITE`` with reruns, a quarantine, values, history."""
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
        "gp_segments = free early mid enterprise\n"
        "asyncio_default_test_loop_scope = function\n" + GATE_INI
    )
    (pytester.path / "quarantine.toml").write_text(QUARANTINE)
    tests = pytester.path / "tests" / "e2e"
    tests.mkdir(parents=True)
    (tests / "test_cells.py").write_text(SUITE)
    (tests / "test_gate.py").write_text(GATE_SUITE)
    for _ in range(3):
        result = pytester.runpytest_inprocess(
            "-p", "no:randomly", "--reruns=1", "--gp-report=out", "--gp-history=history"
        )
        # test_mid_agent fails both attempts; test_flaky passes on its second.
        assert result.parseoutcomes() == {"passed": 9, "failed": 1, "xfailed": 1, "rerun": 2}
    return pytester.path / "out"


async def test_the_gate_parts_render_at_desktop_and_phone_width(
    page: Page, gate_report_dir: Path, artifacts_dir: Path
) -> None:
    # One report (three inner runs) read at both widths.
    for width in (1280, 390):
        await _check_gate_parts(page, gate_report_dir / "report.html", artifacts_dir, width)


async def _check_gate_parts(page: Page, html: Path, artifacts_dir: Path, width: int) -> None:
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    await page.set_viewport_size({"width": width, "height": 820})
    await page.goto(html.as_uri())
    assert fetched == [html.as_uri()], f"the page fetched more than itself: {fetched}"

    for anchor, text in (
        ("flaky", "test_flaky"),
        ("quarantine", "alice@example.com"),
        ("risk", "At risk: 180,000"),
        ("trends", "Trends over the last 3 runs"),
    ):
        await expect(page.locator(f"nav a[href='#{anchor}']")).to_be_visible()
        await expect(page.locator(f"#{anchor}")).to_contain_text(text)
    await expect(page.locator("#flaky .msg").first).to_contain_text(
        "attempt 1: AssertionError: attempt 5 fails on purpose"  # the third run's 5th attempt
    )
    quarantine_row = page.locator("#quarantine tbody tr")
    await expect(quarantine_row).to_contain_text("1 failed")
    await expect(page.locator(".failure .badge.status-still").first).to_have_text("still failing")

    # The trends: overall and each of the 20 cells, a bar per run and a line, drawn.
    rows = page.locator("table.trends tbody tr")
    await expect(rows).to_have_count(21)
    await expect(rows.first.locator("th")).to_have_text("overall")
    bars = rows.first.locator("svg.spark").first
    await expect(bars.locator("rect")).to_have_count(3)
    box = await bars.bounding_box()
    assert box is not None
    assert (box["width"], box["height"]) == (24, 24)
    colours = await bars.locator("rect").evaluate_all(
        "rects => rects.map(r => getComputedStyle(r).fill)"
    )
    assert colours == ["rgb(207, 34, 46)"] * 3, colours  # a test failed in every run

    # Nothing wider than the phone: wide tables scroll in their own box, not the page.
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width}px"
    await page.locator("#trends").scroll_into_view_if_needed()
    shot = artifacts_dir / f"report-trends-{width}.png"
    await page.locator("table.trends").screenshot(path=str(shot))
    assert shot.stat().st_size > 1000
