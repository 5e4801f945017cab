"""``report.html``: the BVJ report as one self-contained page (inline CSS, no script, no network).

Built with the standard library only (``html.escape`` and string joins): the page is
a handful of tables and lists, which a template engine would not make clearer. It reads
at 1280 px and on a phone: wide tables scroll inside their own box, long node ids wrap.
"""

from __future__ import annotations

import html
from collections import defaultdict
from typing import TYPE_CHECKING

from golden_path.testing.bvj import report_html_gate as gate
from golden_path.testing.bvj.report_history import failing_status

if TYPE_CHECKING:
    from golden_path.testing.bvj.report import Report, TestFacts

SLOWEST = 20
# Tests grouped by their BVJ (segment, goal, value impact, revenue impact).
BVJGroups = list[tuple[tuple[str, str, str, str], list["TestFacts"]]]

CSS = """
:root { --pass: #1a7f37; --fail: #cf222e; --skip: #9a6700; --none: #d0d7de; --ink: #1f2328;
  --muted: #59636e; --line: #d0d7de; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: var(--ink); background: #fff; }
main { max-width: 1200px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 1.6rem; margin: .4em 0; }
h2 { font-size: 1.25rem; margin: 1.8em 0 .5em; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.2em 0 .3em; }
nav { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: .95rem; }
a { color: #0969da; }
.summary { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 8px;
  margin: 12px 0; }
.summary div { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
.summary b { display: block; font-size: 1.4rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.heat td { text-align: center; padding: 0; min-width: 5.5em; }
table.heat td a { display: block; padding: 10px 6px; color: inherit; text-decoration: none;
  font-weight: 600; }
.heat .none { background: #eaeef2; color: var(--muted); }
.heat .fail { background: var(--fail); color: #fff; }
.heat .p1 { background: #dafbe1; } .heat .p2 { background: #aceebb; }
.heat .p3 { background: #6fdd8b; } .heat .p4 { background: #2da44e; color: #fff; }
.legend span { display: inline-block; padding: 0 8px; margin-right: 6px; border-radius: 4px; }
.id { overflow-wrap: anywhere; font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
  font-size: .88rem; }
.badge { display: inline-block; min-width: 4.6em; text-align: center; border-radius: 10px;
  padding: 0 6px; font-size: .8rem; color: #fff; margin-right: 6px; }
.passed { background: var(--pass); } .failed { background: var(--fail); }
.skipped { background: var(--skip); } .unknown { background: var(--muted); }
ul.tests { list-style: none; padding-left: 0; margin: 4px 0; }
ul.tests li { padding: 2px 0; }
pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: 8px;
  overflow-x: auto; font-size: .82rem; white-space: pre; max-height: 32em; }
.failure { border-left: 4px solid var(--fail); padding-left: 12px; margin: 16px 0; }
.msg { color: var(--fail); font-weight: 600; overflow-wrap: anywhere; }
.bvj { border-left: 4px solid var(--line); padding-left: 12px; margin: 14px 0; }
.muted { color: var(--muted); }
@media (max-width: 700px) {
  main { padding: 10px 10px 32px; }
  body { font-size: 14px; }
  th, td { padding: 3px 5px; }
  table.heat td { min-width: 3.4em; }
  table.heat td a { padding: 8px 2px; }
}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def cell_id(segment: str, stage: str) -> str:
    return f"cell-{segment}-{stage}"


def _badge(outcome: str) -> str:
    return f'<span class="badge {_e(outcome)}">{_e(outcome)}</span>'


def _heat_class(passed: int, failed: int, top: int) -> str:
    if failed:
        return "fail"
    if passed == 0:
        return "none"
    # Four shades of green by the cell's share of the fullest cell: p4 is the fullest.
    return f"p{max(1, min(4, -(-4 * passed // max(top, 1))))}"


def _bvj_groups(report: Report) -> BVJGroups:
    """Tests grouped by their BVJ (most share their module's), in node id order."""
    groups: dict[tuple[str, str, str, str], list[TestFacts]] = defaultdict(list)
    for facts in sorted(report.tests.values(), key=lambda t: t.nodeid):
        if facts.bvj_problem or not facts.segment:
            continue
        key = (facts.segment, facts.goal, facts.value_impact, facts.revenue_impact)
        groups[key].append(facts)
    return sorted(groups.items(), key=lambda item: item[1][0].nodeid)


def _summary(report: Report) -> list[str]:
    totals = report.totals()
    problems = report.gate_problems()
    verdict = (
        '<span class="badge passed">passes</span>'
        if not problems
        else f'<span class="badge failed">fails</span> {len(problems)} problems'
    )
    boxes: list[tuple[str, object]] = [
        ("tests", totals["collected"]),
        ("passed", totals["passed"]),
        ("failed", totals["failed"]),
        ("skipped", totals["skipped"]),
        *gate.summary_boxes(report),
    ]
    out = ['<div class="summary">']
    out += [f"<div>{_e(label)}<b>{value}</b></div>" for label, value in boxes]
    out.append("</div>")
    out.append(f"<p>The gate (<code>--gp-gate</code>) on this report: {verdict}.</p>")
    if problems:
        out.append('<ul class="tests">')
        out += [f'<li class="id">{_e(p)}</li>' for p in problems[:200]]
        if len(problems) > 200:
            out.append(f"<li>… and {len(problems) - 200} more</li>")
        out.append("</ul>")
    return out


def _heat_map(report: Report) -> list[str]:
    matrix = report.matrix()
    cells = report.cells()
    top = max((n for row in matrix.values() for n in row.values()), default=0)
    out = [
        "<p>Passing integration, e2e and browser tests per segment × stage; "
        "a cell links to its tests.</p>",
        '<p class="legend heat"><span class="none">no passing test</span>'
        '<span class="fail">a test failed</span>'
        '<span class="p2">passing tests (darker: more)</span></p>',
        '<div class="scroll"><table class="heat"><thead><tr><th>segment \\ stage</th>',
    ]
    out += [f"<th>{_e(stage)}</th>" for stage in report.stages]
    out.append("</tr></thead><tbody>")
    for segment, row in matrix.items():
        out.append(f"<tr><th>{_e(segment)}</th>")
        for stage in report.stages:
            members = cells[(segment, stage)]
            failed = sum(1 for t in members if t.outcome == "failed")
            css = _heat_class(row[stage], failed, top)
            label = f"{row[stage]}" + (f" ✗{failed}" if failed else "")
            title = f"{segment} × {stage}: {row[stage]} passing, {failed} failed"
            out.append(
                f'<td class="{css}"><a href="#{cell_id(segment, stage)}" title="{_e(title)}">'
                f"{_e(label)}</a></td>"
            )
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return out


def _cell_lists(report: Report, bvj_anchor: dict[str, str]) -> list[str]:
    out: list[str] = []
    for (segment, stage), members in report.cells().items():
        out.append(f'<section id="{cell_id(segment, stage)}"><h3>{_e(segment)} × {_e(stage)}</h3>')
        if not members:
            out.append('<p class="muted">No integration or e2e test covers this cell.</p>')
        else:
            out.append('<ul class="tests">')
            for facts in members:
                badge = _badge(gate.outcome_label(facts))
                out.append(f"<li>{badge}{_test_link(facts, bvj_anchor)}</li>")
            out.append("</ul>")
        out.append("</section>")
    return out


def _test_link(facts: TestFacts, bvj_anchor: dict[str, str]) -> str:
    anchor = bvj_anchor.get(facts.nodeid)
    name = f'<span class="id">{_e(facts.nodeid)}</span>'
    if facts.outcome == "failed":
        name = f'<a class="id" href="#{_e(_failure_id(facts))}">{_e(facts.nodeid)}</a>'
    bvj = f' <a href="#{anchor}" class="muted">BVJ</a>' if anchor else ""
    return name + bvj


def _failure_id(facts: TestFacts) -> str:
    return "fail-" + "".join(c if c.isalnum() else "-" for c in facts.nodeid)


def _outcomes_table(report: Report) -> list[str]:
    heads = ("test tier", "segment", "stage", "tests", "passed", "failed", "skipped", "seconds")
    out = ['<div class="scroll"><table><thead><tr>']
    out += [f'<th class="{"num" if i > 2 else ""}">{_e(h)}</th>' for i, h in enumerate(heads)]
    out.append("</tr></thead><tbody>")
    for row in report.by_tier_segment_stage():
        values = (
            row["test_tier"],
            row["segment"],
            row["stage"],
            row["collected"],
            row["passed"],
            row["failed"],
            row["skipped"],
            f"{row['duration_s']:.2f}",
        )
        out.append("<tr>")
        out += [f'<td class="{"num" if i > 2 else ""}">{_e(v)}</td>' for i, v in enumerate(values)]
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return out


def _slowest(report: Report) -> list[str]:
    out = ['<div class="scroll"><table><thead><tr><th class="num">seconds</th><th>test</th>']
    out.append("<th>tier</th><th>outcome</th></tr></thead><tbody>")
    for facts in report.slowest(SLOWEST):
        out.append(
            f'<tr><td class="num">{facts.duration_s:.3f}</td><td class="id">{_e(facts.nodeid)}'
            f"</td><td>{_e(facts.test_tier)}</td><td>{_badge(facts.outcome)}</td></tr>"
        )
    out.append("</tbody></table></div>")
    return out


def _failures(report: Report) -> list[str]:
    failed = report.failed_tests()
    if not failed:
        return ["<p>None.</p>"]
    out: list[str] = []
    status = failing_status(report)
    for facts in failed:
        where = f"{facts.test_tier} · {facts.segment or '-'} · {', '.join(facts.stages) or '-'}"
        out.append(f'<div class="failure" id="{_e(_failure_id(facts))}">')
        out.append(f'<h3 class="id">{_e(facts.nodeid)}</h3><p class="muted">{_e(where)}</p>')
        out.append(gate.failure_tags(report, facts, status))
        for failure in facts.failures:
            out.append(f'<p class="msg">at {_e(failure.when)}: {_e(failure.message)}</p>')
            out.append(f"<details><summary>traceback</summary><pre>{_e(failure.longrepr)}</pre>")
            out.append("</details>")
            for title, text in failure.sections:
                # A socket transcript is what the failure is about: shown open.
                shown = " open" if title.startswith("golden-path") else ""
                out.append(f"<details{shown}><summary>{_e(title)}</summary>")
                out.append(f"<pre>{_e(text)}</pre></details>")
        out.append("</div>")
    return out


def _bvjs(report: Report, groups: BVJGroups) -> list[str]:
    out: list[str] = []
    for index, ((segment, goal, value, revenue), members) in enumerate(groups):
        out.append(f'<div class="bvj" id="bvj-{index}">')
        out.append(f'<h3>{_e(segment)} · {_e(goal)} <span class="muted">({len(members)} tests)')
        out.append("</span></h3>")
        out.append(f"<p><b>Value impact:</b> {_e(value)}</p>")
        out.append(f"<p><b>Revenue impact:</b> {_e(revenue)}</p>")
        out.append(f'<details><summary>the {len(members)} tests</summary><ul class="tests">')
        for facts in members:
            stages = ", ".join(facts.stages) or "-"
            out.append(
                f'<li>{_badge(facts.outcome)}<span class="id">{_e(facts.nodeid)}</span> '
                f'<span class="muted">{_e(facts.test_tier)} · {_e(stages)}</span></li>'
            )
        out.append("</ul></details></div>")
    missing = report.without_bvj()
    out.append('<h3 id="without-bvj">Tests without a valid BVJ</h3>')
    if missing:
        out.append('<ul class="tests">')
        out += [f'<li class="id">{_e(line)}</li>' for line in missing]
        out.append("</ul>")
    else:
        out.append("<p>None.</p>")
    return out


def render_html(report: Report) -> str:
    """The whole page for ``report``."""
    groups = _bvj_groups(report)
    bvj_anchor = {
        facts.nodeid: f"bvj-{index}"
        for index, (_, members) in enumerate(groups)
        for facts in members
    }
    totals = report.totals()
    title = f"golden-path test report: {totals['collected']} tests, {totals['failed']} failed"
    body = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{CSS}{gate.CSS}</style></head><body><main>",
        "<h1>golden-path test report</h1>",
        '<nav><a href="#matrix">coverage matrix</a><a href="#outcomes">outcomes</a>'
        '<a href="#slowest">slowest</a><a href="#failures">failures</a>'
        '<a href="#bvj">why each test exists</a><a href="#cells">tests per cell</a>'
        f"{gate.nav_links(report)}</nav>",
        *_summary(report),
        '<h2 id="matrix">Coverage matrix</h2>',
        *_heat_map(report),
        '<h2 id="outcomes">Outcomes by test tier × segment × stage</h2>',
        *_outcomes_table(report),
        f'<h2 id="slowest">The {SLOWEST} slowest tests</h2>',
        *_slowest(report),
        f'<h2 id="failures">Failures ({totals["failed"]})</h2>',
        *_failures(report),
        *gate.sections(report),
        '<h2 id="bvj">Why each test exists (its Business Value Justification)</h2>',
        *_bvjs(report, groups),
        '<h2 id="cells">Tests per coverage cell</h2>',
        *_cell_lists(report, bvj_anchor),
        "</main></body></html>",
    ]
    return "\n".join(body) + "\n"
