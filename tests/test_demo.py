"""``truceline demo --no-serve`` end to end: simulate, ingest, process, bulletins, scorecard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from truceline.cli import app


@pytest.mark.slow
def test_demo_no_serve_runs_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    res = CliRunner().invoke(app, ["demo", "--no-serve", "--out", str(out)])
    assert res.exit_code == 0, res.output
    for step in ("[1/5] simulating", "[2/5] ingesting", "[3/5] processing", "[4/5] writing the daily bulletins",
                 "[5/5] scoring"):  # fmt: skip
        assert step in res.output
    bulletins = sorted((out / "data" / "bulletins").iterdir())
    # The day crosses the 19:30 cut-off: two reporting days, each internal and public.
    assert [b.name for b in bulletins] == ["2026-09-02", "2026-09-02-public", "2026-09-03", "2026-09-03-public"]
    for b in bulletins:
        names = {p.name for p in b.iterdir()}
        assert {"bulletin.html", "bulletin.pdf", "findings.geojson", "findings.csv", "findings.parquet",
                "findings.kml", "manifest.json"} <= names  # fmt: skip
        assert json.loads((b / "manifest.json").read_text())["counts"]["findings"] > 0
        assert (b / "bulletin.pdf").read_bytes()[:5] == b"%PDF-"
        assert "ledger-proof.json" in names  # every bulletin logged in the transparency log
    keys = out / "data" / "ledger-keys.txt"
    assert f"truceline verify {bulletins[0]} --keys {keys}" in res.output
    checked = CliRunner().invoke(app, ["verify", str(bulletins[1]), "--keys", str(keys)])
    assert checked.exit_code == 0 and "ok: bulletin-2026-09-02-public" in checked.output, checked.output
    card = (out / "scorecard.md").read_text()
    assert "**False-flag claims corroborated: 0**" in card
    # Nothing was rejected and the store is left behind for `truceline serve --data`.
    assert "0 rejected" in res.output and (out / "data" / "truceline.sqlite").exists()


def test_the_catalogue_is_found_from_any_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`truceline demo --scenario NAME` finds the repo's catalogue wherever it is run from."""
    from truceline.cli.demo import SCENARIOS, _scenario_path

    monkeypatch.chdir(tmp_path)
    assert _scenario_path("escalation") == SCENARIOS / "escalation.yaml"
    assert (SCENARIOS / "escalation.yaml").is_file()
