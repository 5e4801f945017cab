"""The inner projects the report's gate and history tests share, and how they run them: their
ini, a suite that covers every segment × stage cell with one passing integration test, and
the helpers that write, run, read and merge them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

GOLDEN_PATH = str(Path(sys.executable).with_name("golden-path"))
INI = (
    "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    "gp_segments = free early mid enterprise\n"
    "asyncio_default_test_loop_scope = function\n"
)
# Every segment × stage cell covered by one passing integration test.
CELLS = """
import pytest

pytestmark = pytest.mark.bvj(
    segment="all", goal="stability", value_impact="cells", revenue_impact="every plan"
)


@pytest.mark.parametrize("tier", ["free", "early", "mid", "enterprise"])
@pytest.mark.parametrize(
    "stage", [pytest.param(s, marks=pytest.mark.stage(s))
              for s in ("auth", "websocket", "agent", "events", "persistence")]
)
def test_cell(tier, stage):
    assert tier and stage
"""


def _write(pytester: pytest.Pytester, relative: str, source: str) -> Path:
    path = pytester.path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "no:randomly", *args)


def _json(pytester: pytest.Pytester, folder: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((pytester.path / folder / "report.json").read_text())
    return data


def _merge(pytester: pytest.Pytester, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GOLDEN_PATH, "report", "merge", *args],
        cwd=pytester.path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
