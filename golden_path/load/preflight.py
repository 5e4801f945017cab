"""Before any process starts: is a server there, and does it speak the protocol asked for?

An unreachable URL stops ``golden-path load`` with one message within :data:`CONNECT_S`
(a TCP connect, nothing more); a server that answers but speaks another protocol is named
as such after its first answer that is not the protocol's: the signup, the WebSocket's
first frame (v1), or the ``POST /agui`` response (AG-UI). Plain blocking code, run in the
command's own process (no gevent here).
"""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlsplit

import requests

from golden_path.load.agui_run import read_stream, run_input
from golden_path.load.auth import LoginHook, SignInError, sign_in
from golden_path.load.timing import Arrivals
from golden_path.load.v1_run import ProtocolMismatch, open_socket
from golden_path.protocol import PROTOCOL_NAME, websocket_url

CONNECT_S = 3.0
ANSWER_S = 20.0
PROTOCOLS = {"v1": PROTOCOL_NAME, "ag-ui": "AG-UI"}


class PreflightError(Exception):
    """The load cannot start; the message says why in one line."""


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PreflightError(f"--url {url!r}: expected http://HOST:PORT or https://HOST:PORT")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise PreflightError(f"--url {url!r}: {exc}") from None
    return parts.hostname, port


def reachable(url: str, timeout: float = CONNECT_S) -> None:
    """Raise :class:`PreflightError` unless something accepts a connection at ``url``."""
    host, port = _address(url)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else exc.strerror or str(exc)
        raise PreflightError(
            f"nothing answers at {url} ({reason} within {timeout:.0f} s): is the server "
            "running, and is the URL right?"
        ) from None


def check_protocol(url: str, protocol: str, tier: str, hook: LoginHook | None) -> None:
    """One user signed in, and the protocol's first answer read; a mismatch is named."""
    base = url.rstrip("/")
    name = PROTOCOLS[protocol]
    with requests.Session() as session:
        session.trust_env = False

        def post(path: str, body: dict[str, Any], token: str | None) -> requests.Response:
            headers = {"authorization": f"Bearer {token}"} if token else {}
            return session.post(base + path, json=body, headers=headers, timeout=ANSWER_S)

        try:
            token = sign_in(post, base, tier, hook)
            if protocol == "v1":
                open_socket(websocket_url(base), token, ANSWER_S).close()
            else:
                response = session.post(
                    base + "/agui",
                    json=run_input("ping"),
                    headers={"authorization": f"Bearer {token}"},
                    stream=True,
                    timeout=ANSWER_S,
                )
                with response:
                    events, _ = read_stream(response, Arrivals(), 1, float("inf"))
                if not events or not isinstance(events[0], dict) or "type" not in events[0]:
                    raise ProtocolMismatch(f"its first event was {str(events[:1])[:200]}")
        except (SignInError, ProtocolMismatch) as exc:
            raise PreflightError(f"the server at {url} does not speak {name}: {exc}") from None
        except (OSError, requests.RequestException) as exc:
            raise PreflightError(
                f"the server at {url} failed the first {name} call: {exc}"
            ) from None


def preflight(url: str, protocol: str, tier: str, hook: LoginHook | None) -> None:
    reachable(url)
    check_protocol(url, protocol, tier, hook)
