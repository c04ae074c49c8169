"""``truceline version`` and ``truceline agreement validate|show|derive``: the agreement as data."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from truceline import __version__
from truceline.cli.common import DEFAULT_COUNTRY, DEFAULT_WORLD, app, fail, parse_when, resolve_agreement

agreement_app = typer.Typer(
    help="The agreement as data: validate, show and derive agreement definitions.",
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
) -> None:
    """Check an agreement; list every problem with its field path. Exit 1 when invalid."""
    from truceline.agreement import validate_agreement

    p = resolve_agreement(path)
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
        agreement = load_agreement(resolve_agreement(path))
        summary = summarize(agreement, parse_when(date))
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
        raise fail(f"--country: {country} not found", 2)
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

    with typer.progressbar(length=len(snaps), label="deriving", file=sys.stderr) as bar:

        def tick(_: dt.date) -> None:
            bar.update(1)

        try:
            return derive_agreement(
                snaps,
                load_country(country),
                out,
                template=resolve_agreement(template) if template else None,
                progress=tick,
                warn=lambda note: typer.echo(f"warning: {note}", err=True),
                **kw,
            )
        except (GeoJSONError, ImplausibleDerivation) as exc:
            raise fail(str(exc)) from None


def _date_option(value: str | None, opt: str) -> dt.date | None:
    """The date an option gives (None when not given); exit 2 naming the option when it is not one."""
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        raise fail(f"{opt}: {value!r} is not a date (YYYY-MM-DD)", 2) from None


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
        raise fail(f"--world: {world} not found", 2)
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
