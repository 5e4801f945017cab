"""Every example in docs/harness.md runs: each `# file:` block becomes a file of a fresh project.

The inner pytest run uses the outer run's real servers through the external
provider (its own databases, its own Redis prefix), so the examples run exactly
as a team's project would.
"""

import re
from pathlib import Path

import pytest

from golden_path.services.model import dsn_with_database

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="The harness guide's examples are copied by every new team; "
        "each one is proven to run",
        revenue_impact="A guide whose first example fails loses the team before "
        "they write their first test",
    ),
]

DOC = Path(__file__).resolve().parents[3] / "docs" / "harness.md"
BLOCK = re.compile(r"```(?:python|ini)\n# file: (?P<path>\S+)\n(?P<body>.*?)```", re.DOTALL)


def doc_files() -> dict[str, str]:
    return {m["path"]: m["body"] for m in BLOCK.finditer(DOC.read_text())}


def test_the_guide_has_runnable_examples_for_each_test_tier():
    paths = doc_files()
    assert "pytest.ini" in paths
    assert {p.split("/")[1] for p in paths if p.startswith("tests/")} == {
        "unit",
        "integration",
        "e2e",
    }


def test_every_example_in_the_guide_passes(pytester, gp_services, monkeypatch):
    for path, body in doc_files().items():
        target = pytester.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body)
    pytester.syspathinsert()
    admin_dsn = dsn_with_database(gp_services.postgres_dsn, "postgres")
    monkeypatch.setenv("GOLDEN_PATH_POSTGRES_DSN", admin_dsn)
    monkeypatch.setenv("GOLDEN_PATH_REDIS_URL", gp_services.redis_url)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--gp-services=external")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0, result.stdout.str()[-4000:]
    assert outcomes.get("errors", 0) == 0, result.stdout.str()[-4000:]
    assert outcomes.get("passed", 0) == 7, result.stdout.str()[-4000:]
