"""Installing golden-path changes nothing in a project that did not ask for it.

The same unrelated suite runs with the plugin and without it (``-p no:golden_path``):
the outcomes are the same, the output is the same line for line (but for pytest's
own header naming the plugins), no timeout is imposed, no BVJ check runs, and no
service starts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="a team can pip install golden-path into an existing project and nothing "
        "in its current suite changes until it opts in",
        revenue_impact="a plugin that floods an adopter's suite with warnings or timeouts on "
        "install day is uninstalled the same day",
    ),
]

UNRELATED = """
import os
import pytest

def test_passes():
    assert 1 + 1 == 2

def test_fails():
    assert "golden" == "path"

@pytest.mark.skip(reason="not today")
def test_skipped():
    pass

def test_no_timeout_is_imposed(request):
    assert getattr(request.config.option, "timeout", None) in (None, 0)

class TestGrouped:
    def test_method(self):
        pass
"""
_VOLATILE = re.compile(
    r"^(platform |rootdir:|plugins:|cachedir:|configfile:|asyncio: |Using --randomly)"
)
_TIMING = re.compile(r" in \d+\.\d+s")


def _normalised(lines: list[str]) -> list[str]:
    return [_TIMING.sub(" in Ns", line) for line in lines if not _VOLATILE.match(line)]


@pytest.fixture
def unrelated_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    pytester.makeini(
        "[pytest]\naddopts = -p no:randomly\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(test_unrelated=UNRELATED)
    monkeypatch.setenv("TMPDIR", str(pytester.path))  # where a run folder would appear
    return pytester.path


def test_the_same_outcomes_and_output_with_and_without_the_plugin(
    pytester: pytest.Pytester, unrelated_project: Path
) -> None:
    with_plugin = pytester.runpytest_subprocess("-rA")
    without = pytester.runpytest_subprocess("-rA", "-p", "no:golden_path")
    with_plugin.assert_outcomes(passed=3, failed=1, skipped=1)
    without.assert_outcomes(passed=3, failed=1, skipped=1)
    assert _normalised(with_plugin.outlines) == _normalised(without.outlines)
    assert _normalised(with_plugin.errlines) == _normalised(without.errlines)


def test_no_service_starts_and_no_bvj_is_asked_for(
    pytester: pytest.Pytester, unrelated_project: Path
) -> None:
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=3, failed=1, skipped=1)
    assert "BVJ" not in result.stdout.str()
    assert not list(unrelated_project.glob("golden-path-*")), "a service folder was made"
