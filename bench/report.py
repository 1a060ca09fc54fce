#!/usr/bin/env python3
"""Turns one benchmark run (bench/run.sh) into a table on stdout and docs/benchmarks.md.

Usage: bench/report.py META_JSON RESULTS_JSONL OUT_MD ELAPSED_S

Every figure is the median over the run's repetitions; differences and ratios against the
direct baseline (and the peer) are taken within one repetition, then their median.
"""
import json
import os
import statistics
import sys

TARGETS = ("direct", "gateway", "peer")
NAMES = {"direct": "direct (mock)", "gateway": "FreeLLMAPI", "peer": "peer (Portkey)"}


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, unit="", digits=0):
    if v is None:
        return "n/a"
    if isinstance(v, str):
        return v
    if digits == 0:
        s = f"{v:,.0f}"
    else:
        s = f"{v:,.{digits}f}"
    return f"{s} {unit}".strip()


def fmt_us(v):
    if v is None:
        return "n/a"
    if abs(v) >= 10000:
        return f"{v / 1000:,.1f} ms"
    return f"{v:,.0f} µs"


def fmt_mb(kb):
    return "n/a" if kb is None or kb < 0 else f"{kb / 1024:,.1f} MB"


class Run:
    def __init__(self, meta, rows):
        self.meta = meta
        self.rows = rows

    def get(self, scenario, target=None, **kw):
        out = []
        for r in self.rows:
            if r.get("scenario") != scenario:
                continue
            if target is not None and r.get("target") != target:
                continue
            if any(r.get(k) != v for k, v in kw.items()):
                continue
            out.append(r)
        return out

    def reps(self, scenario, target, **kw):
        """{rep: row} of rows that did not fail outright."""
        res = {}
        for r in self.get(scenario, target, **kw):
            body = r.get("lg", r.get("wrk", {}))
            if body.get("failed"):
                continue
            res[r.get("rep", 0)] = r
        return res

    def notes(self, target):
        return [r["text"] for r in self.get("note", target)]


# ---- per-scenario figures -----------------------------------------------------------------


def latency(run, scenario="latency"):
    res = {}
    base = run.reps(scenario, "direct")
    for t in TARGETS:
        reps = run.reps(scenario, t)
        if not reps:
            continue
        d = {
            "p50": med(r["lg"]["lat_us"]["p50"] for r in reps.values() if r["lg"]["ok"]),
            "p99": med(r["lg"]["lat_us"]["p99"] for r in reps.values() if r["lg"]["ok"]),
            "ok": sum(r["lg"]["ok"] for r in reps.values()),
            "requests": sum(r["lg"]["requests"] for r in reps.values()),
            "cpu_us": med(
                r["lg"]["cpu"][0]["us_per_req"]
                for r in reps.values()
                if r["lg"].get("cpu") and r["lg"]["cpu"][0]["us_per_req"] >= 0
            ),
        }
        if t != "direct":
            d["added_p50"] = med(
                reps[k]["lg"]["lat_us"]["p50"] - base[k]["lg"]["lat_us"]["p50"]
                for k in reps
                if k in base and reps[k]["lg"]["ok"]
            )
            d["added_p99"] = med(
                reps[k]["lg"]["lat_us"]["p99"] - base[k]["lg"]["lat_us"]["p99"]
                for k in reps
                if k in base and reps[k]["lg"]["ok"]
            )
        res[t] = d
    return res


def wrk_good(r):
    w = r["wrk"]
    good = w["requests"] - w["err_status"]
    secs = w["duration_us"] / 1e6
    return good, (good / secs if secs > 0 else 0)


def throughput(run, c):
    res = {}
    per_rep = {t: run.reps("throughput", t, c=c) for t in TARGETS}
    for t in TARGETS:
        reps = per_rep[t]
        if not reps:
            continue
        cpu, mock_cpu, rps, errs = [], [], [], 0
        for r in reps.values():
            good, rate = wrk_good(r)
            rps.append(rate)
            w = r["wrk"]
            errs += w["err_status"] + w["err_connect"] + w["err_read"] + w["err_write"] + w["err_timeout"]
            if good > 0:
                cpu.append(r["cpu_ticks"] / r["clk_tck"] / good * 1e6)
                mock_cpu.append(r["mock_cpu_ticks"] / r["clk_tck"] / good * 1e6)
        d = {
            "rps": med(rps),
            "errors": errs,
            "cpu_us": med(cpu),
            "mock_cpu_us": med(mock_cpu),
            "p50": med(r["wrk"]["lat_p50_us"] for r in reps.values()),
            "p99": med(r["wrk"]["lat_p99_us"] for r in reps.values()),
            "rss_kb": med(r.get("rss_kb") for r in reps.values()),
        }
        for other in ("direct", "peer"):
            if other == t or not per_rep[other]:
                continue
            ratios = []
            for k, r in reps.items():
                if k in per_rep[other]:
                    o = wrk_good(per_rep[other][k])[1]
                    if o > 0:
                        ratios.append(wrk_good(r)[1] / o)
            d["vs_" + other] = med(ratios)
        res[t] = d
    return res


def stream(run):
    res = {}
    base = run.reps("stream", "direct")
    for t in TARGETS:
        reps = run.reps("stream", t)
        if not reps:
            continue
        good = {k: r for k, r in reps.items() if r["lg"]["ok"] > 0}
        lg = [r["lg"] for r in good.values()]
        d = {
            "ok": sum(r["lg"]["ok"] for r in reps.values()),
            "requests": sum(r["lg"]["requests"] for r in reps.values()),
            "statuses": {},
            "ttft_p50": med(x["ttft_us"]["p50"] for x in lg),
            "ttft_p99": med(x["ttft_us"]["p99"] for x in lg),
            "gap_p50": med(x["gap_us"]["p50"] for x in lg),
            "gap_p99": med(x["gap_us"]["p99"] for x in lg),
            "lag_p50": med(x["lag_us"]["p50"] for x in lg),
            "lag_p99": med(x["lag_us"]["p99"] for x in lg),
            "lag_max": max((x["lag_us"]["max"] for x in lg), default=None),
            "chunks": sum(x["lag_us"]["n"] for x in lg),
            "over_1ms": sum(x["lag_over_1ms"] for x in lg),
            "events_min": min((x["events_min"] for x in lg), default=None),
            "events_max": max((x["events_max"] for x in lg), default=None),
            "no_done": sum(x["streams_without_done"] for x in lg),
        }
        for r in reps.values():
            for code, n in r["lg"].get("statuses", {}).items():
                d["statuses"][code] = d["statuses"].get(code, 0) + n
        if t != "direct":
            d["ttft_added"] = med(
                good[k]["lg"]["ttft_us"]["p50"] - base[k]["lg"]["ttft_us"]["p50"]
                for k in good
                if k in base
            )
            d["lag_added_p50"] = med(
                good[k]["lg"]["lag_us"]["p50"] - base[k]["lg"]["lag_us"]["p50"]
                for k in good
                if k in base
            )
        res[t] = d
    return res


def startup(run):
    res = {}
    for t in TARGETS:
        rows = [r for r in run.get("startup", t) if not r["lg"].get("failed")]
        if not rows:
            continue
        runs = rows[0]["lg"]["runs"]
        served = [x["served_ms"] for x in runs if x["served_ms"] >= 0]
        res[t] = {
            "served_ms": med(served),
            "listen_ms": med(x["listen_ms"] for x in runs if x["listen_ms"] >= 0),
            "rss_kb": med(x["rss_kb"] for x in runs if x["rss_kb"] > 0),
            "anon_kb": med(x.get("anon_kb") for x in runs if x.get("anon_kb", -1) >= 0),
            "file_kb": med(x.get("file_kb") for x in runs if x.get("file_kb", -1) >= 0),
            "exit_ms": med(x["exit_ms"] for x in runs),
            "ok": len(served),
            "n": len(runs),
        }
    return res


def hold(run):
    res = {}
    for t in TARGETS:
        rows = [r for r in run.get("hold", t) if not r["lg"].get("failed")]
        if not rows:
            continue
        lg = rows[0]["lg"]
        before = lg["before"][0]
        cycles = []
        for c in lg["cycles"]:
            cycles.append(
                {
                    "open": c["open"],
                    "failed": c["failed"],
                    "open_s": c["open_s"],
                    "rss_open": c["all_open"][0]["rss_kb"],
                    "fds_open": c["all_open"][0]["fds"],
                    "rss_hold": c["after_hold"][0]["rss_kb"],
                    "rss_after": c["after_close"][0]["rss_kb"],
                    "fds_after": c["after_close"][0]["fds"],
                    "ended": c["ended_by_server"],
                    "mock_rss_open": c["all_open"][1]["rss_kb"] if len(c["all_open"]) > 1 else None,
                }
            )
        d = {
            "streams": lg["streams"],
            "rss_before": before["rss_kb"],
            "anon_before": before.get("anon_kb"),
            "file_before": before.get("file_kb"),
            "fds_before": before["fds"],
            "cycles": cycles,
            "statuses": lg.get("statuses", {}),
        }
        if cycles and cycles[0]["open"] > 0:
            c0 = cycles[0]
            d["kb_per_stream"] = (max(c0["rss_open"], c0["rss_hold"]) - before["rss_kb"]) / c0["open"]
            d["peak_kb"] = max(max(c["rss_open"], c["rss_hold"]) for c in cycles)
            d["after_first"] = cycles[0]["rss_after"]
            d["after_last"] = cycles[-1]["rss_after"]
            d["growth_kb"] = cycles[-1]["rss_after"] - cycles[0]["rss_after"]
        res[t] = d
    return res


def syscalls(run):
    res = {}
    for t in TARGETS:
        rows = run.get("syscalls", t)
        if rows:
            r = rows[0]
            res[t] = {"per_req": r["calls"] / r["requests"], "top": r.get("top", "")}
    return res


# ---- the report ------------------------------------------------------------------------------


def verdict(ok):
    if ok is None:
        return "n/a"
    return "met" if ok else "**short**"


def analytics(run):
    """The analytics benchmark's lines, in the order it printed them."""
    return [r for r in run.rows if r.get("scenario") == "analytics"]


def build(run, elapsed):
    m = run.meta
    lat = latency(run)
    big = latency(run, "latency_big")
    tp32 = throughput(run, 32)
    tp256 = throughput(run, 256)
    st = stream(run)
    su = startup(run)
    ho = hold(run)
    sc = syscalls(run)
    g = lambda d, t, k: d.get(t, {}).get(k)  # noqa: E731
    peer_on = bool(m.get("peer")) or any("peer" in d for d in (lat, tp32, su))
    peer_notes = run.notes("peer")
    if m.get("peer_note"):
        peer_notes.insert(0, m["peer_note"])

    # Targets, measured.
    idle_kb = g(ho, "gateway", "rss_before")
    hold_n = g(ho, "gateway", "streams")
    hg = ho.get("gateway", {})
    opened = hg["cycles"][0]["open"] if hg.get("cycles") else 0
    peak10k = None
    peak_note = ""
    if hg.get("kb_per_stream") is not None:
        if opened >= 10000:
            peak10k = hg["cycles"][0]["rss_open"]
        else:
            peak10k = idle_kb + hg["kb_per_stream"] * 10000
            peak_note = f" (extrapolated from {opened:,} streams)"
    growth = hg.get("growth_kb")
    cpu32 = g(tp32, "gateway", "cpu_us")
    ratio_direct = g(tp32, "gateway", "vs_direct")
    ratio_peer = g(tp32, "gateway", "vs_peer")
    ttft_added = g(st, "gateway", "ttft_added")
    sg = st.get("gateway", {})
    within = None
    if sg.get("chunks"):
        within = 1 - sg["over_1ms"] / sg["chunks"]

    an = analytics(run)
    windows = [r for r in an if r["query"].startswith("analytics ")]
    worst = max((max(r["ms"], r.get("fresh_connection_ms", 0)) for r in windows), default=None)
    an_rows = next((r.get("rows") for r in an if r["query"].startswith("generate")), None)
    targets = [
        (f"analytics query, 24 h / 7 d / 30 d window, {an_rows or 0:,} logged requests",
         "≤ 50 ms each", "n/a" if worst is None else f"{worst:.1f} ms (slowest)",
         None if worst is None else worst <= 50),
        ("added latency p50 at c=1", "≤ 30 µs", fmt_us(g(lat, "gateway", "added_p50")),
         None if g(lat, "gateway", "added_p50") is None else g(lat, "gateway", "added_p50") <= 30),
        ("added latency p99 at c=1", "≤ 200 µs", fmt_us(g(lat, "gateway", "added_p99")),
         None if g(lat, "gateway", "added_p99") is None else g(lat, "gateway", "added_p99") <= 200),
        ("gateway CPU per request (c=32)", "≤ 25 µs", fmt_us(cpu32),
         None if cpu32 is None else cpu32 <= 25),
        ("throughput at c=32 vs direct", "≥ 45 %", fmt(None if ratio_direct is None else ratio_direct * 100, "%", 1),
         None if ratio_direct is None else ratio_direct >= 0.45),
        ("throughput at c=32 vs peer", "≥ 10×", fmt(ratio_peer, "×", 1),
         None if ratio_peer is None else ratio_peer >= 10),
        ("idle RSS after start", "≤ 8 MB",
         fmt_mb(idle_kb) + ("" if hg.get("anon_before") is None else
                            f" ({fmt_mb(hg['anon_before'])} anonymous, {fmt_mb(hg['file_before'])} mapped files)"),
         None if idle_kb is None else idle_kb <= 8192),
        ("RSS with 10,000 open streams", "≤ 150 MB", fmt_mb(peak10k) + peak_note,
         None if peak10k is None else peak10k <= 150 * 1024),
        ("RSS after the streams close", "back to idle (≤ idle + 5 MB), no growth per cycle",
         "n/a" if growth is None else
         f"{fmt_mb(hg['after_first'])} after cycle 1, {fmt_mb(hg['after_last'])} after cycle "
         f"{len(hg['cycles'])} (idle {fmt_mb(idle_kb)})",
         None if growth is None else (hg["after_last"] <= idle_kb + 5 * 1024 and growth <= 1024)),
        ("streaming TTFT overhead (p50)", "≤ 1 ms", fmt_us(ttft_added),
         None if ttft_added is None else ttft_added <= 1000),
        ("chunks delivered ≤ 1 ms after the upstream wrote them", "every chunk",
         "n/a" if within is None else f"{within * 100:.2f} % (max {fmt_us(sg.get('lag_max'))})",
         None if within is None else sg["over_1ms"] == 0),
    ]

    L = []
    L.append("# Benchmarks")
    L.append("")
    L.append(
        "Generated by `make bench` (bench/run.sh → bench/report.py); do not edit by hand, "
        "run it again. " + ("**Quick mode** (`BENCH_QUICK=1`): fewer, shorter repetitions. " if m["quick"] else "")
    )
    L.append("")
    L.append(f"- **Date**: {m['date']}; the run took {elapsed // 60} min {elapsed % 60} s")
    if m.get("dashboard"):
        L.append("- **Dashboard open**: the admin API was polled every 2 s during the whole run "
                 "(`/api/keys`, `/api/models`, `/api/providers`, `/api/status`, "
                 "`/api/analytics` for 24 h, 7 d and 30 d, `/api/logs`, `/api/diagnostics`, "
                 "`/api/budgets`), more than an open dashboard asks (`BENCH_DASHBOARD=1`)")
    L.append(
        f"- **Machine**: {m['cpu']}, {m['cores']} cores, {m['mem_kb'] / 1048576:.1f} GiB RAM, "
        f"{m['os']}, Linux {m['kernel']}; shared with other work, nothing pinned: the load "
        "generator, the mock and the gateway share the cores"
    )
    L.append(
        f"- **Software**: gateway `{m['git']}` (`-O2 -g`), wrk {m['wrk'].split()[1] if len(m['wrk'].split()) > 1 else m['wrk']}, "
        f"node {m['node']}"
        + (f", peer `@portkey-ai/gateway@{m['peer_version']}`" if m.get("peer_version") else ", no peer")
    )
    L.append("")
    L.append("## Targets")
    L.append("")
    L.append("| | target | measured | |")
    L.append("|---|---|---|---|")
    for name, want, got, ok in targets:
        L.append(f"| {name} | {want} | {got} | {verdict(ok)} |")
    L.append("")

    cols = [t for t in TARGETS if t != "peer" or peer_on]
    head = "| | " + " | ".join(NAMES[t] for t in cols) + " |"
    sep = "|---" * (len(cols) + 1) + "|"

    def row(label, fn):
        return "| " + label + " | " + " | ".join(fn(t) for t in cols) + " |"

    L.append("## Figures")
    L.append("")
    L.append(
        f"Medians of {m['reps']} repetitions; “added” and ratios are taken against the direct run "
        "of the same repetition. Direct = the load generator talks to the mock upstream itself."
    )
    L.append("")
    L.append(f"### 1. Latency at concurrency 1, non-streaming ({m['lat_n']:,} requests per run, peer half)")
    L.append("")
    def latency_table(d):
        L.append(head)
        L.append(sep)
        L.append(row("p50", lambda t: fmt_us(g(d, t, "p50"))))
        L.append(row("p99", lambda t: fmt_us(g(d, t, "p99"))))
        L.append(row("added p50 / p99", lambda t: "—" if t == "direct" else
                     f"{fmt_us(g(d, t, 'added_p50'))} / {fmt_us(g(d, t, 'added_p99'))}"))
        L.append(row("CPU per request at c=1", lambda t: fmt_us(g(d, t, "cpu_us"))))
        L.append(row("answered 200 / sent", lambda t: "n/a" if t not in d else f"{d[t]['ok']:,} / {d[t]['requests']:,}"))
        L.append("")

    latency_table(lat)
    if big:
        L.append(f"### 1b. Latency at concurrency 1 with a long conversation ({m.get('big_body_bytes', 0):,}-byte "
                 f"request: a system prompt and 20 turns; {m['lat_n'] // 5:,} requests per run, peer half)")
        L.append("")
        L.append("Not a target: it shows the cost per byte of reading the request and writing it upstream.")
        L.append("")
        latency_table(big)
    L.append(f"### 2. Throughput (wrk, 2 threads, {m['duration_s']} s per run, keep-alive)")
    L.append("")
    L.append(head)
    L.append(sep)
    for c, tp in ((32, tp32), (256, tp256)):
        L.append(row(f"**c={c}** requests/s", lambda t: fmt(g(tp, t, "rps"))))
        L.append(row(f"c={c} vs direct / vs peer", lambda t: "—" if t == "direct" else
                     f"{fmt(None if g(tp, t, 'vs_direct') is None else g(tp, t, 'vs_direct') * 100, '%', 1)}"
                     + (f" / {fmt(g(tp, t, 'vs_peer'), '×', 1)}" if t == "gateway" and peer_on else "")))
        L.append(row(f"c={c} latency p50 / p99", lambda t: f"{fmt_us(g(tp, t, 'p50'))} / {fmt_us(g(tp, t, 'p99'))}"))
        L.append(row(f"c={c} CPU per request (process)", lambda t: fmt_us(g(tp, t, "cpu_us"))))
        L.append(row(f"c={c} mock CPU per request", lambda t: fmt_us(g(tp, t, "mock_cpu_us"))))
        L.append(row(f"c={c} errors (non-2xx, socket)", lambda t: fmt(g(tp, t, "errors"))))
    L.append("")
    L.append(
        f"### 3. Streaming ({m['chunks']} chunks, {m['chunk_ms']} ms apart; {m['stream_n']} streams per run, c=1)"
    )
    L.append("")
    L.append(
        "TTFT: request written → first event read. Gap: between consecutive events. Lag: the mock "
        "stamps each chunk with CLOCK_MONOTONIC just before writing it; lag = read by the client − "
        "that stamp, so for the gateway it bounds the time from the chunk's arrival to its forwarding."
    )
    L.append("")
    L.append(head)
    L.append(sep)
    L.append(row("streams complete / sent", lambda t: "n/a" if t not in st else
                 f"{st[t]['ok']:,} / {st[t]['requests']:,}" +
                 ("" if not st[t]["statuses"] else " (HTTP " + ", ".join(f"{k}×{v}" for k, v in st[t]["statuses"].items()) + ")")))
    L.append(row("TTFT p50 / p99", lambda t: f"{fmt_us(g(st, t, 'ttft_p50'))} / {fmt_us(g(st, t, 'ttft_p99'))}"))
    L.append(row("TTFT added (p50)", lambda t: "—" if t == "direct" else fmt_us(g(st, t, "ttft_added"))))
    L.append(row("inter-chunk gap p50 / p99", lambda t: f"{fmt_us(g(st, t, 'gap_p50'))} / {fmt_us(g(st, t, 'gap_p99'))}"))
    L.append(row("chunk lag p50 / p99 / max", lambda t: f"{fmt_us(g(st, t, 'lag_p50'))} / {fmt_us(g(st, t, 'lag_p99'))} / {fmt_us(g(st, t, 'lag_max'))}"))
    L.append(row("chunks with lag > 1 ms", lambda t: "n/a" if not g(st, t, "chunks") else f"{st[t]['over_1ms']} of {st[t]['chunks']:,}"))
    L.append(row("events per stream (min–max)", lambda t: "n/a" if g(st, t, "events_min") is None else f"{st[t]['events_min']}–{st[t]['events_max']}"))
    L.append("")
    L.append(f"### 4. Memory (RSS): idle, {hold_n or m['hold_n']:,} open SSE streams, after they close")
    L.append("")
    if m["hold_n"] < m["hold_want"]:
        L.append(
            f"The open-file limit here is {m['nofile']:,} (hard limit; raising it needs "
            f"CAP_SYS_RESOURCE) and each stream holds two descriptors in the gateway, so "
            f"{m['hold_n']:,} streams were held instead of {m['hold_want']:,}."
        )
        L.append("")
    L.append(
        "Each stream: one event from the mock, then silence; a stream counts as open when its first "
        "event reached the client. Then held 2 s, closed by the client, and sampled 3 s later. "
        f"{m['hold_cycles']} open/close cycles on one gateway process."
    )
    L.append("")
    L.append(head)
    L.append(sep)
    def split(d, t, total, anon, file):
        if g(d, t, total) is None:
            return "n/a"
        if g(d, t, anon) is None or g(d, t, file) is None:
            return fmt_mb(g(d, t, total))
        return f"{fmt_mb(g(d, t, total))} ({fmt_mb(g(d, t, anon))} anon + {fmt_mb(g(d, t, file))} files)"

    L.append(row("idle, 0.5 s after the first served request (start-up runs)",
                 lambda t: split(su, t, "rss_kb", "anon_kb", "file_kb")))
    L.append(row("idle before the streams", lambda t: split(ho, t, "rss_before", "anon_before", "file_before")))
    for i in range(max((len(d["cycles"]) for d in ho.values()), default=0)):
        L.append(row(f"cycle {i + 1}: streams open", lambda t, i=i: "n/a" if t not in ho or i >= len(ho[t]["cycles"]) else
                     f"{ho[t]['cycles'][i]['open']:,} in {ho[t]['cycles'][i]['open_s']:.1f} s" +
                     (f", {ho[t]['cycles'][i]['failed']:,} failed" if ho[t]['cycles'][i]['failed'] else "")))
        L.append(row(f"cycle {i + 1}: RSS open / after close", lambda t, i=i: "n/a" if t not in ho or i >= len(ho[t]["cycles"]) else
                     f"{fmt_mb(max(ho[t]['cycles'][i]['rss_open'], ho[t]['cycles'][i]['rss_hold']))} / {fmt_mb(ho[t]['cycles'][i]['rss_after'])}"))
        L.append(row(f"cycle {i + 1}: open fds open / after close", lambda t, i=i: "n/a" if t not in ho or i >= len(ho[t]["cycles"]) else
                     f"{ho[t]['cycles'][i]['fds_open']:,} / {ho[t]['cycles'][i]['fds_after']:,}"))
    L.append(row("per open stream", lambda t: "n/a" if g(ho, t, "kb_per_stream") is None else f"{ho[t]['kb_per_stream']:.1f} KB"))
    L.append("")
    L.append(f"### 5. Start-up: process start → first 200 answer to a chat completion ({m['start_reps']} starts)")
    L.append("")
    L.append(head)
    L.append(sep)
    L.append(row("first served request", lambda t: "n/a" if g(su, t, "served_ms") is None else f"{su[t]['served_ms']:,.1f} ms"))
    L.append(row("port accepting", lambda t: "n/a" if g(su, t, "listen_ms") is None else f"{su[t]['listen_ms']:,.1f} ms"))
    L.append(row("exit after SIGTERM", lambda t: "n/a" if g(su, t, "exit_ms") is None else f"{su[t]['exit_ms']:,.1f} ms"))
    L.append(row("starts served", lambda t: "n/a" if t not in su else f"{su[t]['ok']} of {su[t]['n']}"))
    L.append("")
    if sc:
        L.append("### Syscalls per request (strace -c -f, 2,000 requests at c=1)")
        L.append("")
        L.append("| | syscalls per request | most frequent (per request) |")
        L.append("|---|---|---|")
        for t in ("direct", "gateway"):
            if t in sc:
                L.append(f"| {NAMES[t]} | {sc[t]['per_req']:.1f} | {sc[t]['top']} |")
        L.append("")
    if peer_on or peer_notes:
        L.append("### Peer")
        L.append("")
        L.append(
            "Portkey's open-source gateway from npm, installed into bench/.cache/peer at benchmark "
            "time and run with node (`build/start-server.js --headless`, kept on 127.0.0.1 by "
            "bench/loopback.cjs), routed per request with `x-portkey-provider: openai` and "
            "`x-portkey-custom-host: http://127.0.0.1:MOCK/v1`."
        )
        for n in peer_notes:
            L.append("")
            L.append(f"- {n}")
        L.append("")
    if an:
        L.append(f"## Analytics at {an_rows or 0:,} logged requests")
        L.append("")
        L.append(
            "bench/analytics.c: a request log spread over 30 days (12 providers, 36 models, 6 "
            "endpoints, 2 keys a provider, 10 % failures, 15 % fallovers) written through the "
            "writer's own append, which keeps the rollups; then each query the dashboard makes, "
            "median of 7 runs on one connection (and with the fresh connection an admin job "
            "opens, for the analytics windows). They run on the thread pool, never on the loop "
            "that carries `/v1`.")
        L.append("")
        L.append("| query | median | |")
        L.append("|---|---|---|")
        for r in an:
            extra = []
            if "fresh_connection_ms" in r:
                extra.append(f"{r['fresh_connection_ms']:.1f} ms with a fresh connection")
            if "requests" in r:
                extra.append(f"{r['requests']:,} requests in the window")
            if "rows" in r and not r["query"].startswith("generate"):
                extra.append(f"{r['rows']:,} rows")
            if "rows_per_s" in r:
                extra.append(f"{r['rows_per_s']:,.0f} rows/s")
            if "attempts" in r:
                extra.append(f"{r['attempts']:,} attempts")
            ms = r["ms"]
            shown = f"{ms / 1000:.1f} s" if ms >= 1000 else f"{ms:.1f} ms"
            L.append(f"| {r['query']} | {shown} | {'; '.join(extra)} |")
        L.append("")

    L.append("## Method")
    L.append("")
    L.append(
        "- **Mock upstream** (bench/mock.c): one libuv thread, a fixed `chat.completion` JSON, or an "
        "SSE stream whose chunk count and spacing come from the URL path. Its own CPU per request is "
        "in the throughput table: it is a small share of the gateway's."
    )
    L.append(
        "- **Gateway**: the release build, a fresh data directory with one (fake) Groq key, a catalog "
        "with one provider and one model enabled and every free-tier limit removed "
        "(bench/catalog.py), every provider's base URL on the mock, key probes off, `LOG_LEVEL=warn`. "
        "The request log and usage counters are written as in production."
    )
    L.append(
        "- **Load**: wrk with bench/post.lua for throughput; bench/loadgen.c (epoll, keep-alive, "
        "per-request timestamps) for latency at c=1, streams, open streams and start-up. CPU per "
        "request = utime+stime of the process from /proc/PID/stat over the run ÷ answers; RSS = "
        "VmRSS from /proc/PID/status."
    )
    L.append(
        "- **Noise**: every scenario runs direct, gateway and peer back to back and repeats; "
        "the table shows medians, and differences/ratios within a repetition."
    )
    L.append("")
    L.append("Run it again: `make bench` (full, under 10 minutes) or `BENCH_QUICK=1 make bench`.")
    analysis = os.path.join(os.path.dirname(os.path.abspath(__file__)), "analysis.md")
    if os.path.exists(analysis):
        L.append("")
        with open(analysis, encoding="utf-8") as f:
            L.append(f.read().rstrip())
    return "\n".join(L) + "\n", targets


def main():
    meta_path, results_path, out_path, elapsed = sys.argv[1:5]
    with open(meta_path, encoding="utf-8") as f:
        meta = json.load(f)
    rows = []
    with open(results_path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    print(f"report.py: skipping a bad result line ({e}): {line[:200]}", file=sys.stderr)
    run = Run(meta, rows)
    md, _ = build(run, int(elapsed))
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(md)
    # The terminal gets everything but the method text.
    print(md.split("## Method")[0].rstrip())


if __name__ == "__main__":
    main()
