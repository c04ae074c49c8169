"""``truceline simulate``, ``fuse`` and ``score``: the digital twin, fusion of a folder, the scorecard."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from truceline.cli.common import EXIT_USAGE, agreement_path, app, fail, require_path


@app.command()
def simulate(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML (see scenarios/ and docs/scenarios.md).")],
    out: Annotated[Path, typer.Option(help="Output directory (observations/, truth/, agreement/).")],
    seed: Annotated[int | None, typer.Option(help="Random seed (default: the scenario's).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="Detections as csv or jsonl.")] = "csv",
) -> None:
    """Simulate a scenario on the real line: observations, plus a ground truth only the scorer reads."""
    from truceline.agreement import AgreementError
    from truceline.sim.run import simulate as run_simulation
    from truceline.sim.scenario import ScenarioError, load_scenario

    if fmt not in ("csv", "jsonl"):
        raise fail(f"--format: {fmt!r} is not csv or jsonl", EXIT_USAGE)
    require_path(scenario, "SCENARIO")
    try:
        sc = load_scenario(scenario)
    except ScenarioError as exc:
        raise fail(str(exc)) from None
    steps = ["agreement", "network and weather", "activity", "propagation", "observers, UAV, claims", "writing"]
    with typer.progressbar(length=len(steps), label=f"simulating {sc.name}", file=sys.stderr) as bar:
        try:
            summary = run_simulation(
                sc, out, seed=seed, base_dir=scenario.parent, fmt=fmt, progress=lambda _: bar.update(1)
            )
        except (AgreementError, ValueError) as exc:
            raise fail(f"{scenario}: {exc}") from None
    c = summary.counts
    typer.echo(
        f"wrote {out}: {c['sensors']} sensors, {c['rounds']} rounds ({c['truth_events']} events, "
        f"{c['truth_detectable_events']} detectable), {c['detections']:,} detections "
        f"({c['false_detections']:,} false), {c['observer_reports']} observer reports, "
        f"{c['sightings']} sightings, {c['claims']} claims, {c['truth_violations']} true violations "
        f"in {sum(summary.timings_s.values()):.1f} s"
    )


@app.command()
def fuse(
    folder: Annotated[
        Path,
        typer.Argument(help="A simulation output, or a folder of sensors.jsonl, detections.csv|jsonl, weather.jsonl."),
    ],
    out: Annotated[Path, typer.Option(help="Output folder: events.jsonl, incidents.jsonl, fusion.json.")],
    agreement: Annotated[
        str | None, typer.Option(help="Agreement (example name or path); default FOLDER/agreement, else 'default'.")
    ] = None,
) -> None:
    """Associate detections into events, locate them, classify, pair launches with impacts, attribute sides."""
    from truceline.agreement import AgreementError
    from truceline.fusion.run import fuse as run_fusion
    from truceline.io.detections import DetectionFileError

    require_path(folder, "FOLDER")
    if agreement is not None:
        agreement_path(agreement)
    with typer.progressbar(length=100, label="fusing", file=sys.stderr) as bar:
        done = [0]

        def tick(_stage: str, frac: float) -> None:
            pos = int(frac * 100)
            if pos > done[0]:
                bar.update(pos - done[0])
                done[0] = pos

        try:
            summary = run_fusion(folder, out, agreement=agreement, progress=tick)
        except (AgreementError, DetectionFileError, FileNotFoundError, ValueError) as exc:
            raise fail(f"{folder}: {exc}") from None
        tick("done", 1.0)
    c, t = summary.counts, summary.timings_s
    typer.echo(
        f"wrote {out}: {c['events']:,} events ({c['paired']:,} launch-impact pairs, {c['incidents']:,} incidents) "
        f"from {c['detections']:,} detections ({c['associated_detections']:,} associated) in "
        f"{sum(t.values()):.1f} s (association {t['associate']:.1f} s)"
    )


@app.command()
def score(
    truth: Annotated[Path, typer.Option(help="A simulation's output folder (or its truth/ folder).")],
    result: Annotated[
        Path, typer.Option(help="Folder of result records: events, incidents, violations, claim_verdicts.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of markdown tables.")] = False,
    event_time_s: Annotated[float, typer.Option(help="Event matching gate on origin time, s.")] = 2.0,
    event_distance_km: Annotated[float, typer.Option(help="Event matching gate on distance, km.")] = 2.0,
    violation_time_s: Annotated[float, typer.Option(help="Violation matching gate on time, s.")] = 120.0,
    violation_distance_km: Annotated[float, typer.Option(help="Violation matching gate on distance, km.")] = 3.0,
) -> None:
    """Grade a result set against a simulation's ground truth (an IDC-style scorecard)."""
    from truceline.scoring.score import Gates, ScoreInputError, score_dirs

    try:
        gates = Gates(event_time_s, event_distance_km, violation_time_s, violation_distance_km)
    except ValueError as exc:
        raise fail(f"--event-time-s/--event-distance-km/--violation-time-s/--violation-distance-km: {exc}",
                   EXIT_USAGE) from None  # fmt: skip
    require_path(truth, "--truth")
    require_path(result, "--result")
    try:
        card = score_dirs(truth, result, gates)
    except ScoreInputError as exc:
        raise fail(str(exc)) from None
    typer.echo(json.dumps(card.to_dict(), ensure_ascii=False, indent=2) if as_json else card.to_markdown())
