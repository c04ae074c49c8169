"""``truceline reprocess``: re-run the archive's windows (new algorithms), fused on a Dask cluster."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from truceline.cli.common import (
    DEFAULT_DATA,
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
)


@app.command()
def reprocess(
    since: Annotated[str, typer.Option(help=f"Redo the windows from this time on ({TIME_FORM}).")],
    until: Annotated[str, typer.Option(help=f"Redo the windows before this time ({TIME_FORM}).")],
    data: DataDir = DEFAULT_DATA,
    store_url: StoreUrl = None,
    agreement: Annotated[str, typer.Option(help="Agreement directory or example name.")] = "default",
    cluster: Annotated[
        str,
        typer.Option(
            help="Where windows are fused: local (a Dask LocalCluster, a worker per core), local:N (N workers), "
            "a scheduler address (tcp://scheduler:8786), or none (in-process, serially)."
        ),
    ] = "local",
    window_s: Annotated[int, typer.Option(help="Window length, s (divides a day).")] = 3600,
    restart: Annotated[
        bool, typer.Option("--restart", help="Redo every window, even those an earlier run of these parameters did.")
    ] = False,
    connect_timeout: Annotated[float, typer.Option(help="Seconds to wait for a scheduler address.", min=0.1)] = 10.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Fuse and adjudicate again every window of [--since, --until), new data or not; safe to kill and rerun.

    Fusion fans out to Dask workers; this process reads the store, stores the windows in order and
    judges the claims (the store's only writer). The result is that of a serial run. Run again with
    the same parameters after a kill, it skips the windows already redone. docs/reprocess.md.
    """
    from truceline.core.errors import InvalidInput
    from truceline.service.process import ProcessParams
    from truceline.service.reprocess import parse_cluster
    from truceline.service.reprocess import reprocess as run

    t0, t1 = parse_time(since, "--since"), parse_time(until, "--until")
    assert t0 is not None and t1 is not None
    if t1 <= t0:
        raise fail(f"--until: {until} is not after --since {since}", EXIT_USAGE)
    try:
        parse_cluster(cluster)
        params = ProcessParams(window_s=window_s)
    except InvalidInput as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    agr = load_agreement_option(agreement)
    store = open_store(data, store_url)
    try:
        with Bar("reprocessing") as bar:
            s = run(
                store, agr, t0, t1, params, cluster, restart=restart, progress=bar, connect_timeout_s=connect_timeout
            )
    except InvalidInput as exc:
        raise fail(str(exc), 2) from None
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(s.to_dict(), indent=2))
        return
    where = f"{s.workers} Dask worker(s)" if s.workers else "in-process"
    typer.echo(
        f"{len(s.windows_reprocessed)} of {s.windows_total} window(s) reprocessed ({where}, {s.wall_s:,.1f} s): "
        f"{s.events:,} events, {s.incidents:,} incidents, {s.violations:,} violations; "
        f"{s.skipped} skipped (done by an earlier run of these parameters), {s.held} held in quarantine, "
        f"{len(s.windows_quarantined)} failed (held); {s.claims} claim(s) judged; run {s.run_id or '-'}"
    )
    if s.windows_quarantined:
        typer.echo(f"{len(s.windows_quarantined)} window(s) failed: truceline quarantine list", err=True)
