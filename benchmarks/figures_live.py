"""The figures of ``live_ops.py`` (``results/live_ops.json``): pure, JSON in, markdown out."""

from __future__ import annotations

from typing import Any

from figures import Figures, machine, num, table, verdict


def _s(v: Any) -> str:
    return "–" if v is None else f"{v:.2f} s"


def _slice(r: dict[str, Any]) -> str:
    sl = r.get("slice") or {}
    start, end = str(sl.get("start") or "")[11:19], str(sl.get("end") or "")[11:19]
    secs, dets = num(sl.get("simulated_s"), ",.0f"), num(sl.get("detections"), ",")
    return f"{start}-{end} UTC ({secs} s simulated, {dets} detections)"


def _integrity(r: dict[str, Any]) -> str:
    i = r.get("integrity") or {}
    text = (
        f"{num(i.get('stored_detections'), ',')} / {num(i.get('published_detections'), ',')} stored; "
        f"lost {num(i.get('lost'))}, duplicated {num(i.get('duplicated'))}, unexpected {num(i.get('unexpected'))}"
    )
    return text if i.get("ok") else f"**{text}**"


def _load(res: dict[str, Any], r: dict[str, Any] | None = None) -> str:
    src = r if r is not None else res
    a, b = src.get("load_avg_start") or [], src.get("load_avg_end") or []
    return f"{num(a[0] if a else None, '.2f')} -> {num(b[0] if b else None, '.2f')}"


def render(res: dict[str, Any]) -> Figures:
    """The page and the ``latency`` and ``throughput`` tables; the 10x goal's verdict from the measured figures."""
    runs = res.get("runs") or []
    goal = res.get("goal") or {}
    g_speed, g_p99, g_max = goal.get("speed"), goal.get("p99_s"), goal.get("max_s")
    live = [r for r in runs if r.get("latency")]
    rows = []
    for r in live:
        lat = r["latency"]
        ev = r.get("events") or {}
        pr = r.get("processing_run_s") or {}
        p99, mx = lat.get("p99_s"), lat.get("max_s")
        if r.get("speed") == g_speed and g_p99 is not None and g_max is not None:
            met = None if p99 is None or mx is None else (p99 <= g_p99 and mx <= g_max)
            goal_txt = f"p99 <= {g_p99:g} s, max <= {g_max:g} s: {verdict(met)}"
        else:
            goal_txt = ""
        rows.append([
            f"{num(r.get('speed'), 'g')}x",
            _slice(r),
            f"{num(r.get('interval_s'), 'g')} s",
            f"{num(ev.get('new'), ',')} ({num(ev.get('ids_seen'), ',')} ids, {num(ev.get('reissued'), ',')} re-issued)",
            _s(lat.get("p50_s")), _s(p99), _s(mx),
            _s((r.get("publish_to_stored") or {}).get("p99_s")),
            f"{_s(pr.get('p50_s'))} / {_s(pr.get('max_s'))}",
            _integrity(r),
            _load(res, r),
            goal_txt,
        ])  # fmt: skip
    latency = table(
        ["speed", "slice of the escalation day", "`--interval`", "new events shown", "p50", "p99", "max",
         "publish -> stored p99", "processing run p50 / max", "detections by id", "load avg (1 min) start -> end",
         "goal"],
        rows,
    )  # fmt: skip
    poll = num((res.get("settings") or {}).get("api_poll_s"), "g")
    latency += (
        f"\n\nLatency: the first `GET /api/v1/events` (analyst, polled every {poll} s)"
        " showing a new event (one listing a detection no event shown before listed: an event shown again"
        " under another id, \"re-issued\", is not counted again), minus the publish time of the last of its"
        " detections. "
        f"Machine: {machine(res)}, load average (1 min) {_load(res)} over the whole benchmark (a shared machine)."
    )
    trows = []
    for r in runs:
        tp = r.get("throughput")
        if not tp:
            continue
        pa = r.get("puback") or {}
        trows.append([
            _slice(r),
            num(tp.get("messages"), ","),
            f"{num(tp.get('published_per_s'), ',.0f')} msg/s",
            f"{num(tp.get('stored_per_s'), ',.0f')} msg/s",
            f"{_s(pa.get('p50_s'))} / {_s(pa.get('p99_s'))} / {_s(pa.get('max_s'))}",
            _integrity(r),
            _load(res, r),
        ])  # fmt: skip
    throughput = table(
        ["slice (speed 0: as fast as the broker takes it)", "messages", "published", "stored + acknowledged",
         "PUBACK p50 / p99 / max", "detections by id", "load avg (1 min) start -> end"],
        trows,
    )  # fmt: skip
    throughput += (
        "\n\nStored + acknowledged: messages / (the last stored - the first published), the listener alone on a"
        " SQLite store. PUBACK: what the publisher waits for; Mosquitto sends it when it holds the message,"
        " before the listener stores it."
    )
    page = f"# Live operations (`live_ops.py`)\n\n## Latency\n\n{latency}\n\n## Throughput\n\n{throughput}\n"
    worst = [
        f"- {num(r.get('speed'), 'g')}x: " + ", ".join(
            f"{w['latency_s']:.2f} s (event {w['event']}, {w['detections']} detections, {w['seen_at_s']} s in)"
            for w in r.get("worst") or []
        ) for r in live
    ]  # fmt: skip
    runs_txt = []
    for r in live:
        pr, ap = r.get("processing_run_s") or {}, r.get("api_poll_s") or {}
        pid = r.get("latency_per_event_id") or {}
        runs_txt.append(
            f"- {num(r.get('speed'), 'g')}x: {num(r.get('processing_runs'))} processing runs, run time p50"
            f" {_s(pr.get('p50_s'))}, max {_s(pr.get('max_s'))}; API poll p50 {_s(ap.get('p50_s'))},"
            f" max {_s(ap.get('max_s'))}; poll errors {num(r.get('poll_errors'))}; latency per event id"
            f" (re-issues counted as new) p50 {_s(pid.get('p50_s'))}, p99 {_s(pid.get('p99_s'))},"
            f" max {_s(pid.get('max_s'))}"
        )
    if worst:
        page += "\n## The slowest events\n\n" + "\n".join(worst) + "\n"
    if runs_txt:
        page += "\n## Processing and polling\n\n" + "\n".join(runs_txt) + "\n"
    return Figures(page, {"latency": latency, "throughput": throughput})
