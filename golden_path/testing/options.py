"""Every setting of the harness, read once from the ini file and the command line.

A project configures golden-path in its own ``pytest.ini`` / ``pyproject.toml``
(``[tool.pytest.ini_options]``) / ``tox.ini`` / ``setup.cfg``; a few options
also have a command-line flag, which wins. Nothing here has an effect the
project did not ask for: no BVJ check until ``gp_bvj`` is set, no timeout, no
service started until a test asks for one. ``docs/harness.md`` lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

BVJ_MODES = ("strict", "warn", "off")
PROTOCOLS: tuple[str, ...] = ("v1", "ag-ui")
SCHEMA_REFERENCE = "golden-path"
# What pyjwt signs (golden_path.testing.identity.keys.ALGORITHMS, kept free of its imports).
JWT_ALGORITHMS: tuple[str, ...] = (
    *("HS256", "HS384", "HS512", "RS256", "RS384", "RS512"),
    *("PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"),
)

# name -> (help, type, default); the ini file's keys, in the order docs/harness.md lists them.
INI: dict[str, tuple[str, str, str | list[str]]] = {
    "gp_schema": (
        "the schema of every test database: a directory of .sql files (applied in name order), "
        "package.module:callable (called with the template database's DSN, sync or async), "
        f"'{SCHEMA_REFERENCE}' (the reference server's), or empty (an empty database)",
        "string",
        "",
    ),
    "gp_bvj": (
        "tests without a valid Business Value Justification: strict (an error), warn, or off "
        "(the default: no check)",
        "string",
        "off",
    ),
    "gp_app": (
        "your ASGI app served in-process on the run's services: package.module:app, or a "
        "factory package.module:make_app that takes the services",
        "string",
        "",
    ),
    "gp_server_command": (
        "your server started as its own process per worker, in any language; {port}, "
        "{postgres_dsn}, {redis_url}, {redis_namespace} (the only Redis key and channel "
        "prefix its Redis user may use), {base_url} and {python} (this interpreter) are "
        "substituted, each inside its one argument",
        "string",
        "",
    ),
    "gp_app_env": (
        "NAME={postgres_dsn}-style lines: the environment through which your app or server "
        "gets the services ({postgres_dsn}, {redis_url}, {redis_namespace}, {port})",
        "linelist",
        [],
    ),
    "gp_health_path": (
        "the path that answers 2xx once your server is ready (default /)",
        "string",
        "/",
    ),
    "gp_segments": (
        "your product's customer segments (plans, seats, tiers), e.g. 'free pro team': what "
        "the tier marker, gp_user, BVJ segments, the coverage matrix and the gate accept",
        "args",
        [],
    ),
    "gp_stages": (
        "the stages of your golden path, e.g. 'login search checkout' (default: auth websocket "
        "agent events persistence): what the stage marker, the matrix and the gate accept",
        "args",
        [],
    ),
    "gp_jwt_issuer": ("the iss of the tokens gp_jwt makes", "string", "golden-path"),
    "gp_jwt_audience": ("the aud of the tokens gp_jwt makes", "string", "golden-path-api"),
    "gp_jwt_algorithm": (
        "any algorithm pyjwt signs: HS256/384/512, RS256/384/512, PS256/384/512, ES256, ES384 "
        "or EdDSA",
        "string",
        "HS256",
    ),
    "gp_jwt_secret_env": (
        "the environment variable holding the HS* secret (or the PEM private key) gp_jwt signs "
        "with; unset, the harness puts a fresh key of gp_jwt_algorithm there before it starts "
        "your gp_app or gp_server_command",
        "string",
        "GOLDEN_PATH_JWT_SECRET",
    ),
    "gp_jwt_public_key_env": (
        "a variable to receive the public half (PEM) of the key the harness makes, for a "
        "server that verifies with a public key only",
        "string",
        "",
    ),
    "gp_jwt_jwks_env": (
        "a variable to receive the path of a JWKS file holding the public half of the key the "
        "harness makes (its kid is in every token gp_jwt signs)",
        "string",
        "",
    ),
    "gp_jwt_subject_claim": ("the claim naming the user", "string", "sub"),
    "gp_jwt_tier_claim": ("the claim naming the customer tier", "string", "tier"),
    "gp_jwt_claims": (
        "extra claims, one name=value per line (JSON values allowed), in every token",
        "linelist",
        [],
    ),
    "gp_user_factory": (
        "package.module:callable making gp_user's users: async (base_url, tier) -> user "
        "(default: protocol v1's signup, login and upgrade)",
        "string",
        "",
    ),
    "gp_agui_path": (
        "the path of your server's AG-UI endpoint, e.g. /agent: gp_agui is then a client of "
        "the server under test (gp_app, gp_server_command or --gp-url) at that path, with a "
        "gp_user's token",
        "string",
        "",
    ),
    "gp_ws_path": (
        "the path of your server's WebSocket, e.g. /stream: where gp_ws connects by default",
        "string",
        "",
    ),
    "gp_ws_type_field": (
        "the field of a WebSocket frame that names its event (default type)",
        "string",
        "type",
    ),
    "gp_ws_first_event": ("the event that begins a run on your WebSocket", "string", ""),
    "gp_ws_terminal_events": ("the events that end a run on your WebSocket", "args", []),
    "gp_ws_seq_field": (
        "the field counting your WebSocket's events up by one (empty: no seq check)",
        "string",
        "",
    ),
    "gp_ws_stages": (
        "event=stage lines: which of gp_stages each of your WebSocket's events shows",
        "linelist",
        [],
    ),
    "gp_quarantine": (
        "a TOML file of [[quarantine]] entries (test, owner, reason, link, expires): a "
        "quarantined test runs, its failure is reported but not gated",
        "string",
        "",
    ),
    "gp_segment_value": (
        "each segment's value, e.g. free=0 early=120000 mid=180000 enterprise=200000: the "
        "report shows the value behind each failing segment x stage cell and the total at risk",
        "linelist",
        [],
    ),
    "gp_history_runs": ("how many runs --gp-history keeps (default 20)", "string", "20"),
}


def add_options(parser: pytest.Parser) -> None:
    for name, (help_text, kind, default) in INI.items():
        parser.addini(name, help_text, type=kind, default=default)  # type: ignore[arg-type]
    group = parser.getgroup("golden-path")
    group.addoption(
        "--gp-services",
        choices=("auto", "external", "docker", "embedded"),
        default=None,
        help="where real PostgreSQL and Redis come from (default: $GOLDEN_PATH_SERVICES or "
        "auto: external when both URLs are set, else docker if an engine answers, else embedded)",
    )
    group.addoption(
        "--gp-schema",
        default=None,
        metavar="SCHEMA",
        help="overrides the gp_schema ini setting",
    )
    group.addoption(
        "--gp-bvj",
        choices=BVJ_MODES,
        default=None,
        help="overrides the gp_bvj ini setting: strict, warn or off",
    )
    group.addoption(
        "--gp-report",
        default=None,
        metavar="DIR",
        help="write report.md, report.json and report.html (outcomes by test tier x segment x "
        "stage, the coverage matrix, tests without BVJ) to DIR",
    )
    group.addoption(
        "--gp-gate",
        action="store_true",
        help="fail the session when a test failed, a segment x stage cell of the coverage "
        "matrix is empty, or a test lacks a BVJ",
    )
    group.addoption(
        "--gp-gate-flaky",
        choices=("pass", "fail"),
        default="pass",
        help="a flaky test (failed, then passed on a pytest-rerunfailures rerun): pass (the "
        "default) or fail the gate",
    )
    group.addoption(
        "--gp-gate-max-risk",
        type=float,
        default=None,
        metavar="X",
        help="fail the gate when the value at risk (gp_segment_value of the segments with a "
        "failing cell) exceeds X",
    )
    group.addoption(
        "--gp-history",
        default=None,
        metavar="DIR",
        help="keep this run in DIR (with the last gp_history_runs runs) and show the trends and "
        "each failing test's history in the report",
    )
    group.addoption(
        "--gp-url",
        default=None,
        metavar="URL",
        help="run the end-to-end tests against the server at URL instead of the one the "
        "harness starts; tests marked server_internals or reference_only are skipped",
    )
    group.addoption(
        "--gp-deployment-dsn",
        default=None,
        metavar="DSN",
        help="with --gp-url: the deployment's PostgreSQL, for tests that read what the server "
        "persisted (gp_services, gp_db: a transaction rolled back, never a write kept)",
    )
    group.addoption(
        "--gp-deployment-redis-url",
        default=None,
        metavar="URL",
        help="with --gp-url: the deployment's Redis (gp_services.redis_url)",
    )
    group.addoption(
        "--gp-protocol",
        choices=PROTOCOLS,
        default="v1",
        help="what the server under test speaks: v1 (default) or ag-ui (the tests that speak "
        "protocol v1 through their fixtures are skipped; without gp_agui_path, --gp-url is "
        "the AG-UI endpoint itself)",
    )


@dataclass(frozen=True)
class HarnessOptions:
    """The harness's settings for this run, resolved (ini, then the command line)."""

    rootdir: Path
    schema: str
    bvj: str
    app: str
    server_command: str
    app_env: tuple[str, ...]
    health_path: str
    jwt_issuer: str
    jwt_audience: str
    jwt_algorithm: str
    jwt_secret_env: str
    jwt_public_key_env: str
    jwt_jwks_env: str
    jwt_subject_claim: str
    jwt_tier_claim: str
    jwt_claims: tuple[str, ...]
    user_factory: str
    url: str | None
    segments: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    deployment_dsn: str | None = None
    deployment_redis_url: str | None = None
    agui_path: str = ""
    ws_path: str = ""

    @classmethod
    def from_config(cls, config: pytest.Config) -> HarnessOptions:
        def ini(name: str) -> str:
            return str(config.getini(name) or "").strip()

        def lines(name: str) -> tuple[str, ...]:
            return tuple(str(v).strip() for v in config.getini(name) or () if str(v).strip())

        bvj = config.getoption("gp_bvj") or ini("gp_bvj") or "off"
        if bvj not in BVJ_MODES:
            raise pytest.UsageError(f"gp_bvj = {bvj!r}: expected one of {', '.join(BVJ_MODES)}")
        options = cls(
            rootdir=Path(config.inipath).parent if config.inipath else Path(config.rootpath),
            schema=(config.getoption("gp_schema") or ini("gp_schema")).strip(),
            bvj=bvj,
            app=ini("gp_app"),
            server_command=ini("gp_server_command"),
            app_env=lines("gp_app_env"),
            health_path=ini("gp_health_path") or "/",
            jwt_issuer=ini("gp_jwt_issuer"),
            jwt_audience=ini("gp_jwt_audience"),
            jwt_algorithm=ini("gp_jwt_algorithm") or "HS256",
            jwt_secret_env=ini("gp_jwt_secret_env"),
            jwt_public_key_env=ini("gp_jwt_public_key_env"),
            jwt_jwks_env=ini("gp_jwt_jwks_env"),
            jwt_subject_claim=ini("gp_jwt_subject_claim") or "sub",
            jwt_tier_claim=ini("gp_jwt_tier_claim") or "tier",
            jwt_claims=lines("gp_jwt_claims"),
            user_factory=ini("gp_user_factory"),
            url=config.getoption("gp_url"),
            segments=tuple(str(v) for v in config.getini("gp_segments") or ()),
            stages=tuple(str(v) for v in config.getini("gp_stages") or ()),
            deployment_dsn=config.getoption("gp_deployment_dsn"),
            deployment_redis_url=config.getoption("gp_deployment_redis_url"),
            agui_path=ini("gp_agui_path"),
            ws_path=ini("gp_ws_path"),
        )
        if options.app and options.server_command:
            raise pytest.UsageError("set gp_app or gp_server_command, not both")
        for line in options.app_env:
            if "=" not in line:
                raise pytest.UsageError(f"gp_app_env line {line!r}: expected NAME=value")
        if options.jwt_algorithm not in JWT_ALGORITHMS:
            raise pytest.UsageError(
                f"gp_jwt_algorithm = {options.jwt_algorithm!r}: expected one of "
                + ", ".join(JWT_ALGORITHMS)
            )
        for name in ("segments", "stages"):
            values = getattr(options, name)
            if len(set(values)) != len(values):
                raise pytest.UsageError(f"gp_{name} names one twice: {' '.join(values)}")
            if "all" in values:
                raise pytest.UsageError(f"gp_{name}: 'all' is the BVJ's word for every one")
        for name in ("health_path", "agui_path", "ws_path"):
            path = getattr(options, name)
            if path and not path.startswith("/"):
                raise pytest.UsageError(f"gp_{name} = {path!r}: start it with /")
        return options

    @property
    def serves_own_app(self) -> bool:
        """Whether the server under test is the project's own (not the reference server)."""
        return bool(self.app or self.server_command)


_OPTIONS = pytest.StashKey[HarnessOptions]()


def store_options(config: pytest.Config) -> HarnessOptions:
    """Read the options once, at configure time; every concern reads them back from here."""
    options = HarnessOptions.from_config(config)
    config.stash[_OPTIONS] = options
    return options


def harness_options(config: pytest.Config) -> HarnessOptions:
    return config.stash[_OPTIONS]


def is_worker(config: pytest.Config) -> bool:
    """An xdist worker (never the controller, nor a plain run)."""
    return hasattr(config, "workerinput")
