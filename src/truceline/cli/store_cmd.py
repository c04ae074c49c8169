"""``truceline store``: the store as a whole: ``copy`` it to another place or backend, verified and resumable."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Annotated

import typer

from truceline.cli.common import app, fail, user_errors
from truceline.store.copy import BATCH, CopyReport

store_app = typer.Typer(help="The store as a whole: copy it to another place or backend.", no_args_is_help=True)
app.add_typer(store_app, name="store")


class _Progress:
    """Rows copied so far, on stderr: a line per table when it is done, and every few seconds while it runs."""

    def __init__(self, every_s: float = 5.0) -> None:
        self.every_s = every_s
        self.table: str | None = None
        self.last = (0, 0)
        self.shown_at = time.monotonic()

    def __call__(self, table: str, written: int, present: int) -> None:
        if table != self.table:
            self.done()
            self.table = table
        self.last = (written, present)
        if time.monotonic() - self.shown_at >= self.every_s:
            self.echo("...")

    def echo(self, tail: str = "") -> None:
        written, present = self.last
        typer.echo(f"{self.table}: {written:,} rows copied, {present:,} already there{tail}", err=True)
        self.shown_at = time.monotonic()

    def done(self) -> None:
        if self.table is not None:
            self.echo()
        self.table = None


def _table(report: CopyReport) -> None:
    """The verification as a table on stdout: each kind's rows and SHA-256 (12 hex digits) in both stores."""
    width = max([len("kind"), *(len(p.name) for p in report.parts)])
    typer.echo(f"{'kind':<{width}}  {'source':>10}  {'destination':>11}  {'sha256 source':<13}  {'sha256 dest.':<13}")
    for p in report.parts:
        verdict = "ok" if p.ok else "MISMATCH"
        typer.echo(
            f"{p.name:<{width}}  {p.source_rows:>10,}  {p.destination_rows:>11,}  {p.source_sha256[:12]:<13}  "
            f"{p.destination_sha256[:12]:<13}  {verdict}"
        )


def _json(report: CopyReport) -> str:
    """The report as JSON, with the full hashes."""
    return json.dumps({
        "source": report.source, "destination": report.destination, "resumed": report.resumed, "ok": report.ok,
        "copied": report.copied, "already_there": report.present, "seconds": round(report.seconds, 3),
        "parts": [{"kind": p.name, "source_rows": p.source_rows, "destination_rows": p.destination_rows,
                   "source_sha256": p.source_sha256, "destination_sha256": p.destination_sha256, "ok": p.ok}
                  for p in report.parts],
    }, indent=2)  # fmt: skip


@store_app.command("copy")
def store_copy(
    src: Annotated[
        str,
        typer.Argument(metavar="SRC_URL", help="The store to copy: a data directory, sqlite://DIR or postgresql://..."),
    ],
    dst: Annotated[
        str,
        typer.Argument(metavar="DST_URL", help="Where to: an empty store, or a copy of SRC_URL that was interrupted."),
    ],
    batch: Annotated[int, typer.Option(help="Rows per transaction of the destination.", min=1)] = BATCH,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON (full hashes).")] = False,
) -> None:
    """Copy a whole store (raw records, detections, derived records, runs, scopes, audit, quarantine,
    tokens: the same ids and content) to another place or backend, then verify it.

    Every kind is compared in both stores by its rows and a SHA-256 of them; exit status 1 naming the
    kinds that differ. Killed at any point, the same command resumes the copy. The destination must be
    empty or an interrupted copy of SRC_URL (else exit status 2, as for a bad URL or the same store twice).
    """
    from truceline.store.copy import copy_store, shown

    progress = _Progress()
    try:
        with user_errors(2):
            typer.echo(f"copying {shown(src)} -> {shown(dst)}", err=True)
            report = copy_store(src, dst, batch=batch, progress=progress)
    except (OSError, sqlite3.Error, ValueError) as exc:
        progress.done()
        again = "" if isinstance(exc, ValueError) else "; run the same command again to resume it"
        raise fail(f"copy stopped: {' '.join(str(exc).split())}{again}", 1) from None
    progress.done()
    if as_json:
        typer.echo(_json(report))
    else:
        _table(report)
    copied = sum(report.copied.values())
    rate = f" ({copied / report.seconds:,.0f} rows/s)" if report.seconds > 0 and copied else ""
    present = sum(report.present.values())
    resumed = f", {present:,} already there (resumed)" if report.resumed else ""
    typer.echo(f"copied {copied:,} rows in {report.seconds:.1f} s{rate}{resumed}", err=True)
    if not report.ok:
        raise fail(f"verification failed: {', '.join(report.mismatched)} differ between source and destination", 1)
    typer.echo(f"verified: {len(report.parts)} kinds identical in {report.destination}", err=True)
    # The server's keys go with the data: tokens (kept as keyed hashes) and public ids hang on them.
    from truceline.core.errors import Conflict
    from truceline.service.keys import carry_keys

    try:
        carried = carry_keys(src, dst)
    except (Conflict, OSError) as exc:
        raise fail(f"keys: {exc}", 1) from None
    if carried:
        typer.echo(f"keys carried: {', '.join(carried)} (tokens and public ids hold in the copy)", err=True)
