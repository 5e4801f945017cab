"""The services description: DSN rewriting, redaction, key namespacing and (de)serialisation."""

from __future__ import annotations

import dataclasses
import json

import pytest

from golden_path.services.model import Services, dsn_with_database, redact

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="each test worker gets its own database and Redis keys, and no password "
        "ever lands in a CI log",
        revenue_impact="leaked credentials in logs or cross-worker data bleed would cost "
        "enterprise security reviews",
    ),
]


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        (
            "postgresql://app:pw@db:5432/app?sslmode=disable",
            "postgresql://app:pw@db:5432/gp_x?sslmode=disable",
        ),
        ("postgres://db/app", "postgres://db/gp_x"),
        ("postgresql://postgres@127.0.0.1:5432", "postgresql://postgres@127.0.0.1:5432/gp_x"),
        ("postgresql://db:5432/a/b#frag", "postgresql://db:5432/gp_x#frag"),
    ],
)
def test_dsn_with_database_replaces_only_the_path(dsn: str, expected: str) -> None:
    assert dsn_with_database(dsn, "gp_x") == expected


@pytest.mark.parametrize("url", ["redis://:hunter2@h:6379/0", "mysql://u:hunter2@h/db", "db"])
def test_dsn_with_database_refuses_non_postgres_urls_without_leaking_the_password(
    url: str,
) -> None:
    with pytest.raises(ValueError, match="not a PostgreSQL URL") as caught:
        dsn_with_database(url, "x")
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://app:s3cret@db:5432/app", "postgresql://app:***@db:5432/app"),
        ("redis://:hunter2@cache:6379/0", "redis://:***@cache:6379/0"),
        ("postgresql://app:p%40ss@db/app", "postgresql://app:***@db/app"),
        ("postgresql://pw:pw@db/app", "postgresql://pw:***@db/app"),
        ("postgresql://app:@db/app", "postgresql://app:***@db/app"),
        ("postgresql://app@db/app", "postgresql://app@db/app"),
        ("redis://cache:6379/0", "redis://cache:6379/0"),
    ],
)
def test_redact_hides_the_password_and_nothing_else(url: str, expected: str) -> None:
    assert redact(url) == expected


def _services(**changes: str) -> Services:
    base = Services(
        postgres_dsn="postgresql://postgres@127.0.0.1:5432/gp_abc_gw0",
        redis_url="redis://127.0.0.1:6379/0",
        provider="embedded",
        postgres_version="18.1",
        redis_version="6.2.14",
        redis_namespace="gp:abc:gw0:",
    )
    return dataclasses.replace(base, **changes)


def test_redis_key_prefixes_the_namespace() -> None:
    assert _services().redis_key("session:1") == "gp:abc:gw0:session:1"
    assert _services(redis_namespace="").redis_key("session:1") == "session:1"


def test_with_database_keeps_everything_but_the_database() -> None:
    moved = _services().with_database("other")
    assert moved.postgres_dsn == "postgresql://postgres@127.0.0.1:5432/other"
    assert dataclasses.replace(moved, postgres_dsn=_services().postgres_dsn) == _services()


def test_to_json_from_dict_round_trip() -> None:
    original = _services()
    text = original.to_json()
    assert list(json.loads(text)) == sorted(json.loads(text))  # stable key order
    assert Services.from_dict(json.loads(text)) == original


def test_from_dict_ignores_unknown_keys_and_fills_defaults() -> None:
    restored = Services.from_dict(
        {"postgres_dsn": "postgresql://h/db", "redis_url": "redis://h/0", "provider": "external"}
        | {"future_field": 1}
    )
    assert restored == Services("postgresql://h/db", "redis://h/0", "external")
    assert (restored.postgres_version, restored.redis_version, restored.redis_namespace) == (
        "",
        "",
        "",
    )


def test_from_dict_turns_values_into_strings() -> None:
    restored = Services.from_dict(
        {"postgres_dsn": "postgresql://h/db", "redis_url": "redis://h/0", "provider": "x"}
        | {"postgres_version": 16}
    )
    assert restored.postgres_version == "16"


def test_from_dict_without_a_required_field_fails() -> None:
    with pytest.raises(TypeError, match="provider"):
        Services.from_dict({"postgres_dsn": "postgresql://h/db", "redis_url": "redis://h/0"})


def test_services_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        _services().provider = "docker"  # type: ignore[misc]
