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


def test_check_choice_accepts_each_allowed_value() -> None:
    for choice in markers.CUSTOMER_TIERS:
        assert markers.check_choice("tier", (choice,), markers.CUSTOMER_TIERS) is None
    for stage in markers.STAGES:
        assert markers.check_choice("stage", (stage,), markers.STAGES) is None


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (("platinum",), "'platinum'"),
        ((), "nothing"),
        (("free", "mid"), "'free', 'mid'"),
        ((1,), "1"),
        (("FREE",), "'FREE'"),
    ],
)
def test_check_choice_explains_what_is_wrong(args: tuple[object, ...], shown: str) -> None:
    problem = markers.check_choice("tier", args, markers.CUSTOMER_TIERS)
    assert problem == f"@pytest.mark.tier({shown}): expected one of free, early, mid, enterprise"


def test_stage_choices_are_the_five_golden_path_stages() -> None:
    assert markers.STAGES == ("auth", "websocket", "agent", "events", "persistence")
    problem = markers.check_choice("stage", ("billing",), markers.STAGES)
    assert problem == (
        "@pytest.mark.stage('billing'): expected one of auth, websocket, agent, events, persistence"
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
