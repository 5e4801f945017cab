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

from golden_path.testing import fixtures, transcripts
from golden_path.testing.agui.fixtures import agui_skip_reason
from golden_path.testing.bvj.gate_hooks import register as register_gate_hooks
from golden_path.testing.bvj.hooks import BVJPlugin
from golden_path.testing.markers import MARKERS, check_choice, test_tier_from_path, vocabulary
from golden_path.testing.model.fixtures import model_report
from golden_path.testing.options import (
    INI,
    PROTOCOLS,
    add_options,
    harness_options,
    is_worker,
)
from golden_path.testing.services.session import (
    close_session,
    hand_to_worker,
    open_session,
    prestart,
)
from golden_path.testing.ws.fixtures import configure_contract

_MARKER_PROBLEM = pytest.StashKey[str]()
_LOG_OFFSET = pytest.StashKey[int]()
_CLIENTS = pytest.StashKey[list[transcripts.Transcribed]]()
REAL_SERVICE_FIXTURES = frozenset(
    {"gp_services", "gp_server", "gp_database", "gp_db", "gp_redis", "gp_reference_services"}
)
# gp_server needs the harness's services unless it is a deployment given by --gp-url.
_STARTS_SERVICES = REAL_SERVICE_FIXTURES - {"gp_server"}


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for name, help_text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {help_text}")
    open_session(config)
    config.pluginmanager.register(fixtures, "golden-path-fixtures")
    options = harness_options(config)
    configure_contract(config)  # a misconfigured gp_ws_* option stops the run here
    register_gate_hooks(config)
    if (
        options.bvj != "off"
        or config.getoption("gp_report")
        or config.getoption("gp_gate")
        or config.getoption("gp_history")
    ):
        config.pluginmanager.register(BVJPlugin(config), "golden-path-bvj")


def pytest_report_header(config: pytest.Config) -> list[str]:
    """The run's first lines say which server is under test: never a silent default. A
    project that configures nothing of golden-path sees nothing (quiet by default)."""
    options = harness_options(config)
    configured = any(config.getini(name) != default for name, (_, _, default) in INI.items())
    configured = configured or any(
        config.getoption(flag) for flag in ("gp_url", "gp_services", "gp_schema", "gp_report")
    )
    if not configured:
        return []
    if options.url:
        server = f"the deployment at {options.url} (--gp-url)"
    elif options.app:
        server = f"your app, gp_app = {options.app} (in-process)"
    elif options.server_command:
        server = f"your command, gp_server_command = {options.server_command}"
    else:
        server = "golden-path's reference server (gp_app and gp_server_command are unset)"
    segments = " ".join(options.segments) or "(gp_segments unset)"
    return [f"golden-path: server under test: {server}; segments: {segments}"]


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
    words = vocabulary(config)
    for item in items:
        tier = test_tier_from_path(item.path)
        if tier is not None and item.get_closest_marker(tier) is None:
            item.add_marker(getattr(pytest.mark, tier))
        if set(getattr(item, "fixturenames", ())) & REAL_SERVICE_FIXTURES:
            item.add_marker(pytest.mark.real_services)
        if gp_url and item.get_closest_marker("server_internals") is not None:
            item.add_marker(
                pytest.mark.skip(
                    reason=f"needs the server's own services; {gp_url} is a deployment"
                )
            )
        elif gp_url and item.get_closest_marker("reference_only") is not None:
            item.add_marker(pytest.mark.skip(reason=f"needs the reference server; {gp_url} is not"))
        for mark in item.iter_markers("protocol"):
            if len(mark.args) != 1 or mark.args[0] not in PROTOCOLS:
                shown = ", ".join(repr(a) for a in mark.args) or "nothing"
                wrong = f"@pytest.mark.protocol({shown}): expected one of {', '.join(PROTOCOLS)}"
                problems.append(f"{item.nodeid}: {wrong}")
                item.stash[_MARKER_PROBLEM] = wrong
        protocol_skip = agui_skip_reason(item, config)
        if protocol_skip is not None:
            item.add_marker(pytest.mark.skip(reason=protocol_skip))
        for marker, choices in (("tier", words.segments), ("stage", words.stages)):
            for mark in item.iter_markers(marker):
                problem = check_choice(marker, mark.args, choices)
                if problem:
                    problems.append(f"{item.nodeid}: {problem}")
                    item.stash[_MARKER_PROBLEM] = problem
    if problems and not is_worker(config):
        raise pytest.UsageError("invalid golden-path markers:\n  " + "\n  ".join(problems))
    # On an xdist worker a usage error would crash the run without its message: there each
    # such test errors at setup with it instead (pytest_runtest_setup).


def pytest_collection_finish(session: pytest.Session) -> None:
    """Begin the services now if a selected test will need them (see services.session)."""
    config = session.config
    if config.option.collectonly:
        return
    needs = _STARTS_SERVICES if config.getoption("gp_url") else REAL_SERVICE_FIXTURES
    if any(needs & set(getattr(item, "fixturenames", ())) for item in session.items):
        prestart(config)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """Every client made while the test runs (setup, call, teardown) is kept for its report,
    whether a fixture made it or the test did by hand (``golden_path.testing.transcripts``)."""
    with transcripts.collecting(item.stash.setdefault(_CLIENTS, [])):
        return (yield)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    problem = item.stash.get(_MARKER_PROBLEM, None)
    if problem is not None:
        pytest.fail(f"invalid golden-path marker: {problem}", pytrace=False)
    server = item.config.stash.get(fixtures.SERVER_UNDER_TEST, None)
    item.stash[_LOG_OFFSET] = server.log_size() if server is not None else 0


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test's report shows every client's transcript and the server's own log."""
    report = yield
    model_report(item, report)  # fails a test whose model saw a problem; adds its journal
    if report.when == "call" and report.failed:
        for index, sock in enumerate(getattr(item, "gp_sockets", ())):
            report.sections.append(
                (f"golden-path socket {index} transcript", sock.format_transcript(200))
            )
        report.sections.extend(transcripts.report_sections(item.stash.get(_CLIENTS, [])))
        server = item.config.stash.get(fixtures.SERVER_UNDER_TEST, None)
        if server is not None and server.process is not None:
            offset = item.stash.get(_LOG_OFFSET, 0)
            report.sections.append(
                (
                    f"golden-path server log during this test ({server.process.name})",
                    server.log_since(offset) or "(nothing logged during this test)",
                )
            )
    return report
