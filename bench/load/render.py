"""The table on stdout: each phase's figures, correctness, the floor, and the targets."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Sequence

from bench.load.connections import ConnectionsResult
from bench.load.cpu import CpuMeter
from bench.load.latency import LatencyResult
from bench.load.locust import LocustRun
from bench.load.report import Report
from bench.load.saturation import SaturationResult
from bench.load.settings import (
    CONTENT,
    LATE_MS,
    LATE_SHARE,
    TARGET_CONNECTIONS,
    TARGET_P50_MS,
    TARGET_P99_MS,
    TARGET_RATE,
    TARGET_RUNS_PER_S,
    TARGET_USERS,
    TIER,
)
from bench.load.stats import pct
from bench.load.throughput import ThroughputResult

ROW = "  {:<46} {}"


def _row(label: str, value: str) -> str:
    return ROW.format(label, value)


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _percentiles(samples: Sequence[float]) -> str:
    return " / ".join(f"{pct(samples, q):.1f}" for q in (50, 95, 99, 100)) + " ms"


def _cpu_rows(cpu: CpuMeter, what: str = "") -> list[str]:
    """The CPU of every process kind, the load generator's beside the server's."""
    rows = [_row(f"CPU{what} (100% = one core of {os.cpu_count()})", cpu.summary())]
    if cpu.cost():
        rows.append(_row("", cpu.cost()))
    return rows


def render_latency(lat: LatencyResult) -> list[str]:
    per_run = lat.events / len(lat.latencies_ms) if lat.latencies_ms else 0.0
    period_ms = 1000 * lat.users / lat.rate
    late_share = 100 * lat.late / len(lat.late_ms) if lat.late_ms else 0.0
    out = [
        f"phase 1a: latency, open loop: {lat.users} users, {lat.rate:g} messages/s in total "
        f"(each user every {period_ms:.0f} ms on a fixed schedule, not waiting for answers)",
        _row(
            "runs measured (events per run)",
            f"{len(lat.latencies_ms)}/{lat.planned} ({per_run:.1f})",
        ),
        _row("latency p50 / p95 / p99 / max", _percentiles(lat.latencies_ms)),
        _row(
            "the same runs by one user alone: p50 / p99",
            f"{pct(lat.alone_ms, 50):.1f} / {pct(lat.alone_ms, 99):.1f} ms",
        ),
        _row(
            "sends: achieved rate",
            f"{lat.send_rate:.1f} messages/s ({len(lat.late_ms)} sent of {lat.planned})",
        ),
        _row(
            f"late sends (> {LATE_MS:.0f} ms after schedule)",
            f"{lat.late} ({late_share:.1f}%); lateness p99 {pct(lat.late_ms, 99):.1f} ms, "
            f"max {pct(lat.late_ms, 100):.1f} ms",
        ),
    ]
    if lat.generator_bound:
        out.append(
            _row(
                "",
                f"more than {100 * LATE_SHARE:.0f}% of sends were late: the load generator fell "
                "behind, so these figures are bounded by the generator, not the server",
            )
        )
    out.append(_row("runs/s completed", f"{lat.runs_per_s:.0f} runs/s"))
    out.extend(_cpu_rows(lat.cpu))
    return out


def _locust_rows(run: LocustRun) -> list[str]:
    """One Locust load's figures: runs, rate, latency, failures, and its CPU."""
    s = run.summary
    whole = float(s["runs_per_s"])
    steady = run.steady_workers_cpu
    steady_s = s.get("steady_s")
    rate = (
        f"runs/s (steady: the {steady_s:.1f} s after every signup)"
        if steady_s is not None
        else "runs/s (no steady part: the signups took the whole run)"
    )
    rows = [
        _row(
            "runs completed / failed requests / violations",
            f"{run.completed} / {s['failures']} / {sum(s['violations'].values())}",
        ),
        _row(
            rate,
            f"{run.runs_per_s:.0f} runs/s ({whole:.0f} over the whole run, signups included)",
        ),
        _row("latency p50 / p99", f"{run.p50_ms:.1f} / {run.p99_ms:.1f} ms"),
    ]
    if steady is not None:
        rows.append(_row("Locust's workers, steady part", f"{steady:.0f}% CPU"))
    rows.extend(_cpu_rows(run.cpu))
    return rows


def render_saturation(sat: SaturationResult) -> list[str]:
    run = sat.run
    out = [
        f"phase 1b: saturation, closed loop on Locust: {sat.users} users, each sends its next "
        "message as soon as its run ends",
        *_locust_rows(run),
    ]
    if run.runs_per_s:
        out.insert(
            4,
            _row(
                "users / (runs/s): the closed-loop mean",
                f"{1000 * sat.users / run.runs_per_s:.1f} ms (Little's law: every user "
                "sends again at once, so latency = users / throughput: queueing, "
                "not what a user sees)",
            ),
        )
    return out


def render_throughput(tp: ThroughputResult) -> list[str]:
    out = [f"phase 2: throughput on Locust, {tp.users} users at most, one run in flight each"]
    for step in tp.steps:
        out.append(f"  {step.users} runs in flight ({step.users} users)")
        out.extend("  " + row for row in _locust_rows(step))
    best = tp.best
    if best is not None:
        out.append(_row("max sustained", f"{best.runs_per_s:.0f} runs/s at {best.users} in flight"))
    return out


def render_connections(con: ConnectionsResult) -> list[str]:
    out = [
        f"phase 3: held connections, {con.users} users",
        _row(
            "connections opened / held",
            f"{con.opened}/{con.wanted} opened in {con.open_seconds:.1f} s, "
            f"{con.held} held to the end",
        ),
        _row(
            "messages sent (every 10th socket)",
            f"{con.sent}; {con.delivery.expected} event deliveries expected, "
            f"{con.delivery.lost} lost",
        ),
    ]
    out.extend(_row("not opened", reason) for reason in con.refused[:3])
    out.extend(_cpu_rows(con.cpu))
    return out


def render_floor(report: Report) -> list[str]:
    if not report.echo_ms and report.writes is None:
        return []
    out = ["floor: the same stack without the product"]
    if report.echo_ms:
        out.append(
            _row(
                f"WebSocket echo, {len(report.echo_ms)} × ~1 KB, p50 / p99",
                f"{pct(report.echo_ms, 50):.3f} / {pct(report.echo_ms, 99):.3f} ms",
            )
        )
    writes = report.writes
    if writes is not None:
        out.append(
            _row(
                f"one run's PostgreSQL writes ({writes.transactions} transactions)",
                f"median {statistics.median(writes.one_connection_ms):.2f} ms on one "
                f"connection, {statistics.median(writes.pool_ms):.2f} ms borrowing from "
                "the pool per transaction (as the server)",
            )
        )
        if report.echo_ms:
            floor = pct(report.echo_ms, 50) + statistics.median(writes.one_connection_ms)
            out.append(_row("floor = echo p50 + writes median", f"{floor:.2f} ms"))
            lat = report.latency
            if lat is not None and lat.latencies_ms:
                out.append(
                    _row(
                        "golden-path p50 (open loop) / floor",
                        f"{pct(lat.latencies_ms, 50) / floor:.1f}×",
                    )
                )
    return out


def _slow_reader(seen: dict[str, object]) -> str:
    sent = f"{seen.get('frames_sent', 0)} resume/ping frames in {seen.get('sending_for_s')} s"
    if seen.get("close_code") is None:
        return f"still open at the end of the phase, after {sent}"
    return f"closed {seen['close_code']} ({seen.get('close_reason') or 'no reason'}) after {sent}"


def _ratios(label: str, a: list[float], b: list[float], target: bool) -> list[str]:
    """The p50 and p99 of ``a`` over those of ``b``; judged against 2x when ``target``."""
    rows = []
    for q in (50, 99):
        ratio = pct(a, q) / pct(b, q) if pct(b, q) else float("inf")
        if target:
            verdict = f"{ratio:.2f}x: {_verdict(ratio <= 2)}"
            rows.append(_row(f"p{q} {label} (must be <= 2x)", verdict))
        else:
            rows.append(_row(f"p{q} {label}", f"{ratio:.2f}x"))
    return rows


def render_abuse(report: Report) -> list[str]:
    abuse = report.abuse
    if abuse is None or not abuse.plain.latencies_ms:
        return []
    a, b = abuse.abused.latencies_ms, abuse.plain.latencies_ms
    n = abuse.neighboured.latencies_ms
    logins = ", ".join(f"{code}: {n}" for code, n in sorted(abuse.logins.items()))
    out = [
        f"phase 4: abuse, an open loop of {abuse.plain.users} users at {abuse.plain.rate:g} "
        "messages/s, plain, beside one busy core, then beside a slow reader and a login flood",
        _row("everybody else, p50/p95/p99/max, plain", _percentiles(b)),
        _row(
            "everybody else, beside one busy core",
            f"{_percentiles(n) if n else 'no runs'} (it took {abuse.neighbour_cpu_s:g} s of CPU)",
        ),
        _row("everybody else, p50/p95/p99/max, abused", _percentiles(a) if a else "no runs"),
        _row("slow reader (4 KiB buffer, never reads)", _slow_reader(abuse.slow_reader)),
        _row(
            f"login flood ({abuse.flood_rate:g}/s from {abuse.flood_addresses} addresses)",
            f"{abuse.logins_sent} sent in {abuse.flood_seconds:g} s; {logins}",
        ),
        _row(
            "server memory (RSS)",
            f"{abuse.rss_before_mb:.0f} MiB before, peak {abuse.peak_rss_mb:.0f} MiB",
        ),
    ]
    out.extend(_cpu_rows(abuse.plain.cpu, ", plain"))
    out.extend(_cpu_rows(abuse.abused.cpu, ", abused"))
    if a:
        out.extend(_ratios("abused / plain", a, b, target=True))
        if n:
            out.extend(_ratios("abused / beside one busy core", a, n, target=False))
    out.append(_row("events lost for well-behaved sockets", str(abuse.abused.delivery.lost)))
    return out


def render_targets(report: Report) -> list[str]:
    out = ["targets"]
    lat = report.latency
    if lat is not None and lat.latencies_ms:
        p50, p99 = pct(lat.latencies_ms, 50), pct(lat.latencies_ms, 99)
        notes = []
        if lat.users != TARGET_USERS or lat.rate != TARGET_RATE:
            notes.append(
                f"measured at {lat.users} users, {lat.rate:g} messages/s; the target is "
                f"judged at {TARGET_USERS} users, {TARGET_RATE:g} messages/s"
            )
        if lat.generator_bound:
            notes.append("bounded by the load generator")
        note = f" ({'; '.join(notes)})" if notes else ""
        where = f"at {TARGET_USERS} users (open loop)"
        out.append(
            _row(
                f"p50 ≤ {TARGET_P50_MS:.0f} ms {where}",
                f"{p50:.1f} ms: {_verdict(p50 <= TARGET_P50_MS)}{note}",
            )
        )
        out.append(
            _row(
                f"p99 ≤ {TARGET_P99_MS:.0f} ms {where}",
                f"{p99:.1f} ms: {_verdict(p99 <= TARGET_P99_MS)}{note}",
            )
        )
    tp = report.throughput
    if tp is not None and tp.best is not None:
        rate = tp.best.runs_per_s
        out.append(
            _row(
                f"≥ {TARGET_RUNS_PER_S:.0f} runs/s from one server process",
                f"{rate:.0f} runs/s (max sustained, phase 2): "
                f"{_verdict(rate >= TARGET_RUNS_PER_S)}",
            )
        )
    con = report.connections
    if con is not None:
        ok = con.held >= TARGET_CONNECTIONS and con.delivery.lost == 0 and not con.refused
        out.append(
            _row(
                f"{TARGET_CONNECTIONS} connections held, nothing lost",
                f"{con.held} held, {con.delivery.lost} lost: {_verdict(ok)}",
            )
        )
    return out


def render(report: Report, args: argparse.Namespace) -> str:
    """The whole table, as printed on stdout."""
    where = "started by this script, embedded services" if report.started_server else "given"
    out = [f"golden-path benchmark: {report.url} ({where})"]
    if report.code:
        out.append(f"code: {report.code}; Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    out.append(
        f"settings: users {args.users}, rate {args.rate:g} messages/s, messages {args.messages} "
        f"(+{args.warmup} warm-up), connections {args.connections}; tier {TIER.value}; "
        f"message {CONTENT!r}"
    )
    if report.latency is not None:
        out.extend(render_latency(report.latency))
    if report.saturation is not None:
        out.extend(render_saturation(report.saturation))
    if report.throughput is not None:
        out.extend(render_throughput(report.throughput))
    if report.connections is not None:
        out.extend(render_connections(report.connections))
    out.extend(render_abuse(report))
    d = report.delivery()
    out.append("correctness (all phases; each must be 0)")
    out.append(
        _row(
            "lost / duplicated / misdelivered / failed runs",
            f"{d.lost} / {d.duplicated} / {d.misdelivered} / {report.failures.count} "
            f"(of {d.expected} event deliveries on {d.sockets} sockets)",
        )
    )
    out.extend(_row("a failure", sample) for sample in report.failures.samples)
    out.extend(render_floor(report))
    out.extend(render_targets(report))
    out.append(
        "correctness: "
        + ("ok" if report.correct() else "FAILED (a count above is not 0; exit status 1)")
    )
    return "\n".join(out)
