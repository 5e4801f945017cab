"""A pristine PostgreSQL cluster, made by ``initdb`` once per machine and copied per run.

``initdb`` is the largest part of the embedded provider's start (about 0.4 s here, where
copying its 39 MB result within the same tmpfs takes 0.05 s), and it always writes the same
cluster for the same binaries, arguments and account. So the first run makes one in a cache
beside the runs' own folders (``golden-path-initdb-<key>``, the key naming the binaries,
their modification time, the arguments and the account), and every run copies it as that
account (``cp -a``). A newer PostgreSQL, other arguments or another account get a cache of
their own; deleting the folder only costs the next run one ``initdb``.

The cache is made in a private staging folder and renamed into place, so a run never sees
half a cluster, and two runs making it at once both succeed (the second discards its own).
The cluster inside is the account's, mode 0700 as ``initdb`` leaves it; the folder around
it is the caller's, mode 0711, so no other account can swap it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from golden_path.services.model import ServicesError
from golden_path.services.processes import RunAs

INITDB_ARGS = ("--no-sync", "--auth=trust", "-U", "postgres", "--locale=C", "-E", "UTF8")


def _as(account: RunAs) -> dict[str, object]:
    if account.uid is None:
        return {}
    return {"user": account.uid, "group": account.gid, "extra_groups": []}


def _initdb(pg_bin: Path, data: Path, account: RunAs, cwd: Path) -> None:
    done = subprocess.run(
        [str(pg_bin / "initdb"), "-D", str(data), *INITDB_ARGS],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        **_as(account),  # type: ignore[call-overload]
    )
    if done.returncode != 0:
        raise ServicesError(
            f"embedded provider: initdb failed (exit {done.returncode}) running as "
            f"{account.name or 'the current user'}:\n{done.stderr.strip()[-2000:]}"
        )


def cache_folder(pg_bin: Path, account: RunAs, root: Path) -> Path:
    postgres = pg_bin / "postgres"
    key = f"{postgres.resolve()}:{postgres.stat().st_mtime_ns}:{INITDB_ARGS}:{account.uid}"
    return root / f"golden-path-initdb-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def pristine_cluster(pg_bin: Path, account: RunAs, root: Path) -> Path:
    """The cached cluster for these binaries and this account, made now if there is none."""
    folder = cache_folder(pg_bin, account, root)
    cluster = folder / "pgdata"
    if (cluster / "PG_VERSION").is_file():
        return cluster
    folder.mkdir(mode=0o711, exist_ok=True)
    folder.chmod(0o711)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder))
    try:
        staging.chmod(0o711)
        made = staging / "pgdata"
        made.mkdir(mode=0o700)
        if account.uid is not None:
            os.chown(made, account.uid, account.gid if account.gid is not None else -1)
        _initdb(pg_bin, made, account, staging)
        try:
            made.rename(cluster)
        except OSError:  # another run made it first: theirs is as good as ours
            if not (cluster / "PG_VERSION").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return cluster


def new_cluster(pg_bin: Path, account: RunAs, data: Path, cache_root: Path) -> None:
    """A fresh cluster in ``data`` (an empty folder ``account`` owns): a copy of the cached
    pristine one; ``initdb`` itself when no cache can be made or copied (a cache that cannot
    be copied is removed, so the next run makes it anew)."""
    try:
        cluster = pristine_cluster(pg_bin, account, cache_root)
    except OSError:
        _initdb(pg_bin, data, account, data.parent)
        return
    copied = subprocess.run(
        ["cp", "-a", f"{cluster}/.", str(data)],
        capture_output=True,
        text=True,
        check=False,
        **_as(account),  # type: ignore[call-overload]
    )
    if copied.returncode != 0:
        shutil.rmtree(cluster.parent, ignore_errors=True)
        for child in data.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        _initdb(pg_bin, data, account, data.parent)
