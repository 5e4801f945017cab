"""The login hook of ``examples/agui-pydantic-ai`` under ``golden-path load``: its one bearer
token, from the variable the example reads it from (``AGUI_EXAMPLE_TOKEN``)."""

from __future__ import annotations

import os


def token(base_url: str) -> str:
    return os.environ["AGUI_EXAMPLE_TOKEN"]
