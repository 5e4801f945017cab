"""``report.html``'s parts for the gate's rules: flaky tests, quarantine, value at risk, trends.

Each part appears only when the run has something for it (a section with no data is left
out, as ``report.json`` leaves out its key): flaky tests under ``--reruns``, the quarantine
with ``gp_quarantine``, the value at risk with ``gp_segment_value``, the trends with
``--gp-history``. Charts are inline SVG (:mod:`report_svg`); nothing is fetched.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from golden_path.testing.bvj.report_flaky import flaky_tests
from golden_path.testing.bvj.report_gate import quarantine_section
from golden_path.testing.bvj.report_history import OVERALL, cell_name, runs_with
from golden_path.testing.bvj.report_risk import money, risk_json
from golden_path.testing.bvj.report_svg import duration_line, rate_bars

if TYPE_CHECKING:
    from golden_path.testing.bvj.report import Report, TestFacts

CSS = """
.flaky { background: #bf8700; } .quarantined { background: #8250df; }
.status-new { background: var(--fail); } .status-still { background: #6e7781; }
.status-flaky { background: #bf8700; }
svg.spark { display: block; }
.risk b { color: var(--fail); }
table.quarantine td { min-width: 9em; } table.quarantine td.id { min-width: 16em; }
table.quarantine a { overflow-wrap: anywhere; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def outcome_label(facts: TestFacts) -> str:
    """The badge a test wears: ``flaky`` for one that passed on a rerun."""
    return "flaky" if facts.outcome == "passed" and facts.reruns else facts.outcome


def failure_tags(report: Report, facts: TestFacts, status: dict[str, str]) -> str:
    """The badges above a failure: quarantined, and new / still failing / flaky across runs."""
    tags = []
    if facts.quarantine:
        tags.append('<span class="badge quarantined">quarantined</span>')
    css = {"new": "status-new", "still failing": "status-still", "flaky": "status-flaky"}
    if facts.nodeid in status:
        label = status[facts.nodeid]
        shown = "flaky across runs" if label == "flaky" else label
        tags.append(f'<span class="badge {css[label]}">{_e(shown)}</span>')
    return f"<p>{''.join(tags)}</p>" if tags else ""


def summary_boxes(report: Report) -> list[tuple[str, str]]:
    boxes = []
    flaky = flaky_tests(report)
    if flaky:
        boxes.append(("flaky", str(len(flaky))))
    if report.settings.quarantine:
        boxes.append(("quarantined", str(sum(1 for t in report.tests.values() if t.quarantine))))
    risk = risk_json(report)
    if risk is not None:
        boxes.append(("value at risk", money(risk["total"])))
    return boxes


def nav_links(report: Report) -> str:
    links = []
    if flaky_tests(report):
        links.append('<a href="#flaky">flaky</a>')
    if quarantine_section(report) is not None:
        links.append('<a href="#quarantine">quarantine</a>')
    if risk_json(report) is not None:
        links.append('<a href="#risk">value at risk</a>')
    if report.history is not None:
        links.append('<a href="#trends">trends</a>')
    return "".join(links)


def _flaky(report: Report) -> list[str]:
    tests = flaky_tests(report)
    if not tests:
        return []
    out = [
        f'<section id="flaky"><h2>Flaky tests ({len(tests)}): failed, then passed on a rerun</h2>'
    ]
    out.append('<ul class="tests">')
    for facts in tests:
        out.append(
            f'<li><span class="badge flaky">flaky</span><span class="id">{_e(facts.nodeid)}'
            f'</span> <span class="muted">passed on attempt {len(facts.reruns) + 1}</span>'
        )
        for index, failure in enumerate(facts.reruns, start=1):
            out.append(f'<p class="msg">attempt {index}: {_e(failure.message)}</p>')
        out.append("</li>")
    out.append("</ul>")
    return out


def _quarantine(report: Report) -> list[str]:
    section = quarantine_section(report)
    if section is None:
        return []
    out = [f'<section id="quarantine"><h2>Quarantine ({_e(section["file"])})</h2>']
    out.append(
        "<p>A quarantined test runs; its failure is reported here, not gated. An expired "
        "entry, or one that matches no test, fails the gate.</p>"
    )
    heads = ("test", "owner", "reason", "expires", "this run")
    out.append('<div class="scroll"><table class="quarantine"><thead><tr>')
    out += [f"<th>{h}</th>" for h in heads]
    out.append("</tr></thead><tbody>")
    for entry in section["entries"]:
        if entry["stale"]:
            state = '<span class="badge failed">matches no test</span>'
        elif entry["failed"]:
            state = f'<span class="badge failed">{len(entry["failed"])} failed</span>'
        elif entry["ready_to_release"]:
            state = '<span class="badge passed">ready to release</span>'
        else:
            state = '<span class="badge skipped">not run</span>'
        if entry["expired"]:
            state = '<span class="badge failed">expired</span>' + state
        reason = _e(entry["reason"])
        if entry["link"]:
            reason += f' <a href="{_e(entry["link"])}">{_e(entry["link"])}</a>'
        out.append(
            f'<tr><td class="id">{_e(entry["test"])}</td><td>{_e(entry["owner"])}</td>'
            f"<td>{reason}</td><td>{_e(entry['expires'])}</td><td>{state}</td></tr>"
        )
    out.append("</tbody></table></div>")
    return out


def _risk(report: Report) -> list[str]:
    risk = risk_json(report)
    if risk is None:
        return []
    out = ['<section id="risk"><h2>Value at risk</h2>']
    out.append(
        f'<p class="risk">At risk: <b>{money(risk["total"])}</b>: the value '
        "(<code>gp_segment_value</code>) of each segment with a failing cell, counted once "
        "per segment"
        + (f" ({_e(', '.join(risk['segments_at_risk']))})" if risk["segments_at_risk"] else "")
        + ".</p>"
    )
    if not risk["cells"]:
        out.append("<p>No segment × stage cell has a failing test.</p>")
        return out  # the section is closed by sections()
    out.append('<div class="scroll"><table><thead><tr><th>segment × stage</th>')
    out.append('<th class="num">value</th><th>failing tests</th></tr></thead><tbody>')
    for cell in risk["cells"]:
        tests = "<br>".join(f'<span class="id">{_e(n)}</span>' for n in cell["failed"])
        out.append(
            f"<tr><td>{_e(cell['segment'])} × {_e(cell['stage'])}</td>"
            f'<td class="num">{money(cell["value"])}</td><td>{tests}</td></tr>'
        )
    out.append("</tbody></table></div>")
    return out


def _percent(rate: float | None) -> str:
    return "–" if rate is None else f"{100 * rate:.0f}\u00a0%"


def _trends(report: Report) -> list[str]:
    if report.history is None:
        return []
    runs = runs_with(report)
    out = [f'<section id="trends"><h2>Trends over the last {len(runs)} runs</h2>']
    out.append(
        "<p>Pass rate (passed of passed and failed; a bar per run, oldest first, green at "
        "100 %) and duration, overall and per segment × stage cell.</p>"
    )
    out.append('<div class="scroll"><table class="trends"><thead><tr><th>cell</th>')
    out.append('<th>pass rate</th><th class="num">now</th><th>duration</th>')
    out.append('<th class="num">now (s)</th></tr></thead><tbody>')
    cells = [OVERALL] + [cell_name(s, st) for s in report.matrix() for st in report.stages]
    for cell in cells:
        rates = [run.pass_rate(cell) for run in runs]
        durations = [run.duration(cell) for run in runs]
        out.append(
            f"<tr><th>{_e(cell)}</th>"
            f"<td>{rate_bars(rates, f'{cell}: pass rate per run')}</td>"
            f'<td class="num">{_percent(rates[-1])}</td>'
            f"<td>{duration_line(durations, f'{cell}: seconds per run')}</td>"
            f'<td class="num">{durations[-1]:.2f}</td></tr>'
        )
    out.append("</tbody></table></div>")
    return out


def sections(report: Report) -> list[str]:
    """The page's sections for flaky tests, quarantine, value at risk and trends."""
    out: list[str] = []
    for part in (_flaky(report), _quarantine(report), _risk(report), _trends(report)):
        if part:
            out += [*part, "</section>"]
    return out
