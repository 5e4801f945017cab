"""The model's placeholders in ``gp_app_env`` and ``gp_server_command``, resolved on use.

``{openai_base_url}``, ``{anthropic_base_url}`` and ``{model_api_key}`` start this
worker's model server the first time a template names one; a template that names
none starts nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

MODEL_PLACEHOLDERS = ("openai_base_url", "anthropic_base_url", "model_api_key")


class WithModelPlaceholders(dict[str, str]):
    """The other placeholders' values, plus the model's, looked up when first asked for."""

    def __missing__(self, key: str) -> str:
        if key not in MODEL_PLACEHOLDERS:
            raise KeyError(key)
        from golden_path.testing.model.server import model_placeholders

        self.update(model_placeholders())
        return self[key]

    def __iter__(self) -> Iterator[str]:
        yield from dict.__iter__(self)
        yield from (name for name in MODEL_PLACEHOLDERS if not dict.__contains__(self, name))
