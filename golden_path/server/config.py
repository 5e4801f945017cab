"""Server configuration, read from ``GOLDEN_PATH_*`` environment variables (see the README)."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, get_args

from golden_path.errors import GoldenPathError
from golden_path.protocol import MAX_FRAME_BYTES

MIN_SECRET_BYTES = 32
Environment = Literal["development", "production"]
# Argon2id profiles (``auth.passwords``): strong is OWASP's minimum, rfc9106 RFC 9106's
# 64 MiB and 3 passes, fast for test suites only (refused in production).
PasswordProfile = Literal["strong", "rfc9106", "fast"]


class ConfigError(GoldenPathError, ValueError):
    """The configuration is unusable; the message names the variable and what is wrong."""


def _text(raw: str, name: str) -> str:
    return raw.strip()


def _verbatim(raw: str, name: str) -> str:
    return raw  # secrets, keys and prefixes are taken exactly as given


def _whole(minimum: int) -> Callable[[str, str], int]:
    def parse(raw: str, name: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not a whole number") from None
        if value < minimum:
            raise ConfigError(f"{name}={value} is below the minimum of {minimum}")
        return value

    return parse


def _one_of(*choices: str) -> Callable[[str, str], str]:
    def parse(raw: str, name: str) -> str:
        value = raw.strip()
        if value not in choices:
            raise ConfigError(f"{name}={value!r}: expected {' or '.join(choices)}")
        return value

    return parse


def _csv(raw: str, name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


Network = ipaddress.IPv4Network | ipaddress.IPv6Network
THROTTLE_EXEMPT_ENV = "GOLDEN_PATH_THROTTLE_EXEMPT"


def networks(values: tuple[str, ...], name: str = THROTTLE_EXEMPT_ENV) -> tuple[Network, ...]:
    """``values`` as IP networks (``10.0.0.0/8``, ``203.0.113.7``, ``::1/128``); a clear
    :class:`ConfigError` naming ``name`` for anything else."""
    found: list[Network] = []
    for value in values:
        try:
            found.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ConfigError(
                f"{name}: {value!r} is not an IP address or CIDR block "
                "(expected e.g. 10.0.0.0/8,203.0.113.7)"
            ) from None
    return tuple(found)


def _cidrs(raw: str, name: str) -> tuple[str, ...]:
    return tuple(str(n) for n in networks(_csv(raw, name), name))


def _format_csv(value: object) -> str:
    assert isinstance(value, tuple)
    return ",".join(value)


@dataclass(frozen=True, slots=True)
class Variable:
    """One setting: the ``Settings`` field, its environment variable, how to read and write it."""

    field: str
    env: str
    parse: Callable[[str, str], object]
    format: Callable[[object], str] = str


# The one table of every setting. ``from_env`` and ``to_env`` are both driven by it, so a
# field cannot be read under one name and written under another (or silently dropped).
VARIABLES: tuple[Variable, ...] = (
    Variable("postgres_dsn", "GOLDEN_PATH_POSTGRES_DSN", _text),
    Variable("redis_url", "GOLDEN_PATH_REDIS_URL", _text),
    Variable("redis_prefix", "GOLDEN_PATH_REDIS_PREFIX", _verbatim),
    Variable("environment", "GOLDEN_PATH_ENV", _one_of("development", "production")),
    Variable("jwt_secret", "GOLDEN_PATH_JWT_SECRET", _verbatim),
    Variable("jwt_algorithm", "GOLDEN_PATH_JWT_ALGORITHM", _text),
    Variable("jwt_private_key", "GOLDEN_PATH_JWT_PRIVATE_KEY", _verbatim),
    Variable("jwt_public_key", "GOLDEN_PATH_JWT_PUBLIC_KEY", _verbatim),
    Variable("jwt_issuer", "GOLDEN_PATH_JWT_ISSUER", _text),
    Variable("jwt_audience", "GOLDEN_PATH_JWT_AUDIENCE", _text),
    Variable("access_ttl_s", "GOLDEN_PATH_ACCESS_TTL_S", _whole(1)),
    Variable("refresh_ttl_s", "GOLDEN_PATH_REFRESH_TTL_S", _whole(1)),
    Variable("clock_skew_s", "GOLDEN_PATH_CLOCK_SKEW_S", _whole(0)),
    Variable("allowed_origins", "GOLDEN_PATH_ALLOWED_ORIGINS", _csv, _format_csv),
    Variable(
        "password_hash_profile", "GOLDEN_PATH_PASSWORD_HASH", _one_of(*get_args(PasswordProfile))
    ),
    Variable("run_timeout_s", "GOLDEN_PATH_RUN_TIMEOUT_S", _whole(1)),
    Variable("agent_step_delay_ms", "GOLDEN_PATH_AGENT_STEP_DELAY_MS", _whole(0)),
    Variable("db_pool_size", "GOLDEN_PATH_DB_POOL_SIZE", _whole(1)),
    Variable("node_id", "GOLDEN_PATH_NODE_ID", _text),
    Variable("auth_window_s", "GOLDEN_PATH_AUTH_WINDOW_S", _whole(1)),
    Variable("login_per_ip", "GOLDEN_PATH_LOGIN_PER_IP", _whole(1)),
    Variable("login_per_account", "GOLDEN_PATH_LOGIN_PER_ACCOUNT", _whole(1)),
    Variable("signup_per_ip", "GOLDEN_PATH_SIGNUP_PER_IP", _whole(1)),
    Variable("throttle_exempt", THROTTLE_EXEMPT_ENV, _cidrs, _format_csv),
    Variable("password_hash_concurrency", "GOLDEN_PATH_PASSWORD_HASH_CONCURRENCY", _whole(1)),
    Variable("password_hash_queue", "GOLDEN_PATH_PASSWORD_HASH_QUEUE", _whole(0)),
    Variable("max_body_bytes", "GOLDEN_PATH_MAX_BODY_BYTES", _whole(1024)),
    Variable("ws_outbox_frames", "GOLDEN_PATH_WS_OUTBOX_FRAMES", _whole(16)),
    Variable("ws_outbox_bytes", "GOLDEN_PATH_WS_OUTBOX_BYTES", _whole(MAX_FRAME_BYTES)),
    Variable("ws_send_timeout_s", "GOLDEN_PATH_WS_SEND_TIMEOUT_S", _whole(1)),
    Variable("ws_resumes_per_minute", "GOLDEN_PATH_WS_RESUMES_PER_MINUTE", _whole(1)),
    Variable("ws_pings_per_minute", "GOLDEN_PATH_WS_PINGS_PER_MINUTE", _whole(1)),
    Variable("ws_replay_events_per_minute", "GOLDEN_PATH_WS_REPLAY_EVENTS_PER_MINUTE", _whole(1)),
)
ENV_PREFIX = "GOLDEN_PATH_"

# What a test suite, a conformance run or a benchmark sets: they sign hundreds of users up
# and in from one address within a minute, and resume and ping far more than people do.
# The throttles stay on (a dedicated test proves each at its default); only far above such
# a run. ``replace(settings, **SUITE_LIMITS)``.
SUITE_LIMITS: Mapping[str, int] = {
    "login_per_ip": 1_000_000,
    "login_per_account": 10_000,
    "signup_per_ip": 1_000_000,
    "password_hash_queue": 10_000,
    "ws_resumes_per_minute": 100_000,
    "ws_pings_per_minute": 100_000,
    "ws_replay_events_per_minute": 10_000_000,
}


def default_hash_concurrency(cores: int | None = None) -> int:
    """One password hash at a time per 4 cores, at least one.

    A strong hash is one thread (``auth.passwords``), so a login flood takes at most a
    quarter of a machine of 4 cores or more, and one core of a smaller one. With 2 at once
    on 2 cores, the benchmark's phase 4 measured everybody else's p99 at 3x its plain
    figure; with 1, 1.3-4.8x with 64 MiB hashes and 0.87-1.55x with the strong profile's
    19 MiB (README, Figures).
    """
    return max(1, (cores if cores is not None else os.cpu_count() or 1) // 4)


@dataclass(frozen=True)
class Settings:
    """Everything the server reads from its environment, validated once at start.

    Each field is one row of :data:`VARIABLES` (its variable, parser and format); the
    README's configuration table lists the same rows.
    """

    postgres_dsn: str = ""
    redis_url: str = ""
    redis_prefix: str = "gp:"
    environment: Environment = "development"
    jwt_secret: str = field(default="", repr=False)
    jwt_algorithm: str = "HS256"
    jwt_private_key: str = field(default="", repr=False)
    jwt_public_key: str = ""
    jwt_issuer: str = "golden-path"
    jwt_audience: str = "golden-path-api"
    access_ttl_s: int = 15 * 60
    refresh_ttl_s: int = 30 * 24 * 3600
    clock_skew_s: int = 10
    allowed_origins: tuple[str, ...] = ()
    password_hash_profile: PasswordProfile = "strong"  # noqa: S105 - a profile name
    run_timeout_s: int = 60
    agent_step_delay_ms: int = 0
    db_pool_size: int = 10
    node_id: str = field(default_factory=lambda: secrets.token_hex(4))
    # Throttles of /auth/login and /auth/signup (fixed windows in Redis, §3.8).
    auth_window_s: int = 60
    login_per_ip: int = 20
    login_per_account: int = 5
    signup_per_ip: int = 10
    # Client addresses (CIDR blocks) neither throttle counts: a deployment's CI runners.
    throttle_exempt: tuple[str, ...] = ()
    # Password hashes at once, and how many more may wait for a turn (then 503).
    password_hash_concurrency: int = field(default_factory=lambda: default_hash_concurrency())
    password_hash_queue: int = 16
    max_body_bytes: int = 64 * 1024
    # A socket's outbox bounds and send timeout (past them: closed 1013), and its
    # allowance of resume and ping frames.
    ws_outbox_frames: int = 1000
    ws_outbox_bytes: int = 1024 * 1024
    ws_send_timeout_s: int = 10
    ws_resumes_per_minute: int = 30
    ws_pings_per_minute: int = 120
    ws_replay_events_per_minute: int = 2000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings ``env`` (default: this process's environment) gives, validated.

        A variable that is unset, or set to blank, leaves its field at the default.
        """
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for variable in VARIABLES:
            raw = env.get(variable.env, "")
            if raw.strip():
                values[variable.field] = variable.parse(raw, variable.env)
        return cls(**values).validated()

    def to_env(self) -> dict[str, str]:
        """Every setting as the ``GOLDEN_PATH_*`` variables ``from_env`` reads back unchanged.

        A blank variable means "the default", so a blank value of a field whose default is
        not blank cannot be passed this way: that is an error, never a silent change.
        """
        env: dict[str, str] = {}
        defaults = Settings()
        for variable in VARIABLES:
            text = variable.format(getattr(self, variable.field))
            if not text.strip() and variable.format(getattr(defaults, variable.field)).strip():
                raise ConfigError(
                    f"{variable.field} is blank: {variable.env} cannot carry that "
                    "(a blank variable means the default)"
                )
            env[variable.env] = text
        return env

    def validated(self) -> Settings:
        """This configuration, checked; in development a missing secret is generated."""
        networks(self.throttle_exempt)  # a ConfigError naming the variable if one is wrong
        if self.jwt_algorithm not in ("HS256", "RS256", "EdDSA"):
            raise ConfigError(
                f"GOLDEN_PATH_JWT_ALGORITHM={self.jwt_algorithm!r}: expected HS256, RS256 or EdDSA"
            )
        if self.jwt_algorithm == "HS256":
            if not self.jwt_secret:
                if self.environment == "production":
                    raise ConfigError(
                        "GOLDEN_PATH_JWT_SECRET is required in production "
                        f"(at least {MIN_SECRET_BYTES} bytes); refusing to start"
                    )
                return replace(self, jwt_secret=secrets.token_urlsafe(48))
            if len(self.jwt_secret.encode()) < MIN_SECRET_BYTES:
                raise ConfigError(
                    f"GOLDEN_PATH_JWT_SECRET is {len(self.jwt_secret.encode())} bytes; "
                    f"at least {MIN_SECRET_BYTES} are required"
                )
        elif not (self.jwt_private_key and self.jwt_public_key):
            raise ConfigError(
                f"GOLDEN_PATH_JWT_ALGORITHM={self.jwt_algorithm} needs "
                "GOLDEN_PATH_JWT_PRIVATE_KEY and GOLDEN_PATH_JWT_PUBLIC_KEY (PEM)"
            )
        if self.environment == "production" and self.password_hash_profile == "fast":  # noqa: S105
            raise ConfigError("GOLDEN_PATH_PASSWORD_HASH=fast is for tests, not production")
        return self
