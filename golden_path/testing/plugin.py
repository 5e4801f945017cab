"""The golden-path pytest plugin (entry point ``pytest11``: ``golden_path``): hooks only.

Installing golden-path changes nothing a project did not ask for: its markers
are registered and its fixtures offered (``golden_path.testing.fixtures``), but
no BVJ check runs until ``gp_bvj`` is set, no timeout is imposed, and no service
starts until a test asks for one. The options are read once
(``golden_path.testing.options``); ``docs/harness.md`` describes them all.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from golden_path.testing import fixtures
from golden_path.testing.agui_fixtures import agui_report_sections, agui_skip_reason
from golden_path.testing.bvj_hooks import BVJPlugin
from golden_path.testing.markers import (
    CUSTOMER_TIERS,
    MARKERS,
    STAGES,
    check_choice,
    test_tier_from_path,
)
from golden_path.testing.model.fixtures import model_report
from golden_path.testing.options import add_options
from golden_path.testing.session import (
    close_session,
    hand_to_worker,
    harness_options,
    is_worker,
    open_session,
)

_MARKER_PROBLEM = pytest.StashKey[str]()
REAL_SERVICE_FIXTURES = frozenset(
    {"gp_services", "gp_server", "gp_database", "gp_db", "gp_redis", "gp_reference_services"}
)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for name, help_text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {help_text}")
    open_session(config)
    config.pluginmanager.register(fixtures, "golden-path-fixtures")
    options = harness_options(config)
    if options.bvj != "off" or config.getoption("gp_report") or config.getoption("gp_gate"):
        config.pluginmanager.register(BVJPlugin(config), "golden-path-bvj")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: object) -> None:
    """xdist controller: hand each worker the run's id and owner."""
    hand_to_worker(node.config, node.workerinput)  # type: ignore[attr-defined]


def pytest_unconfigure(config: pytest.Config) -> None:
    close_session(config)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    problems: list[str] = []
    gp_url = config.getoption("gp_url")
    for item in items:
        tier = test_tier_from_path(item.path)
        if tier is not None and item.get_closest_marker(tier) is None:
            item.add_marker(getattr(pytest.mark, tier))
        if set(getattr(item, "fixturenames", ())) & REAL_SERVICE_FIXTURES:
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
                    item.stash[_MARKER_PROBLEM] = problem
    if problems and not is_worker(config):
        raise pytest.UsageError("invalid golden-path markers:\n  " + "\n  ".join(problems))
    # On an xdist worker a usage error would crash the run without its message: there each
    # such test errors at setup with it instead (pytest_runtest_setup).


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    problem = item.stash.get(_MARKER_PROBLEM, None)
    if problem is not None:
        pytest.fail(f"invalid golden-path marker: {problem}", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test's report shows every socket's transcript and the server's own log."""
    report = yield
    model_report(item, report)  # fails a test whose model saw a problem; adds its journal
    if report.when == "call" and report.failed:
        for index, sock in enumerate(getattr(item, "gp_sockets", ())):
            report.sections.append(
                (f"golden-path socket {index} transcript", sock.format_transcript(200))
            )
        report.sections.extend(agui_report_sections(item))
        server = item.config.stash.get(fixtures.SERVER_UNDER_TEST, None)
        if server is not None and server.process is not None:
            report.sections.append(
                (f"golden-path server log ({server.process.name})", server.log_tail())
            )
    return report
