"""``Settings.from_env``: every GOLDEN_PATH_* variable, its default, and each refusal to start."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from golden_path.server.config import (
    MIN_SECRET_BYTES,
    ConfigError,
    Settings,
    default_hash_concurrency,
)

pytestmark = [
    pytest.mark.stage("auth"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a misconfigured server refuses to start with a message naming the "
        "variable instead of running with a weak secret or a silently wrong limit",
        revenue_impact="a production deploy with a guessable JWT secret or test-grade password "
        "hashing is an account-takeover incident for every paying customer",
    ),
]

SECRET = "s" * 48
RSA_PEM_PRIVATE = "-----BEGIN PRIVATE KEY-----\nprivate\n-----END PRIVATE KEY-----\n"
RSA_PEM_PUBLIC = "-----BEGIN PUBLIC KEY-----\npublic\n-----END PUBLIC KEY-----\n"


def load(**env: str) -> Settings:
    return Settings.from_env({f"GOLDEN_PATH_{name}": value for name, value in env.items()})


# --- defaults -------------------------------------------------------------------------------


def test_defaults_from_an_empty_environment() -> None:
    settings = Settings.from_env({})
    assert settings.postgres_dsn == ""
    assert settings.redis_url == ""
    assert settings.redis_prefix == "gp:"
    assert settings.environment == "development"
    assert settings.jwt_algorithm == "HS256"
    assert settings.jwt_private_key == ""
    assert settings.jwt_public_key == ""
    assert settings.jwt_issuer == "golden-path"
    assert settings.jwt_audience == "golden-path-api"
    assert settings.access_ttl_s == 15 * 60
    assert settings.refresh_ttl_s == 30 * 24 * 3600
    assert settings.clock_skew_s == 10
    assert settings.allowed_origins == ()
    assert settings.password_hash_profile == "strong"
    assert settings.run_timeout_s == 60
    assert settings.agent_step_delay_ms == 0
    assert settings.db_pool_size == 10


@pytest.mark.parametrize(("cores", "hashes"), [(1, 1), (2, 1), (4, 1), (7, 1), (8, 2), (64, 16)])
def test_password_hashes_at_once_default_to_one_per_four_cores(cores: int, hashes: int) -> None:
    """A login flood may take about a third of the machine, never all of a small one."""
    assert default_hash_concurrency(cores) == hashes


def test_the_hashing_default_follows_this_machine_and_the_variable_overrides_it() -> None:
    assert Settings().password_hash_concurrency == default_hash_concurrency()
    assert load(PASSWORD_HASH_CONCURRENCY="3").password_hash_concurrency == 3


def test_each_settings_object_gets_its_own_node_id() -> None:
    first, second = Settings.from_env({}), Settings.from_env({})
    assert first.node_id != second.node_id
    assert len(first.node_id) == 8
    int(first.node_id, 16)  # hex


def test_development_generates_a_long_secret_that_differs_per_load() -> None:
    first, second = Settings.from_env({}), Settings.from_env({})
    assert len(first.jwt_secret.encode()) >= MIN_SECRET_BYTES
    assert len(second.jwt_secret.encode()) >= MIN_SECRET_BYTES
    assert first.jwt_secret != second.jwt_secret


def test_a_generated_secret_passes_its_own_validation() -> None:
    settings = Settings().validated()
    assert settings.validated() == settings


def test_the_secret_and_private_key_stay_out_of_repr() -> None:
    settings = load(JWT_SECRET=SECRET)
    shown = repr(settings)
    assert SECRET not in shown
    assert "jwt_secret" not in shown
    assert "jwt_private_key" not in shown


# --- every variable is read -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "raw", "attribute", "expected"),
    [
        ("POSTGRES_DSN", " postgresql://u@h/db ", "postgres_dsn", "postgresql://u@h/db"),
        ("REDIS_URL", " redis://h:6379/0 ", "redis_url", "redis://h:6379/0"),
        ("REDIS_PREFIX", "tenant-a:", "redis_prefix", "tenant-a:"),
        ("ENV", "development", "environment", "development"),
        ("ENV", " development ", "environment", "development"),
        ("ENV", "", "environment", "development"),
        ("JWT_SECRET", SECRET, "jwt_secret", SECRET),
        ("JWT_ALGORITHM", " HS256 ", "jwt_algorithm", "HS256"),
        ("JWT_ALGORITHM", "", "jwt_algorithm", "HS256"),
        ("JWT_ISSUER", " https://issuer.example ", "jwt_issuer", "https://issuer.example"),
        ("JWT_AUDIENCE", " my-api ", "jwt_audience", "my-api"),
        ("ACCESS_TTL_S", "60", "access_ttl_s", 60),
        ("ACCESS_TTL_S", " 1 ", "access_ttl_s", 1),
        ("ACCESS_TTL_S", "", "access_ttl_s", 900),
        ("REFRESH_TTL_S", "86400", "refresh_ttl_s", 86400),
        ("RUN_TIMEOUT_S", "5", "run_timeout_s", 5),
        ("AGENT_STEP_DELAY_MS", "0", "agent_step_delay_ms", 0),
        ("AGENT_STEP_DELAY_MS", "250", "agent_step_delay_ms", 250),
        ("DB_POOL_SIZE", "3", "db_pool_size", 3),
        ("PASSWORD_HASH", "fast", "password_hash_profile", "fast"),
        ("PASSWORD_HASH", " strong ", "password_hash_profile", "strong"),
        ("PASSWORD_HASH", "rfc9106", "password_hash_profile", "rfc9106"),
        ("PASSWORD_HASH", "", "password_hash_profile", "strong"),
    ],
)
def test_each_variable_is_read(variable: str, raw: str, attribute: str, expected: object) -> None:
    assert getattr(load(**{variable: raw}), attribute) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://app.example", ("https://app.example",)),
        ("https://a.example,https://b.example", ("https://a.example", "https://b.example")),
        (" https://a.example , https://b.example ", ("https://a.example", "https://b.example")),
        ("https://a.example,,  ,https://b.example,", ("https://a.example", "https://b.example")),
        ("*", ("*",)),
        ("", ()),
        (" , ", ()),
    ],
)
def test_allowed_origins_are_split_on_commas(raw: str, expected: tuple[str, ...]) -> None:
    assert load(ALLOWED_ORIGINS=raw).allowed_origins == expected


def test_production_with_a_secret_and_strong_hashing_starts() -> None:
    settings = load(ENV="production", JWT_SECRET=SECRET)
    assert settings.environment == "production"
    assert settings.jwt_secret == SECRET


def test_asymmetric_keys_are_read_verbatim() -> None:
    settings = load(
        JWT_ALGORITHM="RS256", JWT_PRIVATE_KEY=RSA_PEM_PRIVATE, JWT_PUBLIC_KEY=RSA_PEM_PUBLIC
    )
    assert settings.jwt_algorithm == "RS256"
    assert settings.jwt_private_key == RSA_PEM_PRIVATE
    assert settings.jwt_public_key == RSA_PEM_PUBLIC
    assert settings.jwt_secret == ""  # no HMAC secret is generated for an asymmetric algorithm


# --- whole numbers --------------------------------------------------------------------------

INT_VARIABLES = [
    ("ACCESS_TTL_S", 1),
    ("REFRESH_TTL_S", 1),
    ("RUN_TIMEOUT_S", 1),
    ("AGENT_STEP_DELAY_MS", 0),
    ("DB_POOL_SIZE", 1),
]


@pytest.mark.parametrize(("variable", "minimum"), INT_VARIABLES)
def test_an_integer_at_its_minimum_is_accepted(variable: str, minimum: int) -> None:
    attribute = variable.lower()
    assert getattr(load(**{variable: str(minimum)}), attribute) == minimum


@pytest.mark.parametrize(("variable", "minimum"), INT_VARIABLES)
def test_an_integer_below_its_minimum_is_refused_naming_the_variable(
    variable: str, minimum: int
) -> None:
    with pytest.raises(ConfigError, match=f"GOLDEN_PATH_{variable}") as caught:
        load(**{variable: str(minimum - 1)})
    assert "minimum" in str(caught.value)


@pytest.mark.parametrize(("variable", "minimum"), INT_VARIABLES)
@pytest.mark.parametrize("raw", ["ten", "1.5", "1e3", "0x10", "5s"])
def test_a_non_integer_is_refused_naming_the_variable(
    variable: str, minimum: int, raw: str
) -> None:
    with pytest.raises(ConfigError, match=f"GOLDEN_PATH_{variable}") as caught:
        load(**{variable: raw})
    assert "not a whole number" in str(caught.value)


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["staging", "prod", "Production", "test", "DEVELOPMENT"])
def test_an_unknown_environment_is_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match="GOLDEN_PATH_ENV"):
        load(ENV=raw, JWT_SECRET=SECRET)


@pytest.mark.parametrize("raw", ["none", "hs256", "HS512", "RS512", "ES256", "PS256", "eddsa"])
def test_an_unknown_algorithm_is_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match="GOLDEN_PATH_JWT_ALGORITHM"):
        load(JWT_ALGORITHM=raw, JWT_SECRET=SECRET)


@pytest.mark.parametrize("raw", ["weak", "bcrypt", "FAST", "argon2"])
def test_an_unknown_password_profile_is_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match="GOLDEN_PATH_PASSWORD_HASH"):
        load(PASSWORD_HASH=raw)


def test_production_without_a_secret_refuses_to_start() -> None:
    with pytest.raises(ConfigError, match="GOLDEN_PATH_JWT_SECRET is required in production"):
        load(ENV="production")


@pytest.mark.parametrize("environment", ["development", "production"])
@pytest.mark.parametrize("length", [1, 16, MIN_SECRET_BYTES - 1])
def test_a_short_secret_is_refused_in_any_environment(environment: str, length: int) -> None:
    with pytest.raises(ConfigError, match="GOLDEN_PATH_JWT_SECRET") as caught:
        load(ENV=environment, JWT_SECRET="k" * length)
    assert f"{length} bytes" in str(caught.value)


def test_a_secret_of_exactly_the_minimum_is_accepted() -> None:
    assert load(JWT_SECRET="k" * MIN_SECRET_BYTES).jwt_secret == "k" * MIN_SECRET_BYTES


def test_the_secret_length_counts_bytes_not_characters() -> None:
    eleven_euro_signs = "€" * 11  # 33 bytes in UTF-8, 11 characters
    assert load(JWT_SECRET=eleven_euro_signs).jwt_secret == eleven_euro_signs
    with pytest.raises(ConfigError, match="GOLDEN_PATH_JWT_SECRET"):
        load(JWT_SECRET="€" * 10)  # 30 bytes


@pytest.mark.parametrize("algorithm", ["RS256", "EdDSA"])
@pytest.mark.parametrize(
    ("private", "public"),
    [("", ""), (RSA_PEM_PRIVATE, ""), ("", RSA_PEM_PUBLIC)],
    ids=["neither", "private-only", "public-only"],
)
@pytest.mark.parametrize("environment", ["development", "production"])
def test_an_asymmetric_algorithm_needs_both_pem_keys(
    algorithm: str, private: str, public: str, environment: str
) -> None:
    with pytest.raises(ConfigError, match="GOLDEN_PATH_JWT_PRIVATE_KEY and GOLDEN_PATH_JWT_PUBLIC"):
        load(
            ENV=environment,
            JWT_ALGORITHM=algorithm,
            JWT_PRIVATE_KEY=private,
            JWT_PUBLIC_KEY=public,
            JWT_SECRET=SECRET,
        )


@pytest.mark.parametrize("algorithm", ["RS256", "EdDSA"])
def test_an_asymmetric_algorithm_with_both_keys_starts_in_production(algorithm: str) -> None:
    settings = load(
        ENV="production",
        JWT_ALGORITHM=algorithm,
        JWT_PRIVATE_KEY=RSA_PEM_PRIVATE,
        JWT_PUBLIC_KEY=RSA_PEM_PUBLIC,
    )
    assert settings.jwt_algorithm == algorithm


def test_production_refuses_the_fast_password_profile() -> None:
    with pytest.raises(ConfigError, match="GOLDEN_PATH_PASSWORD_HASH=fast"):
        load(ENV="production", JWT_SECRET=SECRET, PASSWORD_HASH="fast")


def test_production_refuses_the_fast_profile_with_asymmetric_keys_too() -> None:
    with pytest.raises(ConfigError, match="GOLDEN_PATH_PASSWORD_HASH=fast"):
        load(
            ENV="production",
            JWT_ALGORITHM="EdDSA",
            JWT_PRIVATE_KEY=RSA_PEM_PRIVATE,
            JWT_PUBLIC_KEY=RSA_PEM_PUBLIC,
            PASSWORD_HASH="fast",
        )


def test_development_allows_the_fast_password_profile() -> None:
    assert load(PASSWORD_HASH="fast").password_hash_profile == "fast"


def test_validated_checks_a_directly_built_settings_object() -> None:
    with pytest.raises(ConfigError, match="GOLDEN_PATH_JWT_SECRET"):
        Settings(jwt_secret="short").validated()
    with pytest.raises(ConfigError, match="GOLDEN_PATH_JWT_ALGORITHM"):
        Settings(jwt_secret=SECRET, jwt_algorithm="none").validated()
    assert Settings(jwt_secret=SECRET).validated().jwt_secret == SECRET


# --- one table: from_env(to_env(s)) == s for every field -------------------------------------

_token = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=40,
)
_origin = _token.filter(lambda t: "," not in t)


@st.composite
def settings_values(draw: st.DrawFn) -> Settings:
    algorithm = draw(st.sampled_from(("HS256", "RS256", "EdDSA")))
    return Settings(
        postgres_dsn=draw(st.one_of(st.just(""), _token)),
        redis_url=draw(st.one_of(st.just(""), _token)),
        redis_prefix=draw(_token),
        environment=draw(st.sampled_from(("development", "production"))),
        jwt_secret=draw(st.text(min_size=MIN_SECRET_BYTES, max_size=80).filter(str.strip)),
        jwt_algorithm=algorithm,
        jwt_private_key=RSA_PEM_PRIVATE if algorithm != "HS256" else "",
        jwt_public_key=RSA_PEM_PUBLIC if algorithm != "HS256" else "",
        jwt_issuer=draw(_token),
        jwt_audience=draw(_token),
        access_ttl_s=draw(st.integers(1, 10**9)),
        refresh_ttl_s=draw(st.integers(1, 10**9)),
        clock_skew_s=draw(st.integers(0, 10**6)),
        allowed_origins=tuple(draw(st.lists(_origin, max_size=4))),
        password_hash_profile=draw(st.sampled_from(("strong", "rfc9106", "fast"))),
        run_timeout_s=draw(st.integers(1, 10**6)),
        agent_step_delay_ms=draw(st.integers(0, 10**6)),
        db_pool_size=draw(st.integers(1, 1000)),
        node_id=draw(_token),
    )


@given(settings_values())
def test_every_field_survives_the_trip_through_the_environment(settings: Settings) -> None:
    """A server started as its own process gets exactly the settings its parent meant:
    no field dropped (clock skew, node id), no tuple turned into its repr, no variable
    written under a name that ``from_env`` does not read."""
    if settings.environment == "production" and settings.password_hash_profile == "fast":
        settings = replace(settings, password_hash_profile="strong")  # refused, by design
    assert Settings.from_env(settings.to_env()) == settings


def test_the_table_names_every_field_once() -> None:
    from golden_path.server.config import VARIABLES

    assert [v.field for v in VARIABLES] == [f.name for f in fields(Settings)]
    assert len({v.env for v in VARIABLES}) == len(VARIABLES)
    assert all(v.env.startswith("GOLDEN_PATH_") for v in VARIABLES)


def test_a_blank_value_that_the_environment_cannot_carry_is_an_error() -> None:
    with pytest.raises(ConfigError, match="GOLDEN_PATH_JWT_ISSUER"):
        Settings(jwt_issuer="").to_env()


def test_origins_travel_as_a_comma_separated_list() -> None:
    settings = Settings(allowed_origins=("https://a.example", "https://b.example"))
    assert settings.to_env()["GOLDEN_PATH_ALLOWED_ORIGINS"] == "https://a.example,https://b.example"
