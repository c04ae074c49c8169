"""``truceline demo``: a day of an unravelling ceasefire on the real line, end to end.

Simulates the catalogue's ``escalation`` scenario (or another), ingests it into a fresh store,
processes it (fusion + adjudication), writes the daily bulletin of every reporting day it touches,
creates an analyst token and serves the dashboard; ``--no-serve`` stops after the bulletins (CI).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from truceline.cli.common import Bar, app, fail, open_store
from truceline.store.base import from_us

if TYPE_CHECKING:
    from truceline.agreement import Agreement
    from truceline.report import BulletinResult
    from truceline.store.base import Store

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"  # the repo's catalogue (src/truceline/cli/demo.py)


def _scenario_path(name: str) -> Path:
    p = Path(name)
    if p.exists():
        return p
    for base in (SCENARIOS, Path("scenarios")):
        if (base / f"{name}.yaml").exists():
            return base / f"{name}.yaml"
    raise fail(f"--scenario: {name!r} is neither a file nor a scenario of the catalogue ({SCENARIOS})", 2)


def _step(n: int, total: int, text: str) -> float:
    typer.echo(f"[{n}/{total}] {text}", err=True)
    return time.perf_counter()


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Working folder (simulation, store, bulletins); emptied first.")] = Path(
        "out/demo-run"
    ),
    scenario: Annotated[str, typer.Option(help="Catalogue scenario name or a scenario YAML.")] = "escalation",
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the dashboard at the end.")] = True,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Render the bulletins' PDF.")] = True,
) -> None:
    """Simulate, ingest, process, write the bulletin, serve the dashboard (see the module docstring)."""
    from truceline.agreement import load_agreement
    from truceline.service.ingest import ingest_files
    from truceline.service.process import process
    from truceline.sim.run import simulate
    from truceline.sim.scenario import load_scenario

    total = 6 if serve else 5
    t_all = time.perf_counter()
    spath = _scenario_path(scenario)
    if out.exists():
        shutil.rmtree(out)
    sim, data = out / "simulation", out / "data"
    t = _step(1, total, f"simulating {spath.name} on the real line")
    with Bar("simulating") as bar:
        summary = simulate(load_scenario(spath), sim, progress=lambda _msg: None)
        bar("simulate", 1.0)
    c = summary.counts
    typer.echo(f"      {c['detections']:,} detections, {c['truth_violations']:,} true violations, {c['claims']} claims "
               f"({time.perf_counter() - t:.1f} s)", err=True)  # fmt: skip
    store = open_store(data, create=True)
    try:
        t = _step(2, total, "ingesting the observations")
        with Bar("ingesting") as bar:
            rep = ingest_files(store, [sim], progress=bar)
        typer.echo(f"      {rep.inserted:,} records stored, {rep.rejected} rejected ({time.perf_counter() - t:.1f} s)",
                   err=True)  # fmt: skip
        agr = load_agreement(sim / "agreement")
        t = _step(3, total, "processing: fusion and adjudication, window by window (first run compiles, ~1 min)")
        with Bar("processing") as bar:
            ps = process(store, agr, progress=bar)
        typer.echo(f"      {ps.events:,} events, {ps.incidents:,} incidents, {ps.violations:,} violations, "
                   f"{ps.claims} claims judged ({time.perf_counter() - t:.1f} s)", err=True)  # fmt: skip
        bulletins = _bulletins(_step(4, total, "writing the daily bulletins"), store, agr, spath, data, pdf)
        _score(_step(5, total, "scoring against the ground truth"), store, sim, out)
        token = None
        if serve:
            from truceline.service.tokens import create_token

            token, _ = create_token(store, role="analyst", name="demo-analyst")
    finally:
        store.close()
    typer.echo(f"demo done in {time.perf_counter() - t_all:.0f} s: {out}", err=True)
    if not serve:
        return
    _step(6, total, "serving the dashboard")
    import uvicorn

    from truceline.api import create_app

    url = f"http://{host}:{port}/"
    typer.echo(f"\n  dashboard:  {url}#token={token}\n  public:     {url}\n  API docs:   {url}docs\n"
               f"  OGC API:    {url}ogc\n  bulletin:   {bulletins[0].out / 'bulletin.pdf'}\n", err=True)  # fmt: skip
    uvicorn.run(create_app(data, sim / "agreement"), host=host, port=port, log_level="warning")


def _bulletins(t: float, store: Store, agr: Agreement, spath: Path, data: Path, pdf: bool) -> list[BulletinResult]:
    """Step 4: the internal and the public bulletin of every reporting day the scenario touches."""
    from truceline.report import BulletinOptions, build_bulletin
    from truceline.sim.scenario import load_scenario

    span = store.time_span_us()
    assert span is not None
    start = from_us(span[0])
    end = start + dt.timedelta(seconds=load_scenario(spath).duration_h * 3600)
    opts = BulletinOptions(pdf=pdf)
    keys = _ledger_key(data)
    days = sorted({d.item() for d in opts.cutoff.report_day([start, end])})
    days = [days[0] + dt.timedelta(days=i) for i in range((days[-1] - days[0]).days + 1)]
    bulletins = []
    public = dataclasses.replace(opts, public=True)
    with Bar("bulletins") as bar:
        for k, day in enumerate(days):
            res = build_bulletin(store, agr, day, data / "bulletins" / day.isoformat(), opts)
            bulletins.append(res)
            # The public edition (positions to 0.01 deg, no evidence ids): what the public and the
            # parties' liaison officers are served.
            build_bulletin(store, agr, day, data / "bulletins" / f"{day.isoformat()}-public", public)
            bar("bulletin", (k + 1) / len(days))
    for res in bulletins:
        typer.echo(f"      {res.out / 'bulletin.html'} (and {res.out.name}-public/)", err=True)
    typer.echo(f"      logged in the transparency log: truceline verify {bulletins[0].out} --keys {keys}", err=True)
    typer.echo(f"      ({time.perf_counter() - t:.1f} s; data up to {end:%Y-%m-%d %H:%M}Z)", err=True)
    return bulletins


def _ledger_key(data: Path) -> Path:
    """The demo mission's signing key for the transparency log (made once per data directory), and the
    file of its public key a party pins to verify the bulletins (docs/ledger.md)."""
    from truceline.ledger import keygen
    from truceline.ledger.keys import signers

    pinned = data / "ledger-keys.txt"
    if not signers(data):
        verifier, _ = keygen(data, "demo.truceline/ledger")
        pinned.write_text(verifier.vkey + "\n", encoding="utf-8")
    return pinned


def _score(t: float, store: Store, sim: Path, out: Path) -> None:
    """Step 5: export the store's results and score them against the simulation's ground truth."""
    from truceline.scoring.score import score_dirs
    from truceline.service.export import export_results

    export_results(store, out / "results")
    card = score_dirs(sim, out / "results")
    v = card.violations.overall
    typer.echo(f"      event F1 {card.events.f1:.3f}, violations precision {v.precision:.3f} "
               f"recall {v.recall:.3f}, claims accuracy {card.claims.accuracy:.3f}, false flags corroborated "
               f"{card.claims.false_flags_corroborated}", err=True)  # fmt: skip
    (out / "scorecard.md").write_text(card.to_markdown(), encoding="utf-8")
