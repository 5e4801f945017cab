"""``golden-path serve`` admits its own chat page's origin, and no other, with no setting."""

from __future__ import annotations

import pytest

from golden_path.client import GoldenPathHTTP, GoldenPathSocket
from golden_path.conformance.support import refusal
from golden_path.protocol import CloseCode
from golden_path.server.runner import ServeProcess
from golden_path.services.processes import free_port
from golden_path.testing.identity.users import create_user
from golden_path.testing.server.reference import reference_settings

pytestmark = [
    pytest.mark.reference_only,
    pytest.mark.security,
    pytest.mark.stage("websocket"),
    pytest.mark.bvj(
        segment="free",
        goal="conversion",
        value_impact="the chat page golden-path serve shows at / opens its socket out of the "
        "box, and a page of another origin still cannot",
        revenue_impact="a trial user whose first chat is refused never reaches the upgrade",
    ),
]


async def test_serve_accepts_its_pages_origin_and_refuses_another(gp_reference_services):
    port = free_port()
    server = ServeProcess(reference_settings(gp_reference_services), port=port).start()
    try:
        async with GoldenPathHTTP(server.base_url) as api:
            user = await create_user(api, "free")
        own = await GoldenPathSocket.connect(
            server.ws_url, user.access_token, origin=f"http://127.0.0.1:{port}"
        )
        assert own.established is not None
        await own.close()
        # The same server under another name (a rebound DNS name, say) is another origin.
        foreign = await refusal(server.ws_url, user.access_token, origin=f"http://localhost:{port}")
        assert foreign == CloseCode.FORBIDDEN_ORIGIN
    finally:
        server.stop()
