"""``--tokens gp_jwt`` without a server: the ``gp_jwt_*`` settings read from the project's
ini (pytest's files, pytest's order, the harness's defaults), tokens signed with them, and
a clear error for a key that is not there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from golden_path.cli import build_parser
from golden_path.load import command
from golden_path.load.auth import SignInError
from golden_path.load.jwt_settings import SettingsError, find_ini, read_settings
from golden_path.load.tokens import JWTSettings, minter

pytestmark = [
    pytest.mark.stage("auth"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a team loads its server with the tokens its identity provider would "
        "sign, configured once in its pytest.ini",
        revenue_impact="a load test that cannot sign users in is never run before launch",
    ),
]

SECRET = "s" * 64
PYTEST_INI = """[pytest]
gp_segments = starter team
gp_jwt_issuer = https://id.example
gp_jwt_audience = chat
gp_jwt_algorithm = HS384
gp_jwt_secret_env = TEAM_JWT_SECRET
gp_jwt_subject_claim = customer_id
gp_jwt_tier_claim = plan
gp_jwt_claims =
    scope=chat
    level=3
"""


def test_the_settings_come_from_the_projects_pytest_ini(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text(PYTEST_INI)
    inner = tmp_path / "src" / "deeper"
    inner.mkdir(parents=True)
    settings = read_settings(inner)  # a parent's ini, as pytest finds it
    assert settings == JWTSettings(
        issuer="https://id.example",
        audience="chat",
        algorithm="HS384",
        secret_env="TEAM_JWT_SECRET",
        subject_claim="customer_id",
        tier_claim="plan",
        claims={"scope": "chat", "level": 3},
        segments=("starter", "team"),
    )
    assert JWTSettings.from_json(settings.to_json()) == settings  # as Locust receives them


def test_pyproject_settings_count_and_the_rest_are_the_harness_defaults(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\ngp_jwt_issuer = "orders"\ngp_segments = ["free", "pro"]\n'
    )
    (tmp_path / "setup.cfg").write_text("[tool:pytest]\ngp_jwt_issuer = not-me\n")
    settings = read_settings(tmp_path)
    assert settings.issuer == "orders"
    assert settings.segments == ("free", "pro")
    assert (settings.audience, settings.algorithm) == ("golden-path-api", "HS256")
    assert settings.secret_env == "GOLDEN_PATH_JWT_SECRET"


def test_a_pyproject_without_pytest_settings_is_passed_over(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (tmp_path / "tox.ini").write_text("[pytest]\ngp_jwt_audience = from-tox\n")
    path, _ = find_ini(tmp_path)
    assert path == tmp_path / "tox.ini"
    assert read_settings(tmp_path).audience == "from-tox"


@pytest.mark.parametrize(
    ("ini", "message"),
    [
        ("[pytest]\ngp_jwt_algorithm = HS999\n", "gp_jwt_algorithm = 'HS999': expected one of"),
        ("[pytest]\ngp_jwt_claims =\n    no-equals-sign\n", "expected name=value"),
        ("[pytest\n", "pytest.ini"),
    ],
)
def test_bad_settings_are_a_clear_error(tmp_path: Path, ini: str, message: str) -> None:
    (tmp_path / "pytest.ini").write_text(ini)
    with pytest.raises(SettingsError, match=message):
        read_settings(tmp_path)


def test_each_user_gets_a_token_of_its_own_signed_with_the_settings(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text(PYTEST_INI)
    hook = minter(read_settings(tmp_path), "team", {"TEAM_JWT_SECRET": SECRET})
    first, second = hook("http://x"), hook("http://x")
    claims = jwt.decode(first, SECRET, algorithms=["HS384"], audience="chat")
    assert claims["iss"] == "https://id.example"
    assert claims["plan"] == "team"
    assert (claims["scope"], claims["level"]) == ("chat", 3)
    assert claims["customer_id"].startswith("usr_")
    other = jwt.decode(second, SECRET, algorithms=["HS384"], audience="chat")
    assert other["customer_id"] != claims["customer_id"]


def test_an_unset_key_is_a_clear_error() -> None:
    settings = JWTSettings("iss", "aud", "HS256", "TEAM_JWT_SECRET")
    with pytest.raises(SignInError, match=r"TEAM_JWT_SECRET \(gp_jwt_secret_env\) holds no key"):
        minter(settings, "pro", {})


def test_a_key_that_cannot_sign_is_a_clear_error() -> None:
    settings = JWTSettings("iss", "aud", "RS256", "TEAM_JWT_SECRET")
    with pytest.raises(SignInError, match=r"cannot sign with \$TEAM_JWT_SECRET"):
        minter(settings, "pro", {"TEAM_JWT_SECRET": "not a PEM key"})


def test_a_tier_outside_gp_segments_is_refused_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pytest.ini").write_text(PYTEST_INI)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEAM_JWT_SECRET", SECRET)
    args = build_parser().parse_args(
        ["load", "--url", "http://127.0.0.1:9", "--tokens", "gp_jwt", "--tier", "gold"]
    )
    assert command.run_load(args) == 2
    assert "--tier 'gold' is none of gp_segments: starter team" in capsys.readouterr().err


def test_minted_tokens_default_to_the_first_segment_and_reach_the_master(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pytest.ini").write_text(PYTEST_INI)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEAM_JWT_SECRET", SECRET)
    args = build_parser().parse_args(["load", "--url", "http://x:1", "--tokens", "gp_jwt"])
    assert command._sign_in_hook(args) is not None
    assert args.tier == "starter"
    line = command.master_command(args, 1, tmp_path)
    sent = JWTSettings.from_json(line[line.index("--gp-jwt") + 1])
    assert sent.tier_claim == "plan"
    assert SECRET not in " ".join(line)  # the key never goes on a command line


def test_minted_tokens_and_a_login_hook_are_refused_together() -> None:
    args = build_parser().parse_args(
        ["load", "--url", "http://x:1", "--tokens", "gp_jwt", "--login-hook", "a.b:c"]
    )
    with pytest.raises(ValueError, match="choose one way to sign in"):
        command._sign_in_hook(args)


def test_a_locust_process_signs_tokens_without_pytest_or_the_harness_plugin() -> None:
    probe = (
        "import sys, golden_path.load.locustfile\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pytest', '_pytest')"
        " or m in ('golden_path.testing.plugin', 'golden_path.testing.fixtures',"
        " 'golden_path.testing.options', 'golden_path.load.jwt_settings')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
