"""The model's placeholders resolve only when a template names one.

``gp_app_env`` and ``gp_server_command`` templates are formatted with the other
placeholders' values; ``{openai_base_url}``, ``{anthropic_base_url}`` and
``{model_api_key}`` are looked up (starting the worker's model server) on first use,
and an unknown placeholder's error lists them among the known ones.
"""

from __future__ import annotations

import pytest

from golden_path.testing.model.placeholders import MODEL_PLACEHOLDERS, WithModelPlaceholders
from golden_path.testing.server.own import OwnServerError, substitute

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="one ini line points a team's server at the scripted model; a typo "
        "gets an error naming the placeholders that exist",
        revenue_impact="a team that cannot wire its server to the model in minutes does not "
        "adopt the harness for its AI product",
    ),
]


class Values(WithModelPlaceholders):
    """The lookup, with the model's values made here instead of by a server."""

    asked = 0

    def __missing__(self, key: str) -> str:
        if key not in MODEL_PLACEHOLDERS:
            raise KeyError(key)
        Values.asked += 1
        self.update({name: f"<{name}>" for name in MODEL_PLACEHOLDERS})
        return self[key]


def test_a_template_without_model_placeholders_asks_for_none() -> None:
    values = Values({"port": "80"})
    assert substitute("--port {port}", values, "gp_server_command") == "--port 80"
    assert Values.asked == 0
    assert substitute("{openai_base_url} {model_api_key}", values, "gp_app_env") == (
        "<openai_base_url> <model_api_key>"
    )
    assert Values.asked == 1


def test_an_unknown_placeholder_lists_the_models_too() -> None:
    with pytest.raises(OwnServerError) as caught:
        substitute("{openai_url}", Values({"port": "80"}), "gp_app_env")
    message = str(caught.value)
    assert "unknown placeholder 'openai_url'" in message
    assert "{port}" in message
    assert all("{" + name + "}" in message for name in MODEL_PLACEHOLDERS)
