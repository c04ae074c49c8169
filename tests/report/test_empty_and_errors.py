"""An empty day gives a valid bulletin that says so; a bad --date is a clear error."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from truceline.agreement import default_agreement
from truceline.cli import app
from truceline.report import BulletinOptions, BulletinResult, build_bulletin, parse_day
from truceline.store import SQLiteStore

DAY = "2026-09-10"


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> BulletinResult:
    data = tmp_path_factory.mktemp("empty") / "data"
    store = SQLiteStore(data)
    try:
        return build_bulletin(store, default_agreement(), DAY, data / "bulletins" / DAY, BulletinOptions())
    finally:
        store.close()


def test_empty_day_bulletin_says_so(empty: BulletinResult) -> None:
    assert [s.id for s in empty.bulletin.sections] == [
        "summary",
        "regions",
        "findings",
        "attribution",
        "withdrawal",
        "claims",
        "movement",
        "sensors",
        "notable",
        "maps",
        "trend",
        "method",
    ]
    summary = " ".join(empty.bulletin.sections[0].paragraphs)
    assert "recorded no ceasefire violations and made no findings" in summary
    assert "processing does not cover the whole reporting period" in summary
    assert "no data for the previous reporting period" in summary
    html = (empty.out / "bulletin.html").read_text(encoding="utf-8")
    for phrase in (
        "The Mission made no findings in the reporting period.",
        "No claims about the reporting period",
        "freedom of movement was not restricted",
        "No sensors are registered",
        "Nothing stood out in the reporting period",
    ):
        assert phrase in html.replace("&#39;", "'"), phrase
    assert empty.manifest["counts"] == {
        "ceasefire_violations": 0,
        "explosions": 0,
        "findings": 0,
        "claims": 0,
        "restrictions": 0,
    }


def test_empty_day_outputs_are_valid(empty: BulletinResult) -> None:
    out = empty.out
    assert (out / "bulletin.pdf").read_bytes()[:5] == b"%PDF-"
    assert (out / "maps" / "overview.png").is_file() and not list((out / "maps").glob("region-*"))
    gj = json.loads((out / "findings.geojson").read_text(encoding="utf-8"))
    assert gj["type"] == "FeatureCollection" and gj["features"] == []
    with (out / "findings.csv").open(encoding="utf-8") as fh:
        assert next(csv.reader(fh))[0] == "id"
    t = pq.read_table(out / "findings.parquet")
    assert t.num_rows == 0 and json.loads(t.schema.metadata[b"geo"])["primary_column"] == "geometry"
    assert ET.parse(out / "findings.kml").getroot().tag == "{http://www.opengis.net/kml/2.2}kml"


@pytest.mark.parametrize("bad", ["2026-13-01", "2026-9-2", "yesterday", "2026-09-02T19:30", ""])
def test_bad_date_is_a_clear_error(bad: str, tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["report", "--date", bad, "--data", str(tmp_path / "data")])
    assert res.exit_code == 2
    assert f"--date: {bad!r} is not a date in ISO form YYYY-MM-DD" in res.output
    assert not (tmp_path / "data").exists()
    with pytest.raises(ValueError, match="ISO form"):
        parse_day(bad)


def test_bad_agreement_and_cutoff_are_clear_errors(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["report", "--date", DAY, "--data", str(tmp_path), "--agreement", "nope"])
    assert res.exit_code == 2 and "--agreement:" in res.output
    res = CliRunner().invoke(app, ["report", "--date", DAY, "--data", str(tmp_path), "--cutoff", "25:00"])
    assert res.exit_code == 2 and "--cutoff" in res.output


def test_a_day_without_processed_data_is_refused_unless_asked(tmp_path: Path) -> None:
    """An empty bulletin would read as a quiet day: the CLI refuses it (exit 1, saying why and what to do)
    and publishes it only with --allow-empty."""
    SQLiteStore(tmp_path / "data").close()
    args = ["report", "--date", DAY, "--data", str(tmp_path / "data"), "--no-pdf"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 1 and "no observation" in res.output and "--allow-empty" in res.output
    assert not (tmp_path / "data" / "bulletins" / DAY).exists()
    assert CliRunner().invoke(app, [*args, "--allow-empty"]).exit_code == 0
    assert (tmp_path / "data" / "bulletins" / DAY / "bulletin.html").exists()
