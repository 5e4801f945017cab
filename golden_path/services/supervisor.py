"""Keep a provider's servers up until told to stop, or until the owner process dies.

``golden-path services up`` runs this in the foreground. The pytest harness
runs it as a separate process (``python -m golden_path.services.supervisor``)
owned by the test run's controller: whichever way the run ends, even killed,
the supervisor notices its owner is gone (a pidfd, not polling) and stops the
servers; and if the supervisor itself is killed, the kernel signals the
servers (parent-death signal), and the next run removes what is left.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import signal
import sys
from collections.abc import Callable, Iterator

from golden_path.services.model import Services, ServicesError
from golden_path.services.selection import make_provider, resolve_provider_name


@contextlib.contextmanager
def _stop_signals() -> Iterator[int]:
    """Route SIGINT/SIGTERM to a pipe we can select on; yield its read end."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    old_wakeup = signal.set_wakeup_fd(write_fd)
    for sig in previous:
        signal.signal(sig, lambda *_: None)
    try:
        yield read_fd
    finally:
        signal.set_wakeup_fd(old_wakeup)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.close(read_fd)
        os.close(write_fd)


def wait_for_stop(owner_pid: int | None, signals_fd: int | None = None) -> str:
    """Block until SIGINT/SIGTERM arrives or ``owner_pid`` exits; say which.

    ``signals_fd`` is the read end of an already open :func:`_stop_signals`, so that a
    signal that arrived earlier (during start-up, say) is seen here.
    """
    if signals_fd is None:
        with _stop_signals() as own_fd:
            return wait_for_stop(owner_pid, own_fd)
    watched = [signals_fd]
    owner_fd = None
    if owner_pid is not None:
        try:
            owner_fd = os.pidfd_open(owner_pid)
            watched.append(owner_fd)
        except ProcessLookupError:
            return "owner gone"
    try:
        readable, _, _ = select.select(watched, [], [])
    finally:
        if owner_fd is not None:
            os.close(owner_fd)
    if signals_fd in readable:
        signum = os.read(signals_fd, 1)[0]
        return f"signal {signal.Signals(signum).name}"
    return "owner gone"


def supervise(
    provider_name: str,
    on_ready: Callable[[Services], None],
    owner_pid: int | None = None,
) -> None:
    """Start the provider, report, wait for the stop, stop the servers (also on errors)."""
    provider = make_provider(resolve_provider_name(provider_name))
    # One pipe from before start-up to the end: a signal that arrives while the servers
    # start is answered by a clean stop as soon as they are up, not lost.
    with _stop_signals() as signals_fd:
        services = provider.start()
        try:
            on_ready(services)
            wait_for_stop(owner_pid, signals_fd)
        finally:
            provider.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m golden_path.services.supervisor")
    parser.add_argument("--provider", default="auto")
    parser.add_argument("--owner-pid", type=int, default=None)
    args = parser.parse_args(argv)

    def report(services: Services) -> None:
        sys.stdout.write(json.dumps({"ok": True, "services": json.loads(services.to_json())}))
        sys.stdout.write("\n")
        sys.stdout.flush()
        sys.stdout.close()

    try:
        supervise(args.provider, report, owner_pid=args.owner_pid)
    except ServicesError as exc:
        print(json.dumps({"ok": False, "error": str(exc)}), flush=True)
        return 1
    except Exception as exc:
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
