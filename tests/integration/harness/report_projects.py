"""The inner projects the report's gate and history tests share: their ini and a suite
that covers every segment × stage cell with one passing integration test."""

from __future__ import annotations

import sys
from pathlib import Path

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
