"""The ``truceline report`` command: the daily bulletin of one reporting day."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from truceline.cli.common import (
    DEFAULT_DATA,
    EXIT_USAGE,
    DataDir,
    app,
    fail,
    load_agreement_option,
    open_store,
    parse_day,
)


@app.command()
def report(
    date: Annotated[str, typer.Option("--date", help="Reporting day, YYYY-MM-DD (ends at the cut-off on that date).")],
    data: DataDir = DEFAULT_DATA,
    agreement: Annotated[str, typer.Option(help="Agreement directory or example name.")] = "default",
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default DATA/bulletins/DATE, or DATE-public with --public).")
    ] = None,
    public: Annotated[
        bool, typer.Option("--public", help="Public edition: positions to 0.01 deg, no evidence ids.")
    ] = (False),
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Write bulletin.pdf (WeasyPrint).")] = True,
    trend_days: Annotated[int, typer.Option(help="Reporting days in the trend plot.")] = 7,
    cutoff: Annotated[str, typer.Option(help="Daily cut-off HH:MM local time.")] = "19:30",
    tz: Annotated[str, typer.Option(help="Time zone of the cut-off.")] = "Europe/Kyiv",
    allow_empty: Annotated[
        bool,
        typer.Option("--allow-empty", help="Publish the day even when the store holds no processed data for it."),
    ] = False,
) -> None:
    """The daily bulletin (OSCE-style): HTML, PDF, maps, trend, findings as GeoJSON/CSV/GeoParquet/KML, manifest.

    The reporting day D runs from the cut-off (19:30 Kyiv time) on D-1 to the cut-off on D. A day the
    store holds no data for, or has not processed as far as its data go, is refused (exit 1) unless
    --allow-empty: an empty or half-processed bulletin would read as a quiet day.
    """
    from truceline.adjudicate.aggregates import CutOff
    from truceline.report import BulletinOptions, build_bulletin

    day = parse_day(date, "--date")
    try:
        hh, mm = (int(x) for x in cutoff.split(":"))
        opts = BulletinOptions(public=public, pdf=pdf, trend_days=trend_days, cutoff=CutOff(hour=hh, minute=mm, tz=tz))
        if trend_days < 1:
            raise ValueError(f"trend_days: {trend_days} must be >= 1")
    except ValueError as exc:
        raise fail(f"--cutoff/--tz/--trend-days: {exc}", EXIT_USAGE) from None
    agr = load_agreement_option(agreement)
    folder = out or data / "bulletins" / (day.isoformat() + ("-public" if public else ""))
    store = open_store(data)
    try:
        if not allow_empty:
            _refuse_unprocessed(store, agr, day, opts)
        res = build_bulletin(store, agr, day, folder, opts)
    finally:
        store.close()
    m = res.manifest["counts"]
    typer.echo(
        f"{res.bulletin.id}: {m['ceasefire_violations']:,} ceasefire violations ({m['explosions']:,} explosions), "
        f"{m['findings']:,} findings, {m['claims']} claims, {m['restrictions']} restrictions"
    )
    typer.echo(f"wrote {folder}: {', '.join(res.files)}")
    typer.echo("timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in res.timings_s.items()))


def _refuse_unprocessed(store: Any, agr: Any, day: Any, opts: Any) -> None:
    """Exit 1 when the store has no observation before the day's end, or has not processed what it holds of
    the day (processing must reach the day's end, or the last observation if the data stop earlier)."""
    import datetime as dt

    from truceline.report.data import load_day

    d = load_day(store, agr, day, opts.cutoff, trend_days=1)
    span = store.time_span_us()
    last = None if span is None else dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=span[1])
    need = d.end if last is None else min(d.end, last)
    if d.has_data(day) and d.processed_until is not None and d.processed_until >= need:
        return
    why = (
        "the store holds no observation before its end"
        if not d.has_data(day)
        else f"processing reaches only {d.processed_until.isoformat() if d.processed_until else 'nothing'}, the data "
        f"{need.isoformat()}"
    )
    raise fail(
        f"--date: {day}: {why} (day ends {d.end.isoformat()}); run `truceline process`, or --allow-empty to publish "
        "the day as it stands"
    )
