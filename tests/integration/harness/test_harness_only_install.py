"""``pip install golden-path`` without the ``server`` extra: the harness works for a team app.

Building a venv per test is too slow, so the reference server's own dependencies
(FastAPI, argon2, uvloop: ``golden-path[server]``) are made unimportable instead: the
inner pytest runs behind a ``sys.meta_path`` finder that refuses them, as they would
be missing from a harness-only install. The plugin must load by its entry point and
serve a team's own ASGI app (``gp_app``, Starlette) on real PostgreSQL and Redis,
with its tokens, without importing any of them.
"""

from __future__ import annotations

import sys
import textwrap

import pytest

from golden_path.services.model import Services, dsn_with_database

pytestmark = [
    pytest.mark.integration,
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="a team installs the harness alone, without golden-path's reference "
        "server and its pinned web stack, and tests its own app",
        revenue_impact="a 210 MB install whose pins collide with the team's own FastAPI is "
        "one a team uninstalls before its first test",
    ),
]

# The reference server's own dependencies: what only golden-path[server] installs.
SERVER_ONLY = ("fastapi", "argon2", "uvloop")
RUNNER = f"""
import sys
from importlib.abc import MetaPathFinder

SERVER_ONLY = {SERVER_ONLY!r}


class RefuseServerOnly(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in SERVER_ONLY:
            raise ModuleNotFoundError(f"No module named {{name!r}} (harness-only)", name=name)
        return None


sys.meta_path.insert(0, RefuseServerOnly())
import pytest

code = pytest.main(sys.argv[1:])
loaded = sorted(m for m in sys.modules if m.split(".")[0] in SERVER_ONLY)
print("SERVER-ONLY MODULES LOADED:", loaded)
sys.exit(code)
"""
TEAM_APP = """
import os

import asyncpg
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def notes(request):
    conn = await asyncpg.connect(os.environ["NOTES_DSN"])
    try:
        count = await conn.fetchval("SELECT count(*) FROM notes")
    finally:
        await conn.close()
    return JSONResponse({"notes": count})


app = Starlette(routes=[Route("/", notes)])
"""
TEAM_TESTS = """
import httpx
import jwt


async def test_the_app_answers_from_its_database(gp_base_url):
    async with httpx.AsyncClient() as client:
        answer = await client.get(gp_base_url + "/")
    assert answer.json() == {"notes": 0}


async def test_a_write_is_rolled_back(gp_db):
    await gp_db.execute("INSERT INTO notes (body) VALUES ('kept only in this test')")
    assert await gp_db.fetchval("SELECT count(*) FROM notes") == 1


async def test_redis_is_real(gp_redis):
    await gp_redis.set("k", "v")
    assert await gp_redis.get("k") == b"v"


def test_tokens_are_minted(gp_jwt):
    claims = jwt.decode(gp_jwt.expired("user-1"), options={"verify_signature": False})
    assert claims["sub"] == "user-1"
"""
INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
gp_schema = migrations
gp_app = notes_app:app
gp_app_env = NOTES_DSN={postgres_dsn}
"""


def test_the_plugin_serves_a_team_app_without_the_reference_servers_dependencies(
    pytester: pytest.Pytester,
    gp_services: Services,
    monkeypatch: pytest.MonkeyPatch,
    redis_admin_url: str,
) -> None:
    monkeypatch.setenv(
        "GOLDEN_PATH_POSTGRES_DSN", dsn_with_database(gp_services.postgres_dsn, "postgres")
    )
    monkeypatch.setenv("GOLDEN_PATH_REDIS_URL", redis_admin_url)
    monkeypatch.setenv("GOLDEN_PATH_SERVICES", "external")
    pytester.makefile(".ini", pytest=textwrap.dedent(INI))
    pytester.makepyfile(notes_app=textwrap.dedent(TEAM_APP), run_tests=RUNNER)
    migrations = pytester.mkdir("migrations")
    (migrations / "0001_notes.sql").write_text("CREATE TABLE notes (id serial, body text);")
    (pytester.mkdir("tests") / "test_notes.py").write_text(textwrap.dedent(TEAM_TESTS))
    pytester.syspathinsert()
    result = pytester.run(
        sys.executable, "run_tests.py", "-p", "no:randomly", "-p", "no:cacheprovider", "tests"
    )
    out = result.stdout.str()
    assert result.ret == 0, out + result.stderr.str()
    result.stdout.fnmatch_lines(["*4 passed*", "SERVER-ONLY MODULES LOADED: []"])


def test_the_refusing_finder_does_refuse_a_server_only_module(pytester: pytest.Pytester) -> None:
    """The check itself: behind the finder, importing the reference server's app fails."""
    pytester.makepyfile(run_tests=RUNNER)
    pytester.makepyfile(
        test_server_import="""
        def test_the_reference_app_needs_fastapi():
            from golden_path.server.app import create_app
        """
    )
    result = pytester.run(sys.executable, "run_tests.py", "-p", "no:randomly", "-q")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*No module named 'fastapi' (harness-only)*"])


def test_the_shipped_conformance_suites_load_without_the_reference_servers_dependencies(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(run_tests=RUNNER)
    result = pytester.run(
        sys.executable,
        "run_tests.py",
        "--collect-only",
        "-q",
        "-o",
        "asyncio_mode=auto",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
        "--pyargs",
        "golden_path.conformance.v1",
        "golden_path.conformance.agui",
    )
    out = result.stdout.str()
    assert result.ret == 0, out + result.stderr.str()  # a module that fails to import: 2
    result.stdout.fnmatch_lines(["*tests collected*", "SERVER-ONLY MODULES LOADED: []"])


def test_the_reference_server_without_its_extra_is_refused_naming_the_extra(
    pytester: pytest.Pytester,
    gp_services: Services,
    monkeypatch: pytest.MonkeyPatch,
    redis_admin_url: str,
) -> None:
    """A project that names no server of its own gets golden-path's reference server, which
    a harness-only install lacks: one sentence names the extra, no ``fastapi`` traceback."""
    monkeypatch.setenv(
        "GOLDEN_PATH_POSTGRES_DSN", dsn_with_database(gp_services.postgres_dsn, "postgres")
    )
    monkeypatch.setenv("GOLDEN_PATH_REDIS_URL", redis_admin_url)
    monkeypatch.setenv("GOLDEN_PATH_SERVICES", "external")
    pytester.makepyfile(
        run_tests=RUNNER,
        test_reference="""
        def test_the_server(gp_base_url):
            pass
        """,
    )
    result = pytester.run(sys.executable, "run_tests.py", "-p", "no:randomly", "-q")
    assert result.ret == pytest.ExitCode.INTERRUPTED  # said once, and the run stops
    out = result.stdout.str()
    assert (
        "golden-path's reference server needs 'fastapi', which is not installed: "
        "pip install 'golden-path[server]'"
    ) in out
    assert "Traceback" not in out
    cli = pytester.run(
        sys.executable,
        "-c",
        RUNNER.split("import pytest")[0] + "from golden_path.cli import main; sys.exit(main())",
        "serve",
    )
    assert cli.ret == 2
    assert "golden-path serve: golden-path's reference server needs 'fastapi'" in cli.stderr.str()
    assert "pip install 'golden-path[server]'" in cli.stderr.str()
