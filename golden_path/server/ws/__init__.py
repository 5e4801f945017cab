"""The WebSocket stage: handshake, client frames, per-connection delivery, cross-node fan-out."""
