"""A test run's name and folder: its id, and where its lock, services and logs are kept."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def new_run_id() -> str:
    return os.urandom(6).hex()


def run_dir_for(run_id: str) -> Path:
    """The run's folder: its lock, what its services are, and the supervisor's log."""
    return Path(tempfile.gettempdir()) / f"golden-path-run-{run_id}"
