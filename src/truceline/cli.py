"""The ``truceline`` command line."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from truceline import __version__

app = typer.Typer(
    help="truceline: the information system of a ceasefire monitoring mission.",
    no_args_is_help=True,
    add_completion=False,
)
agreement_app = typer.Typer(
    help="The agreement as data: validate, show and derive agreement definitions.",
    no_args_is_help=True,
)
app.add_typer(agreement_app, name="agreement")

DEFAULT_COUNTRY = Path("../shared/data/admin/ua_oblasts_minregion_2020.geojson")
DEFAULT_WORLD = Path("../shared/data/world/visionscarto_countries-50m.topojson.json")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _resolve_agreement(path: str) -> Path:
    """A path, or the name of a shipped example (``default``, ``minsk2015``)."""
    from truceline.agreement import EXAMPLES, example_path

    if not Path(path).exists() and path in EXAMPLES:
        return example_path(path)
    return Path(path)


def _parse_when(value: str | None) -> dt.datetime | None:
    """A date (taken as 12:00 UTC) or an ISO time with zone."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(12), tzinfo=dt.UTC)
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _fail(f"--date: {value!r} is not a date (YYYY-MM-DD) or ISO time", 2) from None
    if t.tzinfo is None:
        raise _fail(f"--date: {value!r} has no timezone (add Z or +03:00)", 2)
    return t


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@agreement_app.command("validate")
def agreement_validate(
    path: Annotated[str, typer.Argument(help="Agreement directory or agreement.yaml, or an example name.")],
) -> None:
    """Check an agreement; list every problem with its field path. Exit 1 when invalid."""
    from truceline.agreement import validate_agreement

    p = _resolve_agreement(path)
    issues = validate_agreement(p)
    if issues:
        typer.echo(f"{p}: INVALID, {len(issues)} problem(s)", err=True)
        for issue in issues:
            typer.echo(f"  {issue}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{p}: valid")


@agreement_app.command("show")
def agreement_show(
    path: Annotated[str, typer.Argument(help="Agreement directory or agreement.yaml, or an example name.")],
    date: Annotated[str | None, typer.Option(help="Show the line in force then (YYYY-MM-DD or ISO time).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Line length, zone areas, sites, sectors and versions of an agreement."""
    from truceline.agreement import AgreementError, NoLineInForce, load_agreement
    from truceline.agreement.summary import summarize

    try:
        agreement = load_agreement(_resolve_agreement(path))
        summary = summarize(agreement, _parse_when(date))
    except AgreementError as exc:
        raise _fail(str(exc)) from None
    except NoLineInForce as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    _print_summary(summary)


def _print_summary(s: dict[str, Any]) -> None:
    echo = typer.echo
    echo(f"{s['title']}  [{s['id']} v{s['version']}]")
    echo(f"effective from {s['effective_from']}")
    echo("parties: " + "; ".join(f"{p['id']} = {p['name']}" for p in s["parties"]))
    echo(f"line in force: {s['line_in_force']}, {s['line_length_km']:,.1f} km in {s['line_pieces']} piece(s)")
    echo("controlled area: " + ", ".join(f"{p} {a:,.0f} km²" for p, a in s["controlled_area_km2"].items()))
    echo("zones (km each side; area per party):")
    for name, z in s["zones"].items():
        parts = ", ".join(f"{p} {a:,.0f}" for p, a in z["area_km2"].items())
        echo(f"  {name:<34} {z['km_each_side']:>6.1f} km  {z['total_km2']:>10,.0f} km²  ({parts})")
    echo(f"versions ({len(s['versions'])}):")
    for v in s["versions"]:
        echo(f"  {v['id']:<20} from {v['valid_from']}  to {v['valid_to'] or 'open'}  {v['line_length_km']:,.1f} km")
    echo(f"protected sites ({len(s['protected_sites'])}):")
    for x in s["protected_sites"]:
        echo(f"  {x['id']:<24} {x['name']} ({x['category']}), r={x['radius_km']} km at {x['lon']:.4f},{x['lat']:.4f}")
    echo(f"sectors ({len(s['sectors'])}):")
    for x in s["sectors"]:
        echo(f"  {x['id']:<12} {x['name']:<32} {x['contingent']}  {x['area_km2']:,.0f} km²")
    if s["disengagement_areas"]:
        echo(f"disengagement areas ({len(s['disengagement_areas'])}):")
        for x in s["disengagement_areas"]:
            echo(f"  {x['id']:<24} {x['name']}  {x['area_km2']:,.1f} km²")
    echo(f"ceasefire windows ({len(s['ceasefire_windows'])}):")
    for w in s["ceasefire_windows"]:
        echo(f"  {w['id']:<24} {w['start']} .. {w['end']}  {w['name']}")
    for a in s["attribution"]:
        echo(f"source: {a}")


@agreement_app.command("derive")
def agreement_derive(
    control: Annotated[
        list[Path], typer.Option(help="Control-of-terrain GeoJSON (.gz ok) or a folder of dated snapshots; repeatable.")
    ],
    out: Annotated[Path, typer.Option(help="Directory to write the agreement to.")],
    date: Annotated[
        str | None, typer.Option(help="Date of a single snapshot (YYYY-MM-DD); with a folder, the day to take.")
    ] = None,
    since: Annotated[str | None, typer.Option(help="With a folder: first day (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="With a folder: last day (YYYY-MM-DD).")] = None,
    every: Annotated[int, typer.Option(help="With a folder: keep one snapshot every N days.")] = 1,
    country: Annotated[Path, typer.Option(help="Country outline GeoJSON (polygons).")] = DEFAULT_COUNTRY,
    template: Annotated[
        str | None, typer.Option(help="Agreement whose parties, zones, sites and sectors to keep.")
    ] = None,
    party: Annotated[str, typer.Option(help="Party that holds the control polygon.")] = "RU",
    other: Annotated[str, typer.Option(help="Party that holds the rest of the country.")] = "UA",
    border_tolerance_km: Annotated[
        float, typer.Option(help="Boundary within this of the outline is border/coast.")
    ] = 2.0,
    min_piece_km: Annotated[float, typer.Option(help="Drop line pieces shorter than this.")] = 1.0,
    rear_area: Annotated[
        list[str] | None,
        typer.Option(
            help="PARTY=COUNTRY: add that country's territory near the line to the party's area "
            "(e.g. RU=Russia); repeatable."
        ),
    ] = None,
    world: Annotated[Path, typer.Option(help="TopoJSON of countries (object 'countries', property 'name').")] = (
        DEFAULT_WORLD
    ),
) -> None:
    """Build the line of contact and both controlled areas from control-of-terrain snapshots."""
    from truceline.agreement import AgreementError, load_agreement
    from truceline.agreement.build import collect_snapshots, derive_agreement, load_country
    from truceline.agreement.summary import summarize

    def day(v: str | None, opt: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(v) if v else None
        except ValueError:
            raise _fail(f"{opt}: {v!r} is not a date (YYYY-MM-DD)", 2) from None

    d, s, u = day(date, "--date"), day(since, "--since"), day(until, "--until")
    if d is not None and any(p.is_dir() for p in control):
        s = u = d
        d = None
    try:
        snaps = collect_snapshots(control, date=d, since=s, until=u, every_days=every)
    except (ValueError, FileNotFoundError) as exc:
        raise _fail(f"--control: {exc}", 2) from None
    if not country.exists():
        raise _fail(f"--country: {country} not found", 2)
    from truceline.io.geojson import GeoJSONError

    rears = _rear_areas(rear_area or [], world)

    with typer.progressbar(length=len(snaps), label="deriving", file=sys.stderr) as bar:

        def tick(_: dt.date) -> None:
            bar.update(1)

        try:
            mpath = derive_agreement(
                snaps,
                load_country(country),
                out,
                template=_resolve_agreement(template) if template else None,
                controlling_party=party,
                other_party=other,
                border_tolerance_km=border_tolerance_km,
                min_piece_km=min_piece_km,
                progress=tick,
                warn=lambda note: typer.echo(f"warning: {note}", err=True),
                rear_areas=rears,
            )
        except GeoJSONError as exc:
            raise _fail(str(exc)) from None
    try:
        summary = summarize(load_agreement(mpath))
    except AgreementError as exc:
        raise _fail(f"derived agreement is invalid:\n{exc}") from None
    typer.echo(
        f"wrote {mpath}: {len(summary['versions'])} version(s) from {len(snaps)} snapshot(s); "
        f"newest line {summary['line_length_km']:,.1f} km"
    )


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
        raise _fail(f"--format: {fmt!r} is not csv or jsonl", 2)
    try:
        sc = load_scenario(scenario)
    except ScenarioError as exc:
        raise _fail(str(exc)) from None
    steps = ["agreement", "network and weather", "activity", "propagation", "observers, UAV, claims", "writing"]
    with typer.progressbar(length=len(steps), label=f"simulating {sc.name}", file=sys.stderr) as bar:
        try:
            summary = run_simulation(
                sc, out, seed=seed, base_dir=scenario.parent, fmt=fmt, progress=lambda _: bar.update(1)
            )
        except (AgreementError, ValueError) as exc:
            raise _fail(f"{scenario}: {exc}") from None
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
            raise _fail(f"{folder}: {exc}") from None
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
    from truceline.sim.score import Gates, ScoreInputError, score_dirs

    try:
        gates = Gates(event_time_s, event_distance_km, violation_time_s, violation_distance_km)
    except ValueError as exc:
        raise _fail(str(exc), 2) from None
    try:
        card = score_dirs(truth, result, gates)
    except ScoreInputError as exc:
        raise _fail(str(exc)) from None
    typer.echo(json.dumps(card.to_dict(), ensure_ascii=False, indent=2) if as_json else card.to_markdown())


def _rear_areas(specs: list[str], world: Path) -> dict[str, Any]:
    """Parse ``PARTY=COUNTRY`` options into outlines read from the world TopoJSON."""
    if not specs:
        return {}
    from truceline.io.geojson import GeoJSONError
    from truceline.io.topojson import read_topojson

    if not world.exists():
        raise _fail(f"--world: {world} not found", 2)
    try:
        outlines = {f.properties.get("name"): f.geometry for f in read_topojson(world, "countries")}
    except GeoJSONError as exc:
        raise _fail(f"--world: {exc}", 2) from None
    out = {}
    for spec in specs:
        party, _, name = spec.partition("=")
        if not party or not name:
            raise _fail(f"--rear-area: {spec!r} is not PARTY=COUNTRY", 2)
        if name not in outlines:
            raise _fail(f"--rear-area: no country named {name!r} in {world}", 2)
        out[party] = outlines[name]
    return out


def main() -> None:
    """Entry point of the ``truceline`` script."""
    app()


# Commands on the store (ingest, process, export, coverage, aggregates, review), the API (serve, token),
# the bulletin (report) and the demo live in their own modules, registered on ``app`` on import.
from truceline import cli_api, cli_demo, cli_report, cli_store  # noqa: E402, F401

if __name__ == "__main__":
    main()
