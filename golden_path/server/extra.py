"""The reference server comes with an extra: ``pip install 'golden-path[server]'``.

``pip install golden-path`` is the harness alone; the reference server's own
dependencies (FastAPI, the argon2 password hash, uvloop) come with the ``server``
extra. Whatever needs the reference server (``golden-path serve``, ``golden-path
demo``, ``gp_server`` in a project that names no server of its own) says so in
one sentence instead of a traceback ending in ``No module named 'fastapi'``.
"""

from __future__ import annotations

from golden_path.errors import GoldenPathError

# The top-level modules only the extra installs (pyproject.toml: optional-dependencies.server).
SERVER_EXTRA_MODULES = ("fastapi", "argon2", "uvloop")
INSTALL = "pip install 'golden-path[server]'"


class ServerExtraMissing(GoldenPathError):
    """The reference server was asked for in an install without its extra."""


def missing_extra(exc: ImportError, what: str = "") -> ServerExtraMissing | None:
    """The one-sentence error for ``exc`` when it is a module of the extra, else None;
    ``what`` (``golden-path serve``) starts the sentence."""
    name = (getattr(exc, "name", None) or "").split(".")[0]
    if name not in SERVER_EXTRA_MODULES:
        return None
    return ServerExtraMissing(
        f"{what + ': ' if what else ''}golden-path's reference server needs {name!r}, which "
        f"is not installed: {INSTALL}. (The harness alone does not need it: a project "
        "testing its own server sets gp_app or gp_server_command, or --gp-url.)"
    )
