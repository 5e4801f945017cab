"""Business Value Justification: parsing the marker and docstring forms, and the BVJ report."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from golden_path.testing.bvj import justification
from golden_path.testing.bvj.justification import BVJ, FIELDS, GOALS, BVJError
from golden_path.testing.bvj.report import MATRIX_SEGMENTS, Report, properties_for
from golden_path.testing.markers import STAGES

# This file's project: golden-path's own four segments (gp_segments), and "all".
SEGMENTS = (*MATRIX_SEGMENTS, "all")


def from_fields(fields: Mapping[str, Any]) -> BVJ:
    return justification.from_fields(fields, MATRIX_SEGMENTS)


def from_docstring(doc: str | None) -> BVJ | None:
    return justification.from_docstring(doc, MATRIX_SEGMENTS)


def from_marker(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> BVJ:
    return justification.from_marker(args, kwargs, MATRIX_SEGMENTS)


pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="every test's declared reason to exist is read the same way whichever "
        "form it is written in, and a misspelt segment or goal is named with a fix",
        revenue_impact="the coverage matrix decides which segment's golden path is proven "
        "before a release; a misread BVJ would show an untested segment as covered",
    ),
]

VALID = {
    "segment": "enterprise",
    "goal": "retention",
    "value_impact": "Enterprise customers get a spend forecast",
    "revenue_impact": "Forecasting is the enterprise plan's headline feature",
}

# The exact block of docs/harness.md, as inspect.getdoc hands it over.
DOC_EXAMPLE = """The free plan's socket limit is what the upgrade prompt is measured against.

Business Value Justification (BVJ):
- Segment: Free
- Business Goal: Conversion
- Value Impact: Free users meet the limit that shows them the paid plans
- Revenue Impact: The limit is part of the free-to-paid conversion path
"""
DOC_EXAMPLE_AS_MARKER = {
    "segment": "free",
    "goal": "conversion",
    "value_impact": "Free users meet the limit that shows them the paid plans",
    "revenue_impact": "The limit is part of the free-to-paid conversion path",
}


def _raises(fields: dict[str, object]) -> str:
    with pytest.raises(BVJError) as excinfo:
        from_fields(fields)
    return str(excinfo.value)


# -- from_fields ---------------------------------------------------------------------------


def test_from_fields_builds_the_record() -> None:
    assert from_fields(VALID) == BVJ(
        segment="enterprise",
        goal="retention",
        value_impact="Enterprise customers get a spend forecast",
        revenue_impact="Forecasting is the enterprise plan's headline feature",
    )
    assert from_fields(VALID).to_dict() == VALID


def test_from_fields_strips_the_impact_texts() -> None:
    bvj = from_fields({**VALID, "value_impact": "  padded  ", "revenue_impact": "\tr\n"})
    assert (bvj.value_impact, bvj.revenue_impact) == ("padded", "r")


@pytest.mark.parametrize("field", FIELDS)
def test_a_missing_field_is_named(field: str) -> None:
    fields = {k: v for k, v in VALID.items() if k != field}
    assert _raises(fields) == f"BVJ is missing {field}"


@pytest.mark.parametrize("blank", ["", "   ", "\n\t", None])
def test_a_blank_field_counts_as_missing(blank: str | None) -> None:
    assert _raises({**VALID, "value_impact": blank}) == "BVJ is missing value_impact"


def test_every_missing_field_is_named_in_field_order() -> None:
    assert _raises({"goal": "retention"}) == "BVJ is missing segment, value_impact, revenue_impact"


def test_an_unknown_field_is_refused_with_the_list_of_fields() -> None:
    message = _raises({**VALID, "business_goal": "retention"})
    assert message == (
        "unknown BVJ field(s) business_goal; the fields are "
        "segment, goal, value_impact, revenue_impact"
    )


@pytest.mark.parametrize(
    ("field", "typo", "meant"),
    [
        ("segment", "enterprize", "enterprise"),
        ("segment", "entreprise", "enterprise"),
        ("segment", "fre", "free"),
        ("segment", "eraly", "early"),
        ("segment", "midd", "mid"),
        ("goal", "retension", "retention"),
        ("goal", "conversation", "conversion"),
        ("goal", "expension", "expansion"),
        ("goal", "stabilty", "stability"),
    ],
)
def test_a_misspelt_segment_or_goal_gets_a_suggestion(field: str, typo: str, meant: str) -> None:
    message = _raises({**VALID, field: typo})
    choices = ", ".join(SEGMENTS if field == "segment" else GOALS)
    assert message == f"{field} {typo!r} is not one of {choices} (did you mean {meant!r}?)"


def test_a_value_like_nothing_known_gets_no_suggestion() -> None:
    message = _raises({**VALID, "segment": "platinum"})
    assert message == "segment 'platinum' is not one of free, early, mid, enterprise, all"
    assert "did you mean" not in message


@pytest.mark.parametrize(
    ("segment", "goal"),
    [
        ("Enterprise", "Retention"),
        ("FREE", "CONVERSION"),
        (" mId ", "StAbIlItY"),
        ("All", "expansion"),
    ],
)
def test_segment_and_goal_are_case_insensitive(segment: str, goal: str) -> None:
    bvj = from_fields({**VALID, "segment": segment, "goal": goal})
    assert (bvj.segment, bvj.goal) == (segment.strip().lower(), goal.lower())


# -- from_docstring ------------------------------------------------------------------------


def test_the_documented_block_parses_to_the_same_record_as_the_marker() -> None:
    assert from_docstring(DOC_EXAMPLE) == from_marker((), DOC_EXAMPLE_AS_MARKER)


@pytest.mark.parametrize(
    "header",
    [
        "Business Value Justification (BVJ):",
        "Business Value Justification:",
        "business value justification (bvj):",
        "Business Value Justification",
    ],
)
def test_header_variants_are_accepted(header: str) -> None:
    doc = DOC_EXAMPLE.replace("Business Value Justification (BVJ):", header)
    assert from_docstring(doc) == from_fields(DOC_EXAMPLE_AS_MARKER)


@pytest.mark.parametrize("label", ["Business Goal", "Goal", "business goal"])
def test_business_goal_and_goal_labels_both_name_the_goal(label: str) -> None:
    doc = DOC_EXAMPLE.replace("- Business Goal:", f"- {label}:")
    assert from_docstring(doc) == from_fields(DOC_EXAMPLE_AS_MARKER)


def test_star_bullets_and_indentation_are_accepted() -> None:
    doc = (
        "Business Value Justification (BVJ):\n"
        "    * Segment: Free\n"
        "    * Business Goal: Conversion\n"
        "    *   Value Impact:   Free users meet the limit that shows them the paid plans   \n"
        "    * Revenue Impact: The limit is part of the free-to-paid conversion path\n"
    )
    assert from_docstring(doc) == from_fields(DOC_EXAMPLE_AS_MARKER)


def test_an_unknown_line_label_is_an_error() -> None:
    doc = DOC_EXAMPLE.replace("- Value Impact:", "- Customer Impact:")
    with pytest.raises(BVJError, match=r"unknown BVJ line 'Customer Impact'; expected Segment"):
        from_docstring(doc)


def test_a_block_missing_a_line_names_the_field() -> None:
    lines = [line for line in DOC_EXAMPLE.splitlines() if "Revenue Impact" not in line]
    with pytest.raises(BVJError, match=r"^BVJ is missing revenue_impact$"):
        from_docstring("\n".join(lines))


def test_a_misspelt_segment_in_a_block_gets_the_suggestion() -> None:
    doc = DOC_EXAMPLE.replace("- Segment: Free", "- Segment: Enterprize")
    with pytest.raises(BVJError, match=r"did you mean 'enterprise'\?"):
        from_docstring(doc)


@pytest.mark.parametrize(
    "doc",
    [None, "", "A docstring about the free plan.\n\nNo justification here.", "BVJ: free"],
    ids=["none", "empty", "prose", "bvj-abbreviation"],
)
def test_a_docstring_without_a_block_gives_none(doc: str | None) -> None:
    assert from_docstring(doc) is None


def test_the_block_ends_at_the_next_paragraph_of_prose() -> None:
    doc = DOC_EXAMPLE + "\nSee docs/harness.md for the tier table.\n- Owner: someone\n"
    assert from_docstring(doc) == from_fields(DOC_EXAMPLE_AS_MARKER)


# -- from_marker ---------------------------------------------------------------------------


def test_from_marker_refuses_positional_arguments() -> None:
    with pytest.raises(BVJError, match=r"keyword arguments only"):
        from_marker(("enterprise", "retention"), {})
    with pytest.raises(BVJError, match=r"keyword arguments only"):
        from_marker(("enterprise",), {k: v for k, v in VALID.items() if k != "segment"})


def test_from_marker_reports_what_from_fields_reports() -> None:
    with pytest.raises(BVJError, match=r"^BVJ is missing goal$"):
        from_marker((), {k: v for k, v in VALID.items() if k != "goal"})


# A value on one docstring line: no line breaks of any kind, something besides whitespace.
_ONE_LINE = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1
).filter(lambda text: text.strip() != "")


@given(
    segment=st.sampled_from(SEGMENTS),
    goal=st.sampled_from(GOALS),
    value_impact=_ONE_LINE,
    revenue_impact=_ONE_LINE,
    title_case=st.booleans(),
    goal_label=st.sampled_from(["Business Goal", "Goal"]),
    bullet=st.sampled_from(["-", "*"]),
)
def test_marker_and_docstring_forms_parse_to_equal_records(
    segment: str,
    goal: str,
    value_impact: str,
    revenue_impact: str,
    title_case: bool,
    goal_label: str,
    bullet: str,
) -> None:
    shown = str.title if title_case else str.upper
    doc = (
        "Why this test exists.\n\n"
        "Business Value Justification (BVJ):\n"
        f"{bullet} Segment: {shown(segment)}\n"
        f"{bullet} {goal_label}: {shown(goal)}\n"
        f"{bullet} Value Impact: {value_impact}\n"
        f"{bullet} Revenue Impact: {revenue_impact}\n"
    )
    marker = from_marker(
        (),
        {
            "segment": segment,
            "goal": goal,
            "value_impact": value_impact,
            "revenue_impact": revenue_impact,
        },
    )
    assert from_docstring(doc) == marker
    assert marker.value_impact == value_impact.strip()
    assert marker.revenue_impact == revenue_impact.strip()


# -- Report --------------------------------------------------------------------------------


def _props(
    tier: str = "integration",
    segment: str = "free",
    stages: tuple[str, ...] = ("auth",),
    customer_tiers: tuple[str, ...] = (),
    bvj_problem: str = "",
) -> list[tuple[str, str]]:
    facts: dict[str, object] = {
        "test_tier": tier,
        "stages": list(stages),
        "customer_tiers": list(customer_tiers),
    }
    if bvj_problem:
        facts["bvj_problem"] = bvj_problem
    else:
        facts.update(segment=segment, goal="retention")
    return properties_for(facts)


def _run(
    report: Report,
    nodeid: str,
    phases: tuple[tuple[str, str], ...] = (("setup", "passed"), ("call", "passed")),
    **facts: object,
) -> None:
    """Feed ``report`` the phases of one test as pytest would (teardown passed unless given)."""
    props = _props(**facts)  # type: ignore[arg-type]
    whens = [when for when, _ in phases]
    for when, outcome in phases:
        report.record(nodeid, when, outcome, 0.25, props)
    if "teardown" not in whens:
        report.record(nodeid, "teardown", "passed", 0.25, props)


def _full_matrix_report() -> Report:
    """Every segment × stage cell filled by one passing integration test."""
    report = Report(segments=MATRIX_SEGMENTS)
    for segment in MATRIX_SEGMENTS:
        for stage in STAGES:
            _run(report, f"t.py::test_{segment}_{stage}", segment=segment, stages=(stage,))
    return report


@pytest.mark.parametrize(
    ("phases", "outcome"),
    [
        ((("setup", "passed"), ("call", "passed")), "passed"),
        ((("setup", "passed"), ("call", "failed")), "failed"),
        ((("setup", "skipped"),), "skipped"),
        ((("setup", "failed"),), "failed"),
        ((("setup", "passed"), ("call", "skipped")), "skipped"),  # pytest.skip / xfail
        ((("setup", "passed"), ("call", "passed"), ("teardown", "failed")), "failed"),
        ((("setup", "passed"), ("call", "skipped"), ("teardown", "failed")), "failed"),
        ((("setup", "passed"),), "unknown"),  # interrupted before the call
    ],
    ids=[
        "pass",
        "call-fails",
        "setup-skips",
        "setup-errors",
        "call-skips",
        "teardown-fails",
        "skip-then-teardown-fails",
        "no-call",
    ],
)
def test_record_folds_the_phases_into_one_outcome(
    phases: tuple[tuple[str, str], ...], outcome: str
) -> None:
    report = Report(segments=MATRIX_SEGMENTS)
    props = _props()
    for when, result in phases:
        report.record("t.py::test_x", when, result, 0.5, props)
    facts = report.tests["t.py::test_x"]
    assert facts.outcome == outcome
    assert facts.duration_s == 0.5 * len(phases)


def test_a_later_passing_phase_does_not_undo_a_failure_or_skip() -> None:
    report = Report(segments=MATRIX_SEGMENTS)
    for when, outcome in (("setup", "passed"), ("call", "failed"), ("teardown", "passed")):
        report.record("t.py::test_f", when, outcome, 0.0, _props())
    for when, outcome in (("setup", "skipped"), ("teardown", "passed")):
        report.record("t.py::test_s", when, outcome, 0.0, _props())
    assert report.tests["t.py::test_f"].outcome == "failed"
    assert report.tests["t.py::test_s"].outcome == "skipped"


def test_record_keeps_the_facts_from_user_properties() -> None:
    report = Report(segments=MATRIX_SEGMENTS)
    report.record(
        "t.py::test_x",
        "setup",
        "passed",
        0.0,
        _props(tier="e2e", segment="mid", stages=("agent", "events"), customer_tiers=("mid",)),
    )
    facts = report.tests["t.py::test_x"]
    assert (facts.test_tier, facts.segment, facts.goal) == ("e2e", "mid", "retention")
    assert facts.stages == ("agent", "events")
    assert facts.customer_tiers == ("mid",)


def test_record_without_properties_gives_unknown_facts() -> None:
    report = Report(segments=MATRIX_SEGMENTS)
    report.record("t.py::test_x", "call", "passed", 0.0, [])
    facts = report.tests["t.py::test_x"]
    assert (facts.test_tier, facts.segment, facts.stages, facts.outcome) == (
        "unknown",
        "",
        (),
        "passed",
    )


def test_totals_count_each_test_once() -> None:
    report = Report(segments=MATRIX_SEGMENTS)
    _run(report, "a.py::test_pass")
    _run(report, "a.py::test_pass_too")
    _run(report, "a.py::test_fail", (("setup", "passed"), ("call", "failed")))
    _run(report, "a.py::test_skip", (("setup", "skipped"),))
    assert report.totals() == {"collected": 4, "passed": 2, "failed": 1, "skipped": 1}


def test_by_tier_segment_stage_groups_and_counts() -> None:
    report = Report(segments=MATRIX_SEGMENTS)
    _run(report, "a.py::test_1", segment="free", stages=("auth", "events"))
    _run(report, "a.py::test_2", (("setup", "passed"), ("call", "failed")), segment="free")
    _run(report, "b.py::test_3", tier="unit", segment="mid", stages=())
    rows = {(r["test_tier"], r["segment"], r["stage"]): r for r in report.by_tier_segment_stage()}
    assert set(rows) == {
        ("integration", "free", "auth"),
        ("integration", "free", "events"),
        ("unit", "mid", "-"),
    }
    auth = rows[("integration", "free", "auth")]
    assert (auth["collected"], auth["passed"], auth["failed"], auth["skipped"]) == (2, 1, 1, 0)
    assert auth["duration_s"] == 1.5  # two tests, three phases of 0.25 s each
    assert rows[("integration", "free", "events")]["collected"] == 1


def test_matrix_counts_only_passing_integration_and_e2e_tests() -> None:
    report = Report(segments=MATRIX_SEGMENTS)
    _run(report, "a.py::test_integration", tier="integration", segment="free", stages=("auth",))
    _run(report, "a.py::test_e2e", tier="e2e", segment="free", stages=("auth",))
    _run(report, "a.py::test_unit", tier="unit", segment="free", stages=("auth",))
    _run(report, "a.py::test_unknown", tier="unknown", segment="free", stages=("auth",))
    _run(
        report,
        "a.py::test_failed",
        (("setup", "passed"), ("call", "failed")),
        segment="free",
        stages=("auth",),
    )
    _run(report, "a.py::test_skipped", (("setup", "skipped"),), segment="free", stages=("auth",))
    _run(report, "a.py::test_no_stage", segment="free", stages=())
    matrix = report.matrix()
    assert matrix["free"]["auth"] == 2
    assert sum(sum(row.values()) for row in matrix.values()) == 2
    assert list(matrix) == list(MATRIX_SEGMENTS)
    assert all(list(row) == list(STAGES) for row in matrix.values())


def test_a_test_for_all_segments_counts_for_its_customer_tiers() -> None:
    report = Report(segments=MATRIX_SEGMENTS)
    _run(report, "a.py::test_x", segment="all", stages=("agent",), customer_tiers=("free", "mid"))
    _run(report, "a.py::test_no_tiers", segment="all", stages=("agent",))
    _run(report, "a.py::test_own", segment="early", stages=("agent",), customer_tiers=("mid",))
    counts = {segment: row["agent"] for segment, row in report.matrix().items()}
    assert counts == {"free": 1, "early": 1, "mid": 1, "enterprise": 0}


def test_empty_cells_lists_exactly_the_zero_cells() -> None:
    report = Report(segments=MATRIX_SEGMENTS)
    assert len(report.empty_cells()) == len(MATRIX_SEGMENTS) * len(STAGES) == 20
    _run(report, "a.py::test_1", segment="free", stages=("auth", "websocket"))
    _run(report, "a.py::test_2", segment="enterprise", stages=("persistence",))
    expected = [
        f"{segment} × {stage}"
        for segment in MATRIX_SEGMENTS
        for stage in STAGES
        if (segment, stage)
        not in {("free", "auth"), ("free", "websocket"), ("enterprise", "persistence")}
    ]
    assert report.empty_cells() == expected
    assert _full_matrix_report().empty_cells() == []


def test_without_bvj_lists_the_undeclared_tests_sorted() -> None:
    report = Report(segments=MATRIX_SEGMENTS)
    _run(report, "b.py::test_none", bvj_problem="no BVJ: add it")
    _run(report, "a.py::test_typo", bvj_problem="segment 'enterprize' is not one of ...")
    _run(report, "a.py::test_fine")
    assert report.without_bvj() == [
        "a.py::test_typo: segment 'enterprize' is not one of ...",
        "b.py::test_none: no BVJ: add it",
    ]


def test_gate_problems_lists_failures_empty_cells_and_missing_bvj() -> None:
    report = Report(segments=MATRIX_SEGMENTS)
    _run(report, "a.py::test_fail", (("setup", "passed"), ("call", "failed")), stages=("auth",))
    _run(report, "a.py::test_pass", segment="mid", stages=("events",))
    _run(report, "a.py::test_none", tier="unit", bvj_problem="no BVJ")
    problems = report.gate_problems()
    empty = [f"no passing integration/e2e test for {cell}" for cell in report.empty_cells()]
    assert len(empty) == 19
    assert problems == ["failed: a.py::test_fail", *empty, "no BVJ: a.py::test_none: no BVJ"]


def test_a_complete_green_report_has_no_gate_problems() -> None:
    assert _full_matrix_report().gate_problems() == []


def test_to_json_shape() -> None:
    report = Report(segments=MATRIX_SEGMENTS)
    _run(report, "a.py::test_pass", segment="free", stages=("auth",))
    _run(report, "a.py::test_fail", (("setup", "passed"), ("call", "failed")), tier="e2e")
    _run(report, "a.py::test_none", tier="unit", bvj_problem="no BVJ")
    data = json.loads(json.dumps(report.to_json()))
    assert set(data) == {
        "format",
        "tests",
        "totals",
        "by_tier_segment_stage",
        "matrix",
        "empty_cells",
        "without_bvj",
        "failed",
        "by_test_tier",
        "flaky",  # always there: [] says no test needed a rerun to pass
        "segments",  # the project's (gp_segments) and stages (gp_stages): a merge checks them
        "stages",
    }
    assert data["flaky"] == []
    assert data["segments"] == list(MATRIX_SEGMENTS)
    assert data["stages"] == list(STAGES)
    assert data["totals"] == {"collected": 3, "passed": 2, "failed": 1}
    assert data["failed"] == ["a.py::test_fail"]
    assert data["without_bvj"] == ["a.py::test_none: no BVJ"]
    assert data["matrix"]["free"]["auth"] == 1
    assert len(data["empty_cells"]) == 19
    assert data["by_test_tier"] == {
        "unit": {"passed": 1},
        "integration": {"passed": 1},
        "e2e": {"failed": 1},
    }
    assert {tuple(sorted(row)) for row in data["by_tier_segment_stage"]} == {
        tuple(
            sorted(
                [
                    "test_tier",
                    "segment",
                    "stage",
                    "collected",
                    "passed",
                    "failed",
                    "skipped",
                    "duration_s",
                ]
            )
        )
    }


def test_to_markdown_has_the_totals_and_the_matrix_table() -> None:
    report = _full_matrix_report()
    _run(report, "a.py::test_extra", tier="e2e", segment="mid", stages=("agent",))
    _run(report, "a.py::test_none", tier="unit", bvj_problem="no BVJ")
    markdown = report.to_markdown()
    assert "22 tests: 22 passed, 0 failed, 0 skipped." in markdown
    table = [
        "| segment \\ stage | auth | websocket | agent | events | persistence |",
        "|---|---|---|---|---|---|",
        "| free | 1 | 1 | 1 | 1 | 1 |",
        "| early | 1 | 1 | 1 | 1 | 1 |",
        "| mid | 1 | 1 | 2 | 1 | 1 |",
        "| enterprise | 1 | 1 | 1 | 1 | 1 |",
    ]
    assert "\n".join(table) in markdown
    assert "| integration | 20 | 0 | 0 |" in markdown
    assert "| e2e | 1 | 0 | 0 |" in markdown
    assert "- a.py::test_none: no BVJ" in markdown


def test_to_markdown_says_none_when_every_test_has_a_bvj() -> None:
    markdown = _full_matrix_report().to_markdown()
    assert markdown.endswith("## Tests without a valid BVJ\n\nNone.\n")


def test_summary_lines_show_the_matrix_and_what_is_missing() -> None:
    report = Report(segments=MATRIX_SEGMENTS)
    _run(report, "a.py::test_pass", segment="free", stages=("auth",))
    _run(report, "a.py::test_none", tier="unit", bvj_problem="no BVJ")
    lines = report.summary_lines()
    assert lines[0] == "2 tests; unit 1 (1 passed), integration 1 (1 passed), e2e 0 (0 passed)"
    assert lines[1].startswith("coverage matrix")
    assert lines[2].split() == list(STAGES)
    assert lines[3].split() == ["free", "1", "0", "0", "0", "0"]
    assert lines[-2].startswith("empty cells: free × websocket, ")
    assert lines[-1] == "1 tests without a valid BVJ"


def test_without_gp_segments_any_segment_name_is_taken() -> None:
    bvj = justification.from_fields({**VALID, "segment": "Team"})
    assert bvj.segment == "team"
    with pytest.raises(BVJError, match="BVJ is missing segment"):
        justification.from_fields({**VALID, "segment": " "})


def test_with_gp_segments_the_projects_own_names_are_the_segments() -> None:
    plans = ("free", "pro", "team")
    assert justification.from_fields({**VALID, "segment": "pro"}, plans).segment == "pro"
    with pytest.raises(BVJError, match="segment 'mid' is not one of free, pro, team, all"):
        justification.from_fields({**VALID, "segment": "mid"}, plans)
