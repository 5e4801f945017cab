"""Flaky, not green: a test that failed and then passed under pytest-rerunfailures.

With ``--reruns N`` a failed attempt is reported with the outcome ``rerun`` and the test runs
again. The report keeps each failed attempt (:attr:`TestFacts.reruns`); a test whose last
attempt passed is *flaky*. ``report.json`` lists it under ``flaky`` with its attempts and
each failure's message, and :class:`FlakyJUnit` writes the failed attempts into the JUnit
XML as ``<flakyFailure>`` elements of the test's one ``<testcase>`` (``<rerunFailure>`` when
the last attempt failed too), the form Surefire writes and CI reporters read.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

import pytest
from _pytest.junitxml import xml_key

if TYPE_CHECKING:
    from _pytest.junitxml import LogXML, _NodeReporter

    from golden_path.testing.bvj.report_records import ReportView as Report
    from golden_path.testing.bvj.report_records import TestFacts

GATE_FLAKY = ("pass", "fail")


def flaky_tests(report: Report) -> list[TestFacts]:
    return sorted(
        (t for t in report.tests.values() if t.outcome == "passed" and t.reruns),
        key=lambda t: t.nodeid,
    )


def flaky_json(report: Report) -> list[dict[str, Any]]:
    return [
        {
            "nodeid": t.nodeid,
            "attempts": len(t.reruns) + 1,
            "failures": [f.message for f in t.reruns],
        }
        for t in flaky_tests(report)
    ]


def flaky_problems(report: Report) -> list[str]:
    if report.settings.gate_flaky != "fail":
        return []
    return [
        f"flaky (failed, then passed on attempt {len(t.reruns) + 1}): {t.nodeid}"
        for t in flaky_tests(report)
    ]


def _element(tag: str, report: pytest.TestReport) -> ET.Element:
    from golden_path.testing.bvj.report_records import failure_of

    failure = failure_of(report)
    kind = failure.message.split(":", 1)[0] if ":" in failure.message else "failure"
    element = ET.Element(tag, message=failure.message, type=kind)
    ET.SubElement(element, "stackTrace").text = failure.longrepr
    for title, text in failure.sections:
        if title.startswith("Captured stdout"):
            ET.SubElement(element, "system-out").text = text
        elif title.startswith("Captured stderr"):
            ET.SubElement(element, "system-err").text = text
    return element


Key = tuple[str, object]


class FlakyJUnit:
    """Puts a rerun test's failed attempts into its one JUnit ``<testcase>``.

    pytest's JUnit writer closes a ``<testcase>`` at every attempt's teardown, so a rerun
    test would appear once per attempt, the failed ones as empty passes. This drops those
    and hangs each failed attempt on the last attempt's ``<testcase>``.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.attempts: dict[Key, list[ET.Element]] = {}
        self.rerun_now: set[Key] = set()
        self.dropped: dict[Key, _NodeReporter] = {}

    def _xml(self) -> LogXML | None:
        return self.config.stash.get(xml_key, None)

    @staticmethod
    def _key(report: pytest.TestReport) -> Key:
        return (report.nodeid, getattr(report, "node", None))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        xml = self._xml()
        if xml is None:
            return
        key = self._key(report)
        if str(report.outcome) == "rerun":  # pytest-rerunfailures' own outcome
            self.attempts.setdefault(key, []).append(_element("flakyFailure", report))
            self.rerun_now.add(key)
        if report.when != "teardown":
            return
        if key in self.rerun_now:
            # This attempt's <testcase> is about to be written by the JUnit plugin: drop it
            # once written (pytest_runtest_logreport below, after the JUnit plugin's).
            self.rerun_now.discard(key)
            self.dropped[key] = xml.node_reporter(report)
            return
        failed = self.attempts.pop(key, [])
        if failed:
            reporter = xml.node_reporter(report)
            last_failed = any(n.tag in ("failure", "error") for n in reporter.nodes)
            for element in failed:
                if last_failed:
                    element.tag = "rerunFailure"
                reporter.append(element)

    def after(self, report: pytest.TestReport) -> None:
        xml = self._xml()
        reporter = self.dropped.pop(self._key(report), None) if report.when == "teardown" else None
        if xml is not None and reporter is not None and reporter in xml.node_reporters_ordered:
            xml.node_reporters_ordered.remove(reporter)


class FlakyJUnitAfter:
    """The second half of :class:`FlakyJUnit`, run after the JUnit plugin's own hook."""

    def __init__(self, first: FlakyJUnit) -> None:
        self.first = first

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.first.after(report)
