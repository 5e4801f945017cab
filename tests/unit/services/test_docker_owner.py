"""Which containers a sweep may remove: those whose labelled owner is gone from our pid scope."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from golden_path.services.docker import (
    LABEL_OWNER_HOST,
    LABEL_OWNER_PID,
    LABEL_OWNER_START_TIME,
    LABEL_RUN,
    LABEL_SESSION,
    owner_from_labels,
    owner_labels,
)
from golden_path.services.processes import process_start_time
from golden_path.services.registry import Owner, host_identity

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a killed test run's containers are removed by the next run, and a "
        "concurrent run's containers never are",
        revenue_impact="shared CI hosts neither fill up with orphaned databases nor lose a "
        "colleague's running services mid-run",
    ),
]


def _finished_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_labels_round_trip_to_the_same_owner() -> None:
    owner = Owner.this_process()
    labels = owner_labels(owner, "run-1")
    assert labels[LABEL_RUN] == "run-1"
    assert labels[LABEL_OWNER_PID] == str(os.getpid())
    assert owner_from_labels(labels) == owner


def test_an_owner_without_a_start_time_round_trips() -> None:
    owner = Owner(pid=12, start_time=None, host="h")
    assert owner_from_labels(owner_labels(owner, "r")) == owner


@pytest.mark.parametrize(
    "labels",
    [
        {},
        {LABEL_OWNER_PID: "12"},
        {LABEL_OWNER_PID: "twelve", LABEL_OWNER_HOST: "h"},
        {LABEL_OWNER_PID: "12", LABEL_OWNER_HOST: "h", LABEL_OWNER_START_TIME: "soon"},
    ],
)
def test_labels_that_are_not_ours_or_damaged_name_no_owner(labels: dict[str, str]) -> None:
    assert owner_from_labels(labels) is None


def test_a_running_owner_is_not_gone() -> None:
    assert not Owner.this_process().is_gone()


def test_an_owner_that_exited_is_gone() -> None:
    assert Owner(pid=_finished_pid(), start_time=None, host=host_identity()).is_gone()


def test_a_recycled_pid_does_not_keep_an_owner_alive() -> None:
    start = process_start_time(os.getpid())
    assert start is not None
    assert Owner(pid=os.getpid(), start_time=start + 1, host=host_identity()).is_gone()


def test_an_owner_in_another_pid_namespace_or_boot_is_never_judged_gone() -> None:
    elsewhere = host_identity() + "-elsewhere"
    assert not Owner(pid=_finished_pid(), start_time=None, host=elsewhere).is_gone()


def test_host_identity_names_this_boot_and_pid_namespace() -> None:
    identity = host_identity()
    assert identity.endswith("/" + os.readlink("/proc/self/ns/pid"))
    assert identity == host_identity()


def test_a_session_label_is_added_only_under_a_session() -> None:
    owner = Owner.this_process()
    assert owner_labels(owner, "r", "s1")[LABEL_SESSION] == "s1"
    assert LABEL_SESSION not in owner_labels(owner, "r")
    assert LABEL_SESSION not in owner_labels(owner, "r", "")
