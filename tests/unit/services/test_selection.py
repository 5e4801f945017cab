"""Which services provider a run gets: the option, the environment, and what ``auto`` finds."""

from __future__ import annotations

import pytest

from golden_path.services.docker import DockerProvider
from golden_path.services.embedded import EmbeddedProvider
from golden_path.services.external import POSTGRES_ENV, REDIS_ENV, ExternalProvider, external_urls
from golden_path.services.model import ServicesError
from golden_path.services.selection import (
    PROVIDER_NAMES,
    SERVICES_ENV,
    make_provider,
    requested_provider,
    resolve_provider_name,
)

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="every customer's CI gets real Postgres/Redis without Docker, and a "
        "misconfigured run says exactly which setting is wrong",
        revenue_impact="a suite that silently picks the wrong servers hides persistence bugs "
        "that reach paying customers",
    ),
]

DSN = "postgresql://app:secret@db.example:5432/app"
URL = "redis://cache.example:6379/0"
BOTH = {POSTGRES_ENV: DSN, REDIS_ENV: URL}
CONCRETE = ("external", "docker", "embedded")


def docker_answers() -> str | None:
    return None


def docker_absent() -> str | None:
    return "no Docker engine at unix:///var/run/docker.sock"


def docker_not_asked() -> str | None:
    raise AssertionError("the Docker engine must not be consulted here")


def test_provider_names_are_auto_and_the_three_providers() -> None:
    assert PROVIDER_NAMES == ("auto", "external", "docker", "embedded")


@pytest.mark.parametrize("name", PROVIDER_NAMES)
def test_option_beats_environment(name: str) -> None:
    other = "embedded" if name != "embedded" else "docker"
    assert requested_provider(name, {SERVICES_ENV: other}) == name


@pytest.mark.parametrize("name", PROVIDER_NAMES)
def test_environment_beats_default(name: str) -> None:
    assert requested_provider(None, {SERVICES_ENV: name}) == name


@pytest.mark.parametrize("env", [{}, {SERVICES_ENV: ""}])
def test_default_is_auto(env: dict[str, str]) -> None:
    assert requested_provider(None, env) == "auto"


def test_empty_option_falls_back_to_the_environment() -> None:
    assert requested_provider("", {SERVICES_ENV: "docker"}) == "docker"


def test_names_are_normalised() -> None:
    assert requested_provider("  Embedded ", {}) == "embedded"
    assert requested_provider(None, {SERVICES_ENV: "EXTERNAL\n"}) == "external"


def test_reads_os_environ_when_no_env_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SERVICES_ENV, "embedded")
    assert requested_provider(None) == "embedded"


def test_bad_option_names_the_option() -> None:
    with pytest.raises(ServicesError) as caught:
        requested_provider("nope", {SERVICES_ENV: "embedded"})
    message = str(caught.value)
    assert "'nope'" in message
    assert "(from --gp-services)" in message
    assert "auto, external, docker, embedded" in message


def test_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ServicesError) as caught:
        requested_provider(None, {SERVICES_ENV: "podman"})
    assert "'podman'" in str(caught.value)
    assert f"(from {SERVICES_ENV})" in str(caught.value)


def test_auto_with_both_urls_is_external_even_when_docker_answers() -> None:
    assert resolve_provider_name("auto", BOTH, docker_problem=docker_answers) == "external"


@pytest.mark.parametrize(
    ("env", "missing"),
    [({POSTGRES_ENV: DSN}, REDIS_ENV), ({REDIS_ENV: URL}, POSTGRES_ENV)],
    ids=["only-postgres", "only-redis"],
)
def test_auto_with_one_url_is_an_error_naming_the_missing_one(
    env: dict[str, str], missing: str
) -> None:
    # Even with Docker answering: a half-configured external setup is a mistake to report.
    with pytest.raises(ServicesError, match=f"but {missing} is not"):
        resolve_provider_name("auto", env, docker_problem=docker_answers)


def test_auto_without_urls_uses_docker_when_it_answers() -> None:
    assert resolve_provider_name("auto", {}, docker_problem=docker_answers) == "docker"


def test_auto_without_urls_or_docker_is_embedded() -> None:
    assert resolve_provider_name("auto", {}, docker_problem=docker_absent) == "embedded"


def test_blank_urls_count_as_unset() -> None:
    blank = {POSTGRES_ENV: "  ", REDIS_ENV: ""}
    assert resolve_provider_name("auto", blank, docker_problem=docker_absent) == "embedded"


@pytest.mark.parametrize("name", CONCRETE)
def test_explicit_names_pass_through_without_looking_around(name: str) -> None:
    # Neither the URLs (even half-set ones) nor the Docker engine are consulted.
    for env in ({}, BOTH, {POSTGRES_ENV: DSN}):
        assert resolve_provider_name(name, env, docker_problem=docker_not_asked) == name


def test_external_urls_both_set_are_returned_stripped() -> None:
    env = {POSTGRES_ENV: f"  {DSN}\n", REDIS_ENV: f"\t{URL} "}
    assert external_urls(env) == (DSN, URL)


def test_external_urls_neither_set_is_none() -> None:
    assert external_urls({"UNRELATED": "x"}) is None


@pytest.mark.parametrize(
    ("env", "present", "missing"),
    [({POSTGRES_ENV: DSN}, POSTGRES_ENV, REDIS_ENV), ({REDIS_ENV: URL}, REDIS_ENV, POSTGRES_ENV)],
    ids=["only-postgres", "only-redis"],
)
def test_external_urls_half_set_names_both_variables(
    env: dict[str, str], present: str, missing: str
) -> None:
    with pytest.raises(ServicesError, match=f"{present} is set but {missing} is not; set both"):
        external_urls(env)


def test_external_urls_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(POSTGRES_ENV, DSN)
    monkeypatch.setenv(REDIS_ENV, URL)
    assert external_urls() == (DSN, URL)
    monkeypatch.delenv(POSTGRES_ENV)
    monkeypatch.delenv(REDIS_ENV)
    assert external_urls() is None


@pytest.mark.parametrize(
    ("name", "kind"),
    [("external", ExternalProvider), ("docker", DockerProvider), ("embedded", EmbeddedProvider)],
)
def test_make_provider_gives_the_named_type(name: str, kind: type) -> None:
    provider = make_provider(name)
    assert type(provider) is kind
    assert provider.name == name


def test_make_provider_hands_the_environment_to_external(monkeypatch: pytest.MonkeyPatch) -> None:
    # The process environment names servers; the env given to make_provider names none.
    # Starting must therefore fail on the missing settings without contacting anything.
    monkeypatch.setenv(POSTGRES_ENV, DSN)
    monkeypatch.setenv(REDIS_ENV, URL)
    with pytest.raises(ServicesError, match=f"external provider: set {POSTGRES_ENV}"):
        make_provider("external", env={}).start()


@pytest.mark.parametrize("name", ["auto", "podman", ""])
def test_make_provider_refuses_anything_but_a_concrete_name(name: str) -> None:
    with pytest.raises(ServicesError, match=f"unknown services provider {name!r}"):
        make_provider(name)
