"""``golden-path demo --serve``: the chat page (and the API) served until Ctrl-C."""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING

from golden_path.server.runner import GoldenPathServer, uvicorn_config
from golden_path.server.web import with_page_origin

if TYPE_CHECKING:
    from golden_path.server.config import Settings


def serve_chat_page(settings: Settings, port: int, host: str = "127.0.0.1") -> bool:
    """Serve the chat page (and the API) on ``host:port`` until Ctrl-C or SIGTERM.

    The page's own origin is put on the allow-list, so its WebSocket is accepted.
    """
    origin = f"http://{host}:{port}"
    settings = with_page_origin(settings, host, port)
    server = GoldenPathServer(uvicorn_config(settings, host=host, port=port))

    def announce() -> None:  # once the socket listens, not before
        if server.ready.wait() and not server.should_exit:
            print(
                f"\nchat page: {origin}/ (sign up there and ask; Ctrl-C stops the server "
                "and the services)",
                flush=True,
            )

    threading.Thread(target=announce, name="chat-page-url", daemon=True).start()
    server.run()
    if not server.started:
        print(f"golden-path demo: could not serve on {origin} (try --port)", file=sys.stderr)
    return bool(server.started)
