"""Starting a reference node with settings of its own, for the security tests."""

from __future__ import annotations

from typing import Any

from golden_path.services.model import Services

try:  # the harness module's name since the harness split (issue 10)
    from golden_path.testing.reference_server import start_reference_server
except ImportError:  # pragma: no cover - before it
    from golden_path.testing.server_fixtures import (  # type: ignore[no-redef]
        start_reference_server,
    )


def start_node(services: Services, **overrides: Any) -> Any:
    """A reference server in this process on ``services``; stop it with ``.thread.stop()``."""
    return start_reference_server(services, **overrides)
