"""The marker rules of the harness: tier from the folder, and checked marker arguments."""

from __future__ import annotations

from pathlib import Path

import pytest

from golden_path.testing import markers

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="tests are sorted into unit/integration/e2e by where they live and a "
        "mistyped tier or stage fails the run instead of silently testing nothing",
        revenue_impact="a mislabelled suite lets tier-specific regressions ship unnoticed",
    ),
]


@pytest.mark.parametrize(
    ("path", "tier"),
    [
        ("tests/unit/core/test_ids.py", "unit"),
        ("tests/integration/services/test_x.py", "integration"),
        ("/abs/project/tests/e2e/test_chat.py", "e2e"),
        ("tests/browser/test_chat_page.py", "browser"),
        ("tests/unit/integration/test_x.py", "integration"),  # the innermost folder wins
        ("tests/unit.py", None),  # the file's own name does not count
        ("tests/units/test_x.py", None),
        ("tests/Unit/test_x.py", None),
        ("test_top.py", None),
    ],
)
def test_tier_from_path(path: str, tier: str | None) -> None:
    assert markers.test_tier_from_path(Path(path)) == tier


class _Item:
    """What test_tier_of reads of a pytest item: its path and its markers."""

    def __init__(self, path: str, *marks: str) -> None:
        self.path = Path(path)
        self.marks = marks

    def get_closest_marker(self, name: str) -> object | None:
        return name if name in self.marks else None


@pytest.mark.parametrize(
    ("item", "tier"),
    [
        (_Item("golden_path/conformance/v1/test_smoke.py"), None),
        (_Item("golden_path/conformance/v1/test_smoke.py", "e2e"), "e2e"),
        (_Item("tests/integration/test_x.py"), "integration"),
        (_Item("tests/integration/test_x.py", "e2e"), "integration"),  # the folder first
    ],
)
def test_a_test_outside_the_tier_folders_takes_its_tier_from_its_marker(
    item: _Item, tier: str | None
) -> None:
    """The conformance suites ship in golden_path/conformance, in no tier folder: their
    e2e marker is their tier in the report and the coverage matrix, not "unknown"."""
    assert markers.test_tier_of(item) == tier  # type: ignore[arg-type]


PLANS = ("free", "pro", "team")


def test_check_choice_accepts_each_allowed_value() -> None:
    for choice in PLANS:
        assert markers.check_choice("tier", (choice,), PLANS) is None
    for stage in markers.STAGES:
        assert markers.check_choice("stage", (stage,), markers.STAGES) is None


def test_without_gp_segments_any_one_name_is_a_segment() -> None:
    assert markers.Vocabulary().segment_problem(("platinum",)) is None
    assert markers.Vocabulary().segment_problem(("",)) == "@pytest.mark.tier(''): expected a name"


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("platinum",), "expected one of free, pro, team (gp_segments)"),
        ((), "expected a name"),
        (("FREE",), "expected one of free, pro, team (gp_segments)"),
        ((1,), "expected a name"),
    ],
)
def test_check_choice_explains_what_is_wrong(args: tuple[object, ...], problem: str) -> None:
    shown = ", ".join(repr(a) for a in args) or "nothing"
    assert markers.check_choice("tier", args, PLANS) == f"@pytest.mark.tier({shown}): {problem}"


def test_two_names_in_one_marker_are_told_to_stack_two_markers() -> None:
    """stage("a", "b") used to be refused as if the values were wrong."""
    assert markers.check_choice("stage", ("auth", "agent"), markers.STAGES) == (
        "@pytest.mark.stage('auth', 'agent'): one name per marker; a test of several "
        "stacks one @pytest.mark.stage(...) for each"
    )


def test_stage_choices_default_to_the_five_golden_path_stages() -> None:
    assert markers.STAGES == ("auth", "websocket", "agent", "events", "persistence")
    assert markers.Vocabulary().stages == markers.STAGES
    problem = markers.Vocabulary().stage_problem(("billing",))
    assert problem == (
        "@pytest.mark.stage('billing'): expected one of auth, websocket, agent, events, "
        "persistence (gp_stages)"
    )


def test_every_documented_marker_is_registered() -> None:
    names = {name.split("(")[0] for name in markers.MARKERS}
    assert names >= {
        "unit",
        "integration",
        "e2e",
        "real_services",
        "golden_path",
        "security",
        "slow",
        "tier",
        "stage",
        "bvj",
    }
