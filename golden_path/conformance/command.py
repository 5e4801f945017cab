"""``golden-path conformance --protocol v1|ag-ui --url URL [-- pytest args]``.

Runs a suite shipped in the package (``golden_path.conformance.v1`` or ``.agui``)
against any server, by URL, in a pytest of its own started in the current directory:
so the project's settings there (its pytest.ini, pyproject.toml, tox.ini or
setup.cfg: ``gp_user_factory``, the ``gp_jwt_*`` options, ``pythonpath``) make its
users and tokens. What the project's file says of its own suite does not apply:
its ``addopts`` are dropped, and the markers' vocabulary is the suite's (protocol
v1's plans, the default stages). It says first what the suite needs of the server's
limits (``golden_path.conformance.demand``) and stops at the first refusal
(``golden_path.conformance.throttle``).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from collections.abc import Sequence

import httpx

from golden_path.conformance.demand import demand
from golden_path.tiers import TIER_ORDER

SUITES = {"v1": "golden_path.conformance.v1", "ag-ui": "golden_path.conformance.agui"}
# What the suites need beside the harness: pytest runs them, pytest-asyncio their async tests.
NEEDS = {"pytest": "pytest", "pytest_asyncio": "pytest-asyncio"}
REACH_TIMEOUT_S = 10.0


def add_conformance_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "conformance",
        help="run golden-path's shipped conformance suite (protocol v1 or AG-UI) against a "
        "server by URL, with this project's settings for users and tokens",
        description="Run golden-path's conformance suite for a protocol (shipped in the "
        "package) against the server at URL, with this project's settings for users and "
        "tokens. Arguments after -- (or any it does not know) go to pytest.",
    )
    parser.add_argument("--protocol", choices=sorted(SUITES), required=True)
    parser.add_argument(
        "--url",
        required=True,
        help="the server: its base URL (v1), or the endpoint a RunAgentInput is POSTed to "
        "(ag-ui; its token in $GOLDEN_PATH_AGUI_TOKEN)",
    )
    # Whatever else it is given (after --, or any option it does not know) goes to pytest:
    # golden_path.cli.main hands it over as pytest_args.
    parser.set_defaults(handler=run, pytest_args=[])


def pytest_command(protocol: str, url: str, extra: Sequence[str]) -> list[str]:
    """The inner pytest run: the shipped suite, by module name, on the project's settings."""
    extra = list(extra)
    if "--" in extra:  # the separator, not an argument of pytest's
        extra.remove("--")
    return [
        sys.executable,
        "-m",
        "pytest",
        "--pyargs",
        SUITES[protocol],
        f"--gp-url={url}",
        f"--gp-protocol={protocol}",
        "-p",
        "golden_path.conformance.throttle",
        # The AG-UI suite proves the harness's own behaviour on the live endpoint too (what
        # --gp-protocol runs and skips, the transcript of a failure) with inner pytest runs.
        "-p",
        "pytester",
        "-o",
        "addopts=",
        "-o",
        "gp_segments=" + " ".join(tier.value for tier in TIER_ORDER),
        "-o",
        "gp_stages=",
        "-o",
        "asyncio_mode=auto",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
        *extra,
    ]


def missing_tools() -> list[str]:
    return [dist for module, dist in NEEDS.items() if importlib.util.find_spec(module) is None]


def unreachable(url: str) -> str | None:
    """Why nothing answers at ``url`` (any HTTP answer will do: an AG-UI endpoint refuses a
    GET), or None."""
    try:
        httpx.get(url, timeout=REACH_TIMEOUT_S)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def run(args: argparse.Namespace) -> int:
    problem = unreachable(args.url)
    if problem is not None:
        print(
            f"golden-path conformance: nothing answers at {args.url} ({problem}); start the "
            "server first, or check the URL",
            file=sys.stderr,
        )
        return 2
    missing = missing_tools()
    if missing:
        print(
            f"golden-path conformance: install {' and '.join(missing)} first (pip install "
            f"{' '.join(missing)}): the suite is a pytest suite",
            file=sys.stderr,
        )
        return 2
    print(f"golden-path conformance: {args.protocol} against {args.url}", flush=True)
    print(f"golden-path conformance: {demand(args.protocol)}.", flush=True)
    return subprocess.call(pytest_command(args.protocol, args.url, args.pytest_args))
