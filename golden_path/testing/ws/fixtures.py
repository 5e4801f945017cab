"""``gp_ws``: sockets to the server under test that speak the team's own JSON events.

The contract comes from the ``gp_ws_*`` ini options, read once at start-up
(:func:`configure_contract`): a mistake there stops the run with one message
naming the option, before any test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from golden_path.testing.markers import vocabulary
from golden_path.testing.options import harness_options
from golden_path.testing.ws.contract import INI_OPTIONS, WSContract, contract_from_ini

if TYPE_CHECKING:
    from golden_path.testing.ws.client import WSClient

__all__ = ["configure_contract", "gp_ws", "ws_contract"]

_CONTRACT = pytest.StashKey[WSContract]()


def configure_contract(config: pytest.Config) -> WSContract:
    """Read the ``gp_ws_*`` options into the run's contract; a usage error names the one
    that is wrong."""
    values = {name: config.getini(name) for name in INI_OPTIONS}
    try:
        contract = contract_from_ini(values, vocabulary(config).stages)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[_CONTRACT] = contract
    return contract


def ws_contract(config: pytest.Config) -> WSContract:
    """The run's contract (the ``gp_ws_*`` options)."""
    found = config.stash.get(_CONTRACT, None)
    return found if found is not None else configure_contract(config)


def _ws_base(base_url: str) -> str:
    scheme, _, rest = base_url.rstrip("/").partition("://")
    return ("wss" if scheme == "https" else "ws") + "://" + rest


WSFactory = Callable[..., Awaitable["WSClient"]]


@pytest.fixture
async def gp_ws(request: pytest.FixtureRequest, gp_base_url: str) -> AsyncIterator[WSFactory]:
    """``sock = await gp_ws("/stream", token=...)``: a JSON WebSocket to the server under test.

    ``path`` defaults to ``gp_ws_path``; ``token`` (or ``user=``, a ``gp_user``'s
    ``access_token``) goes as ``auth="header"`` (``Authorization: Bearer``), ``"query"``
    (``?token=``, or ``query_name=``) or ``"subprotocol"``. The socket checks and reads
    stages with the run's contract (``contract=`` another). Every socket is closed after
    the test (closing handshake, reader drained); a failing test's report shows each
    one's transcript.
    """
    from golden_path.testing.ws.client import WSClient  # websockets: only when used

    options = harness_options(request.config)
    contract = ws_contract(request.config)
    sockets: list[WSClient] = []

    async def connect(
        path: str | None = None,
        *,
        token: str | None = None,
        user: Any = None,
        contract: WSContract = contract,
        **kwargs: Any,
    ) -> WSClient:
        chosen = path or options.ws_path
        if not chosen:
            raise pytest.UsageError("gp_ws() needs a path: gp_ws('/stream'), or set gp_ws_path")
        if not chosen.startswith("/"):
            raise pytest.UsageError(f"gp_ws({chosen!r}): a path starts with /")
        if user is not None:
            token = user.get("access_token") if isinstance(user, Mapping) else user.access_token
        sock = await WSClient.connect(
            _ws_base(gp_base_url) + chosen, token=token, contract=contract, **kwargs
        )
        sockets.append(sock)
        return sock

    try:
        yield connect
    finally:
        for sock in sockets:
            await sock.close()
