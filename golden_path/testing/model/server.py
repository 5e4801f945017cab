"""Running the model at the wire: :class:`ModelServer` (a thread of this process) and the
one server of this process (:func:`worker_model_server`, what ``gp_model`` and the
``{openai_base_url}`` placeholders share: one per xdist worker).
"""

from __future__ import annotations

import atexit
import secrets
import threading

from golden_path.server.runner import ServerThread, listening_socket
from golden_path.testing.model.app import ModelState, build_app
from golden_path.testing.model.journal import Namespace
from golden_path.testing.model.script import Script

# uvicorn's options for the model at the wire: the C HTTP parser and uvloop when installed
# (h11, uvicorn's pure-Python parser, and asyncio's own loop cost a scripted model its 2 ms
# time to first byte: python -m bench.model).
UVICORN_OPTIONS = {"http": "httptools", "loop": "auto"}


def openai_url(base_url: str, namespace: str | None = None) -> str:
    """The OpenAI SDKs' ``base_url`` (it ends in ``/v1``)."""
    return f"{anthropic_url(base_url, namespace)}/v1"


def anthropic_url(base_url: str, namespace: str | None = None) -> str:
    """The Anthropic SDK's ``base_url`` (it appends ``/v1/messages`` itself)."""
    return f"{base_url}/t/{namespace}" if namespace else base_url


class ModelServer:
    """The model at the wire on 127.0.0.1 and a port the OS picks, in a background thread."""

    def __init__(self, api_key: str | None = None, host: str = "127.0.0.1") -> None:
        self.api_key = api_key
        self.state = ModelState(api_key=api_key)
        self._thread = ServerThread(
            app=build_app(self.state), sock=listening_socket(host), config=UVICORN_OPTIONS
        )

    @property
    def base_url(self) -> str:
        return self._thread.base_url

    @property
    def openai_base_url(self) -> str:
        return openai_url(self.base_url)

    @property
    def anthropic_base_url(self) -> str:
        return anthropic_url(self.base_url)

    def load(self, scripts: list[Script], namespace: Namespace | None = None) -> None:
        target = namespace or self.state.current
        for script in scripts:
            target.add(script)

    def start(self) -> ModelServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._thread.stop(timeout=5.0)


_worker: ModelServer | None = None
_worker_lock = threading.Lock()


def worker_model_server() -> ModelServer:
    """This process's model server, started on first use, stopped when the process exits."""
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = ModelServer(api_key="gp-model-" + secrets.token_urlsafe(16)).start()
            atexit.register(_worker.stop)
        return _worker


def model_placeholders() -> dict[str, str]:
    """``{openai_base_url}``, ``{anthropic_base_url}`` and ``{model_api_key}``."""
    server = worker_model_server()
    return {
        "openai_base_url": server.openai_base_url,
        "anthropic_base_url": server.anthropic_base_url,
        "model_api_key": server.api_key or "",
    }
