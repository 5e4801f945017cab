"""The reference Golden Path server (protocol v1): a FastAPI app over PostgreSQL and Redis.

Where each stage lives:

* authentication: ``golden_path.server.auth`` (passwords, JWTs, refresh families, tickets);
* the WebSocket: ``golden_path.server.ws`` (handshake, frames, the connection loop);
* the agent run and its five events: ``golden_path.server.runs`` and ``golden_path.agent``;
* persistence: ``golden_path.db`` (migrations and one repository per table);
* the HTTP API: ``golden_path.server.api``.
"""
