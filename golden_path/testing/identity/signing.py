"""The key a team's server verifies with, made for the run when the team did not give one.

When the variable ``gp_jwt_secret_env`` names is unset, :func:`provide_key` puts a
fresh key of ``gp_jwt_algorithm`` there before the team's server starts (the
secret for HS*, the PEM private key otherwise), so the server and ``gp_jwt``
share it; the public half goes to ``gp_jwt_public_key_env`` (PEM) and to a JWKS
file whose path goes to ``gp_jwt_jwks_env``, for a server that holds only a
public key. A variable the team set is never overwritten.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import tempfile
from collections.abc import MutableMapping
from pathlib import Path

from golden_path.testing.identity.keys import KeyPair, generate, jwks


def provide_key(
    algorithm: str,
    secret_env: str,
    public_key_env: str = "",
    jwks_env: str = "",
    environ: MutableMapping[str, str] | None = None,
) -> KeyPair | None:
    """Fill the unset key variables (see the module doc); the pair made, or ``None``."""
    env = os.environ if environ is None else environ
    if not secret_env or env.get(secret_env):
        return None
    pair = generate(algorithm)
    env[secret_env] = pair.private
    if public_key_env and not env.get(public_key_env):
        env[public_key_env] = pair.public
    if jwks_env and not env.get(jwks_env):
        env[jwks_env] = str(_write_jwks(pair))
    return pair


def _write_jwks(pair: KeyPair) -> Path:
    handle, name = tempfile.mkstemp(prefix="golden-path-jwks-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        json.dump(jwks(pair), file)
    path = Path(name)
    atexit.register(lambda: _remove(path))
    return path


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
