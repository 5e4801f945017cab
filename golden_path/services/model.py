"""What a services provider hands out, and how it fails."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from golden_path.errors import GoldenPathError


class ServicesError(GoldenPathError, RuntimeError):
    """A provider could not give working servers. The message says what was tried and what to do."""


@dataclass(frozen=True, slots=True)
class Services:
    """Where the real PostgreSQL and Redis are, and who provided them.

    ``postgres_dsn`` names the database this consumer should use; under the
    pytest harness that is the worker's own clone of the schema template.
    ``redis_namespace`` is the key prefix this consumer owns on the shared Redis.
    """

    postgres_dsn: str
    redis_url: str
    provider: str
    postgres_version: str = ""
    redis_version: str = ""
    redis_namespace: str = ""

    def with_database(self, name: str) -> Services:
        """The same servers, with the DSN pointing at database ``name``."""
        return replace(self, postgres_dsn=dsn_with_database(self.postgres_dsn, name))

    @property
    def database(self) -> str:
        """The name of the PostgreSQL database ``postgres_dsn`` points at."""
        return urlsplit(self.postgres_dsn).path.lstrip("/")

    def redis_key(self, key: str) -> str:
        """``key`` inside this consumer's namespace."""
        return f"{self.redis_namespace}{key}"

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Services:
        return cls(**{k: str(v) for k, v in data.items() if k in cls.__dataclass_fields__})


class Provider(Protocol):
    """Starts real servers and stops them again, leaving nothing behind."""

    name: str

    def start(self) -> Services: ...

    def stop(self) -> None: ...


def dsn_with_database(dsn: str, database: str) -> str:
    """``dsn`` (a ``postgresql://`` URL) with its path replaced by ``/database``."""
    parts = urlsplit(dsn)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"not a PostgreSQL URL: {redact(dsn)!r} (expected postgresql://...)")
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
