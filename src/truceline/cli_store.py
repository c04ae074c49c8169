"""The ``truceline`` commands that work on the store: ingest, process, export, coverage, aggregates, review."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from truceline.cli import _fail, _resolve_agreement, app
from truceline.store import SQLiteStore

DataDir = Annotated[
    Path,
    typer.Option(
        "--data",
        envvar="TRUCELINE_DATA",
        help="Data directory of the store (env TRUCELINE_DATA; default ./truceline-data).",
    ),
]
DEFAULT_DATA = Path(os.environ.get("TRUCELINE_DATA", "truceline-data"))

review_app = typer.Typer(help="Analyst review: confirm, dismiss, mark inconclusive, annotate, merge, split.",
                         no_args_is_help=True)  # fmt: skip
app.add_typer(review_app, name="review")


def _time(value: str | None, option: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _fail(f"{option}: {value!r} is not an ISO 8601 time", 2) from None
    if t.tzinfo is None:
        raise _fail(f"{option}: {value!r} has no timezone (add Z or +03:00)", 2)
    return t


class _Bar:
    """A progress bar on stderr fed with fractions."""

    def __init__(self, label: str) -> None:
        self.cm = typer.progressbar(length=100, label=label, file=sys.stderr)
        self.done = 0

    def __enter__(self) -> _Bar:
        self.bar = self.cm.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cm.__exit__(None, None, None)

    def __call__(self, _stage: str, frac: float) -> None:
        pos = int(frac * 100)
        if pos > self.done:
            self.bar.update(pos - self.done)
            self.done = pos


def _store(data: Path) -> SQLiteStore:
    try:
        return SQLiteStore(data)
    except (ValueError, RuntimeError) as exc:
        raise _fail(f"--data: {exc}", 2) from None


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Observation files (or folders of them): JSON Lines, JSON, CSV.")],
    data: DataDir = DEFAULT_DATA,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    max_problems: Annotated[int, typer.Option(help="Problems printed per file (all are counted).")] = 50,
) -> None:
    """Store observations: every bad record rejected with file, line, field and reason; every good one kept.

    Idempotent by record id. Exit status 1 when anything was rejected.
    """
    from truceline.service.ingest import ingest_files

    store = _store(data)
    try:
        with _Bar("ingesting") as bar:
            report = ingest_files(store, files, progress=bar)
    except FileNotFoundError as exc:
        raise _fail(str(exc), 2) from None
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
    agreement: Annotated[str, typer.Option(help="Agreement directory or example name.")] = "default",
    since: Annotated[str | None, typer.Option(help="Process windows from this ISO time on.")] = None,
    until: Annotated[str | None, typer.Option(help="Process windows before this ISO time.")] = None,
    window_s: Annotated[int, typer.Option(help="Window length, s (divides a day).")] = 3600,
) -> None:
    """Fuse and adjudicate what is new in the store, window by window; safe to kill and rerun."""
    from truceline.agreement import AgreementError, load_agreement
    from truceline.service.process import ProcessParams
    from truceline.service.process import process as run

    t0, t1 = _time(since, "--since"), _time(until, "--until")
    try:
        agr = load_agreement(_resolve_agreement(agreement))
        params = ProcessParams(window_s=window_s)
    except (AgreementError, ValueError) as exc:
        raise _fail(f"--agreement/--window-s: {exc}", 2) from None
    store = _store(data)
    try:
        with _Bar("processing") as bar:
            s = run(store, agr, t0, t1, params, progress=bar)
    finally:
        store.close()
    typer.echo(
        f"{len(s.windows_processed)} of {s.windows_total} window(s) processed: {s.events:,} events, "
        f"{s.incidents:,} incidents, {s.violations:,} violations; {s.claims} claim(s) judged; "
        f"processed up to {s.processed_until.isoformat() if s.processed_until else '-'}"
    )


@app.command()
def export(
    out: Annotated[Path, typer.Option(help="Output folder (events, incidents, violations, claim verdicts).")],
    data: DataDir = DEFAULT_DATA,
    since: Annotated[str | None, typer.Option(help="From this ISO time.")] = None,
    until: Annotated[str | None, typer.Option(help="Before this ISO time.")] = None,
) -> None:
    """Write the current results as JSON Lines (the folder ``truceline score --result`` reads)."""
    from truceline.service.export import export_results

    store = _store(data)
    try:
        counts = export_results(store, out, _time(since, "--since"), _time(until, "--until"))
    finally:
        store.close()
    typer.echo(f"wrote {out}: " + ", ".join(f"{n:,} {k}" for k, n in counts.items()))


@app.command()
def coverage(
    at: Annotated[str, typer.Option(help="ISO time whose sensor health applies.")],
    out: Annotated[Path, typer.Option(help="GeoJSON file to write.")],
    data: DataDir = DEFAULT_DATA,
    weapon_class: Annotated[str, typer.Option(help="Weapon class (codebook value).")] = "artillery_ge_100mm",
    kind: Annotated[str, typer.Option(help="impact or launch.")] = "impact",
    cell_km: Annotated[float, typer.Option(help="Cell size, km.")] = 5.0,
) -> None:
    """The detection-probability map of the sensor network at a time, as GeoJSON cells."""
    from truceline.adjudicate.coverage import SensorNetwork, coverage_grid

    when = _time(at, "--at")
    assert when is not None
    store = _store(data)
    try:
        net = SensorNetwork.from_records(store.records("sensor"), store.records("sensor_status_report"))  # type: ignore[arg-type]
    finally:
        store.close()
    try:
        grid = coverage_grid(net, when=when, weapon_class=weapon_class, kind=kind, cell_km=cell_km)
    except ValueError as exc:
        raise _fail(str(exc), 2) from None
    grid.write_geojson(out)
    typer.echo(f"wrote {out}: {grid.p.size:,} cells, {(grid.p >= 0.9).sum():,} with P >= 0.9")


@app.command()
def aggregates(
    data: DataDir = DEFAULT_DATA,
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
    from truceline.agreement import load_agreement

    try:
        hh, mm = (int(x) for x in cutoff.split(":"))
        co = CutOff(hour=hh, minute=mm, tz=tz)
    except ValueError as exc:
        raise _fail(f"--cutoff/--tz: {exc}", 2) from None
    store = _store(data)
    try:
        from truceline.service.export import current

        vs = [current(d) for d in store.derived("violation")]
    finally:
        store.close()
    try:
        table = aggregate(vs, load_agreement(_resolve_agreement(agreement)), co, tuple(by.split(",")))  # type: ignore[arg-type]
    except ValueError as exc:
        raise _fail(f"--by: {exc}", 2) from None
    if csv:
        table.to_csv(csv)
        typer.echo(f"wrote {csv}: {len(table.rows)} rows, {table.total} violations")
    else:
        typer.echo(table.to_csv_text(), nl=False)


Actor = Annotated[str, typer.Option(help="Who acts (analyst id).")]
Reason = Annotated[str, typer.Option(help="Why: the sources checked, the judgement.")]
Kind = Annotated[str, typer.Argument(help="violation, incident or event.")]
RecordIdArg = Annotated[str, typer.Argument(help="Record id.")]


def _review(action: str, data: Path, *args: object) -> None:
    from truceline.service import review

    store = _store(data)
    try:
        entry = getattr(review, action)(store, *args)
    except (LookupError, ValueError) as exc:
        raise _fail(str(exc)) from None
    finally:
        store.close()
    if isinstance(entry, list):
        typer.echo("created " + ", ".join(i.id for i in entry))
    elif hasattr(entry, "action"):
        typer.echo(f"#{entry.seq} {entry.at:%Y-%m-%dT%H:%M:%SZ} {entry.actor} {entry.action} {entry.target_kind} "
                   f"{entry.target_id}: {entry.before} -> {entry.after}")  # fmt: skip
    else:
        typer.echo(f"created {entry.id}")


def _status_command(name: str, action: str, doc: str) -> None:
    """Register ``truceline review NAME KIND ID --actor --reason`` calling ``service.review.ACTION``."""

    def command(kind: Kind, record_id: RecordIdArg, actor: Actor, reason: Reason,
                data: DataDir = DEFAULT_DATA) -> None:  # fmt: skip
        _review(action, data, kind, record_id, actor, reason)

    command.__doc__ = doc
    review_app.command(name)(command)


for _name, _action, _doc in (
    ("confirm", "confirm", "Confirm after review: status verified."),
    ("dismiss", "dismiss", "Dismiss after review: status refuted."),
    ("inconclusive", "mark_inconclusive", "Mark inconclusive after review."),
    ("request", "request_verification", "Request verification (e.g. a patrol to the site); the status is unchanged."),
):
    _status_command(_name, _action, _doc)


@review_app.command("annotate")
def review_annotate(
    kind: Kind,
    record_id: RecordIdArg,
    actor: Actor,
    text: Annotated[str, typer.Option(help="The note.")],
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Add a note to a record (audit only)."""
    _review("annotate", data, kind, record_id, actor, text)


@review_app.command("merge")
def review_merge(ids: Annotated[list[str], typer.Argument(help="Incident ids to merge.")], actor: Actor,
                 reason: Reason, data: DataDir = DEFAULT_DATA) -> None:  # fmt: skip
    """Merge incidents into a new one (the old ones are superseded, not deleted)."""
    _review("merge_incidents", data, ids, actor, reason)


@review_app.command("split")
def review_split(incident_id: RecordIdArg, actor: Actor, reason: Reason,
                 group: Annotated[list[str], typer.Option(help="Comma-separated event ids of one new incident.")],
                 data: DataDir = DEFAULT_DATA) -> None:  # fmt: skip
    """Split an incident into new ones, one per --group (covering all its events)."""
    _review("split_incident", data, incident_id, [g.split(",") for g in group], actor, reason)


@review_app.command("history")
def review_history(record_id: RecordIdArg, data: DataDir = DEFAULT_DATA) -> None:
    """The audit trail of a record: who, when, what, why, before and after."""
    from truceline.service.review import history

    store = _store(data)
    try:
        for e in history(store, record_id):
            typer.echo(f"#{e.seq} {e.at:%Y-%m-%dT%H:%M:%SZ} {e.actor} {e.action}: {e.reason} | {e.before} -> {e.after}")
    finally:
        store.close()


@app.command()
def adjudicate(
    result: Annotated[Path, typer.Option(help="A fusion result folder (events.jsonl, incidents.jsonl).")],
    observations: Annotated[Path, typer.Option(help="The observations (a simulation folder or its observations/).")],
    agreement: Annotated[str, typer.Option(help="Agreement directory or example name.")] = "default",
) -> None:
    """Judge a fusion result folder against the agreement without a store; writes RESULT/violations.jsonl."""
    from truceline.agreement import AgreementError, load_agreement
    from truceline.service.files import adjudicate_folder

    try:
        n = adjudicate_folder(observations, result, load_agreement(_resolve_agreement(agreement)))
    except (AgreementError, ValueError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"wrote {result / 'violations.jsonl'}: {n:,} violations")
