"""Every example in docs/harness.md runs: each `# file:` block becomes a file of a fresh project.

A `<!-- project: NAME -->` line starts the examples of another project (a team's
shop on its own schema and app; a suite against the reference server). Each
inner pytest run uses the outer run's real servers through the external
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
PIECE = re.compile(
    r"<!-- project: (?P<project>\S+) -->"
    r"|```(?:python|ini|sql)\n(?:#|--) file: (?P<path>\S+)\n(?P<body>.*?)```",
    re.DOTALL,
)
# project -> how many tests its examples hold (all must pass)
EXPECTED_PASSED = {"shop": 9, "reference": 7}


def doc_projects() -> dict[str, dict[str, str]]:
    projects: dict[str, dict[str, str]] = {}
    current = "default"
    for match in PIECE.finditer(DOC.read_text()):
        if match["project"]:
            current = match["project"]
            continue
        files = projects.setdefault(current, {})
        assert match["path"] not in files, f"{match['path']} twice in project {current}"
        files[match["path"]] = match["body"]
    return projects


def test_the_guide_has_runnable_projects_with_each_test_tier():
    projects = doc_projects()
    assert set(projects) == set(EXPECTED_PASSED)
    for files in projects.values():
        assert "pytest.ini" in files
        assert {p.split("/")[1] for p in files if p.startswith("tests/")} == {
            "unit",
            "integration",
            "e2e",
        }


@pytest.mark.parametrize("project", sorted(EXPECTED_PASSED))
def test_every_example_in_the_guide_passes(
    pytester, gp_services, monkeypatch, project, redis_admin_url
):
    for path, body in doc_projects()[project].items():
        target = pytester.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body)
    pytester.syspathinsert()
    admin_dsn = dsn_with_database(gp_services.postgres_dsn, "postgres")
    monkeypatch.setenv("GOLDEN_PATH_POSTGRES_DSN", admin_dsn)
    monkeypatch.setenv("GOLDEN_PATH_REDIS_URL", redis_admin_url)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--gp-services=external")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0, result.stdout.str()[-4000:]
    assert outcomes.get("errors", 0) == 0, result.stdout.str()[-4000:]
    assert outcomes.get("passed", 0) == EXPECTED_PASSED[project], result.stdout.str()[-4000:]
