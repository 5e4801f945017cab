"""The report's files: JSON that reads back, shards that merge, and the HTML page.

Reports here are built the way the plugin builds them (``record`` per phase, facts from
``user_properties``), then written, read, merged and rendered for real on disk.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from golden_path.cli import main as cli_main
from golden_path.testing.bvj.hooks import spaced_report_option
from golden_path.testing.bvj.report import (
    FORMAT,
    MATRIX_SEGMENTS,
    Failure,
    Report,
    facts_from_properties,
    properties_for,
)
from golden_path.testing.bvj.report_files import write_report
from golden_path.testing.bvj.report_html import cell_id, render_html
from golden_path.testing.bvj.report_merge import MergeError, load, merge, merge_folders
from golden_path.testing.markers import STAGES

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="the report people open shows which segment's path is proven, what "
        "failed with its socket transcript and why each test exists; shards of a suite split "
        "over CI jobs gate as one suite",
        revenue_impact="a release is let through on this report: a merge that loses or "
        "double-counts a shard's tests, or a page that hides a failure, ships a broken path",
    ),
]

TRANSCRIPT = '  >> {"type": "ping"}\n  << {"type": "pong"}\n  -- closed 1000 \'\''


def _add(
    report: Report,
    nodeid: str,
    outcome: str = "passed",
    *,
    tier: str = "integration",
    segment: str = "free",
    stages: tuple[str, ...] = ("auth",),
    value: str = "free users sign in",
    failure: Failure | None = None,
) -> None:
    props = properties_for(
        {
            "test_tier": tier,
            "segment": segment,
            "goal": "conversion",
            "value_impact": value,
            "revenue_impact": "sign-in is the top of the funnel",
            "stages": list(stages),
        }
    )
    report.record(nodeid, "setup", "passed", 0.1, props)
    report.record(nodeid, "call", outcome, 0.2, props, failure)
    report.record(nodeid, "teardown", "passed", 0.1, props)


def _failure() -> Failure:
    return Failure(
        when="call",
        message="AssertionError: expected <run_completed> & got nothing",
        longrepr="def test():\n>   assert False\nE   AssertionError",
        sections=[("golden-path socket 0 transcript", TRANSCRIPT), ("Captured stdout call", "hi")],
    )


def _sample() -> Report:
    report = Report(segments=MATRIX_SEGMENTS)
    _add(report, "tests/integration/test_a.py::test_auth")
    _add(report, "tests/integration/test_a.py::test_auth_too")
    _add(report, "tests/e2e/test_b.py::test_ws", tier="e2e", segment="mid", stages=("websocket",))
    _add(
        report,
        "tests/e2e/test_b.py::test_events[<script>]",
        "failed",
        tier="e2e",
        segment="mid",
        stages=("events",),
        value="mid users see every event <in order>",
        failure=_failure(),
    )
    _add(report, "tests/unit/test_c.py::test_pure", tier="unit", stages=("agent",))
    return report


# -- properties and JSON ----------------------------------------------------------------------


def test_properties_carry_the_bvj_tier_and_every_stage_and_read_back() -> None:
    facts = {
        "test_tier": "e2e",
        "segment": "enterprise",
        "goal": "retention",
        "value_impact": "v",
        "revenue_impact": "r",
        "stages": ["agent", "events"],
        "customer_tiers": ["mid"],
    }
    props = properties_for(facts)
    assert props == [
        ("gp.test_tier", "e2e"),
        ("bvj.segment", "enterprise"),
        ("bvj.goal", "retention"),
        ("bvj.value_impact", "v"),
        ("bvj.revenue_impact", "r"),
        ("gp.stage", "agent"),
        ("gp.stage", "events"),
        ("gp.customer_tier", "mid"),
    ]
    back = facts_from_properties("t.py::test_x", [("someone_else", "x"), *props])
    assert (back.test_tier, back.segment, back.goal) == ("e2e", "enterprise", "retention")
    assert (back.value_impact, back.revenue_impact) == ("v", "r")
    assert (back.stages, back.customer_tiers, back.bvj_problem) == (
        ("agent", "events"),
        ("mid",),
        "",
    )


def test_json_lists_every_test_and_reads_back_into_the_same_report() -> None:
    report = _sample()
    data = json.loads(json.dumps(report.to_json()))
    assert data["format"] == FORMAT
    assert [t["nodeid"] for t in data["tests"]] == sorted(report.tests)
    failed = next(t for t in data["tests"] if t["outcome"] == "failed")
    assert failed["failures"][0]["message"].startswith("AssertionError: expected")
    assert failed["failures"][0]["sections"][0] == {
        "title": "golden-path socket 0 transcript",
        "text": TRANSCRIPT,
    }
    assert failed["value_impact"] == "mid users see every event <in order>"
    assert failed["duration_s"] == pytest.approx(0.4)
    again = Report.from_json(data)
    assert again.tests == report.tests
    assert again.to_json() == report.to_json()


# -- merge ------------------------------------------------------------------------------------


def _shards() -> tuple[Report, Report]:
    whole = _sample()
    first, second = Report(segments=MATRIX_SEGMENTS), Report(segments=MATRIX_SEGMENTS)
    for index, nodeid in enumerate(sorted(whole.tests)):
        (first if index % 2 else second).tests[nodeid] = whole.tests[nodeid]
    return first, second


def test_merging_shards_gives_the_whole_runs_report() -> None:
    first, second = _shards()
    merged = merge([("one", first), ("two", second)])
    assert merged.to_json() == _sample().to_json()
    # A cell covered in one shard only is covered in the union.
    assert first.matrix()["mid"]["websocket"] + second.matrix()["mid"]["websocket"] == 1
    assert merged.matrix()["mid"]["websocket"] == 1


def test_a_test_in_two_shards_is_an_error_naming_it_and_both_shards() -> None:
    first, second = _shards()
    overlap = next(iter(first.tests))
    second.tests[overlap] = first.tests[overlap]
    with pytest.raises(MergeError, match="1 tests ran in more than one shard") as caught:
        merge([("job-1", first), ("job-2", second)])
    assert f"{overlap} (in job-1 and job-2)" in str(caught.value)


def test_load_reads_what_write_wrote_and_names_what_is_wrong(tmp_path: Path) -> None:
    write_report(_sample(), tmp_path / "ok")
    assert load(tmp_path / "ok").to_json() == _sample().to_json()

    with pytest.raises(MergeError, match=r"no such file \(was that job run with --gp-report="):
        load(tmp_path / "missing")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "report.json").write_text(json.dumps({"totals": {}}))
    with pytest.raises(MergeError, match="a report of format None, this golden-path reads"):
        load(tmp_path / "old")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "report.json").write_text("{not json")
    with pytest.raises(MergeError, match="not a readable report"):
        load(tmp_path / "junk")
    with pytest.raises(MergeError, match="at least one"):
        merge_folders([])


def test_cli_merge_writes_the_union_and_gates_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = _shards()
    write_report(first, tmp_path / "s1")
    write_report(second, tmp_path / "s2")
    out = tmp_path / "merged"
    code = cli_main(
        ["report", "merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "--out", str(out)]
    )
    assert code == 0  # no --gate: the merge itself succeeded
    assert json.loads((out / "report.json").read_text()) == _sample().to_json()
    assert (out / "report.md").read_text() == _sample().to_markdown()
    assert (out / "report.html").read_text() == render_html(_sample())

    gated = cli_main(
        ["report", "merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "--out", str(out), "--gate"]
    )
    printed = capsys.readouterr().out
    assert gated == 1
    assert "failed: tests/e2e/test_b.py::test_events[<script>]" in printed
    assert "no passing integration/e2e test for early × auth" in printed

    twice = cli_main(
        ["report", "merge", str(tmp_path / "s1"), str(tmp_path / "s1"), "--out", str(out)]
    )
    assert twice == 2
    assert "ran in more than one shard" in capsys.readouterr().err


# -- HTML -------------------------------------------------------------------------------------


class _Page(HTMLParser):
    """What the page links to and defines, and the text it shows."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.links: list[str] = []
        self.tags: set[str] = set()
        self.urls: list[str] = []
        self.text: list[str] = []
        self.cells: dict[str, str] = {}
        self._cell_class: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        values = dict(attrs)
        if values.get("id"):
            self.ids.append(str(values["id"]))
        for name in ("src", "href", "action", "srcset"):
            value = values.get(name)
            if value is not None:
                self.urls.append(value)
                if name == "href" and value.startswith("#"):
                    self.links.append(value[1:])
        if tag == "td" and values.get("class"):
            self._cell_class = values["class"]
        if (
            tag == "a"
            and self._cell_class is not None
            and values.get("href", "").startswith("#cell-")
        ):
            self.cells[str(values["href"])[1:]] = self._cell_class
            self._cell_class = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    return parser


def test_the_page_is_self_contained_and_every_link_lands() -> None:
    page = render_html(_sample())
    parsed = _parse(page)
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "@media (max-width: 700px)" in page
    assert not parsed.tags & {"script", "link", "img", "iframe", "object", "embed"}
    assert all(url.startswith("#") for url in parsed.urls), parsed.urls
    assert "url(" not in page
    assert "@import" not in page
    assert len(parsed.ids) == len(set(parsed.ids))
    assert set(parsed.links) <= set(parsed.ids)


def test_the_heat_map_colours_each_cell_and_links_it_to_its_tests() -> None:
    parsed = _parse(render_html(_sample()))
    assert set(parsed.cells) == {cell_id(s, st) for s in MATRIX_SEGMENTS for st in STAGES}
    assert parsed.cells[cell_id("mid", "events")] == "fail"  # its one test failed
    assert parsed.cells[cell_id("early", "auth")] == "none"  # nothing covers it
    assert parsed.cells[cell_id("free", "agent")] == "none"  # only a unit test: not counted
    assert parsed.cells[cell_id("free", "auth")] == "p4"  # the fullest cell: two passing
    assert parsed.cells[cell_id("mid", "websocket")] == "p2"  # half the fullest
    page = render_html(_sample())
    section = page.split(f'id="{cell_id("free", "auth")}"', 1)[1].split("</section>", 1)[0]
    assert "tests/integration/test_a.py::test_auth</span>" in section
    assert "tests/integration/test_a.py::test_auth_too</span>" in section
    empty = page.split(f'id="{cell_id("early", "auth")}"', 1)[1].split("</section>", 1)[0]
    assert "No integration or e2e test covers this cell." in empty


def test_a_failure_shows_its_message_traceback_and_transcript_escaped() -> None:
    page = render_html(_sample())
    text = "".join(_parse(page).text)
    assert "at call: AssertionError: expected <run_completed> & got nothing" in text
    assert "golden-path socket 0 transcript" in text
    assert TRANSCRIPT in text
    assert "tests/e2e/test_b.py::test_events[<script>]" in text
    assert "<script>" not in page  # every value is escaped, not markup
    assert "&lt;run_completed&gt; &amp; got nothing" in page


def test_each_tests_bvj_is_on_the_page_with_its_outcomes_and_the_slowest_tests() -> None:
    report = _sample()
    _add(report, "tests/integration/test_slow.py::test_slow", value="slow but needed")
    report.tests["tests/integration/test_slow.py::test_slow"].duration_s = 9.5
    report.record("tests/unit/test_d.py::test_undeclared", "call", "passed", 0.0, [])
    report.tests["tests/unit/test_d.py::test_undeclared"].bvj_problem = "no BVJ: add one"
    text = "".join(_parse(render_html(report)).text)
    for value in ("free users sign in", "mid users see every event <in order>", "slow but needed"):
        assert f"Value impact: {value}" in text
    assert "Revenue impact: sign-in is the top of the funnel" in text
    assert "tests/unit/test_d.py::test_undeclared: no BVJ: add one" in text
    flat = "".join(part.strip() for part in _parse(render_html(report)).text)
    slowest = flat.split("slowest tests", 1)[1]
    first_row = "9.500tests/integration/test_slow.py::test_slowintegrationpassed"
    assert slowest.startswith("secondstesttieroutcome" + first_row)
    for row in report.by_tier_segment_stage():
        assert f"{row['test_tier']}{row['segment']}{row['stage']}{row['collected']}" in flat


# -- the --gp-report DIR form -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "found"),
    [
        (["--gp-report", "/tmp/out", "tests"], "/tmp/out"),
        (["-q", "--gp-report", "out"], "out"),
        (["--gp-report=/tmp/out", "tests"], None),
        (["tests", "--gp-report"], None),  # no value at all: argparse says so itself
        (["--gp-reporting", "x"], None),
    ],
)
def test_spaced_report_option_finds_only_the_space_form(args: list[str], found: str | None) -> None:
    assert spaced_report_option(args) == found
