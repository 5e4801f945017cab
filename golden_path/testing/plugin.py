"""The golden-path pytest plugin (entry point ``pytest11``: ``golden_path``).

Installing golden-path gives every pytest run in the environment these
options, markers and fixtures; see ``docs/harness.md``.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator

import pytest

from golden_path.services.model import Services, ServicesError
from golden_path.services.selection import PROVIDER_NAMES, requested_provider
from golden_path.testing.agui_fixtures import (
    PROTOCOLS,
    agui_report_sections,
    agui_skip_reason,
    gp_agui,
    gp_agui_factory,
)
from golden_path.testing.bvj_hooks import BVJ_MODES, BVJPlugin
from golden_path.testing.markers import (
    CUSTOMER_TIERS,
    MARKERS,
    STAGES,
    check_choice,
    test_tier_from_path,
)
from golden_path.testing.server_fixtures import (
    gp_api,
    gp_base_url,
    gp_client,
    gp_jwt,
    gp_server,
    gp_user,
    gp_ws_url,
)
from golden_path.testing.server_process import gp_server_process
from golden_path.testing.shared_services import SharedServices, new_run_id

__all__ = [
    "gp_agui",
    "gp_agui_factory",
    "gp_api",
    "gp_base_url",
    "gp_client",
    "gp_jwt",
    "gp_server",
    "gp_server_process",
    "gp_services",
    "gp_user",
    "gp_ws_url",
]

DEFAULT_TIMEOUT_S = 60
REAL_SERVICE_FIXTURES = frozenset({"gp_services", "gp_server"})
_SHARED = pytest.StashKey[SharedServices]()
_SHARED_ERROR = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("golden-path")
    group.addoption(
        "--gp-services",
        choices=PROVIDER_NAMES,
        default=None,
        help="where real PostgreSQL and Redis come from (default: $GOLDEN_PATH_SERVICES or "
        "auto: external when both URLs are set, else docker if an engine answers, else embedded)",
    )
    group.addoption(
        "--gp-bvj",
        choices=BVJ_MODES,
        default="warn",
        help="tests without a valid Business Value Justification: strict (a collection "
        "error), warn (default) or off",
    )
    group.addoption(
        "--gp-report",
        default=None,
        metavar="DIR",
        help="write report.md and report.json (outcomes by test tier x segment x stage, "
        "the coverage matrix, tests without BVJ) to DIR",
    )
    group.addoption(
        "--gp-gate",
        action="store_true",
        help="fail the session when a test failed, a segment x stage cell of the coverage "
        "matrix is empty, or a test lacks a BVJ",
    )
    group.addoption(
        "--gp-url",
        default=None,
        metavar="URL",
        help="run the end-to-end tests against the protocol v1 server at URL instead of the "
        "in-process reference server; tests marked reference_only are skipped",
    )
    group.addoption(
        "--gp-protocol",
        choices=PROTOCOLS,
        default="v1",
        help="what the server under test speaks: v1 (default) or ag-ui (then --gp-url is "
        "the AG-UI endpoint; the AG-UI tests run and protocol v1's e2e tests are skipped)",
    )


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for name, help_text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {help_text}")
    if (
        config.pluginmanager.hasplugin("timeout")
        and getattr(config.option, "timeout", None) is None
        and not config.getini("timeout")
    ):
        config.option.timeout = DEFAULT_TIMEOUT_S

    if _is_worker(config):
        workerinput = config.workerinput  # type: ignore[attr-defined]
        run_id, owner_pid = str(workerinput["gp_run_id"]), int(workerinput["gp_owner_pid"])
    else:
        run_id, owner_pid = new_run_id(), os.getpid()
    # From xdist's own handshake, not the environment: an inner pytest run (pytester)
    # inherits PYTEST_XDIST_WORKER from the outer worker without being one.
    worker = str(config.workerinput["workerid"]) if _is_worker(config) else "main"  # type: ignore[attr-defined]
    try:
        provider = requested_provider(config.getoption("gp_services"))
    except ServicesError as exc:
        config.stash[_SHARED_ERROR] = str(exc)
        provider = "auto"
    config.stash[_SHARED] = SharedServices(run_id, owner_pid, provider, worker)
    config.pluginmanager.register(BVJPlugin(config), "golden-path-bvj")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: object) -> None:
    """xdist controller: hand each worker the run's id and owner."""
    config: pytest.Config = node.config  # type: ignore[attr-defined]
    shared = config.stash[_SHARED]
    node.workerinput["gp_run_id"] = shared.run_id  # type: ignore[attr-defined]
    node.workerinput["gp_owner_pid"] = shared.owner_pid  # type: ignore[attr-defined]


def pytest_unconfigure(config: pytest.Config) -> None:
    if not _is_worker(config) and _SHARED in config.stash:
        config.stash[_SHARED].shutdown()


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    problems: list[str] = []
    gp_url = config.getoption("gp_url")
    for item in items:
        tier = test_tier_from_path(item.path)
        if tier is not None and item.get_closest_marker(tier) is None:
            item.add_marker(getattr(pytest.mark, tier))
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & REAL_SERVICE_FIXTURES:
            item.add_marker(pytest.mark.real_services)
        if gp_url and item.get_closest_marker("reference_only") is not None:
            item.add_marker(pytest.mark.skip(reason=f"needs the reference server; {gp_url} is not"))
        protocol_skip = agui_skip_reason(item, config)
        if protocol_skip is not None:
            item.add_marker(pytest.mark.skip(reason=protocol_skip))
        for marker, choices in (("tier", CUSTOMER_TIERS), ("stage", STAGES)):
            for mark in item.iter_markers(marker):
                problem = check_choice(marker, mark.args, choices)
                if problem:
                    problems.append(f"{item.nodeid}: {problem}")
    if problems:
        raise pytest.UsageError("invalid golden-path markers:\n  " + "\n  ".join(problems))


@pytest.fixture(scope="session")
def gp_services(pytestconfig: pytest.Config) -> Iterator[Services]:
    """Real PostgreSQL and Redis for this worker: its own database and Redis key namespace.

    The servers are shared by the run; the database is this worker's clone of
    the schema template and ``redis_namespace`` the key prefix it owns.
    """
    if _SHARED_ERROR in pytestconfig.stash:
        pytest.fail(pytestconfig.stash[_SHARED_ERROR], pytrace=False)
    try:
        yield pytestconfig.stash[_SHARED].for_this_worker()
    except ServicesError as exc:
        pytest.fail(f"golden-path services unavailable: {exc}", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test's report shows the transcript of every socket ``gp_client`` opened."""
    report = yield
    if report.when == "call" and report.failed:
        for index, sock in enumerate(getattr(item, "gp_sockets", ())):
            report.sections.append(
                (f"golden-path socket {index} transcript", sock.format_transcript(200))
            )
        report.sections.extend(agui_report_sections(item))
    return report
