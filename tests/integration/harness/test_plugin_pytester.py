"""The golden-path pytest plugin as a user meets it: inner pytest runs driven by ``pytester``.

The plugin arrives in every inner run through its ``pytest11`` entry point, exactly as in a
customer's project. Runs that may start services or use xdist run in a subprocess.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
import redis.asyncio as aioredis

from golden_path.services.external import POSTGRES_ENV, REDIS_ENV
from golden_path.services.model import Services, dsn_with_database
from golden_path.services.processes import free_port
from golden_path.services.selection import SERVICES_ENV
from golden_path.testing.services.redis_acl import url_for

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="any project that installs golden-path gets checked markers, automatic "
        "test tiers and per-worker real databases without writing a conftest",
        revenue_impact="a harness that mislabels tests or lets parallel workers share data "
        "produces flaky CI, and flaky CI is why teams drop a testing product",
    ),
]

REGISTERED = [
    "unit",
    "integration",
    "e2e",
    "real_services",
    "golden_path",
    "security",
    "slow",
    "tier(name)",
    "stage(name)",
    "bvj(segment, goal, value_impact, revenue_impact)",
]


@pytest.fixture(autouse=True)
def inner_ini(pytester: pytest.Pytester) -> None:
    """Inner runs get an ini of their own, so pytest-asyncio has its loop scope set."""
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        "gp_segments = free early mid enterprise\n"
    )


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Inner runs start without any services settings of the outer environment."""
    for name in (SERVICES_ENV, POSTGRES_ENV, REDIS_ENV):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _write(pytester: pytest.Pytester, relative: str, source: str) -> Path:
    path = pytester.path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    return path


_NODE_ID = re.compile(r"[\w/.-]+\.py::\w+")


def _collected(result: pytest.RunResult) -> list[str]:
    """The node ids listed by ``--collect-only -q`` (warnings and summary lines left out)."""
    return [line for line in result.outlines if _NODE_ID.fullmatch(line)]


def test_markers_lists_every_golden_path_marker(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    assert result.ret == pytest.ExitCode.OK
    listed = {line.split(":")[0] for line in result.outlines if line.startswith("@pytest.mark.")}
    assert {f"@pytest.mark.{marker}" for marker in REGISTERED} <= listed


@pytest.mark.parametrize("tier", ["unit", "integration", "e2e"])
def test_folder_gives_the_test_tier_marker(pytester: pytest.Pytester, tier: str) -> None:
    for folder in ("unit", "integration", "e2e"):
        _write(pytester, f"{folder}/test_in_{folder}.py", "def test_here():\n    pass\n")
    result = pytester.runpytest("--collect-only", "-q", "-m", tier)
    assert _collected(result) == [f"{tier}/test_in_{tier}.py::test_here"]


def test_m_unit_runs_only_the_unit_folder(pytester: pytest.Pytester) -> None:
    _write(pytester, "unit/test_pure.py", "def test_pure():\n    pass\n")
    _write(pytester, "integration/test_db.py", "def test_db():\n    raise AssertionError\n")
    result = pytester.runpytest("-m", "unit", "-p", "no:randomly")
    result.assert_outcomes(passed=1, deselected=1)


@pytest.mark.parametrize(
    ("marker", "value", "allowed"),
    [
        ("tier", "'platinum'", "expected one of free, early, mid, enterprise (gp_segments)"),
        (
            "stage",
            "'billing'",
            "expected one of auth, websocket, agent, events, persistence (gp_stages)",
        ),
        ("tier", "", "expected a name"),
    ],
    ids=["tier-platinum", "stage-billing", "tier-empty"],
)
def test_bad_tier_or_stage_is_a_usage_error_naming_the_test(
    pytester: pytest.Pytester, marker: str, value: str, allowed: str
) -> None:
    pytester.makepyfile(
        test_marked=f"""
        import pytest

        @pytest.mark.{marker}({value})
        def test_bad():
            pass
        """
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    shown = value or "nothing"
    result.stderr.fnmatch_lines(
        [
            "*invalid golden-path markers:*",
            f"*test_marked.py::test_bad: @pytest.mark.{marker}({shown}): {allowed}",
        ]
    )


def test_a_bad_stage_under_xdist_errors_that_test_naming_the_problem(
    pytester: pytest.Pytester,
) -> None:
    """xdist cannot relay a usage error raised on a worker (the run used to end in an
    INTERNALERROR naming nothing): there each such test errors at setup with the message."""
    pytester.makepyfile(
        test_marked="""
        import pytest

        @pytest.mark.stage("billing")
        def test_bad():
            pass

        def test_good():
            pass
        """
    )
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*invalid golden-path marker: @pytest.mark.stage('billing'): expected one of *"]
    )
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_valid_markers_pass_strict_markers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_good="""
        import pytest

        pytestmark = [
            pytest.mark.stage("events"),
            pytest.mark.bvj(segment="mid", goal="retention", value_impact="v", revenue_impact="r"),
        ]

        @pytest.mark.tier("mid")
        @pytest.mark.golden_path
        @pytest.mark.security
        @pytest.mark.slow
        def test_good():
            pass
        """
    )
    result = pytester.runpytest("--strict-markers", "-p", "no:randomly")
    result.assert_outcomes(passed=1)


def test_unknown_marker_is_an_error_under_strict_markers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_typo="""
        import pytest

        @pytest.mark.golden_pth
        def test_typo():
            pass
        """
    )
    strict = pytester.runpytest("--strict-markers")
    strict.assert_outcomes(errors=1)
    strict.stdout.fnmatch_lines(["*'golden_pth' not found in `markers` configuration option*"])


def test_unknown_gp_services_option_is_rejected(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_any():\n    pass\n")
    result = pytester.runpytest("--gp-services=nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*argument --gp-services: invalid choice: 'nope'*"])


def test_unknown_provider_in_the_environment_errors_only_services_tests(
    pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv(SERVICES_ENV, "nope")
    pytester.makepyfile(
        """
        def test_pure():
            pass

        def test_db(gp_services):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*unknown services provider 'nope' (from GOLDEN_PATH_SERVICES)*"])


def test_tests_using_gp_services_get_the_real_services_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_mixed="""
        import pytest

        @pytest.fixture
        def db(gp_services):
            return gp_services

        def test_direct(gp_services):
            pass

        def test_through_a_fixture(db):
            pass

        def test_plain():
            pass
        """
    )
    selected = pytester.runpytest("--collect-only", "-q", "-m", "real_services")
    assert sorted(_collected(selected)) == [
        "test_mixed.py::test_direct",
        "test_mixed.py::test_through_a_fixture",
    ]
    rest = pytester.runpytest("--collect-only", "-q", "-m", "not real_services")
    assert _collected(rest) == ["test_mixed.py::test_plain"]


_MIXED_FILE = """
import pytest

@pytest.mark.unit
def test_pure():
    assert 1 + 1 == 2

def test_db(gp_services):
    pass
"""


def test_m_unit_starts_no_services(
    pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch
) -> None:
    # The provider asked for cannot work here (external, no URLs): touching it would error.
    clean_env.setenv(SERVICES_ENV, "external")
    pytester.makepyfile(test_mixed=_MIXED_FILE)

    unit_only = pytester.runpytest_subprocess("-m", "unit", "-p", "no:randomly")
    unit_only.assert_outcomes(passed=1, deselected=1)
    assert unit_only.ret == pytest.ExitCode.OK

    # Control: the services test itself does touch the provider, and that errors.
    everything = pytester.runpytest_subprocess("-p", "no:randomly")
    everything.assert_outcomes(passed=1, errors=1)
    everything.stdout.fnmatch_lines([f"*external provider: set {POSTGRES_ENV}*"])


def test_a_failing_provider_errors_the_tests_instead_of_skipping(
    pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv(POSTGRES_ENV, f"postgresql://postgres@127.0.0.1:{free_port()}/postgres")
    pytester.makepyfile(
        """
        def test_pure():
            pass

        def test_first(gp_services):
            pass

        def test_second(gp_services):
            pass
        """
    )
    result = pytester.runpytest_subprocess("--gp-services=external", "-p", "no:randomly", "-rE")
    result.assert_outcomes(passed=1, errors=2)  # the failure is remembered, not retried
    assert result.parseoutcomes().get("skipped", 0) == 0
    message = (
        f"*golden-path services unavailable: external provider: {POSTGRES_ENV} is set but "
        f"{REDIS_ENV} is not*"
    )
    result.stdout.fnmatch_lines([message, message])


_ISOLATION_FILE = """
import asyncio, json, os
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
import redis.asyncio as aioredis


async def _claim(services, worker):
    conn = await asyncpg.connect(services.postgres_dsn)
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS t(k text primary key, worker text)")
        await conn.execute(
            "INSERT INTO t VALUES ('shared', $1) ON CONFLICT (k) DO NOTHING", worker
        )
        rows = [tuple(r) for r in await conn.fetch("SELECT k, worker FROM t")]
    finally:
        await conn.close()
    client = aioredis.Redis.from_url(services.redis_url, decode_responses=True)
    try:
        await client.set(services.redis_key("shared"), worker, nx=True)
        value = await client.get(services.redis_key("shared"))
    finally:
        await client.aclose()
    return rows, value


def _check(services, group):
    worker = os.environ["PYTEST_XDIST_WORKER"]
    rows, value = asyncio.run(_claim(services, worker))
    # Had the workers shared a database or namespace, one of them would read the other's value.
    assert rows == [("shared", worker)]
    assert value == worker
    Path(os.environ["GP_ISOLATION_OUT"], group + ".json").write_text(json.dumps({
        "worker": worker,
        "database": urlsplit(services.postgres_dsn).path.lstrip("/"),
        "namespace": services.redis_namespace,
        "redis_database": int(urlsplit(services.redis_url).path.lstrip("/")),
        "provider": services.provider,
    }))


@pytest.mark.xdist_group("a")
def test_a(gp_services):
    _check(gp_services, "a")


@pytest.mark.xdist_group("b")
def test_b(gp_services):
    _check(gp_services, "b")
"""


async def _databases(admin_dsn: str) -> set[str]:
    conn = await asyncpg.connect(admin_dsn)
    try:
        return {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
    finally:
        await conn.close()


async def _take_keys(url: str, keys: list[str]) -> list[str | None]:
    client = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        values = [await client.get(k) for k in keys]
        await client.delete(*keys)
        return [None if v is None else str(v) for v in values]
    finally:
        await client.aclose()


def test_xdist_workers_get_their_own_database_and_namespace(
    pytester: pytest.Pytester,
    clean_env: pytest.MonkeyPatch,
    gp_services: Services,
    redis_admin_url: str,
) -> None:
    admin_dsn = dsn_with_database(gp_services.postgres_dsn, "postgres")
    out = pytester.mkdir("out")
    clean_env.setenv(POSTGRES_ENV, admin_dsn)
    clean_env.setenv(REDIS_ENV, redis_admin_url)
    clean_env.setenv("GP_ISOLATION_OUT", str(out))
    pytester.makepyfile(test_isolation=_ISOLATION_FILE)

    result = pytester.runpytest_subprocess(
        "-n",
        "2",
        "-p",
        "xdist",
        "--dist",
        "loadgroup",
        "--gp-services=external",
        "-p",
        "no:randomly",
        "-p",
        "no:cacheprovider",
    )

    result.assert_outcomes(passed=2)
    a, b = (json.loads((out / f"{group}.json").read_text()) for group in ("a", "b"))
    assert {a["worker"], b["worker"]} == {"gw0", "gw1"}
    assert a["database"] != b["database"]
    for seen in (a, b):
        assert seen["provider"] == "external"
        assert seen["database"].startswith("gp_")
        assert seen["database"].endswith("_" + seen["worker"])
    assert a["namespace"] != b["namespace"]
    assert a["redis_database"] != b["redis_database"]
    # Both writes landed on the one shared Redis, each under its own worker's key and database.
    for seen in (a, b):
        url = url_for(redis_admin_url, seen["redis_database"])
        assert asyncio.run(_take_keys(url, [seen["namespace"] + "shared"])) == [seen["worker"]]
    # The inner run dropped its databases when it ended, and left ours alone.
    remaining = asyncio.run(_databases(admin_dsn))
    assert not {a["database"], b["database"]} & remaining
    assert urlsplit(gp_services.postgres_dsn).path.lstrip("/") in remaining


def test_a_runs_embedded_servers_stop_when_the_run_ends(
    pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch
) -> None:
    out = pytester.mkdir("out")
    clean_env.setenv("GP_ENDPOINTS_OUT", str(out / "endpoints.json"))
    pytester.makepyfile(
        """
        import json, os

        def test_record(gp_services):
            with open(os.environ["GP_ENDPOINTS_OUT"], "w") as out:
                json.dump([gp_services.postgres_dsn, gp_services.redis_url], out)
        """
    )
    result = pytester.runpytest_subprocess("--gp-services=embedded", "-p", "no:randomly")
    result.assert_outcomes(passed=1)
    dsn, url = json.loads((out / "endpoints.json").read_text())
    for endpoint in (dsn, url):
        parts = urlsplit(endpoint)
        assert parts.hostname == "127.0.0.1"
        assert parts.port is not None
        assert not _accepts(parts.port), f"{endpoint} still answers after the run ended"


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
