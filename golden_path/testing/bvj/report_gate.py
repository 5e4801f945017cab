"""The report's settings beyond its tests, and what the gate adds for them.

A run's :class:`ReportSettings` come from the project (``gp_quarantine``, ``gp_segment_value``)
and the command line (``--gp-gate-flaky``, ``--gp-gate-max-risk``); ``report.json`` carries
the project's part so that ``golden-path report merge`` gates the union of shards with the
same quarantine and segment values (its own flags give the gate's part).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from golden_path.testing.bvj.report_flaky import flaky_json, flaky_problems, flaky_tests
from golden_path.testing.bvj.report_history import history_json
from golden_path.testing.bvj.report_quarantine import (
    quarantine_json,
    quarantine_problems,
)
from golden_path.testing.bvj.report_risk import money, risk_json, risk_problems

if TYPE_CHECKING:
    from golden_path.testing.bvj.report_records import ReportView as Report


def today() -> date:
    return datetime.now(UTC).date()


def extra_gate_problems(report: Report) -> list[str]:
    """Flaky tests (with ``fail``), expired or stale quarantine entries, value at risk."""
    return [
        *flaky_problems(report),
        *quarantine_problems(report, today()),
        *risk_problems(report),
    ]


def quarantine_section(report: Report) -> dict[str, Any] | None:
    if not report.settings.quarantine and not report.settings.quarantine_file:
        return None
    runs = [run.tests for run in report.history or ()]
    return quarantine_json(report, today(), runs)


def extra_json(report: Report) -> dict[str, Any]:
    """``report.json``'s sections for flaky tests, and those of the settings the run has."""
    out: dict[str, Any] = {"flaky": flaky_json(report)}
    sections = {
        "quarantine": quarantine_section(report),
        "risk": risk_json(report),
        "history": history_json(report),
    }
    out.update({name: value for name, value in sections.items() if value is not None})
    return out


def extra_summary_lines(report: Report) -> list[str]:
    """The terminal summary's lines for flaky tests, quarantine and value at risk."""
    lines = []
    flaky = flaky_tests(report)
    if flaky:
        lines.append(f"{len(flaky)} flaky (failed, then passed on a rerun):")
        lines += [f"  {t.nodeid} ({len(t.reruns) + 1} attempts)" for t in flaky[:20]]
    quarantined = sorted(
        t.nodeid for t in report.tests.values() if t.quarantine and t.outcome == "failed"
    )
    if quarantined:
        lines.append(f"{len(quarantined)} quarantined tests failed (reported, not gated)")
    section = quarantine_section(report) or {"entries": []}
    for entry in section["entries"]:
        if entry["stale"] or entry["expired"]:
            what = "matches no test" if entry["stale"] else f"expired on {entry['expires']}"
            lines.append(f"quarantine entry {what}: {entry['test']} (owner {entry['owner']})")
        elif entry["ready_to_release"]:
            lines.append(f"quarantine entry ready to release: {entry['test']} (passed)")
    risk = risk_json(report)
    if risk is not None:
        lines.append(
            f"value at risk: {money(risk['total'])}"
            + (f" ({', '.join(risk['segments_at_risk'])})" if risk["segments_at_risk"] else "")
        )
    return lines


def extra_markdown(report: Report) -> list[str]:
    """``report.md``'s sections for flaky tests, quarantine, value at risk and history."""
    lines: list[str] = []
    flaky = flaky_json(report)
    if flaky:
        lines += ["", "## Flaky tests (failed, then passed on a rerun)", ""]
        lines += [f"- {t['nodeid']}: {t['attempts']} attempts" for t in flaky]
    quarantine = quarantine_section(report)
    if quarantine is not None:
        lines += ["", f"## Quarantine ({quarantine['file']})", ""]
        lines += ["| test | owner | expires | failed | state |", "|---|---|---|---|---|"]
        for e in quarantine["entries"]:
            state = ", ".join(
                name
                for name, on in (
                    ("expired", e["expired"]),
                    ("matches no test", e["stale"]),
                    ("ready to release", e["ready_to_release"]),
                )
                if on
            )
            lines.append(
                f"| {e['test']} | {e['owner']} | {e['expires']} | {len(e['failed'])} | {state} |"
            )
    risk = risk_json(report)
    if risk is not None:
        lines += ["", f"## Value at risk: {money(risk['total'])}", ""]
        lines += [
            f"- {c['segment']} × {c['stage']}: {money(c['value'])} ({len(c['failed'])} failed)"
            for c in risk["cells"]
        ] or ["No failing cell."]
    history = history_json(report)
    if history is not None and history["failing"]:
        lines += ["", f"## Failures across the last {history['runs']} runs", ""]
        lines += [f"- {nodeid}: {status}" for nodeid, status in history["failing"].items()]
    return lines
