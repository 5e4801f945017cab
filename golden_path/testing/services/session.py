"""The run's shared services, kept on the pytest config and handed to xdist workers.

Nothing starts at configure time: :func:`open_session` only names the run (its id,
owner and worker). Once collection is over, :func:`prestart` begins this process's
services in a thread of their own when a selected test will ask for them, so the
servers boot, the template is migrated and the worker's database is cloned while
pytest finishes its own start-up; the first fixture that needs them waits for that
start instead of beginning it. ``pytest -m unit`` and ``--collect-only`` start nothing.
"""

from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from golden_path.services.model import ServicesError
from golden_path.services.selection import requested_provider
from golden_path.testing.options import is_worker, store_options
from golden_path.testing.services.rundir import new_run_id, run_dir_for

if TYPE_CHECKING:
    from golden_path.testing.services.shared import SharedServices

# How long a run's end waits for a start still under way before it stops what it started.
PRESTART_JOIN_TIMEOUT_S = 120.0


@dataclass
class _Run:
    """Who this process is in the run, and its services once something asked for them."""

    run_id: str
    owner_pid: int
    provider: str
    worker: str
    schema: str
    rootdir: Path
    error: str | None = None
    shared: SharedServices | None = None
    started: Future[BaseException | None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


_RUN = pytest.StashKey[_Run]()


def open_session(config: pytest.Config) -> None:
    """Read the options and name the run; nothing is imported or started for services."""
    options = store_options(config)
    if is_worker(config):
        workerinput = config.workerinput  # type: ignore[attr-defined]
        run_id, owner_pid = str(workerinput["gp_run_id"]), int(workerinput["gp_owner_pid"])
        # From xdist's own handshake, not the environment: an inner pytest run (pytester)
        # inherits PYTEST_XDIST_WORKER from the outer worker without being one.
        worker = str(workerinput["workerid"])
    else:
        run_id, owner_pid, worker = new_run_id(), os.getpid(), "main"
    error = None
    try:
        provider = requested_provider(config.getoption("gp_services"))
    except ServicesError as exc:
        error, provider = str(exc), "auto"
    config.stash[_RUN] = _Run(
        run_id,
        owner_pid,
        provider,
        worker,
        options.schema,
        options.rootdir,
        error=error,
    )


def hand_to_worker(config: pytest.Config, workerinput: dict[str, object]) -> None:
    run = config.stash[_RUN]
    workerinput["gp_run_id"] = run.run_id
    workerinput["gp_owner_pid"] = run.owner_pid


def _shared(run: _Run) -> SharedServices:
    with run.lock:
        if run.shared is None:
            from golden_path.testing.services.shared import SharedServices

            run.shared = SharedServices(
                run.run_id,
                run.owner_pid,
                run.provider,
                run.worker,
                schema=run.schema,
                rootdir=run.rootdir,
            )
        return run.shared


def prestart(config: pytest.Config) -> None:
    """Begin this process's services in the background (see the module doc); a failure
    is not raised here but by the fixture that needs them, with its message."""
    run = config.stash[_RUN]
    if run.error is not None or run.started is not None:
        return
    started: Future[BaseException | None] = Future()
    run.started = started

    def start() -> None:
        failure: BaseException | None = None
        try:
            _shared(run).for_this_worker()
        except Exception as exc:  # the first fixture that needs the services raises it
            failure = exc
        finally:
            started.set_result(failure)

    threading.Thread(target=start, name="golden-path-prestart", daemon=True).start()


def close_session(config: pytest.Config) -> None:
    run = config.stash.get(_RUN, None)
    if run is None:
        return
    if run.started is not None:
        # A start still under way would leave its servers behind: let it finish first.
        with contextlib.suppress(TimeoutError):
            run.started.result(PRESTART_JOIN_TIMEOUT_S)
    if not is_worker(config) and run_dir_for(run.run_id).exists():
        # The controller owns the run's supervisor, whichever process started it.
        _shared(run).shutdown()


def shared_services(config: pytest.Config) -> SharedServices:
    """This process's view of the run's services, once any start under way has ended."""
    run = config.stash[_RUN]
    if run.error is not None:
        raise ServicesError(run.error)
    if run.started is not None:
        failure = run.started.result()
        if failure is not None:
            # Raised once, as the start raised it (a SchemaError stops the run); later calls
            # retry, and the services' error file answers them as it would have.
            run.started = None
            raise failure
    return _shared(run)
