"""A client for protocol golden-path.v1: HTTP calls and an async WebSocket with a transcript.

The demo, the pytest harness and the benchmark all speak to servers through
this package, so what they prove is what a real client sees.
"""

from golden_path.client.http import ApiError, GoldenPathHTTP, TokenSet
from golden_path.client.socket import (
    AuthMethod,
    ConnectionRefused,
    GoldenPathSocket,
    RunHandle,
    WaitTimeout,
)

__all__ = [
    "ApiError",
    "AuthMethod",
    "ConnectionRefused",
    "GoldenPathHTTP",
    "GoldenPathSocket",
    "RunHandle",
    "TokenSet",
    "WaitTimeout",
]
