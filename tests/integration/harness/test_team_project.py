"""The harness in a team's own project: their schema, a clean state per test, their server.

Each test writes a small project that is not the reference server (its own SQL,
its own app) into a fresh folder and runs pytest there, as a team would, on the
outer run's real servers through the external provider (the inner run makes
its own template and databases on them).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import textwrap
from pathlib import Path

import asyncpg
import pytest

from golden_path.services.model import Services, dsn_with_database

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="a team tests its own golden path on real PostgreSQL and Redis with its "
        "own schema and server, the way it adopts pytest-django",
        revenue_impact="a harness that can only test its own demo server has no customers",
    ),
]

INI = """\
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""
ORDERS_SQL = {
    "migrations/0001_customers.sql": "CREATE TABLE customers (id serial PRIMARY KEY, name text);",
    "migrations/0002_orders.sql": (
        "CREATE TABLE orders (id serial PRIMARY KEY, "
        "customer_id int NOT NULL REFERENCES customers(id), total numeric NOT NULL);"
    ),
}
TABLES_TEST = """
import json

async def test_the_schema_is_there(gp_db):
    tables = await gp_db.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    )
    print("TABLES", json.dumps([t["tablename"] for t in tables]))
"""


def write(root: Path, files: dict[str, str]) -> None:
    for relative, body in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body))


@pytest.fixture
def project(
    pytester: pytest.Pytester,
    gp_services: Services,
    monkeypatch: pytest.MonkeyPatch,
    redis_admin_url: str,
):
    """A fresh project folder whose inner runs use the outer run's servers."""
    monkeypatch.setenv(
        "GOLDEN_PATH_POSTGRES_DSN", dsn_with_database(gp_services.postgres_dsn, "postgres")
    )
    monkeypatch.setenv("GOLDEN_PATH_REDIS_URL", redis_admin_url)
    monkeypatch.setenv("GOLDEN_PATH_SERVICES", "external")
    pytester.syspathinsert()
    return pytester


def run(pytester: pytest.Pytester, ini_extra: str, *args: str) -> pytest.RunResult:
    (pytester.path / "pytest.ini").write_text(INI + textwrap.dedent(ini_extra))
    order = () if any(a.startswith("--randomly-seed") for a in args) else ("-p", "no:randomly")
    return pytester.runpytest_subprocess("-s", *order, *args)


def tables_printed(result: pytest.RunResult) -> list[str]:
    line = next(line for line in result.outlines if "TABLES [" in line)
    return json.loads(line.split("TABLES ", 1)[1].split("]", 1)[0] + "]")


# -- gp_schema ---------------------------------------------------------------------------


def test_a_directory_of_sql_files_is_applied_in_name_order(project: pytest.Pytester) -> None:
    write(project.path, {**ORDERS_SQL, "tests/test_schema.py": TABLES_TEST})
    result = run(project, "gp_schema = migrations\n")
    result.assert_outcomes(passed=1)
    assert tables_printed(result) == ["customers", "orders"]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_callable_migrates_the_template(project: pytest.Pytester, kind: str) -> None:
    body = {
        "sync": """
            import asyncio, asyncpg
            def migrate(dsn):
                async def go():
                    conn = await asyncpg.connect(dsn)
                    await conn.execute("CREATE TABLE made_by_a_tool (id int)")
                    await conn.close()
                asyncio.run(go())  # a migration tool may run a loop of its own
            """,
        "async": """
            import asyncpg
            async def migrate(dsn):
                conn = await asyncpg.connect(dsn)
                await conn.execute("CREATE TABLE made_by_a_tool (id int)")
                await conn.close()
            """,
    }[kind]
    write(project.path, {"myproject_schema.py": body, "tests/test_schema.py": TABLES_TEST})
    result = run(project, "gp_schema = myproject_schema:migrate\n")
    result.assert_outcomes(passed=1)
    assert tables_printed(result) == ["made_by_a_tool"]


def test_no_schema_is_an_empty_database(project: pytest.Pytester) -> None:
    write(project.path, {"tests/test_schema.py": TABLES_TEST})
    result = run(project, "")
    result.assert_outcomes(passed=1)
    assert tables_printed(result) == []


TESTS = 60


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_a_schema_that_fails_stops_the_run_with_one_message(
    project: pytest.Pytester, workers: tuple[str, ...]
) -> None:
    broken = {**ORDERS_SQL, "migrations/0003_broken.sql": "CREATE TABLE oops (id int,);"}
    tests = {f"tests/test_{n}.py": "async def test_db(gp_db):\n    pass\n" for n in range(TESTS)}
    write(project.path, {**broken, **tests})
    result = run(project, "gp_schema = migrations\n", *workers)
    assert result.ret != pytest.ExitCode.OK
    text = result.stdout.str()
    assert "0003_broken.sql failed" in text
    assert "syntax error" in text
    # One error; under xdist a few per worker (each stops once its current batch of tests
    # is done, and xdist hands out several at a time): bounded, never one per test.
    errors = result.parseoutcomes().get("errors", 0)
    assert 1 <= errors <= (TESTS // 4 if workers else 1), text[-3000:]
    assert "During handling of the above exception" not in text


# -- a clean state per test -----------------------------------------------------------


CLEAN_STATE_TESTS = """
import asyncpg

async def test_own_database_a(gp_database):
    conn = await asyncpg.connect(gp_database.postgres_dsn)
    await conn.execute("INSERT INTO customers (name) VALUES ('a')")
    assert await conn.fetchval("SELECT count(*) FROM customers") == 1
    print("DATABASE", gp_database.database)
    await conn.close()

async def test_own_database_b(gp_database):
    conn = await asyncpg.connect(gp_database.postgres_dsn)
    await conn.execute("INSERT INTO customers (name) VALUES ('b')")
    assert await conn.fetchval("SELECT count(*) FROM customers") == 1
    print("DATABASE", gp_database.database)
    await conn.close()

async def test_rolled_back_a(gp_db):
    await gp_db.execute("INSERT INTO customers (name) VALUES ('a')")
    assert await gp_db.fetchval("SELECT count(*) FROM customers") == 1

async def test_rolled_back_b(gp_db):
    await gp_db.execute("INSERT INTO customers (name) VALUES ('b')")
    assert await gp_db.fetchval("SELECT count(*) FROM customers") == 1

async def test_redis_a(gp_redis):
    assert await gp_redis.dbsize() == 0
    await gp_redis.set("counter", 1)

async def test_redis_b(gp_redis):
    assert await gp_redis.dbsize() == 0
    await gp_redis.set("counter", 2)
"""


LOOPS = {
    "loop-per-test": (),
    # One event loop for the run: gp_db, gp_database and gp_redis then keep one
    # connection per worker, and must still hand every test a clean state.
    "shared-loop": (
        "-o",
        "asyncio_default_fixture_loop_scope=session",
        "-o",
        "asyncio_default_test_loop_scope=session",
    ),
}


@pytest.mark.parametrize("loop", sorted(LOOPS))
@pytest.mark.parametrize("order", ["forwards", "backwards"])
def test_no_test_sees_what_another_wrote(project: pytest.Pytester, order: str, loop: str) -> None:
    write(project.path, {**ORDERS_SQL, "tests/test_clean.py": CLEAN_STATE_TESTS})
    seed = 1 if order == "forwards" else 2
    result = run(project, "gp_schema = migrations\n", f"--randomly-seed={seed}", *LOOPS[loop])
    result.assert_outcomes(passed=6)
    databases = {
        line.split("DATABASE ", 1)[1].split()[0] for line in result.outlines if "DATABASE " in line
    }
    assert len(databases) == 2


def test_per_test_databases_are_dropped(project: pytest.Pytester, gp_services: Services) -> None:
    write(project.path, {**ORDERS_SQL, "tests/test_clean.py": CLEAN_STATE_TESTS})
    result = run(project, "gp_schema = migrations\n", "-k", "own_database")
    result.assert_outcomes(passed=2)
    names = [
        line.split("DATABASE ", 1)[1].split()[0] for line in result.outlines if "DATABASE " in line
    ]

    async def still_there() -> list[str]:
        conn = await asyncpg.connect(dsn_with_database(gp_services.postgres_dsn, "postgres"))
        try:
            rows = await conn.fetch(
                "SELECT datname FROM pg_database WHERE datname = ANY($1)", names
            )
        finally:
            await conn.close()
        return [r["datname"] for r in rows]

    assert asyncio.run(still_there()) == []


def test_gp_redis_cannot_touch_other_databases(project: pytest.Pytester) -> None:
    write(
        project.path,
        {
            "tests/test_redis.py": """
                import pytest
                from redis.exceptions import NoPermissionError

                async def test_flushall_and_select_are_refused(gp_redis):
                    for command in (("FLUSHALL",), ("SELECT", "0"), ("SWAPDB", "0", "1")):
                        with pytest.raises(NoPermissionError):
                            await gp_redis.execute_command(*command)
                """
        },
    )
    result = run(project, "", "-n", "2")
    result.assert_outcomes(passed=1)


# -- the team's own server --------------------------------------------------------------

APP = """
import os
import asyncpg
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def health(request):
    return JSONResponse({"ok": True})

async def count(request):
    conn = await asyncpg.connect(os.environ["ORDERS_DATABASE_URL"])
    try:
        return JSONResponse({"customers": await conn.fetchval("SELECT count(*) FROM customers")})
    finally:
        await conn.close()

async def boom(request):
    print("ORDERS-SERVER-LOG: about to fail", flush=True)
    return JSONResponse({"error": "boom"}, status_code=500)

app = Starlette(routes=[Route("/health", health), Route("/count", count), Route("/boom", boom)])

def make_app(services):
    os.environ["ORDERS_DATABASE_URL"] = services.postgres_dsn
    return app
"""
SERVER_TESTS = """
import httpx

async def test_the_server_reads_its_own_database(gp_base_url):
    async with httpx.AsyncClient(base_url=gp_base_url) as client:
        answer = await client.get("/count")
    assert answer.json() == {"customers": 0}

async def test_a_failure_shows_the_servers_log(gp_base_url):
    async with httpx.AsyncClient(base_url=gp_base_url) as client:
        answer = await client.get("/boom")
    assert answer.status_code == 200
"""
SERVERS = {
    "app": "gp_app = orders_app:app\ngp_app_env =\n    ORDERS_DATABASE_URL={postgres_dsn}\n",
    "factory": "gp_app = orders_app:make_app\n",
    "command": (
        "gp_server_command = {python} -m uvicorn orders_app:app --port {port}\n"
        "gp_health_path = /health\n"
        "gp_app_env =\n    ORDERS_DATABASE_URL={postgres_dsn}\n"
    ),
}


@pytest.mark.parametrize("how", sorted(SERVERS))
def test_the_teams_server_runs_on_the_runs_services(project: pytest.Pytester, how: str) -> None:
    write(
        project.path, {**ORDERS_SQL, "orders_app.py": APP, "tests/e2e/test_server.py": SERVER_TESTS}
    )
    result = run(project, "gp_schema = migrations\n" + SERVERS[how])
    result.assert_outcomes(passed=1, failed=1)
    if how == "command":
        title = "golden-path server log during this test"
        result.stdout.fnmatch_lines(
            [
                f"*{title} ({{python}} -m uvicorn orders_app:app --port {{port}})*",
                "*ORDERS-SERVER-LOG: about to fail*",
            ]
        )
        # The failing test's own lines, not the whole log since the server started.
        assert "Application startup complete" not in result.stdout.str().split(title)[1]
        # Stopped with its whole process group when the run ended.
        left = subprocess.run(
            ["pgrep", "-f", "uvicorn orders_app:app"], capture_output=True, check=False
        )
        assert not left.stdout, left.stdout


JWT_APP = """
import os
import jwt
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def me(request):
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    try:
        claims = jwt.decode(token, os.environ["TEAM_SECRET"], algorithms=["HS256"],
                            audience="team-api", issuer="team")
    except jwt.PyJWTError:
        return JSONResponse({}, status_code=401)
    return JSONResponse({"user": claims["uid"], "plan": claims["plan"],
                         "namespace": os.environ["TEAM_REDIS_PREFIX"]})

app = Starlette(routes=[Route("/me", me)])
"""
JWT_TESTS = """
import httpx

async def test_tokens_signed_like_the_teams_server(gp_base_url, gp_jwt, gp_services):
    def bearer(token):
        return {"authorization": "Bearer " + token}

    async with httpx.AsyncClient(base_url=gp_base_url) as client:
        good = await client.get("/me", headers=bearer(gp_jwt.valid("u1", "mid")))
        bad = await client.get("/me", headers=bearer(gp_jwt.wrong_audience("u1")))
    assert good.json() == {"user": "u1", "plan": "mid", "namespace": gp_services.redis_namespace}
    assert bad.status_code == 401
"""


def test_gp_jwt_signs_like_the_teams_server_with_a_secret_the_harness_made(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEAM_SECRET", raising=False)
    write(project.path, {"team_app.py": JWT_APP, "tests/e2e/test_me.py": JWT_TESTS})
    ini = (
        "gp_app = team_app:app\n"
        "gp_app_env =\n    TEAM_REDIS_PREFIX={redis_namespace}\n"
        "gp_jwt_secret_env = TEAM_SECRET\ngp_jwt_issuer = team\ngp_jwt_audience = team-api\n"
        "gp_jwt_subject_claim = uid\ngp_jwt_tier_claim = plan\n"
    )
    run(project, ini).assert_outcomes(passed=1)


USER_FACTORY = """
async def make_user(base_url, plan):
    return {"made_on": base_url, "plan": plan}
"""
USER_TESTS = """
async def test_users_are_made_the_teams_way_on_the_teams_plans(gp_user, gp_base_url):
    assert await gp_user("team") == {"made_on": gp_base_url, "plan": "team"}
    assert await gp_user() == {"made_on": gp_base_url, "plan": "free"}


async def test_a_plan_the_team_does_not_sell_is_named(gp_user):
    await gp_user("enterprise")
"""


def test_gp_user_makes_users_of_the_teams_plans_with_the_teams_factory(
    project: pytest.Pytester,
) -> None:
    """The factory gets the plan's name as the test wrote it (golden-path's tier enum
    refused 'team' before the team's factory was called)."""
    write(
        project.path,
        {
            **ORDERS_SQL,
            "orders_app.py": APP,
            "team_users.py": USER_FACTORY,
            "tests/e2e/test_users.py": USER_TESTS,
        },
    )
    ini = (
        "gp_schema = migrations\ngp_app = orders_app:make_app\ngp_segments = free pro team\n"
        "gp_user_factory = team_users:make_user\n"
    )
    result = run(project, ini)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*gp_user('enterprise'): not one of gp_segments (free, pro, team)*"]
    )


def test_a_server_command_that_never_gets_ready_says_so(project: pytest.Pytester) -> None:
    write(project.path, {"tests/e2e/test_server.py": SERVER_TESTS})
    result = run(project, "gp_server_command = python -c 'import sys; sys.exit(3)'\n")
    assert result.ret != pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*exited with status 3*"])


URL_MODE_TESTS = """
import os

import pytest


async def test_reads_what_the_server_persisted(gp_db):
    assert await gp_db.fetchval("SELECT current_database()") == os.environ["DEPLOYMENT_DB"]


async def test_empties_redis(gp_redis):
    pass


async def test_clones_a_database(gp_database):
    pass


@pytest.mark.server_internals
async def test_restarts_the_server(gp_db):
    pass
"""


def test_under_gp_url_the_harness_services_never_stand_in_for_the_deployments(
    project: pytest.Pytester, gp_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the deployment's DSN a test of its data fails with one message (it used to
    read the harness's own, empty database and pass vacuously); with it, gp_db is on the
    deployment's database; gp_redis and gp_database are refused there."""
    write(project.path, {"tests/e2e/test_data.py": URL_MODE_TESTS})
    monkeypatch.setenv("DEPLOYMENT_DB", gp_services.database)
    url = "--gp-url=http://127.0.0.1:9"
    bare = run(project, "", url)
    bare.assert_outcomes(errors=3, skipped=1)
    bare.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_reads_what_the_server_persisted*",
            "*the harness's services are not the deployment's: give --gp-deployment-dsn and "
            "--gp-deployment-redis-url*",
            "*gp_redis empties a Redis database at every test*server_internals*",
            "*gp_database clones and drops databases*server_internals*",
        ],
        consecutive=False,
    )
    named = run(
        project,
        "",
        url,
        f"--gp-deployment-dsn={gp_services.postgres_dsn}",
        f"--gp-deployment-redis-url={gp_services.redis_url}",
        "-rs",
    )
    named.assert_outcomes(passed=1, errors=2, skipped=1)
    named.stdout.fnmatch_lines(["*needs the server's own services; http://127.0.0.1:9*"])


SERVER_URL_TEST = """
async def test_the_server_answers(gp_base_url):
    assert gp_base_url.startswith("http://")
"""


def test_a_project_with_its_own_schema_and_no_server_is_never_given_the_reference_server(
    project: pytest.Pytester,
) -> None:
    """A blank or misspelt gp_app used to test golden-path's reference server silently."""
    write(project.path, {**ORDERS_SQL, "tests/e2e/test_url.py": SERVER_URL_TEST})
    result = run(project, "gp_schema = migrations\ngp_ap = orders_app:app\n")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "golden-path: server under test: golden-path's reference server (gp_app and "
            "gp_server_command are unset)*",
            "*gp_schema = 'migrations' is your schema, but neither gp_app nor gp_server_command "
            "names your server*",
        ]
    )


def test_the_run_names_the_server_under_test_and_the_segments_at_its_start(
    project: pytest.Pytester,
) -> None:
    write(
        project.path, {**ORDERS_SQL, "orders_app.py": APP, "tests/e2e/test_url.py": SERVER_URL_TEST}
    )
    result = run(project, "gp_schema = migrations\ngp_app = orders_app:app\ngp_segments = a b\n")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "golden-path: server under test: your app, gp_app = orders_app:app (in-process); "
            "segments: a b"
        ]
    )


RESTART_TESTS = """
import httpx
import pytest


async def test_the_server_restarts_on_the_same_port_and_services(gp_server):
    before = gp_server.process.pid
    async with httpx.AsyncClient(base_url=gp_server.base_url) as client:
        assert (await client.get("/count")).json() == {"customers": 0}
    gp_server.restart()
    assert gp_server.process.pid != before
    async with httpx.AsyncClient(base_url=gp_server.base_url) as client:
        assert (await client.get("/count")).json() == {"customers": 0}
"""
IN_PROCESS_RESTART = """
import pytest


def test_an_in_process_app_cannot_restart(gp_server):
    with pytest.raises(RuntimeError, match="needs a server run as its own process"):
        gp_server.restart()
"""


def test_gp_server_restarts_the_teams_command_server(project: pytest.Pytester) -> None:
    """A graceful-shutdown or recovery test no longer starts its own process and repeats
    the gp_app_env wiring: the harness restarts the server it started."""
    write(
        project.path,
        {
            **ORDERS_SQL,
            "orders_app.py": APP,
            "tests/e2e/test_restart.py": RESTART_TESTS,
            "tests/e2e/test_in_process.py": IN_PROCESS_RESTART,
        },
    )
    command = run(
        project, "gp_schema = migrations\n" + SERVERS["command"], "tests/e2e/test_restart.py"
    )
    command.assert_outcomes(passed=1)
    in_process = run(
        project, "gp_schema = migrations\n" + SERVERS["app"], "tests/e2e/test_in_process.py"
    )
    in_process.assert_outcomes(passed=1)
