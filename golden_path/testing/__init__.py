"""The golden-path pytest harness: what a team's tests import.

The fixtures arrive by themselves (the plugin registers them; see
``docs/harness.md``). From here, a test imports the types it annotates those
fixtures with and the assertion helpers::

    from golden_path.testing import ServerEndpoint, Services, assert_events
    from golden_path.testing import WSClient, WSContract, assert_ws_events

Everything else under ``golden_path.testing`` is the harness's own machinery and
may change without notice. Names are resolved on first use, so importing this
package (as the plugin does at start-up) costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# name -> module that defines it
_PUBLIC: dict[str, str] = {
    # types of the fixtures' values
    "Services": "golden_path.services.model",
    "ServerEndpoint": "golden_path.testing.server.endpoint",
    "GoldenPathUser": "golden_path.testing.identity.users",
    "JWTFactory": "golden_path.testing.identity.jwt_factory",
    "GoldenPathHTTP": "golden_path.client",
    "GoldenPathSocket": "golden_path.client",
    "RunHandle": "golden_path.client",
    "TokenSet": "golden_path.client",
    "AGUIClient": "golden_path.testing.agui.client",
    "AGUIRun": "golden_path.testing.agui.client",
    "ModelHandle": "golden_path.testing.model.handle",
    # protocol v1's event contract
    "assert_events": "golden_path.testing.v1.contract",
    "check_events": "golden_path.testing.v1.contract",
    "split_runs": "golden_path.testing.v1.contract",
    "Violation": "golden_path.testing.v1.contract",
    "ContractViolation": "golden_path.testing.v1.contract",
    # AG-UI's event contract and the golden-path stages read from it
    "assert_agui_events": "golden_path.testing.agui.contract",
    "check_agui_events": "golden_path.testing.agui.contract",
    "Stage": "golden_path.testing.agui.contract",
    # a team's own JSON WebSocket events: the client gp_ws makes and their contract
    "WSClient": "golden_path.testing.ws.client",
    "WSContract": "golden_path.testing.ws.contract",
    "assert_ws_events": "golden_path.testing.ws.contract",
    "check_ws_events": "golden_path.testing.ws.contract",
}
__all__ = [
    "AGUIClient",
    "AGUIRun",
    "ContractViolation",
    "GoldenPathHTTP",
    "GoldenPathSocket",
    "GoldenPathUser",
    "JWTFactory",
    "ModelHandle",
    "RunHandle",
    "ServerEndpoint",
    "Services",
    "Stage",
    "TokenSet",
    "Violation",
    "WSClient",
    "WSContract",
    "assert_agui_events",
    "assert_events",
    "assert_ws_events",
    "check_agui_events",
    "check_events",
    "check_ws_events",
    "split_runs",
]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'golden_path.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from golden_path.client import GoldenPathHTTP, GoldenPathSocket, RunHandle, TokenSet
    from golden_path.services.model import Services
    from golden_path.testing.agui.client import AGUIClient, AGUIRun
    from golden_path.testing.agui.contract import Stage, assert_agui_events, check_agui_events
    from golden_path.testing.identity.jwt_factory import JWTFactory
    from golden_path.testing.identity.users import GoldenPathUser
    from golden_path.testing.model.handle import ModelHandle
    from golden_path.testing.server.endpoint import ServerEndpoint
    from golden_path.testing.v1.contract import (
        ContractViolation,
        Violation,
        assert_events,
        check_events,
        split_runs,
    )
    from golden_path.testing.ws.client import WSClient
    from golden_path.testing.ws.contract import WSContract, assert_ws_events, check_ws_events
