"""A team's own app or migration failing is said as the team's, never as golden-path's.

When a project's ``gp_app`` raises at start, or its ``gp_schema`` fails, the run stops
with one message naming the setting and the cause; "golden-path services unavailable"
is for the harness's own PostgreSQL and Redis only (the Alembic revision that failed is
named by tests/integration/harness/test_alembic_schema.py).
"""

from __future__ import annotations

import textwrap

import pytest

from golden_path.services.model import Services, dsn_with_database

pytestmark = [
    pytest.mark.integration,
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="a team whose app fails to start reads its own error, not a report "
        "that the test harness's databases are down",
        revenue_impact="an error blamed on the harness sends the team to debug the wrong "
        "thing, or to drop the harness",
    ),
]

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""
BROKEN_APP = """
def make_app(services):
    raise RuntimeError("ORDERS_SECRET is not set")
"""
TESTS = """
async def test_server(gp_base_url):
    pass
"""


@pytest.fixture
def project(
    pytester: pytest.Pytester,
    gp_services: Services,
    monkeypatch: pytest.MonkeyPatch,
    redis_admin_url: str,
) -> pytest.Pytester:
    monkeypatch.setenv(
        "GOLDEN_PATH_POSTGRES_DSN", dsn_with_database(gp_services.postgres_dsn, "postgres")
    )
    monkeypatch.setenv("GOLDEN_PATH_REDIS_URL", redis_admin_url)
    monkeypatch.setenv("GOLDEN_PATH_SERVICES", "external")
    pytester.syspathinsert()
    pytester.makepyfile(broken_app=textwrap.dedent(BROKEN_APP), test_server=TESTS)
    return pytester


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("gp_app = broken_app:make_app", "gp_app = 'broken_app:make_app' raised RuntimeError"),
        ("gp_schema = migrations\ngp_app = broken_app:make_app", "gp_schema = 'migrations':"),
    ],
    ids=["app", "schema"],
)
def test_the_teams_app_or_schema_failing_is_named_as_the_teams_not_as_services_unavailable(
    project: pytest.Pytester, setting: str, said: str
) -> None:
    (project.path / "pytest.ini").write_text(textwrap.dedent(INI) + setting + "\n")
    result = project.runpytest_subprocess("-p", "no:randomly")
    assert result.ret != pytest.ExitCode.OK
    text = result.stdout.str()
    assert said in text, text[-3000:]
    assert "services unavailable" not in text
