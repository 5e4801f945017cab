"""The processes the benchmark starts: Ctrl-C/SIGTERM as an interrupt, stops that finish.

Every process started is stopped, also on Ctrl-C or SIGTERM: a stop runs with both
signals held, and they interrupt only once it is done.
"""

from __future__ import annotations

import resource
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from bench.load.progress import say
from bench.load.settings import STOP_TIMEOUT_S
from golden_path.services.processes import ServerProcess

STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def interrupt_on_stop_signals() -> None:
    """SIGTERM interrupts like Ctrl-C (a ``KeyboardInterrupt``), so ``finally`` blocks run."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, _interrupt)


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold Ctrl-C/SIGTERM while a stop runs; they are delivered (and interrupt) afterwards."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def stop(process: ServerProcess) -> None:
    """Stop ``process`` with its own clean signal (then SIGKILL), uninterrupted."""
    with signals_held():
        process.stop(STOP_TIMEOUT_S)
    if process.popen.poll() is None:
        say(f"{process.name} (pid {process.pid}) did not exit; see {process.log_path}")


def raise_open_files(wanted: int) -> None:
    """Let this process (and the servers it starts) hold ``wanted`` descriptors, if allowed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < ceiling:
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
    if ceiling < wanted:
        say(f"open-files limit is {ceiling} (hard limit), {wanted} wanted")
