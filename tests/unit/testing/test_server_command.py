"""``gp_server_command``: each placeholder stays inside the one argument it is written in.

The command is split first (shell rules), then each argument is substituted: a path
with a space, a DSN whose password holds a quote, a value with ``$`` or a backslash
is passed through exactly, never re-split or re-quoted.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from golden_path.testing.server.own import OwnServerError, command_argv

pytestmark = [
    pytest.mark.unit,
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="a team's server starts under the harness whatever its checkout path "
        "or its database password contains",
        revenue_impact="a harness that breaks on a space in a path or a quote in a password "
        "fails at the first step of adoption, with a traceback instead of a reason",
    ),
]

VALUES = {
    "python": "/home/ann/my projects/.venv/bin/python",
    "postgres_dsn": 'postgresql://app:it\'s "quoted" $HOME\\@db:5432/app',
    "port": "8123",
}


def test_a_path_with_a_space_and_a_password_with_quotes_each_stay_one_argument() -> None:
    argv = command_argv("{python} -m uvicorn app:app --port {port} --dsn={postgres_dsn}", VALUES)
    assert argv == [
        VALUES["python"],
        "-m",
        "uvicorn",
        "app:app",
        "--port",
        "8123",
        "--dsn=" + VALUES["postgres_dsn"],
    ]


def test_quoting_in_the_template_is_the_shells() -> None:
    argv = command_argv("sh -c 'exec serve --port {port}' '{python}'", VALUES)
    assert argv == ["sh", "-c", "exec serve --port 8123", VALUES["python"]]


@given(st.text(min_size=1).filter(lambda t: "\x00" not in t))
def test_any_value_is_passed_through_exactly(value: str) -> None:
    assert command_argv("server --dsn {postgres_dsn} --x", {"postgres_dsn": value}) == [
        "server",
        "--dsn",
        value,
        "--x",
    ]


@pytest.mark.parametrize(
    ("template", "says"),
    [
        ("server --dsn '{postgres_dsn}", "No closing quotation"),
        ("server --port {prot}", "unknown placeholder"),
        ("   ", "empty"),
    ],
)
def test_a_bad_template_is_a_clear_error(template: str, says: str) -> None:
    with pytest.raises(OwnServerError, match=says):
        command_argv(template, VALUES)
