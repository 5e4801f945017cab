"""The run's shared services, kept on the pytest config and handed to xdist workers."""

from __future__ import annotations

import os

import pytest

from golden_path.services.model import ServicesError
from golden_path.services.selection import requested_provider
from golden_path.testing.options import is_worker, store_options
from golden_path.testing.services.shared import SharedServices, new_run_id

_SHARED = pytest.StashKey[SharedServices]()
_SHARED_ERROR = pytest.StashKey[str]()


def open_session(config: pytest.Config) -> None:
    """Read the options and prepare (not start) the run's services."""
    options = store_options(config)
    if is_worker(config):
        workerinput = config.workerinput  # type: ignore[attr-defined]
        run_id, owner_pid = str(workerinput["gp_run_id"]), int(workerinput["gp_owner_pid"])
        # From xdist's own handshake, not the environment: an inner pytest run (pytester)
        # inherits PYTEST_XDIST_WORKER from the outer worker without being one.
        worker = str(workerinput["workerid"])
    else:
        run_id, owner_pid, worker = new_run_id(), os.getpid(), "main"
    try:
        provider = requested_provider(config.getoption("gp_services"))
    except ServicesError as exc:
        config.stash[_SHARED_ERROR] = str(exc)
        provider = "auto"
    config.stash[_SHARED] = SharedServices(
        run_id, owner_pid, provider, worker, schema=options.schema, rootdir=options.rootdir
    )


def hand_to_worker(config: pytest.Config, workerinput: dict[str, object]) -> None:
    shared = config.stash[_SHARED]
    workerinput["gp_run_id"] = shared.run_id
    workerinput["gp_owner_pid"] = shared.owner_pid


def close_session(config: pytest.Config) -> None:
    if not is_worker(config) and _SHARED in config.stash:
        config.stash[_SHARED].shutdown()


def shared_services(config: pytest.Config) -> SharedServices:
    if _SHARED_ERROR in config.stash:
        raise ServicesError(config.stash[_SHARED_ERROR])
    return config.stash[_SHARED]
