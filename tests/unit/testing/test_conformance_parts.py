"""The pure parts of ``golden-path conformance`` and of the harness-only install: the inner
pytest command, what counts as the server's limits refusing a run, and the one sentence
that names the ``server`` extra."""

from __future__ import annotations

import pytest

from golden_path.client.http import ApiError
from golden_path.client.socket import ConnectionRefused
from golden_path.conformance.command import SUITES, pytest_command, unreachable
from golden_path.conformance.demand import V1_MESSAGES_PER_MINUTE, V1_RUNS_PER_MINUTE, demand
from golden_path.conformance.throttle import refused_by_limits
from golden_path.server.extra import INSTALL, missing_extra
from golden_path.testing.agui.client import AGUIHTTPError
from golden_path.tiers import TIER_LIMITS, Tier

pytestmark = [
    pytest.mark.stage("auth"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="a team runs golden-path's conformance suites against its own server "
        "from its own project, and learns in one line what its limits or its install lack",
        revenue_impact="a conformance run that fails for reasons it does not name is one a "
        "team stops running",
    ),
]


@pytest.mark.parametrize("protocol", sorted(SUITES))
def test_the_inner_run_is_the_shipped_suite_by_url_with_the_suites_vocabulary(
    protocol: str,
) -> None:
    command = pytest_command(protocol, "http://server", ["--", "-n", "2"])
    assert command[command.index("--pyargs") + 1] == SUITES[protocol]
    assert "--gp-url=http://server" in command
    assert f"--gp-protocol={protocol}" in command
    overrides = [command[i + 1] for i, arg in enumerate(command) if arg == "-o"]
    assert "addopts=" in overrides  # the project's own selection and reporting: not here
    assert "gp_segments=free early mid enterprise" in overrides
    assert "gp_stages=" in overrides
    assert command[-2:] == ["-n", "2"]
    assert "--" not in command


@pytest.mark.parametrize(
    "given", [["--", "-n", "2", "-q"], ["-n", "2", "--", "-q"], ["-n", "2", "-q"]]
)
def test_pytests_own_arguments_pass_in_order_with_or_without_the_separator(
    given: list[str],
) -> None:
    assert pytest_command("v1", "http://server", given)[-3:] == ["-n", "2", "-q"]


@pytest.mark.parametrize(
    ("exc", "refused"),
    [
        (ApiError("POST", "/auth/signup", 429, "slow down"), True),
        (ApiError("POST", "/auth/signup", 500, "boom"), False),
        (AGUIHTTPError(429, "too many runs"), True),
        (AGUIHTTPError(401, "no token"), False),
        (ConnectionRefused(4429, "too many sockets"), True),
        (ConnectionRefused(4401, "unauthorized"), False),
        (AssertionError("429"), False),
    ],
)
def test_only_the_servers_limits_refusing_stop_the_run(exc: BaseException, refused: bool) -> None:
    assert refused_by_limits(exc) is refused


def test_the_v1_demand_is_read_from_the_tier_table() -> None:
    assert TIER_LIMITS[Tier.FREE].runs_per_day + 1 == V1_RUNS_PER_MINUTE
    assert TIER_LIMITS[Tier.ENTERPRISE].messages_per_minute + 1 == V1_MESSAGES_PER_MINUTE
    said = demand("v1")
    assert f"{V1_RUNS_PER_MINUTE} runs a minute" in said
    assert f"{V1_MESSAGES_PER_MINUTE} messages a minute" in said


@pytest.mark.parametrize("module", ["fastapi", "fastapi.responses", "argon2", "uvloop"])
def test_a_module_of_the_server_extra_missing_is_named_with_the_install_line(module: str) -> None:
    error = missing_extra(ModuleNotFoundError(f"No module named {module!r}", name=module), "x")
    assert error is not None
    assert str(error).startswith(
        f"x: golden-path's reference server needs {module.split('.')[0]!r}"
    )
    assert INSTALL in str(error)


def test_any_other_missing_module_is_left_as_it_is() -> None:
    assert missing_extra(ModuleNotFoundError("No module named 'numpy'", name="numpy")) is None


@pytest.mark.parametrize("url", ["not a url", "ftp://example.com/agui", "http://"])
def test_a_url_that_is_no_http_address_is_named_as_unreachable(url: str) -> None:
    assert unreachable(url) is not None
