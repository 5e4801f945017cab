"""Where the server under test answers, and what the harness knows about it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from golden_path.server.config import Settings
from golden_path.server.runner import ChildServer, ServerThread


@dataclass(frozen=True)
class ServerEndpoint:
    """The server under test: its URLs and, when the harness started it, how.

    ``settings`` and ``thread`` are set for the reference server in-process,
    ``thread`` alone for a project's ``gp_app``, ``process`` for its
    ``gp_server_command``; none of them for a deployment given by ``--gp-url``.
    ``with start_reference_server(services) as endpoint:`` stops it at the end.
    """

    base_url: str
    ws_url: str
    settings: Settings | None = None
    thread: ServerThread | None = None
    process: ChildServer | None = None

    @property
    def is_reference(self) -> bool:
        return self.settings is not None

    def log_tail(self, lines: int = 60) -> str:
        """The end of the server's own log (a server started as its own process)."""
        return self.process.tail(lines) if self.process is not None else ""

    def log_size(self) -> int:
        """How much the server has logged so far (0 for a server with no log of its own)."""
        if self.process is None:
            return 0
        try:
            return self.process.log_path.stat().st_size
        except OSError:
            return 0

    def log_since(self, offset: int, lines: int = 200) -> str:
        """What the server logged after ``offset`` (:meth:`log_size`), its last ``lines``."""
        if self.process is None:
            return ""
        try:
            with self.process.log_path.open("rb") as log:
                log.seek(offset)
                text = log.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def restart(self, timeout: float = 60.0) -> int:
        """Stop the team's server gracefully (SIGTERM to its process group, then wait) and
        start it again with the same command, port and services, for graceful-shutdown and
        recovery tests; returns the exit status of the stopped process. Only a server the
        harness runs as its own process (``gp_server_command``) can restart: an in-process
        ``gp_app`` shares the tests' process, and a deployment is not the harness's."""
        if self.process is None:
            what = "a deployment given by --gp-url" if self.thread is None else "in-process"
            raise RuntimeError(
                f"gp_server.restart() needs a server run as its own process "
                f"(gp_server_command); this one is {what}"
            )
        self.process.terminate()
        status = self.process.wait(timeout)
        self.process.stop_group(timeout)  # whatever it left in its group
        self.process.start(timeout)
        return status

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the server the harness started (a deployment by URL is left alone)."""
        if self.thread is not None:
            self.thread.stop()
        if self.process is not None:
            self.process.stop_group()
