"""``truceline version`` and ``truceline agreement validate|show|derive|reconcile``: the agreement as data."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from truceline import __version__
from truceline.cli.common import (
    DEFAULT_COUNTRY,
    DEFAULT_WORLD,
    EXIT_NOT_FOUND,
    agreement_path,
    app,
    fail,
    parse_day,
    parse_when,
    require_path,
)

agreement_app = typer.Typer(
    help="The agreement as data: validate, show, derive and reconcile agreement definitions.",
    no_args_is_help=True,
)
app.add_typer(agreement_app, name="agreement")


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@agreement_app.command("validate")
def agreement_validate(
    path: Annotated[str, typer.Argument(help="Agreement directory or agreement.yaml, or an example name.")],
    sliver_km2: Annotated[
        float, typer.Option(help="Slivers: area polygons and holes smaller than this (km²)...")
    ] = 1.0,
    sliver_width_m: Annotated[float, typer.Option(help="... and thinner than this (mean width, m).")] = 50.0,
    far_km: Annotated[
        float, typer.Option(help="Report line farther than this (km) from the boundary both areas share.")
    ] = 2.0,
    most: Annotated[int, typer.Option(help="Warnings listed per check and layer (largest first).")] = 5,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 on warnings too.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with every problem.")] = False,
) -> None:
    """Check an agreement; list every problem with its field path. Exit 1 when invalid, 2 when not found.

    A valid agreement is then checked for overlapping control areas, slivers and line far from the
    boundary both areas share: warnings naming the layer, the feature and the place (lon,lat).
    """
    from truceline.agreement import AgreementError, load_agreement
    from truceline.agreement.checks import check_agreement

    for name, value in (("--sliver-km2", sliver_km2), ("--sliver-width-m", sliver_width_m), ("--far-km", far_km)):
        if not value > 0:
            raise fail(f"{name}: {value} must be > 0", 2)
    p = agreement_path(path, "PATH")
    try:
        agreement = load_agreement(p)
    except AgreementError as exc:
        if as_json:
            typer.echo(json.dumps({"path": str(p), "valid": False, "errors": [str(i) for i in exc.issues]}))
            raise typer.Exit(1) from None
        typer.echo(f"{p}: INVALID, {len(exc.issues)} problem(s)", err=True)
        for issue in exc.issues:
            typer.echo(f"  {issue}", err=True)
        raise typer.Exit(1) from None
    findings = check_agreement(p, sliver_km2, far_km, sliver_width_m, agreement=agreement)
    if as_json:
        doc = {"path": str(p), "valid": True, "errors": [], "warnings": [f.as_dict() for f in findings]}
        typer.echo(json.dumps(doc, ensure_ascii=False))
    elif not findings:
        typer.echo(f"{p}: valid")
    else:
        typer.echo(f"{p}: valid, {len(findings)} warning(s)")
        _print_findings(findings, most)
    if strict and findings:
        raise typer.Exit(1)


def _print_findings(findings: list[Any], most: int) -> None:
    """Warnings on stderr by check and layer: a count line, then the largest ``most`` of them."""
    groups: dict[tuple[str, str], list[Any]] = {}
    for f in findings:
        groups.setdefault((f.check, f.layer), []).append(f)
    for (check, layer), fs in groups.items():
        fs = sorted(fs, key=lambda f: -f.value)
        total = f"{sum(f.value for f in fs):.4g} km² in all" if check != "far_line" else f"up to {fs[0].value:.1f} km"
        typer.echo(f"  warning: {check}: {layer}: {len(fs)} found, {total}", err=True)
        for f in fs[:most]:
            typer.echo(f"    {f}", err=True)
        if len(fs) > most:
            typer.echo(f"    ... and {len(fs) - most} more (--most, --json)", err=True)


@agreement_app.command("show")
def agreement_show(
    path: Annotated[str, typer.Argument(help="Agreement directory or agreement.yaml, or an example name.")],
    date: Annotated[
        str | None,
        typer.Option(help="The line in force then: a day YYYY-MM-DD (at 12:00 UTC) or an ISO 8601 time with zone."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Line length, zone areas, sites, sectors and versions of an agreement."""
    from truceline.agreement import AgreementError, NoLineInForce, load_agreement
    from truceline.agreement.summary import summarize

    when = parse_when(date, "--date")
    try:
        agreement = load_agreement(agreement_path(path, "PATH"))
        summary = summarize(agreement, when)
    except AgreementError as exc:
        raise fail(str(exc)) from None
    except NoLineInForce as exc:
        raise fail(str(exc)) from None
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
    layer: Annotated[
        list[str] | None,
        typer.Option(help="Keep features whose layer/Layer/name/Name property equals NAME; repeatable (any)."),
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(help="PROP~REGEX: keep features whose property matches (re.search); repeatable (all)."),
    ] = None,
    preset: Annotated[
        str | None, typer.Option(help="Selection for a known schema: deepstate (raw export) or isw.")
    ] = None,
    fill_holes_km2: Annotated[
        float, typer.Option(help="Fill holes in the control area smaller than this (km²); 0 fills none.")
    ] = 100.0,
    force: Annotated[
        bool, typer.Option("--force", help="Keep a line or area outside the plausible bounds for its date.")
    ] = False,
    source: Annotated[str | None, typer.Option(help="The source's name (default: the file name).")] = None,
    source_date: Annotated[
        str | None, typer.Option(help="The date the source's map shows (default: each snapshot's date).")
    ] = None,
    attribution: Annotated[
        list[str] | None, typer.Option(help="The source's credit and licence line; repeatable.")
    ] = None,
) -> None:
    """Build the line of contact and both controlled areas from control-of-terrain snapshots."""
    snaps = _snapshots(control, date, since, until, every)
    if not country.exists():
        raise fail(f"--country: {country}: no such file or folder", EXIT_NOT_FOUND)
    rears = _rear_areas(rear_area or [], world)
    src, opts = _source_and_options(layer, where, preset, fill_holes_km2, force, source, source_date, attribution)
    kw = {"controlling_party": party, "other_party": other, "border_tolerance_km": border_tolerance_km}
    kw |= {"min_piece_km": min_piece_km, "rear_areas": rears, "source": src, "options": opts}
    mpath = _run_derive(snaps, country, out, template, kw)
    from truceline.agreement import AgreementError, load_agreement
    from truceline.agreement.summary import summarize

    try:
        summary = summarize(load_agreement(mpath))
    except AgreementError as exc:
        raise fail(f"derived agreement is invalid:\n{exc}") from None
    typer.echo(
        f"wrote {mpath}: {len(summary['versions'])} version(s) from {len(snaps)} snapshot(s); "
        f"newest line {summary['line_length_km']:,.1f} km"
    )


def _run_derive(
    snaps: list[tuple[dt.date, Path]], country: Path, out: Path, template: str | None, kw: dict[str, Any]
) -> Path:
    """Derive with a progress bar and warnings on stderr; exit 1 on a bad file or an implausible result."""
    from truceline.agreement.build import ImplausibleDerivation, derive_agreement, load_country
    from truceline.io.geojson import GeoJSONError

    template_path = agreement_path(template, "--template") if template else None
    with typer.progressbar(length=len(snaps), label="deriving", file=sys.stderr) as bar:

        def tick(_: dt.date) -> None:
            bar.update(1)

        try:
            return derive_agreement(
                snaps,
                load_country(country),
                out,
                template=template_path,
                progress=tick,
                warn=lambda note: typer.echo(f"warning: {note}", err=True),
                **kw,
            )
        except (GeoJSONError, ImplausibleDerivation) as exc:
            raise fail(str(exc)) from None


def _date_option(value: str | None, opt: str) -> dt.date | None:
    """The day an option gives (None when not given); exit 2 naming the option when it is not one."""
    return parse_day(value, opt) if value else None


def _source_and_options(
    layer: list[str] | None,
    where: list[str] | None,
    preset: str | None,
    fill_holes_km2: float,
    force: bool,
    source: str | None,
    source_date: str | None,
    attribution: list[str] | None,
) -> tuple[Any, Any]:
    """The ``SourceInfo`` and ``ControlOptions`` the options give; exit 2 naming a bad option."""
    from truceline.agreement.build import ControlOptions, SourceInfo
    from truceline.agreement.control import Selection

    try:
        selection = Selection.parse(layer or [], where or [], preset)
    except ValueError as exc:
        raise fail(str(exc), 2) from None
    if fill_holes_km2 < 0:
        raise fail(f"--fill-holes-km2: {fill_holes_km2} is negative", 2)
    credits = tuple(a.strip() for a in attribution or [] if a.strip())
    info = SourceInfo(source, _date_option(source_date, "--source-date"), credits)
    return info, ControlOptions(selection, fill_holes_km2, force)


def _snapshots(
    control: list[Path], date: str | None, since: str | None, until: str | None, every: int
) -> list[tuple[dt.date, Path]]:
    """The dated snapshots ``--control`` names; ``--date`` with a folder takes that day of it."""
    from truceline.agreement.build import collect_snapshots

    for c in control:
        require_path(c, "--control")
    d, s, u = _date_option(date, "--date"), _date_option(since, "--since"), _date_option(until, "--until")
    if d is not None and any(p.is_dir() for p in control):
        s = u = d
        d = None
    try:
        return collect_snapshots(control, date=d, since=s, until=u, every_days=every)
    except (ValueError, FileNotFoundError) as exc:
        raise fail(f"--control: {exc}", 2) from None


def _rear_areas(specs: list[str], world: Path) -> dict[str, Any]:
    """Parse ``PARTY=COUNTRY`` options into outlines read from the world TopoJSON."""
    if not specs:
        return {}
    from truceline.io.geojson import GeoJSONError
    from truceline.io.topojson import read_topojson

    if not world.exists():
        raise fail(f"--world: {world}: no such file or folder", EXIT_NOT_FOUND)
    try:
        outlines = {f.properties.get("name"): f.geometry for f in read_topojson(world, "countries")}
    except GeoJSONError as exc:
        raise fail(f"--world: {exc}", 2) from None
    out = {}
    for spec in specs:
        party, _, name = spec.partition("=")
        if not party or not name:
            raise fail(f"--rear-area: {spec!r} is not PARTY=COUNTRY", 2)
        if name not in outlines:
            raise fail(f"--rear-area: no country named {name!r} in {world}", 2)
        out[party] = outlines[name]
    return out


@agreement_app.command("reconcile")
def agreement_reconcile(
    sources: Annotated[
        list[str],
        typer.Argument(help="Derived lines: agreement directories (DIR or DIR@VERSION_ID) or line GeoJSON files."),
    ],
    out: Annotated[
        Path | None, typer.Option(help="Write the first source's agreement with the band here (may be itself).")
    ] = None,
    name: Annotated[list[str] | None, typer.Option(help="The sources' names, in order; repeatable.")] = None,
    step_km: Annotated[float, typer.Option(help="Length of the band's pieces along the agreed line (km).")] = 1.0,
    series_: Annotated[
        bool, typer.Option("--series", help="Movement between consecutive dated versions of the agreements given.")
    ] = False,
    largest: Annotated[int, typer.Option(help="--series: the largest changed polygons listed per direction.")] = 5,
    movement_out: Annotated[
        Path | None, typer.Option("--movement", help="--series: write the changed polygons to this GeoJSON.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Measure how far sources' lines disagree along the agreed line (the first source's), or, with
    --series, what changed hands between consecutive versions."""
    from truceline.agreement import reconcile as rc

    for spec in sources:
        if not Path(spec).exists() and not Path(spec.rpartition("@")[0] or spec).exists():
            raise fail(f"SOURCES: {spec}: no such file or folder", EXIT_NOT_FOUND)
    try:
        if series_:
            summary = _series(rc, sources, largest, movement_out)
        else:
            summary = _band(rc, sources, name or [], step_km, out)
    except rc.ReconcileError as exc:
        raise fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    elif series_:
        _print_series(summary)
    else:
        _print_band(summary)


def _band(rc: Any, sources: list[str], names: list[str], step_km: float, out: Path | None) -> dict[str, Any]:
    """Read the sources, measure the band along the first, write it when ``out`` is given; the summary."""
    if len(sources) < 2:
        raise fail("reconcile: give two or more sources (or --series)", 2)
    if len(names) > len(sources):
        raise fail(f"--name: {len(names)} names for {len(sources)} sources", 2)
    if not step_km > 0:
        raise fail(f"--step-km: {step_km} must be > 0", 2)
    read = [rc.read_source(s, names[i] if i < len(names) else None) for i, s in enumerate(sources)]
    if len({r.name for r in read}) < len(read):
        raise fail(f"sources named alike ({', '.join(r.name for r in read)}): tell them apart with --name", 2)
    band = rc.measure_band(read[0], read[1:], step_km)
    summary: dict[str, Any] = band.summary()
    if out is not None:
        from truceline.agreement import AgreementError, load_agreement

        mpath = rc.write_band(band, out)
        try:
            load_agreement(mpath)
        except AgreementError as exc:
            raise fail(f"written agreement is invalid:\n{exc}") from None
        summary["written"] = str(mpath)
    return summary


def _series(rc: Any, sources: list[str], largest: int, movement_out: Path | None) -> dict[str, Any]:
    """The movement between consecutive versions of the agreements given."""
    versions, parties = [], None
    for spec in sources:
        agreement, vs = rc.versions_of(spec)
        parties = parties or list(agreement.parties)
        versions += vs
    rows, feats = rc.series(versions, parties or [], largest)
    if movement_out is not None:
        from truceline.io.geojson import write_features

        write_features(movement_out, feats)
    return {"parties": parties, "steps": rows}


def _print_band(s: dict[str, Any]) -> None:
    typer.echo(
        f"agreed line: {s['reference']} ({s['reference_date'] or 'no date'}), {s['line_km']:,.1f} km "
        f"in {s['segments']} piece(s) of ~{s['step_km']:g} km"
    )
    typer.echo(
        f"band (largest distance to another source): median {s['median_km']:.2f} km, p90 {s['p90_km']:.2f} km, "
        f"max {s['max_km']:.1f} km; {100 * s['within_1km']:.0f} % within 1 km"
    )
    for src, b in s["by_source"].items():
        r = b["reverse"]
        typer.echo(
            f"  {src} ({b['date'] or 'no date'}): median {b['median_km']:.2f} km, p90 {b['p90_km']:.2f} km; "
            f"its line to the agreed one: median {r['median_km']:.2f} km, p90 {r['p90_km']:.2f} km"
        )
    if s.get("written"):
        typer.echo(f"wrote {s['written']}")


def _print_series(s: dict[str, Any]) -> None:
    for row in s["steps"]:
        typer.echo(f"{row['from']} ({row['from_date']}) -> {row['to']} ({row['to_date']}):")
        for key, d in row["directions"].items():
            where = "; ".join(f"{w['km2']:,.2f} km² at {w['lon']:.4f},{w['lat']:.4f}" for w in d["largest"])
            typer.echo(f"  {key}: {d['km2']:,.2f} km² in {d['pieces']} piece(s){'; largest ' + where if where else ''}")
