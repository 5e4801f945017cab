"""``golden-path load --tokens gp_jwt``: simulated users signed in with tokens minted from
the ``gp_jwt_*`` settings of the current directory's ini, against a server that trusts
only its identity provider's tokens and has no signup at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from golden_path.server.runner import ServerThread
from tests.integration.load.broken_server import make_app

pytestmark = [
    pytest.mark.integration,
    pytest.mark.stage("auth"),
    pytest.mark.timeout(120),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a team whose users sign in at its identity provider loads its server "
        "with the tokens its tests already sign, with no signup endpoint to add",
        revenue_impact="a load test that cannot sign users in is never run before launch",
    ),
]

GOLDEN_PATH = str(Path(sys.executable).with_name("golden-path"))
SECRET_ENV = "LOAD_TEST_JWT_SECRET"
SECRET = "a-load-test-secret-of-at-least-48-bytes-for-hs384!!"
INI = """[pytest]
gp_segments = starter pro
gp_jwt_issuer = https://id.load.example
gp_jwt_audience = load-api
gp_jwt_algorithm = HS384
gp_jwt_secret_env = LOAD_TEST_JWT_SECRET
gp_jwt_subject_claim = customer
gp_jwt_tier_claim = plan
gp_jwt_claims =
    scope=chat
"""


@pytest.fixture
def trusting() -> Iterator[tuple[ServerThread, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    def verify(token: str) -> str | None:
        try:
            claims = jwt.decode(
                token, SECRET, algorithms=["HS384"], issuer="https://id.load.example",
                audience="load-api", options={"require": ["customer", "plan", "scope"]},
            )  # fmt: skip
        except jwt.PyJWTError:
            return None
        seen.append(claims)
        return str(claims["customer"])

    with ServerThread(app=make_app(broken=False, trust=verify)) as server:
        yield server, seen


def minted_load(url: str, project: Path, secret: str) -> subprocess.CompletedProcess[str]:
    command = [
        GOLDEN_PATH, "load", "--url", url, "--tokens", "gp_jwt", "--users", "3",
        "--spawn-rate", "3", "--run-time", "3s", "--workers", "1", "--out",
        str(project / "out"),
    ]  # fmt: skip
    return subprocess.run(
        command,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=100,
        env={**os.environ, SECRET_ENV: secret},
        check=False,
    )


def test_users_sign_in_with_tokens_minted_from_the_projects_gp_jwt_settings(
    trusting: tuple[ServerThread, list[dict[str, Any]]], tmp_path: Path
) -> None:
    server, seen = trusting
    (tmp_path / "pytest.ini").write_text(INI)
    done = minted_load(server.base_url, tmp_path, SECRET)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert result["completed"] > 0
    assert result["violations"] == {}
    assert seen, "the server verified no token"
    assert {c["plan"] for c in seen} == {"starter"}  # the first of gp_segments
    assert {c["scope"] for c in seen} == {"chat"}
    assert len({c["customer"] for c in seen}) >= 3  # a user of its own per simulated user


def test_tokens_the_server_does_not_trust_stop_the_load_before_it_starts(
    trusting: tuple[ServerThread, list[dict[str, Any]]], tmp_path: Path
) -> None:
    server, seen = trusting
    (tmp_path / "pytest.ini").write_text(INI)
    other = "another-secret-of-at-least-48-bytes-for-hs384-too!!!"
    done = minted_load(server.base_url, tmp_path, other)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "4401" in done.stderr
    assert seen == []
