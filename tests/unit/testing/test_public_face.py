"""``golden_path.testing``'s public face is small: types, assertion helpers, and the fixtures.

A team imports what it annotates fixtures with and the assertions from the package
itself; the plugin module holds hooks only, and every fixture lives in one module.
"""

from __future__ import annotations

import inspect

import pytest

import golden_path.testing as harness
from golden_path.testing import fixtures, plugin

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="a team learns one import line and one list of fixtures, as with "
        "pytest-django, instead of the harness's internals",
        revenue_impact="an interface that leaks its internals breaks adopters' suites on every "
        "release, and they stop upgrading",
    ),
]

FIXTURES = {
    "gp_services",
    "gp_reference_services",
    "gp_database",
    "gp_db",
    "gp_redis",
    "gp_server",
    "gp_base_url",
    "gp_ws_url",
    "gp_api",
    "gp_user",
    "gp_client",
    "gp_jwt",
    "gp_server_process",
    "gp_agui",
    "gp_agui_factory",
    "gp_model",
    "gp_ws",
}


@pytest.mark.parametrize("name", harness.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(harness, name) is not None


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'gp_internal'"):
        _ = harness.gp_internal  # type: ignore[attr-defined]


def test_the_assertion_helpers_are_the_contracts_own() -> None:
    from golden_path.testing.agui.contract import assert_agui_events
    from golden_path.testing.v1.contract import assert_events
    from golden_path.testing.ws.contract import assert_ws_events

    assert harness.assert_events is assert_events
    assert harness.assert_agui_events is assert_agui_events
    assert harness.assert_ws_events is assert_ws_events


def test_the_plugin_module_holds_hooks_only() -> None:
    functions = {
        name
        for name, value in vars(plugin).items()
        if inspect.isfunction(value) and value.__module__ == plugin.__name__
    }
    assert functions
    assert all(name.startswith("pytest_") for name in functions), functions


def test_every_fixture_lives_in_the_fixtures_module(request: pytest.FixtureRequest) -> None:
    assert set(fixtures.__all__) == FIXTURES
    assert request.config.pluginmanager.get_plugin("golden-path-fixtures") is fixtures
    for name in FIXTURES:
        definitions = request._fixturemanager.getfixturedefs(name, request.node)
        assert definitions, f"{name} is not a fixture"
        assert definitions[-1].func.__module__ in (
            fixtures.__name__,
            "golden_path.testing.agui.fixtures",  # re-exported from fixtures.py
            "golden_path.testing.model.fixtures",  # re-exported from fixtures.py
            "golden_path.testing.ws.fixtures",  # re-exported from fixtures.py
        ), name


def test_the_public_list_and_the_lookup_table_agree() -> None:
    assert sorted(harness.__all__) == sorted(harness._PUBLIC)
