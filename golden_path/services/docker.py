"""The docker provider: PostgreSQL and Redis containers through testcontainers.

Any Docker-compatible engine at ``DOCKER_HOST`` works (Docker, or podman's API
service; ``scripts/container_engine.sh`` provisions podman and local images on a
machine like CI's). The images default to the official ``postgres`` and
``redis`` ones; ``GOLDEN_PATH_POSTGRES_IMAGE`` and ``GOLDEN_PATH_REDIS_IMAGE``
name others that behave alike.

Start-up, and where its time goes:

* both containers are created and started at the same time, each on its own thread;
* readiness is a real query over the mapped port, polled every 20 ms, not
  testcontainers' wait strategies (they poll once a second, PostgreSQL's by
  ``docker exec`` of ``psql``, 0.2–0.4 s per try);
* PostgreSQL's data directory is a tmpfs and its durability is off (throwaway
  test data): initdb and the database clones are bound by the disk otherwise.

Nothing is open to the network: with a local engine (a Unix socket, or ``DOCKER_HOST``
on 127.0.0.1/localhost) both ports are published on 127.0.0.1 only; a remote engine's
are published where the engine is (or they could not be reached), and both servers
need a password anyway (Redis runs with ``--requirepass``, so the default user opens
nothing; the test harness's per-worker ACL users need that too). Redis has 1024
databases: two per pytest-xdist worker.

No container is ever lost track of: each is recorded before it is started, so a
start that fails removes what it created; ``stop()`` removes every container
even when one is already gone; and every container is labelled with its owner
(pid, start time and pid namespace), so that :func:`sweep_orphans`, run by every
start and by ``scripts/container_engine.sh``, removes the containers of a run that
was killed before it could (Ryuk, testcontainers' own reaper, is not always
available: its image cannot always be pulled).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import redis.asyncio as aioredis

from golden_path.services.model import Services, ServicesError
from golden_path.services.probe import probe_services
from golden_path.services.registry import Owner

POSTGRES_IMAGE_ENV = "GOLDEN_PATH_POSTGRES_IMAGE"
REDIS_IMAGE_ENV = "GOLDEN_PATH_REDIS_IMAGE"
DEFAULT_POSTGRES_IMAGE = "postgres:16-alpine"
DEFAULT_REDIS_IMAGE = "redis:7-alpine"
LOOPBACK = "127.0.0.1"
ENGINE_TIMEOUT_S = 1.0
CLIENT_TIMEOUT_S = 60.0
# Only for the client that pings; real work uses the version the engine names.
MINIMUM_API_VERSION = "1.24"
READY_TIMEOUT_S = 60.0
POLL_INTERVAL_S = 0.02
STATE_CHECK_INTERVAL_S = 0.25
POSTGRES_DATA = "/var/lib/postgresql/data"
# The embedded provider's settings: durability off, enough connections for -n auto.
POSTGRES_SETTINGS: dict[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "400",
}

LABEL_PREFIX = "io.golden-path"
LABEL_OWNER_PID = f"{LABEL_PREFIX}.owner-pid"
LABEL_OWNER_START_TIME = f"{LABEL_PREFIX}.owner-start-time"
LABEL_OWNER_HOST = f"{LABEL_PREFIX}.owner-host"
LABEL_RUN = f"{LABEL_PREFIX}.run"
LABEL_ROLE = f"{LABEL_PREFIX}.role"
LABEL_SESSION = f"{LABEL_PREFIX}.session"
# Set by scripts/container_engine.sh run: every container started under it carries it, so
# that the script removes them all when its command ends, whatever their owners did.
SESSION_ENV = "GOLDEN_PATH_DOCKER_SESSION"


def docker_host() -> str:
    return os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")


def engine_is_local(host: str | None = None) -> bool:
    """Whether the engine publishes ports on this machine (a Unix socket, or TCP on the
    loopback): then they are published on 127.0.0.1 only."""
    url = urlsplit(docker_host() if host is None else host)
    if url.scheme in ("unix", "npipe", ""):
        return True
    return url.hostname in ("127.0.0.1", "localhost", "::1")


def engine_api_version(timeout: float = ENGINE_TIMEOUT_S) -> str:
    """The API version the engine speaks, from one ``/_ping``; raises if it does not answer.

    The docker client's own negotiation asks ``/version``, which podman answers in about
    0.45 s (it runs its tools to report their versions); ``/_ping`` names the version in a
    header in a millisecond. Every client the provider makes is given this version.
    """
    import docker

    # An explicit version: making the client asks nothing; the ping itself is unversioned.
    client = docker.from_env(version=MINIMUM_API_VERSION, timeout=timeout)
    try:
        response = client.api.get(f"{client.api.base_url}/_ping", timeout=timeout)
        response.raise_for_status()
        version = response.headers.get("Api-Version")
        return str(version) if version else str(client.version()["ApiVersion"])
    finally:
        client.close()


def _no_engine(exc: Exception) -> str:
    if isinstance(exc, ImportError):
        return "the docker package is not installed (pip install 'golden-path[docker]')"
    return f"no Docker engine at {docker_host()} ({type(exc).__name__}: {exc})"


def engine_problem(timeout: float = ENGINE_TIMEOUT_S) -> str | None:
    """``None`` when a Docker engine answers within ``timeout``; else why not."""
    try:
        engine_api_version(timeout)
    except Exception as exc:  # the docker client raises many kinds; any means "no engine"
        return _no_engine(exc)
    return None


def owner_labels(owner: Owner, run: str, session: str | None = None) -> dict[str, str]:
    labels = {
        LABEL_OWNER_PID: str(owner.pid),
        LABEL_OWNER_START_TIME: "" if owner.start_time is None else str(owner.start_time),
        LABEL_OWNER_HOST: owner.host,
        LABEL_RUN: run,
    }
    if session:
        labels[LABEL_SESSION] = session
    return labels


def owner_from_labels(labels: dict[str, str]) -> Owner | None:
    """The owner a container's labels name; ``None`` if they are not ours or are damaged."""
    try:
        start_time = labels.get(LABEL_OWNER_START_TIME, "")
        return Owner(
            pid=int(labels[LABEL_OWNER_PID]),
            start_time=int(start_time) if start_time else None,
            host=labels[LABEL_OWNER_HOST],
        )
    except (KeyError, ValueError):
        return None


def container_factory() -> Any:
    """testcontainers' generic container class, from its module that is not deprecated."""
    try:
        from testcontainers.core.container import DockerContainer
    except ImportError as exc:
        raise ServicesError(
            f"docker provider: testcontainers is missing ({exc}); "
            "pip install 'golden-path[docker]' or use --gp-services=embedded"
        ) from exc
    return DockerContainer


@contextlib.contextmanager
def _client(version: str | None = None) -> Iterator[Any]:
    import docker

    client = docker.from_env(version=version or engine_api_version(), timeout=CLIENT_TIMEOUT_S)
    try:
        yield client
    finally:
        client.close()


def labelled_containers(client: Any, label: str) -> list[tuple[str, dict[str, str]]]:
    """(id, labels) of every container, running or not, with ``label`` (``key`` or
    ``key=value``), from one listing. ``containers.list`` would inspect each container
    after listing it, and a container removed in between (by another run's sweep) fails
    that inspection: podman answers 500, not 404."""
    listed = client.api.containers(all=True, filters={"label": label})
    return [(str(c["Id"]), dict(c.get("Labels") or {})) for c in listed]


def remove_if_present(client: Any, container_id: str) -> bool:
    """Remove a container and its volumes; ``False`` when it was already gone."""
    import docker.errors

    try:
        client.api.remove_container(container_id, force=True, v=True)
    except docker.errors.NotFound:
        return False
    except docker.errors.APIError as exc:  # podman: 500 "no such container"
        if "no such container" not in str(exc).lower():
            raise
        return False
    return True


def sweep_orphans(api_version: str | None = None) -> list[str]:
    """Remove the containers whose owner is gone; return their ids.

    Only containers labelled by this provider, whose owner ran in this machine's pid
    namespace, are considered; a live owner's containers (another run's) are left alone.
    """
    removed: list[str] = []
    with _client(api_version) as client:
        for container_id, labels in labelled_containers(client, LABEL_OWNER_PID):
            owner = owner_from_labels(labels)
            if owner is None or not owner.is_gone():
                continue
            if remove_if_present(client, container_id):  # else another sweep was quicker
                removed.append(container_id)
    return removed


def end_session(session: str, grace_s: float = 30.0) -> list[str]:
    """Remove every container of ``session``; return their ids.

    Owners still alive get ``grace_s`` to remove their own (a supervisor stops its
    containers when it sees its run end); whatever is left then is removed regardless.
    """
    removed: list[str] = []
    deadline = time.monotonic() + grace_s
    with _client() as client:
        while True:
            containers = labelled_containers(client, f"{LABEL_SESSION}={session}")
            owners = [owner_from_labels(labels) for _, labels in containers]
            if not any(o is not None and not o.is_gone() for o in owners):
                break
            if time.monotonic() >= deadline:
                break
            time.sleep(POLL_INTERVAL_S * 10)
        for container_id, _ in containers:
            if remove_if_present(client, container_id):
                removed.append(container_id)
    return removed


@dataclass
class _Server:
    """One container: what to start, and the testcontainers object once it exists."""

    role: str
    image: str
    port: int
    env: dict[str, str] = field(default_factory=dict)
    command: list[str] | None = None
    tmpfs: list[str] = field(default_factory=list)
    container: Any = None
    published_on: str | None = None  # the host address its port is published on (None: all)

    def host_port(self) -> int:
        wrapped = self.container.get_wrapped_container()
        wrapped.reload()
        bindings = (wrapped.attrs.get("NetworkSettings") or {}).get("Ports") or {}
        mapped = bindings.get(f"{self.port}/tcp") or []
        if not mapped:
            why = self.exited() or f"is {wrapped.status} but has no host port for {self.port}/tcp"
            raise ServicesError(f"docker provider: the {self.role} container ({self.image}) {why}")
        return int(mapped[0]["HostPort"])

    def exited(self) -> str | None:
        """Why the container stopped running, with its log's end; ``None`` while it runs."""
        wrapped = self.container.get_wrapped_container()
        wrapped.reload()
        if wrapped.status in ("created", "running"):
            return None
        code = (wrapped.attrs.get("State") or {}).get("ExitCode")
        return f"exited (status {code}); its log ends:\n{self.log_tail()}"

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(Exception):
            text = self.container.get_wrapped_container().logs(tail=lines)
            return bytes(text).decode("utf-8", "replace").rstrip() or "(empty)"
        return "(unavailable)"


class DockerProvider:
    """One PostgreSQL and one Redis container, removed again by ``stop()``."""

    name = "docker"

    def __init__(
        self,
        postgres_image: str | None = None,
        redis_image: str | None = None,
        postgres_command: list[str] | None = None,
        redis_command: list[str] | None = None,
        ready_timeout: float = READY_TIMEOUT_S,
    ) -> None:
        self.run_id = uuid.uuid4().hex[:12]
        self.ready_timeout = ready_timeout
        password = secrets.token_hex(12)
        # The default user's password (redis_command, a test's own, runs without one).
        self.redis_password = secrets.token_hex(16) if redis_command is None else ""
        published_on = LOOPBACK if engine_is_local() else None
        settings = [
            arg for key, value in POSTGRES_SETTINGS.items() for arg in ("-c", f"{key}={value}")
        ]
        self._postgres = _Server(
            role="postgres",
            image=postgres_image or os.environ.get(POSTGRES_IMAGE_ENV, DEFAULT_POSTGRES_IMAGE),
            port=5432,
            env={
                "POSTGRES_USER": "postgres",
                "POSTGRES_PASSWORD": password,
                "POSTGRES_DB": "postgres",
            },
            command=settings if postgres_command is None else postgres_command,
            tmpfs=[POSTGRES_DATA],
            published_on=published_on,
        )
        self._redis = _Server(
            role="redis",
            image=redis_image or os.environ.get(REDIS_IMAGE_ENV, DEFAULT_REDIS_IMAGE),
            port=6379,
            # noeviction: an evicted refresh family would log users out (protocol §10).
            command=[
                "redis-server",
                *("--save", "", "--appendonly", "no"),
                *("--maxmemory-policy", "noeviction"),
                *("--requirepass", self.redis_password, "--databases", "1024"),
            ]
            if redis_command is None
            else redis_command,
            published_on=published_on,
        )
        self._lock = threading.Lock()
        self._containers: list[Any] = []

    def start(self) -> Services:
        try:
            api_version = engine_api_version()
        except Exception as exc:
            raise ServicesError(
                f"docker provider: {_no_engine(exc)}; use --gp-services=embedded"
            ) from None
        factory = container_factory()
        with contextlib.suppress(Exception):  # a sweep that fails must not fail this start
            sweep_orphans(api_version)
        labels = owner_labels(Owner.this_process(), self.run_id, os.environ.get(SESSION_ENV))
        try:
            # The pool is left (every launch finished) before a failure's stop() runs.
            with ThreadPoolExecutor(max_workers=2, thread_name_prefix="gp-docker") as pool:
                launches = [
                    pool.submit(self._launch, factory, server, labels, api_version)
                    for server in (self._postgres, self._redis)
                ]
                for launch in launches:
                    launch.result()
            host = self._postgres.published_on or self._postgres.container.get_container_host_ip()
            auth = f":{self.redis_password}@" if self.redis_password else ""
            postgres_port, redis_port = self._postgres.host_port(), self._redis.host_port()
            env = self._postgres.env
            services = Services(
                postgres_dsn=(
                    f"postgresql://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}"
                    f"@{host}:{postgres_port}/{env['POSTGRES_DB']}"
                ),
                redis_url=f"redis://{auth}{host}:{redis_port}/0",
                provider=self.name,
            )
            asyncio.run(self._wait_ready(services))
            return probe_services(services)
        except BaseException as exc:
            self._stop_quietly()
            if isinstance(exc, ServicesError | KeyboardInterrupt | SystemExit):
                raise
            raise ServicesError(
                f"docker provider: could not start containers ({type(exc).__name__}: {exc}); "
                "use --gp-services=embedded"
            ) from exc

    def _launch(
        self, factory: Any, server: _Server, labels: dict[str, str], api_version: str
    ) -> None:
        container = factory(
            server.image,
            docker_client_kw={"version": api_version, "timeout": CLIENT_TIMEOUT_S},
            command=server.command,
            env=dict(server.env),
            ports=[server.port],
            labels={**labels, LABEL_ROLE: server.role},
        )
        if server.published_on is not None:  # a random port of that address only
            container.ports[str(server.port)] = (server.published_on, None)
        for path in server.tmpfs:
            container.with_tmpfs_mount(path)
        server.container = container
        with self._lock:  # recorded before it exists: a failed start() still removes it
            self._containers.append(container)
        try:
            container.start()
        except Exception as exc:
            raise ServicesError(
                f"docker provider: the {server.role} container ({server.image}) did not start "
                f"({type(exc).__name__}: {exc})"
            ) from exc

    async def _wait_ready(self, services: Services) -> None:
        deadline = time.monotonic() + self.ready_timeout
        await asyncio.gather(
            self._poll(self._postgres, deadline, lambda: _postgres_answers(services.postgres_dsn)),
            self._poll(self._redis, deadline, lambda: _redis_answers(services.redis_url)),
        )

    async def _poll(self, server: _Server, deadline: float, attempt: Any) -> None:
        """Try ``attempt`` until it succeeds; fail at once if the container exits."""
        last_error = "no attempt yet"
        next_state_check = time.monotonic() + STATE_CHECK_INTERVAL_S
        while True:
            try:
                await attempt()
                return
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            except aioredis.RedisError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            now = time.monotonic()
            if now >= next_state_check or now >= deadline:
                next_state_check = now + STATE_CHECK_INTERVAL_S
                exited = await asyncio.to_thread(server.exited)
                if exited is not None:
                    raise ServicesError(
                        f"docker provider: the {server.role} container ({server.image}) {exited}"
                    )
            if now >= deadline:
                raise ServicesError(
                    f"docker provider: {server.role} in container ({server.image}) did not "
                    f"answer within {self.ready_timeout:g} s (last error: {last_error}); "
                    f"its log ends:\n{await asyncio.to_thread(server.log_tail)}"
                )
            await asyncio.sleep(POLL_INTERVAL_S)

    def stop(self) -> None:
        """Remove every container; one already gone does not keep the others running."""
        import docker.errors

        with self._lock:
            containers, self._containers = self._containers, []

        def remove(container: Any) -> str | None:
            try:
                container.stop()  # testcontainers: remove(force=True, v=True), if it exists
            except docker.errors.NotFound:
                return None  # removed already (by hand, or by a sweep): what stop() wants
            except Exception as exc:
                return f"{type(exc).__name__}: {exc}"
            return None

        # Each removal on its own thread: every one is tried, whatever another one meets.
        with ThreadPoolExecutor(max_workers=max(1, len(containers))) as pool:
            failures = [failure for failure in pool.map(remove, containers) if failure]
        if failures:
            raise ServicesError(
                "docker provider: could not remove every container: " + "; ".join(failures)
            )

    def _stop_quietly(self) -> None:
        with contextlib.suppress(ServicesError):
            self.stop()


async def _postgres_answers(dsn: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=2.0)
    try:
        await conn.fetchval("SELECT 1")
    finally:
        await conn.close()


async def _redis_answers(url: str) -> None:
    client = aioredis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
    try:
        await client.ping()
    finally:
        await client.aclose()
