"""Server configuration, read from ``GOLDEN_PATH_*`` environment variables (see the README)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from typing import Literal

MIN_SECRET_BYTES = 32
Environment = Literal["development", "production"]


class ConfigError(ValueError):
    """The configuration is unusable; the message names the variable and what is wrong."""


def _int(env: dict[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ConfigError(f"{name}={value} is below the minimum of {minimum}")
    return value


def _list(env: dict[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    """Everything the server reads from its environment, validated once at start."""

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
    password_hash_profile: Literal["strong", "fast"] = "strong"  # noqa: S105 - a profile name
    run_timeout_s: int = 60
    agent_step_delay_ms: int = 0
    db_pool_size: int = 10
    node_id: str = field(default_factory=lambda: secrets.token_hex(4))

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ) if env is None else env
        environment = env.get("GOLDEN_PATH_ENV", "development").strip() or "development"
        if environment not in ("development", "production"):
            raise ConfigError(
                f"GOLDEN_PATH_ENV={environment!r}: expected development or production"
            )
        profile = env.get("GOLDEN_PATH_PASSWORD_HASH", "strong").strip() or "strong"
        if profile not in ("strong", "fast"):
            raise ConfigError(f"GOLDEN_PATH_PASSWORD_HASH={profile!r}: expected strong or fast")
        settings = cls(
            postgres_dsn=env.get("GOLDEN_PATH_POSTGRES_DSN", "").strip(),
            redis_url=env.get("GOLDEN_PATH_REDIS_URL", "").strip(),
            redis_prefix=env.get("GOLDEN_PATH_REDIS_PREFIX", "gp:"),
            environment=environment,  # type: ignore[arg-type]
            jwt_secret=env.get("GOLDEN_PATH_JWT_SECRET", ""),
            jwt_algorithm=env.get("GOLDEN_PATH_JWT_ALGORITHM", "HS256").strip() or "HS256",
            jwt_private_key=env.get("GOLDEN_PATH_JWT_PRIVATE_KEY", ""),
            jwt_public_key=env.get("GOLDEN_PATH_JWT_PUBLIC_KEY", ""),
            jwt_issuer=env.get("GOLDEN_PATH_JWT_ISSUER", "golden-path").strip(),
            jwt_audience=env.get("GOLDEN_PATH_JWT_AUDIENCE", "golden-path-api").strip(),
            access_ttl_s=_int(env, "GOLDEN_PATH_ACCESS_TTL_S", 15 * 60),
            refresh_ttl_s=_int(env, "GOLDEN_PATH_REFRESH_TTL_S", 30 * 24 * 3600),
            allowed_origins=_list(env, "GOLDEN_PATH_ALLOWED_ORIGINS"),
            password_hash_profile=profile,  # type: ignore[arg-type]
            run_timeout_s=_int(env, "GOLDEN_PATH_RUN_TIMEOUT_S", 60),
            agent_step_delay_ms=_int(env, "GOLDEN_PATH_AGENT_STEP_DELAY_MS", 0, minimum=0),
            db_pool_size=_int(env, "GOLDEN_PATH_DB_POOL_SIZE", 10),
        )
        return settings.validated()

    def validated(self) -> Settings:
        """This configuration, checked; in development a missing secret is generated."""
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
