"""The run's harness state, kept on the pytest config: options, and the shared services."""

from __future__ import annotations

import os

import pytest

from golden_path.services.model import ServicesError
from golden_path.services.selection import requested_provider
from golden_path.testing.options import HarnessOptions
from golden_path.testing.shared_services import SharedServices, new_run_id

_OPTIONS = pytest.StashKey[HarnessOptions]()
_SHARED = pytest.StashKey[SharedServices]()
_SHARED_ERROR = pytest.StashKey[str]()


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def open_session(config: pytest.Config) -> None:
    """Read the options and prepare (not start) the run's services."""
    options = HarnessOptions.from_config(config)
    config.stash[_OPTIONS] = options
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


def harness_options(config: pytest.Config) -> HarnessOptions:
    return config.stash[_OPTIONS]


def shared_services(config: pytest.Config) -> SharedServices:
    if _SHARED_ERROR in config.stash:
        raise ServicesError(config.stash[_SHARED_ERROR])
    return config.stash[_SHARED]
