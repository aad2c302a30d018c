"""The benchmark's figures beside the architecture's targets: the report
as a JSON-able dict (`build_report`) and as a printed table (`print_report`)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from tests.bench.loadgen import LoadResult
from tests.bench.machine import CpuDuringLoad, ProcessSampler, telemetry_info
from tests.bench.probe import EventProbe
from tests.bench.relay import RelayResult

MiB = 1024 * 1024

# Targets of the architecture.
TARGET_RPS = 1000.0
TARGET_HTTP_P99_MS = 50.0
TARGET_RELAY_EPS = 2000.0
TARGET_C2C_P99_MS = 1000.0
TARGET_RSS_MIB = 200.0
# What users feel, at half the saturation rate, and the cost of one application.
TARGET_OPEN_P99_MS = 50.0
TARGET_E2E_P99_MS = 1000.0
TARGET_CPU_MS_PER_APPLICATION = 5.0


@dataclass
class OpenLoop:
    """The open-loop run: the load, the CPU it took, and when each created
    application's message was seen delivered (wall clock, by application id)."""

    load: LoadResult
    cpu: CpuDuringLoad
    delivered_wall: dict[str, float] = field(default_factory=dict)


# The counter's saturation against the anchor's, measured in the same run.
TARGET_ANCHOR_RATIO = 0.6


@dataclass
class Anchor:
    """The anchor's closed-loop run and the CPU it took."""

    load: LoadResult
    cpu: CpuDuringLoad


def _anchor_figures(anchor: Anchor | None, counter_rps: float) -> dict[str, Any] | None:
    if anchor is None:
        return None
    load = anchor.load
    rps = len(load.latencies) / load.window_seconds if load.window_seconds else 0.0
    return {
        "requests_per_second": round(rps, 1),
        "p50_ms": _ms(percentile(load.latencies, 50), 2),
        "p99_ms": _ms(percentile(load.latencies, 99), 2),
        "errors_in_window": load.errors,
        "error_samples": load.error_samples,
        "cpu_ms_per_application": cpu_ms_per_application(anchor.cpu, load),
        "counter_to_anchor_ratio": round(counter_rps / rps, 3) if rps else None,
    }


def cpu_ms_per_application(cpu: CpuDuringLoad, load: LoadResult) -> dict[str, float] | None:
    """Machine CPU milliseconds per application created in the window, per
    process and in total (the whole machine's busy time)."""
    created = len(load.latencies)
    if not created or not cpu.cores:
        return None
    per = {name: cores * load.window_seconds * 1000 / created for name, cores in cpu.cores.items()}
    per["total (machine busy)"] = cpu.machine_busy * load.window_seconds * 1000 / created
    return {name: round(ms, 2) for name, ms in per.items()}


def statements_per_application(cpu: CpuDuringLoad, load: LoadResult) -> dict[str, float] | None:
    """Database statements (round trips, BEGIN and COMMIT included) per
    application created in the window, per service database and in total."""
    created = len(load.latencies)
    if not created or not cpu.statements:
        return None
    per = {name: n / created for name, n in sorted(cpu.statements.items())}
    per["total"] = sum(cpu.statements.values()) / created
    return {name: round(n, 1) for name, n in per.items()}


def _open_loop_figures(run: OpenLoop | None) -> dict[str, Any] | None:
    if run is None:
        return None
    load = run.load
    due = load.due_wall
    end_to_end = [run.delivered_wall[i] - t for i, t in due.items() if i in run.delivered_wall]
    return {
        "rate_per_second": round(load.rate or 0.0, 1),
        "answered_per_second": round(len(load.latencies) / load.window_seconds, 1),
        "created_in_window": len(load.latencies),
        "p50_ms": _ms(percentile(load.latencies, 50), 2),
        "p99_ms": _ms(percentile(load.latencies, 99), 2),
        "p99_9_ms": _ms(percentile(load.latencies, 99.9), 2),
        "max_ms": _ms(max(load.latencies) if load.latencies else None, 2),
        "errors_in_window": load.errors,
        "refused_in_window": load.refused,
        "end_to_end_timed": len(end_to_end),
        "end_to_end_expected": len(due),
        "end_to_end_p50_ms": _ms(percentile(end_to_end, 50), 1),
        "end_to_end_p99_ms": _ms(percentile(end_to_end, 99), 1),
        "cpu_ms_per_application": cpu_ms_per_application(run.cpu, load),
        "statements_per_application": statements_per_application(run.cpu, load),
    }


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of `values`; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def verdict(met: bool | None) -> str:
    if met is None:
        return "n/a"
    return "met" if met else "NOT MET"


def fmt_ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


def _parameters(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "concurrency": args.concurrency,
        "rate": args.rate,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "relay_events": args.relay_events,
        "relay_keys": args.relay_keys,
        "loadgen": args.loadgen,
        "sample_interval_s": args.sample_interval,
    }


def _ms(seconds: float | None, digits: int) -> float | None:
    return None if seconds is None else round(seconds * 1000, digits)


def _http_figures(load: LoadResult, rps: float) -> dict[str, Any]:
    return {
        "requests_per_second": round(rps, 1),
        "created_in_window": len(load.latencies),
        "p50_ms": _ms(percentile(load.latencies, 50), 2),
        "p99_ms": _ms(percentile(load.latencies, 99), 2),
        "max_ms": round(max(load.latencies) * 1000, 2) if load.latencies else None,
        "errors_in_window": load.errors,
        "refused_in_window": load.refused,
        "error_samples": load.error_samples,
        "created_total_with_warmup": load.created_total,
        "in_flight_at_end": load.in_flight_at_end,
    }


def _commit_to_consume_figures(
    load: LoadResult, probe: EventProbe, in_window: list[float]
) -> dict[str, Any]:
    return {
        "events_in_window": len(in_window),
        "events_received_total": len(probe.samples),
        "events_expected_total": load.created_total,
        "duplicates": probe.duplicates,
        "unparsable": probe.unparsable,
        "p50_ms": _ms(percentile(in_window, 50), 1),
        "p99_ms": _ms(percentile(in_window, 99), 1),
        "max_ms": _ms(max(in_window) if in_window else None, 1),
    }


def _relay_figures(relay: RelayResult | None, quiet_seconds: float) -> dict[str, Any] | None:
    if relay is None:
        return None
    return {
        "events": relay.events,
        "published": relay.published,
        "seconds": round(relay.seconds, 3),
        "events_per_second": round(relay.events_per_second, 1),
        "insert_seconds": round(relay.insert_seconds, 3),
        "finished": relay.finished,
        "quiet_wait_seconds": round(quiet_seconds, 1),
    }


def _within(figures: dict[str, Any] | None, name: str, target: float) -> bool | None:
    if figures is None:
        return None
    value = figures.get(name)
    return value is not None and value <= target


def build_report(
    args: argparse.Namespace,
    machine: dict[str, Any],
    load: LoadResult,
    probe: EventProbe,
    relay: RelayResult | None,
    sampler: ProcessSampler,
    cpu_during_load: dict[str, float],
    machine_busy_cores: float,
    quiet_seconds: float,
    open_loop: OpenLoop | None = None,
    anchor: Anchor | None = None,
) -> dict[str, Any]:
    rps = len(load.latencies) / load.window_seconds if load.window_seconds else 0.0
    p99 = percentile(load.latencies, 99)
    in_window = [
        lat
        for created, lat in probe.samples.values()
        if load.window_start_wall <= created <= load.window_end_wall
    ]
    c2c_p99 = percentile(in_window, 99)
    rss = {name: round(t.peak_rss / MiB, 1) for name, t in sampler.tracked.items()}
    services = {name: rss[name] for name, t in sampler.tracked.items() if t.is_service}
    others = {name: rss[name] for name, t in sampler.tracked.items() if not t.is_service}
    opened = _open_loop_figures(open_loop)
    anchored = _anchor_figures(anchor, rps)
    closed_cpu = cpu_ms_per_application(
        CpuDuringLoad(cores=cpu_during_load, machine_busy=machine_busy_cores), load
    )
    # The cost is judged where the pipeline keeps up (the open loop), else saturated.
    cost = (opened or {}).get("cpu_ms_per_application") or closed_cpu
    return {
        "parameters": _parameters(args),
        "machine": machine,
        "telemetry": telemetry_info(),
        "http": _http_figures(load, rps),
        "commit_to_consume": _commit_to_consume_figures(load, probe, in_window),
        "relay": _relay_figures(relay, quiet_seconds),
        "peak_rss_mib": services,
        "peak_rss_mib_other": others,
        "rss_samples": sampler.samples,
        "cpu_during_load": {
            "machine_busy_cores": round(machine_busy_cores, 2),
            "cores_used": {k: round(v, 2) for k, v in cpu_during_load.items()},
            "ms_per_application": closed_cpu,
        },
        "open_loop": opened,
        "anchor": anchored,
        "verdicts": {
            "http_rps": rps >= TARGET_RPS,
            "http_p99": p99 is not None and p99 * 1000 <= TARGET_HTTP_P99_MS,
            "relay_eps": relay is not None
            and relay.finished
            and relay.events_per_second >= TARGET_RELAY_EPS,
            "commit_to_consume_p99": c2c_p99 is not None and c2c_p99 * 1000 < TARGET_C2C_P99_MS,
            **{f"rss_{n}": v <= TARGET_RSS_MIB for n, v in services.items()},
            "open_p99": _within(opened, "p99_ms", TARGET_OPEN_P99_MS),
            "end_to_end_p99": _within(opened, "end_to_end_p99_ms", TARGET_E2E_P99_MS),
            "anchor_ratio": None
            if anchored is None or anchored["counter_to_anchor_ratio"] is None
            else anchored["counter_to_anchor_ratio"] >= TARGET_ANCHOR_RATIO,
            "cpu_per_application": cost is not None
            and cost["total (machine busy)"] <= TARGET_CPU_MS_PER_APPLICATION,
        },
    }


LINE = "=" * 86
HEADER = ("figure", "value", "target", "verdict")
Row = tuple[str, str, str, str]


def _print_setting(r: dict[str, Any]) -> None:
    """The machine, the telemetry and the parameters the figures were taken with."""
    m, p, t = r["machine"], r["parameters"], r["telemetry"]
    print()
    print(LINE)
    print("MPP benchmark - embedded stack: PostgreSQL, Tansu, intake/documents/complaints/notify")
    print(LINE)
    print(
        f"machine   : {m.get('cpu_model', '?')}; {m['logical_cpus']} logical CPUs "
        f"({m['usable_cpus']} usable, cgroup limit {m.get('cgroup_cpu_limit', 'n/a')}), "
        f"{m['memory_gib']} GiB RAM"
    )
    print(f"            {m['platform']}, Python {m['python']}")
    print(f"telemetry : tracing {t['tracing']}; sampler {t['sampler']}")
    print(f"            exporter {t['exporter_endpoint']}")
    print(
        f"parameters: --concurrency {p['concurrency']} "
        f"--rate {'half the saturation' if p['rate'] is None else p['rate']} "
        f"--duration {p['duration_s']:g} "
        f"--warmup {p['warmup_s']:g} --relay-events {p['relay_events']} "
        f"--relay-keys {p['relay_keys']} --loadgen {p['loadgen']} "
        f"--sample-interval {p['sample_interval_s']:g}"
    )
    print(
        "            HTTP: POST /v1/applications, closed loop then open loop, 1 aiohttp session, "
        "keep-alive, "
        f"load generator {'in its own process' if p['loadgen'] == 'process' else 'in-process'}"
    )
    print(LINE)


def _ms_figure(ms: float | None) -> str:
    return fmt_ms(None if ms is None else ms / 1000)


def _figure_rows(r: dict[str, Any]) -> list[Row]:
    h, c, rl, v = r["http"], r["commit_to_consume"], r["relay"], r["verdicts"]
    rows: list[Row] = []

    def row(label: str, figure: str, target: str = "", ok: bool | None = None) -> None:
        rows.append((label, figure, target, verdict(ok) if target else ""))

    rps = f"{h['requests_per_second']:.1f}/s"
    row("intake POST requests/s (201 only)", rps, ">= 1,000/s", v["http_rps"])
    row("intake POST latency p50", _ms_figure(h["p50_ms"]))
    row("intake POST latency p99", _ms_figure(h["p99_ms"]), "<= 50 ms", v["http_p99"])
    row("intake POST latency max", _ms_figure(h["max_ms"]))
    errors = ", ".join(f"{k}: {n}" for k, n in sorted(h["errors_in_window"].items())) or "none"
    row("intake POST errors in window", errors)
    row("intake POST refused in window (503 + Retry-After)", str(h["refused_in_window"]))
    if rl is not None:
        row(
            "outbox relay events/s",
            f"{rl['events_per_second']:.1f}/s"
            + ("" if rl["finished"] else f" (unfinished: {rl['published']}/{rl['events']})"),
            ">= 2,000/s",
            v["relay_eps"],
        )
        row("  relay: events, commit->all published", f"{rl['events']} in {rl['seconds']:.2f} s")
    row("commit-to-consume p50", _ms_figure(c["p50_ms"]))
    c2c_p99 = _ms_figure(c["p99_ms"])
    row("commit-to-consume p99", c2c_p99, "< 1 s", v["commit_to_consume_p99"])
    row("commit-to-consume max", _ms_figure(c["max_ms"]))
    row(
        "  events timed (window) / received / expected",
        f"{c['events_in_window']} / {c['events_received_total']} / {c['events_expected_total']}",
    )
    o = r["open_loop"]
    if o is not None:
        row(
            f"open loop at {o['rate_per_second']:.1f}/s: answered/s",
            f"{o['answered_per_second']:.1f}/s",
        )
        row("  counter POST p50 (from the moment due)", _ms_figure(o["p50_ms"]))
        row("  counter POST p99", _ms_figure(o["p99_ms"]), "<= 50 ms", v["open_p99"])
        row("  counter POST p99.9", _ms_figure(o["p99_9_ms"]))
        errors = ", ".join(f"{k}: {n}" for k, n in sorted(o["errors_in_window"].items()))
        row("  errors in window", errors or "none")
        row("  refused in window (503 + Retry-After)", str(o["refused_in_window"]))
        row("  submit -> message delivered p50", _ms_figure(o["end_to_end_p50_ms"]))
        row(
            "  submit -> message delivered p99",
            _ms_figure(o["end_to_end_p99_ms"]),
            "<= 1 s",
            v["end_to_end_p99"],
        )
        row(
            "  messages timed / applications created",
            f"{o['end_to_end_timed']} / {o['end_to_end_expected']}",
        )
    a = r["anchor"]
    if a is not None:
        row("anchor POST requests/s (traced)", f"{a['requests_per_second']:.1f}/s")
        row("  anchor latency p50 / p99", f"{a['p50_ms']} ms / {a['p99_ms']} ms")
        anchor_cost = a["cpu_ms_per_application"]
        if anchor_cost:
            row(
                "  anchor machine CPU per application",
                f"{anchor_cost['total (machine busy)']:.2f} ms",
            )
        ratio = a["counter_to_anchor_ratio"]
        row(
            "counter saturation / anchor's",
            "-" if ratio is None else f"{ratio:.2f}",
            ">= 0.6",
            v["anchor_ratio"],
        )
        errors = ", ".join(f"{k}: {n}" for k, n in sorted(a["errors_in_window"].items()))
        if errors:
            row("  anchor errors in window", errors)
    cost = (o or {}).get("cpu_ms_per_application") or r["cpu_during_load"]["ms_per_application"]
    if cost:
        where = "open loop" if (o or {}).get("cpu_ms_per_application") else "saturated"
        total = cost["total (machine busy)"]
        row(
            f"machine CPU per application ({where})",
            f"{total:.2f} ms",
            "<= 5 ms",
            v["cpu_per_application"],
        )
        for name, ms in cost.items():
            if name != "total (machine busy)":
                row(f"  {name}", f"{ms:.2f} ms")
    trips = (o or {}).get("statements_per_application")
    if trips:
        row("database statements per application (open loop)", f"{trips['total']:.1f}")
        for name, n in trips.items():
            if name != "total":
                row(f"  {name}", f"{n:.1f}")
    for name, mib in r["peak_rss_mib"].items():
        row(f"peak RSS {name}", f"{mib:.1f} MiB", "<= 200 MiB", v[f"rss_{name}"])
    for name, mib in r["peak_rss_mib_other"].items():
        # PostgreSQL's shared buffers are counted once per backend in this sum.
        label = "postgres, all backends summed" if name == "postgres" else name
        row(f"peak RSS {label} (info)", f"{mib:.1f} MiB")
    return rows


def _print_table(rows: list[Row]) -> None:
    widths = [max(len(x[i]) for x in [*rows, HEADER]) for i in range(4)]
    print("  ".join(h_.ljust(w) for h_, w in zip(HEADER, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for x in rows:
        print("  ".join(col.ljust(w) for col, w in zip(x, widths, strict=True)).rstrip())
    print(LINE)


def _print_notes(r: dict[str, Any]) -> None:
    p, h, rl, cpu = r["parameters"], r["http"], r["relay"], r["cpu_during_load"]
    shares = ", ".join(f"{k} {v_:.2f}" for k, v_ in cpu["cores_used"].items())
    print(
        f"CPU in the measured HTTP window: {cpu['machine_busy_cores']:.2f} of "
        f"{r['machine']['logical_cpus']} cores busy; cores used by:"
    )
    print(f"  {shares}")
    if h["error_samples"]:
        print("error samples:")
        for s in h["error_samples"]:
            print(f"  {s}")
    print(
        "notes: commit-to-consume = consumer receipt - CloudEvent `time` (set inside the\n"
        "       request's transaction, before commit), for events created in the window;\n"
        "       RSS includes child processes (none expected), sampled every "
        f"{p['sample_interval_s']:g} s ({r['rss_samples']} samples)."
    )
    if rl is not None:
        print(
            f"       relay: {rl['events']} rows COPY'd in one transaction "
            f"({rl['insert_seconds']:.2f} s), after {rl['quiet_wait_seconds']:.0f} s waiting\n"
            "       for the stack to be idle (outboxes empty, < 0.25 core busy)."
        )
    print(LINE)


def print_report(r: dict[str, Any]) -> None:
    _print_setting(r)
    _print_table(_figure_rows(r))
    _print_notes(r)
