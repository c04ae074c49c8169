"""The ``truceline`` commands that work on the store: ingest, process, export, coverage, aggregates, adjudicate."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from truceline.cli.common import (
    DEFAULT_DATA,
    EXIT_INVALID,
    EXIT_NOT_FOUND,
    EXIT_USAGE,
    TIME_FORM,
    Bar,
    DataDir,
    StoreUrl,
    app,
    fail,
    load_agreement_option,
    open_store,
    parse_time,
    require_path,
)


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Observation files (or folders of them): JSON Lines, JSON, CSV.")],
    data: DataDir = DEFAULT_DATA,
    store_url: StoreUrl = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    max_problems: Annotated[int, typer.Option(help="Problems printed per file (all are counted).", min=0)] = 50,
    not_after: Annotated[
        str | None,
        typer.Option(
            help=f"Latest time accepted ({TIME_FORM}): for an exercise or a replay dated after today. "
            "Default: the server's clock plus a day."
        ),
    ] = None,
) -> None:
    """Store observations: every bad record rejected with file, line, field and reason; every good one kept.

    Idempotent by record id. Exit status 1 when anything was rejected, 2 for a missing file. The bounds every record
    must meet (times, ids, sizes) are in docs/formats.md.
    """
    from truceline.core.limits import InputLimits
    from truceline.service.ingest import ingest_files

    latest = parse_time(not_after, "--not-after")
    limits = InputLimits() if latest is None else InputLimits(future_skew=dt.timedelta(0), clock=lambda: latest)
    missing = [str(f) for f in files if not f.exists()]
    if missing:  # before any store is made or opened
        raise fail(f"no such file or folder: {', '.join(missing)}", EXIT_NOT_FOUND)
    store = open_store(data, store_url, create=True)
    try:
        with Bar("ingesting") as bar:
            report = ingest_files(store, files, progress=bar, limits=limits)
    except FileNotFoundError as exc:
        raise fail(str(exc), EXIT_NOT_FOUND) from None
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        for f in report.files:
            typer.echo(
                f"{f.path}: {f.kind}: {f.read:,} read, {f.inserted:,} new, {f.repeats:,} already stored, "
                f"{len({(p.line, p.record_id) for p in f.problems}):,} rejected"
            )
            for p in f.problems[:max_problems]:
                typer.echo(f"  {p}", err=True)
            if len(f.problems) > max_problems:
                typer.echo(f"  ... and {len(f.problems) - max_problems} more problem(s)", err=True)
        typer.echo(
            f"total: {report.inserted:,} new, {report.repeats:,} already stored, {report.rejected:,} rejected "
            f"-> {store.path}"
        )
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def process(
    data: DataDir = DEFAULT_DATA,
    store_url: StoreUrl = None,
    agreement: Annotated[str, typer.Option(help="Agreement directory or example name.")] = "default",
    since: Annotated[str | None, typer.Option(help=f"Process windows from this time on ({TIME_FORM}).")] = None,
    until: Annotated[str | None, typer.Option(help=f"Process windows before this time ({TIME_FORM}).")] = None,
    window_s: Annotated[int, typer.Option(help="Window length, s (divides a day).")] = 3600,
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep processing what arrives, every --interval seconds, until stopped.")
    ] = False,
    interval: Annotated[float, typer.Option(help="With --follow: seconds between runs.", min=0.1)] = 10.0,
) -> None:
    """Fuse and adjudicate what is new in the store, window by window; safe to kill and rerun."""
    from truceline.service.process import ProcessParams
    from truceline.service.process import process as run

    t0, t1 = parse_time(since, "--since"), parse_time(until, "--until")
    try:
        params = ProcessParams(window_s=window_s)
    except ValueError as exc:
        raise fail(f"--window-s: {exc}", EXIT_USAGE) from None
    agr = load_agreement_option(agreement)
    if follow:
        _follow(data, store_url, agr, interval)
        return
    store = open_store(data, store_url)
    try:
        with Bar("processing") as bar:
            s = run(store, agr, t0, t1, params, progress=bar)
    finally:
        store.close()
    typer.echo(
        f"{len(s.windows_processed)} of {s.windows_total} window(s) processed: {s.events:,} events, "
        f"{s.incidents:,} incidents, {s.violations:,} violations; {s.claims} claim(s) judged; "
        f"processed up to {s.processed_until.isoformat() if s.processed_until else '-'}"
    )
    if s.windows_quarantined or s.quarantined:
        typer.echo(f"{len(s.windows_quarantined)} window(s) failed and {s.quarantined} entr(ies) wait in "
                   "quarantine: truceline quarantine list", err=True)  # fmt: skip


def _follow(data: Path, store_url: str | None, agr: Any, interval: float) -> None:
    """``process --follow``: the live loop in the foreground, one line per run that changed something."""
    from truceline.cli.common import store_location
    from truceline.service.live import LiveProcessor

    _, location = store_location(data, store_url)
    open_store(data, store_url).close()  # a missing store is exit 2 here, not a loop of failures
    loop = LiveProcessor(location, agr, interval)
    typer.echo(f"processing {location} every {interval:g} s; Ctrl-C stops", err=True)
    done = 0
    try:
        while True:
            st = loop.run_once()
            if st.error or st.windows_processed != done:
                lag = "-" if st.lag_s is None else f"{st.lag_s:,.0f} s"
                err = f"; ERROR {st.error}" if st.error else ""
                typer.echo(f"{st.last_run_at}: {st.windows_processed - done} window(s) processed, processed up to "
                           f"{st.processed_until or '-'}, lag {lag}{err}")  # fmt: skip
                done = st.windows_processed
            time.sleep(interval)
    except KeyboardInterrupt:
        typer.echo(f"stopped after {st.runs} run(s)", err=True)


@app.command()
def export(
    out: Annotated[Path, typer.Option(help="Output folder (events, incidents, violations, claim verdicts).")],
    data: DataDir = DEFAULT_DATA,
    store_url: StoreUrl = None,
    since: Annotated[str | None, typer.Option(help=f"From this time ({TIME_FORM}).")] = None,
    until: Annotated[str | None, typer.Option(help=f"Before this time ({TIME_FORM}).")] = None,
) -> None:
    """Write the current results as JSON Lines (the folder ``truceline score --result`` reads)."""
    from truceline.service.export import export_results

    t0, t1 = parse_time(since, "--since"), parse_time(until, "--until")
    store = open_store(data, store_url)
    try:
        counts = export_results(store, out, t0, t1)
    finally:
        store.close()
    typer.echo(f"wrote {out}: " + ", ".join(f"{n:,} {k}" for k, n in counts.items()))


@app.command()
def coverage(
    at: Annotated[str, typer.Option(help=f"The time whose sensor health applies ({TIME_FORM}).")],
    out: Annotated[Path, typer.Option(help="GeoJSON file to write.")],
    data: DataDir = DEFAULT_DATA,
    store_url: StoreUrl = None,
    weapon_class: Annotated[str, typer.Option(help="Weapon class (codebook value).")] = "artillery_ge_100mm",
    kind: Annotated[str, typer.Option(help="impact or launch.")] = "impact",
    cell_km: Annotated[float, typer.Option(help="Cell size, km.")] = 5.0,
) -> None:
    """The detection-probability map of the sensor network at a time, as GeoJSON cells."""
    from truceline.adjudicate.coverage import SensorNetwork, coverage_grid

    when = parse_time(at, "--at")
    assert when is not None
    store = open_store(data, store_url)
    try:
        net = SensorNetwork.from_records(store.records("sensor"), store.records("sensor_status_report"))  # type: ignore[arg-type]
    finally:
        store.close()
    try:
        grid = coverage_grid(net, when=when, weapon_class=weapon_class, kind=kind, cell_km=cell_km)
    except ValueError as exc:
        raise fail(f"--weapon-class/--kind/--cell-km: {exc}", EXIT_USAGE) from None
    grid.write_geojson(out)
    typer.echo(f"wrote {out}: {grid.p.size:,} cells, {(grid.p >= 0.9).sum():,} with P >= 0.9")


@app.command()
def aggregates(
    data: DataDir = DEFAULT_DATA,
    store_url: StoreUrl = None,
    agreement: Annotated[str, typer.Option(help="Agreement (for sectors).")] = "default",
    by: Annotated[str, typer.Option(help="Comma-separated keys: day,sector,oblast,family,kind,party,...")] = (
        "day,sector,oblast,family,kind,party"
    ),
    cutoff: Annotated[str, typer.Option(help="Daily cut-off HH:MM local time.")] = "19:30",
    tz: Annotated[str, typer.Option(help="Time zone of the cut-off.")] = "Europe/Kyiv",
    csv: Annotated[Path | None, typer.Option(help="Write CSV here instead of printing.")] = None,
) -> None:
    """Counts of current violations per day (cut-off at 19:30 local by default), sector, oblast, kind, party."""
    from truceline.adjudicate.aggregates import CutOff, aggregate

    try:
        hh, mm = (int(x) for x in cutoff.split(":"))
        co = CutOff(hour=hh, minute=mm, tz=tz)
    except ValueError as exc:
        raise fail(f"--cutoff/--tz: {exc}", EXIT_USAGE) from None
    agr = load_agreement_option(agreement)
    store = open_store(data, store_url)
    try:
        from truceline.service.export import current

        vs = [current(d) for d in store.derived("violation")]
    finally:
        store.close()
    try:
        table = aggregate(vs, agr, co, tuple(by.split(",")))  # type: ignore[arg-type]
    except ValueError as exc:
        raise fail(f"--by: {exc}", EXIT_USAGE) from None
    if csv:
        table.to_csv(csv)
        typer.echo(f"wrote {csv}: {len(table.rows)} rows, {table.total} violations")
    else:
        typer.echo(table.to_csv_text(), nl=False)


@app.command()
def adjudicate(
    result: Annotated[Path, typer.Option(help="A fusion result folder (events.jsonl, incidents.jsonl).")],
    observations: Annotated[Path, typer.Option(help="The observations (a simulation folder or its observations/).")],
    agreement: Annotated[str, typer.Option(help="Agreement directory or example name.")] = "default",
) -> None:
    """Judge a fusion result folder against the agreement without a store; writes RESULT/violations.jsonl."""
    from truceline.agreement import AgreementError
    from truceline.service.files import adjudicate_folder

    require_path(result, "--result")
    require_path(observations, "--observations")
    agr = load_agreement_option(agreement)
    try:
        n = adjudicate_folder(observations, result, agr)
    except (AgreementError, ValueError) as exc:
        raise fail(str(exc), EXIT_INVALID) from None
    typer.echo(f"wrote {result / 'violations.jsonl'}: {n:,} violations")
