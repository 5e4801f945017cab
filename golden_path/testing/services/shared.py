"""One set of real servers per test run, shared by every xdist worker, each on its own data.

The first worker that needs services starts a supervisor process (see
``golden_path.services.supervisor``) owned by the run's controller, under a
file lock in the run's folder; the others read what it wrote. Once per run the
project's schema (``gp_schema``) is applied to a template database; each worker
then clones its own database from it (``CREATE DATABASE … TEMPLATE``), and
``gp_database`` clones one per test. Each worker owns two Redis databases (one for
its services and servers, one for ``gp_redis``) and a key and channel namespace,
reached only through ACL users of its own that cannot leave them (``redis_acl``): the
run's admin URL stays inside the harness. The reference
server gets a database of its own, from golden-path's schema, unless that is the
project's schema. The controller stops the supervisor when the run ends; if the
run is killed, the supervisor sees its owner die and stops the servers itself.

Nothing starts until a test asks for the services, so ``pytest -m unit``
starts no server at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from golden_path.services.model import Services, ServicesError, dsn_with_database
from golden_path.services.processes import process_start_time
from golden_path.services.registry import stop_process
from golden_path.testing.options import SCHEMA_REFERENCE
from golden_path.testing.services.redis_acl import WorkerRedis, grant_worker, remove_users
from golden_path.testing.services.rundir import run_dir_for
from golden_path.testing.services.schema import apply_schema

SUPERVISOR_START_TIMEOUT_S = 120.0
_SAFE = re.compile(r"[^a-z0-9_]")


@dataclass(frozen=True, slots=True)
class RunServices:
    """What this run's services are and how the shared schema template is named."""

    admin: Services
    template: str
    supervisor_pid: int | None
    supervisor_start_time: int | None

    def to_json(self) -> str:
        return json.dumps(
            {
                "admin": json.loads(self.admin.to_json()),
                "template": self.template,
                "supervisor_pid": self.supervisor_pid,
                "supervisor_start_time": self.supervisor_start_time,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> RunServices:
        data: dict[str, Any] = json.loads(text)
        return cls(
            admin=Services.from_dict(data["admin"]),
            template=str(data["template"]),
            supervisor_pid=data.get("supervisor_pid"),
            supervisor_start_time=data.get("supervisor_start_time"),
        )


class SharedServices:
    """A test run's view of its shared servers, from one process (controller or worker)."""

    def __init__(
        self,
        run_id: str,
        owner_pid: int,
        provider: str,
        worker: str,
        *,
        schema: str = SCHEMA_REFERENCE,
        rootdir: Path | None = None,
    ) -> None:
        self.run_id = run_id
        self.owner_pid = owner_pid
        self.provider = provider
        self.worker = _SAFE.sub("_", worker.lower())
        self.schema = schema
        self.rootdir = rootdir or Path.cwd()
        self.dir = run_dir_for(run_id)
        self._state = self.dir / "services.json"
        self._error = self.dir / "services.error"
        self._worker_services: Services | None = None
        self._reference_services: Services | None = None
        self._run: RunServices | None = None
        self._redis: WorkerRedis | None = None
        self._clones = 0

    @property
    def worker_index(self) -> int:
        """0 for a run without xdist, n + 1 for worker ``gwn``."""
        digits = self.worker[2:] if self.worker.startswith("gw") else ""
        return int(digits) + 1 if digits.isdigit() else 0

    @property
    def database_prefix(self) -> str:
        return f"gp_{_SAFE.sub('_', self.run_id.lower())[:12]}"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.dir.mkdir(mode=0o700, exist_ok=True)
        with (self.dir / "lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def for_this_worker(self) -> Services:
        """This worker's services: started and templated on first use, then cached."""
        if self._worker_services is not None:
            return self._worker_services
        database = f"{self.database_prefix}_{self.worker}"
        with self._locked():
            if self._error.exists():
                raise ServicesError(self._error.read_text())
            if self._state.exists():
                run = RunServices.from_json(self._state.read_text())
                self._redis = asyncio.run(self._prepare(run, database, make_template=False))
            else:
                try:
                    run = self._start_supervisor()
                    try:
                        self._redis = asyncio.run(self._prepare(run, database, make_template=True))
                    except BaseException:
                        assert run.supervisor_pid is not None
                        stop_process(run.supervisor_pid, None, signal.SIGTERM)
                        raise
                except ServicesError as exc:
                    self._error.write_text(str(exc))
                    raise
                self._state.write_text(run.to_json())
        if not self._redis.isolated:
            warnings.warn(
                f"golden-path: the run's Redis does not isolate test workers: "
                f"{self._redis.why_not}. Each worker keeps databases of its own, but a test "
                "could reach another's (docs/harness.md: Redis: what one worker can reach).",
                stacklevel=2,
            )
        self._run = run
        self._worker_services = self._services_on(run, database)
        return self._worker_services

    async def _prepare(
        self, run: RunServices, database: str, *, make_template: bool
    ) -> WorkerRedis:
        """This worker's database (and, for the run's first worker, the template it is
        cloned from) and its Redis users, at once: Redis answers while PostgreSQL migrates."""

        async def postgres() -> None:
            if make_template:
                await _create_template(
                    run.admin.postgres_dsn, run.template, self.schema, self.rootdir
                )
            await _clone_database(run.admin.postgres_dsn, run.template, database)

        redis = grant_worker(
            run.admin.redis_url, self.redis_user(self.worker), self.redis_namespace(self.worker)
        )
        _, worker_redis = await asyncio.gather(postgres(), redis)
        return worker_redis

    def redis_namespace(self, worker: str) -> str:
        return f"gp:{self.run_id[:12]}:{worker}:"

    def grant_redis(self, admin_url: str, worker: str) -> WorkerRedis:
        """Worker ``worker``'s Redis users and two databases of its own (see ``redis_acl``)."""
        return asyncio.run(
            grant_worker(admin_url, self.redis_user(worker), self.redis_namespace(worker))
        )

    def redis_user(self, worker: str) -> str:
        return f"gp-{self.run_id[:12]}-{worker}"

    def _services_on(self, run: RunServices, database: str) -> Services:
        assert self._redis is not None
        return Services(
            postgres_dsn=run.admin.with_database(database).postgres_dsn,
            redis_url=self._redis.services_url,
            provider=run.admin.provider,
            postgres_version=run.admin.postgres_version,
            redis_version=run.admin.redis_version,
            redis_namespace=self.redis_namespace(self.worker),
        )

    def for_the_reference_server(self) -> Services:
        """Where this worker's reference server runs: the worker's database when the
        project's schema is golden-path's, else a database of its own from that schema."""
        if self.schema == SCHEMA_REFERENCE:
            return self.for_this_worker()
        if self._reference_services is not None:
            return self._reference_services
        self.for_this_worker()
        assert self._run is not None
        template = f"{self.database_prefix}_reference"
        database = f"{self.database_prefix}_{self.worker}_reference"
        with self._locked():
            marker = self.dir / "reference-template.done"
            if not marker.exists():
                asyncio.run(
                    _create_template(
                        self._run.admin.postgres_dsn, template, SCHEMA_REFERENCE, self.rootdir
                    )
                )
                marker.touch()
        asyncio.run(_clone_database(self._run.admin.postgres_dsn, template, database))
        self._reference_services = self._services_on(self._run, database)
        return self._reference_services

    async def admin_connection(self) -> asyncpg.Connection:
        """A connection to the run's maintenance database (for per-test clones)."""
        self.for_this_worker()
        assert self._run is not None
        return await asyncpg.connect(self._run.admin.postgres_dsn)

    async def clone_for_test(self, admin: asyncpg.Connection | None = None) -> Services:
        """A database of one test's own, cloned from the template (see :meth:`drop`);
        on ``admin`` (:meth:`admin_connection`) when given, else on a connection of its own."""
        worker = self.for_this_worker()
        assert self._run is not None
        self._clones += 1
        database = f"{self.database_prefix}_{self.worker}_t{self._clones}"
        conn = admin or await self.admin_connection()
        try:  # a new name each time: nothing to drop first
            await conn.execute(
                f"CREATE DATABASE {_quote(database)} TEMPLATE {_quote(self._run.template)}"
            )
        finally:
            if admin is None:
                await conn.close()
        return worker.with_database(database)

    async def drop(self, services: Services, admin: asyncpg.Connection | None = None) -> None:
        """Drop a database :meth:`clone_for_test` made (its connections are ended first)."""
        name = services.database
        if not name.startswith(f"{self.database_prefix}_{self.worker}_t"):
            raise ValueError(f"{name!r} is not a per-test database of this worker")
        conn = admin or await self.admin_connection()
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
        finally:
            if admin is None:
                await conn.close()

    def redis_database(self) -> str:
        """The URL of this worker's own Redis database (``gp_redis``), with the credentials
        of an ACL user that can use that database only (see ``redis_acl``)."""
        self.for_this_worker()
        assert self._redis is not None
        return self._redis.data_url

    @property
    def redis_admin_url(self) -> str:
        """The run's unrestricted Redis URL: for the harness (and its own tests) only."""
        self.for_this_worker()
        assert self._run is not None
        return self._run.admin.redis_url

    def _start_supervisor(self) -> RunServices:
        """The run's servers, started by a supervisor process; the template is named, not
        made yet (:meth:`_prepare` makes it)."""
        log = (self.dir / "supervisor.log").open("ab")
        supervisor = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "golden_path.services.supervisor",
                "--provider",
                self.provider,
                "--owner-pid",
                str(self.owner_pid),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        assert supervisor.stdout is not None
        line = supervisor.stdout.readline().decode("utf-8", "replace")
        supervisor.stdout.close()
        try:
            answer = json.loads(line)
        except ValueError:
            supervisor.wait(SUPERVISOR_START_TIMEOUT_S)
            tail = (self.dir / "supervisor.log").read_text(errors="replace")[-2000:]
            raise ServicesError(
                f"the services supervisor exited (status {supervisor.returncode}) "
                f"without reporting; its log:\n{tail}"
            ) from None
        if not answer.get("ok"):
            supervisor.wait(SUPERVISOR_START_TIMEOUT_S)
            raise ServicesError(str(answer.get("error")))
        return RunServices(
            admin=Services.from_dict(answer["services"]),
            template=f"{self.database_prefix}_template",
            supervisor_pid=supervisor.pid,
            supervisor_start_time=process_start_time(supervisor.pid),
        )

    def shutdown(self) -> None:
        """Controller side: drop this run's databases, stop the supervisor, remove the folder."""
        if not self._state.exists():
            shutil.rmtree(self.dir, ignore_errors=True)
            return
        run = RunServices.from_json(self._state.read_text())
        if run.admin.provider != "embedded":  # the embedded servers end with the run
            with contextlib.suppress(Exception):
                asyncio.run(remove_users(run.admin.redis_url, f"gp-{self.run_id[:12]}-"))
        if run.admin.provider == "external":
            with contextlib.suppress(Exception):
                asyncio.run(_drop_databases(run.admin.postgres_dsn, self.database_prefix))
        if run.supervisor_pid is not None:
            stop_process(run.supervisor_pid, run.supervisor_start_time, signal.SIGTERM, 30.0)
        shutil.rmtree(self.dir, ignore_errors=True)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _create_template(admin_dsn: str, template: str, schema: str, rootdir: Path) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {_quote(template)}")
        await conn.execute(f"CREATE DATABASE {_quote(template)}")
    finally:
        await conn.close()
    # Apply the schema, then disconnect: a template may not have sessions while cloned.
    await apply_schema(schema, dsn_with_database(admin_dsn, template), rootdir)


async def _clone_database(admin_dsn: str, template: str, database: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {_quote(database)}")
        await conn.execute(f"CREATE DATABASE {_quote(database)} TEMPLATE {_quote(template)}")
    finally:
        await conn.close()


async def _drop_databases(admin_dsn: str, prefix: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        names = await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY datname DESC",
            prefix + "\\_%",
        )
        for row in names:
            await conn.execute(f"DROP DATABASE IF EXISTS {_quote(row['datname'])} WITH (FORCE)")
    finally:
        await conn.close()


def new_run_id() -> str:
    return os.urandom(6).hex()
