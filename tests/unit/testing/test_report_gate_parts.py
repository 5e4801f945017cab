"""The gate's parts as pure code: the quarantine file, segment values, history files, the page.

Bad input is named by file, line and field; history files of a newer format are refused;
the page shows each part only when the run has it, as inline SVG and without script.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from golden_path.testing.bvj.report import MATRIX_SEGMENTS, Failure, Report, properties_for
from golden_path.testing.bvj.report_history import (
    HistoryError,
    failing_status,
    read_history,
    record_of,
    write_run,
)
from golden_path.testing.bvj.report_html import render_html
from golden_path.testing.bvj.report_quarantine import (
    QuarantineError,
    entry_for,
    load_quarantine,
    quarantine_json,
)
from golden_path.testing.bvj.report_records import QuarantineEntry, ReportSettings
from golden_path.testing.bvj.report_risk import (
    SegmentValueError,
    parse_segment_value,
)

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a typo in the quarantine or the segment values is named where it is "
        "written, and a history written by a newer version is never misread",
        revenue_impact="a gate that misreads its own settings either blocks a release for "
        "nothing or lets a broken paid path through",
    ),
]

GOOD = """\
[[quarantine]]
test = "tests/e2e/test_chat.py::test_stream"
owner = "alice"
reason = "provider timeouts"
expires = 2026-12-31

[[quarantine]]
test = "tests/e2e/test_agui.py::*resume*"
owner = "bob"
reason = "r"
link = "https://tracker.example.com/GP-2"
expires = 2027-01-15
"""


def _load(tmp_path: Path, text: str) -> tuple[QuarantineEntry, ...]:
    path = tmp_path / "q.toml"
    path.write_text(text)
    return load_quarantine(path)


def test_a_quarantine_file_reads_and_matches_ids_files_and_patterns(tmp_path: Path) -> None:
    first, second = _load(tmp_path, GOOD)
    assert (first.owner, first.expires, first.line) == ("alice", date(2026, 12, 31), 1)
    assert (second.link, second.line) == ("https://tracker.example.com/GP-2", 7)
    assert first.matches("tests/e2e/test_chat.py::test_stream")
    assert first.matches("tests/e2e/test_chat.py::test_stream[free]")
    assert not first.matches("tests/e2e/test_chat.py::test_stream_other")
    assert second.matches("tests/e2e/test_agui.py::test_resume_after_cut")
    assert not second.matches("tests/e2e/test_agui.py::test_start")
    whole_file = QuarantineEntry("tests/x.py", "o", "r", date(2030, 1, 1))
    assert whole_file.matches("tests/x.py::TestA::test_b")
    assert not whole_file.matches("tests/x.py2::test")
    assert entry_for((first, second), "tests/e2e/test_chat.py::test_stream") is first
    assert entry_for((first, second), "tests/unit/test_other.py::test") is None
    assert first.expired(date(2027, 1, 1))
    assert not first.expired(date(2026, 12, 31))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace('owner = "bob"\n', ""), r"q\.toml:7, field 'owner': missing"),
        (GOOD.replace("expires = 2027-01-15", 'expires = "2027"'), r"q\.toml:12, field 'expires'"),
        (GOOD.replace("link =", "url ="), r"q\.toml:11, field 'url': unknown"),
        (GOOD.replace('owner = "alice"', 'owner = ""'), r"q\.toml:3, field 'owner': expected"),
        (GOOD.replace("test_agui.py::*resume*", "test_chat.py::test_stream"), r"quarantined twice"),
        (GOOD.replace('reason = "r"', "reason = r"), r"q\.toml: not valid TOML: .*line 10"),
        ("[quarantine]\ntest = 'x'\n", r"q\.toml:1: expected \[\[quarantine\]\] tables"),
        ("[[quarantin]]\ntest = 'x'\n", r"q\.toml:1, field 'quarantin': unknown"),
    ],
)
def test_a_malformed_quarantine_is_named_by_file_line_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(QuarantineError, match=message):
        _load(tmp_path, text)


def test_segment_values_name_only_known_segments_and_all_of_them() -> None:
    segments = ("free", "early", "mid", "enterprise")
    good = parse_segment_value(["free=0 early=120000", "mid=180_000 enterprise=200000.5"], segments)
    assert good == {"free": 0, "early": 120000, "mid": 180000, "enterprise": 200000.5}
    assert parse_segment_value([], segments) == {}
    bad = {
        "free=0 early=1 mid=2 pro=3": "field 'pro=3': no segment 'pro'",
        "free=0 early=1 mid=2": "field 'enterprise': no value given",
        "free=0 early=x mid=2 enterprise=3": "field 'early=x': 'x' is not a number",
        "free=0 early=-1 mid=2 enterprise=3": "a value is a finite number >= 0",
        "free=0 free=1": "free is given a value twice",
        "free": "expected segment=value",
    }
    for line, message in bad.items():
        with pytest.raises(SegmentValueError, match=re.escape(message)):
            parse_segment_value([line], segments, lambda field: "pytest.ini:9")
    with pytest.raises(SegmentValueError, match=r"^pytest\.ini:9: gp_segment_value, field"):
        parse_segment_value(["pro=1"], segments, lambda field: "pytest.ini:9")


def _report(outcomes: dict[str, str], revision: str = "r1") -> Report:
    report = Report(revision=revision, segments=MATRIX_SEGMENTS)
    for nodeid, outcome in outcomes.items():
        props = properties_for(
            {
                "test_tier": "e2e",
                "segment": "mid",
                "goal": "retention",
                "value_impact": "v",
                "revenue_impact": "r",
                "stages": ["agent"],
            }
        )
        failure = Failure("call", "boom") if outcome == "failed" else None
        report.record(nodeid, "call", outcome, 0.5, props, failure)
    return report


def test_history_keeps_the_last_runs_and_refuses_a_newer_format(tmp_path: Path) -> None:
    folder = tmp_path / "history"
    for index in range(4):
        write_run(folder, record_of(_report({"t::a": "passed"}), f"r{index}"), keep=3)
    assert sorted(p.name for p in folder.iterdir()) == [
        "run-000002.json",
        "run-000003.json",
        "run-000004.json",
    ]
    runs = read_history(folder, keep=3)
    assert [r.revision for r in runs] == ["r2", "r3"]  # with this run: three
    assert runs[-1].cells["mid × agent"] == {"passed": 1, "failed": 0, "duration_s": 0.5}
    assert runs[-1].pass_rate("overall") == 1.0
    (folder / "run-000005.json").write_text(json.dumps({"format": 2, "tests": {}}))
    with pytest.raises(HistoryError, match=r"run-000005\.json: a history file of format 2"):
        read_history(folder)
    (folder / "run-000005.json").write_text("[1, 2]")
    with pytest.raises(HistoryError, match="of format None"):
        read_history(folder)


def test_a_failure_is_new_still_failing_or_flaky_across_runs() -> None:
    history = [
        record_of(_report({"t::flip": "passed", "t::old": "failed", "t::code": "passed"}), "r1"),
        record_of(_report({"t::flip": "failed", "t::old": "failed", "t::code": "passed"}), "r1"),
    ]
    now = _report({"t::flip": "failed", "t::old": "failed", "t::code": "failed", "t::n": "failed"})
    now.revision = "r2"
    now.history = history
    assert failing_status(now) == {
        "t::code": "new",  # it changed with the code (r1 → r2)
        "t::flip": "flaky",  # it changed between two runs of r1
        "t::n": "new",
        "t::old": "still failing",
    }
    now.history = None
    assert failing_status(now) == {}


def test_the_page_shows_each_part_only_with_its_data_as_inline_svg() -> None:
    plain = render_html(_report({"t::a": "passed"}))
    for anchor in ('id="flaky"', 'id="quarantine"', 'id="risk"', 'id="trends"', "<svg"):
        assert anchor not in plain

    report = _report({"t::flaky": "passed", "t::q": "failed", "t::mid": "failed"})
    report.tests["t::flaky"].reruns.append(Failure("call", "first attempt <timed out>"))
    report.tests["t::q"].quarantine = "t::q"
    report.settings = ReportSettings(
        quarantine=(QuarantineEntry("t::q", "alice", "slow <provider>", date(2999, 1, 1)),),
        quarantine_file="q.toml",
        segment_value={"free": 0, "early": 1, "mid": 180000, "enterprise": 2},
    )
    report.history = [record_of(_report({"t::mid": "passed"}), "r1")]
    page = render_html(report)
    for anchor in ('id="flaky"', 'id="quarantine"', 'id="risk"', 'id="trends"'):
        assert anchor in page
    assert "attempt 1: first attempt &lt;timed out&gt;" in page
    assert '<span class="badge flaky">flaky</span>' in page
    assert "slow &lt;provider&gt;" in page
    assert "At risk: <b>180,000</b>" in page
    assert '<span class="badge status-new">new</span>' in page
    assert '<span class="badge quarantined">quarantined</span>' in page
    markdown = report.to_markdown()
    assert "## Flaky tests (failed, then passed on a rerun)\n\n- t::flaky: 2 attempts" in markdown
    assert "| t::q | alice | 2999-01-01 | 1 |  |" in markdown
    assert "## Value at risk: 180,000\n\n- mid × agent: 180,000 (1 failed)" in markdown
    assert "- t::mid: flaky\n- t::q: new" in markdown  # t::mid passed, then failed on r1
    assert "## Value at risk" not in _report({"t::a": "failed"}).to_markdown()
    # 21 rows (overall and 20 cells), two charts each; no script, nothing fetched.
    assert page.count('<svg class="spark"') == 42
    assert "<script" not in page
    assert not re.search(
        r'(src|href)="(https?:)?//', page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )


def test_a_quarantined_test_is_ready_to_release_only_if_it_passed_in_every_kept_run() -> None:
    def quarantined(outcome: str) -> Report:
        report = _report({"t::q": outcome})
        report.tests["t::q"].quarantine = "t::q"
        report.settings = ReportSettings(
            quarantine=(QuarantineEntry("t::q", "alice", "r", date(2999, 1, 1)),)
        )
        return report

    now = quarantined("passed")
    now.history = [record_of(quarantined("passed"), "r1"), record_of(quarantined("passed"), "r1")]
    assert quarantine_json(now, date(2026, 1, 1), [r.tests for r in now.history])["entries"][0][
        "ready_to_release"
    ]
    now.history.insert(1, record_of(quarantined("failed"), "r1"))
    (entry,) = quarantine_json(now, date(2026, 1, 1), [r.tests for r in now.history])["entries"]
    assert (entry["ready_to_release"], entry["expired"], entry["stale"]) == (False, False, False)
    assert "ready to release" not in "\n".join(now.summary_lines())
    assert quarantine_json(now, date(3000, 1, 1))["entries"][0]["expired"] is True
