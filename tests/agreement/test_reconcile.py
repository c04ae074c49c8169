"""``agreement reconcile``: the band between sources along the agreed line, the band layer, movement."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
import shapely
import yaml
from typer.testing import CliRunner

from truceline.agreement import AgreementError, load_agreement
from truceline.agreement.build import load_country
from truceline.agreement.control import Selection, read_control
from truceline.agreement.reconcile import LineSource, ReconcileError, measure_band, read_source, series, write_band
from truceline.cli import app
from truceline.geo.derive import LineDeriver
from truceline.geo.measure import WGS84, area_km2
from truceline.io.geojson import write_features

from ..conftest import TOY_RU, TOY_UA

runner = CliRunner()

#: The toy line (35°E, 47-49°N) moved 0.01° east.
OFFSET = shapely.LineString([(35.01, 47.0), (35.01, 48.0), (35.01, 49.0)])


def _km_east(lat: float, dlon: float = 0.01) -> float:
    return WGS84.inv(35.0, lat, 35.0 + dlon, lat)[2] / 1000.0


def test_two_lines_offset_by_a_known_distance_give_that_distance(make_agreement, tmp_path):
    other = tmp_path / "other_2026-01-05.geojson"
    write_features(other, [(OFFSET, {"version": "2026-01-05"})])
    ref, oth = read_source(str(make_agreement())), read_source(str(other))
    assert oth.name == "other_2026-01-05" and oth.date == dt.date(2026, 1, 5)
    band = measure_band(ref, [oth], step_km=1.0)
    assert len(band.segments) == 223  # 222.4 km cut into pieces of at most 1 km
    lats = np.array([shapely.line_interpolate_point(s, 0.5, normalized=True).y for s in band.segments])
    expected = np.array([_km_east(lat) for lat in lats])
    assert np.abs(band.disagreement_km - expected).max() < 0.002  # within 2 m at every piece
    s = band.summary()
    assert s["median_km"] == pytest.approx(_km_east(48.0), abs=0.002)
    assert s["by_source"]["other_2026-01-05"]["reverse"]["median_km"] == pytest.approx(_km_east(48.0), abs=0.002)
    assert s["within_1km"] == 1.0


def test_the_band_is_the_largest_distance_to_any_other_source(make_agreement, tmp_path):
    near, far = tmp_path / "near.geojson", tmp_path / "far.geojson"
    write_features(near, [(OFFSET, {})])
    write_features(far, [(shapely.LineString([(34.95, 47.0), (34.95, 49.0)]), {})])
    band = measure_band(read_source(str(make_agreement())), [read_source(str(near)), read_source(str(far))])
    assert band.km.shape == (223, 2)
    np.testing.assert_allclose(band.disagreement_km, band.km[:, 1])
    props = band.features()[100][1]
    assert props["farthest"] == "far" and props["sources"] == ["toy:v1", "near", "far"]
    assert props["disagreement_km"] == pytest.approx(_km_east(48.0, 0.05), abs=0.05)


def test_the_band_is_written_as_a_versioned_layer_and_loads(make_agreement, tmp_path):
    other = tmp_path / "other.geojson"
    write_features(other, [(OFFSET, {})])
    band = measure_band(read_source(str(make_agreement())), [read_source(str(other), name="Other map")])
    mpath = write_band(band, tmp_path / "out")
    manifest = yaml.safe_load(mpath.read_text())
    assert manifest["lines"][0]["band"] == {
        "file": "layers/band_v1.geojson",
        "sources": ["toy:v1", "Other map"],
        "step_km": 1.0,
    }
    v = load_agreement(mpath).versions[0]
    assert v.band is not None and v.band.sources == ("toy:v1", "Other map") and len(v.band.segments) == 223
    assert min(v.band.disagreement_km) > 0.72 and max(v.band.disagreement_km) < 0.77
    assert load_agreement(make_agreement()).versions[0].band is None  # an agreement without one is unchanged
    # The same band written in place into the reference agreement.
    in_place = write_band(band, make_agreement())
    assert load_agreement(in_place).versions[0].band is not None


def test_a_bad_band_layer_names_its_field_and_feature(make_agreement):
    def edit(m, root):
        write_features(root / "layers" / "band.geojson", [(OFFSET, {"disagreement_km": -1}), (TOY_RU, {})])
        m["lines"][0]["band"] = {"file": "layers/band.geojson", "sources": ["a", "b"]}

    with pytest.raises(AgreementError) as err:
        load_agreement(make_agreement(edit))
    issues = [str(i) for i in err.value.issues]
    assert (
        "lines[0].band.file: layers/band.geojson feature 0: disagreement_km: must be a number >= 0 (got -1)" in issues
    )
    assert "lines[0].band.file: layers/band.geojson feature 1: geometry is Polygon, expected a line" in issues

    def one_source(m, root):
        m["lines"][0]["band"] = {"file": "layers/line_v1.geojson", "sources": ["a"]}

    with pytest.raises(AgreementError, match=r"lines\[0\]\.band\.sources"):
        load_agreement(make_agreement(one_source))


def test_bad_sources_are_refused_naming_the_file_and_field(make_agreement, tmp_path):
    poly = tmp_path / "area.geojson"
    write_features(poly, [(TOY_UA, {})])
    with pytest.raises(ReconcileError, match=r"area\.geojson: feature 0: geometry: Polygon, expected a LineString"):
        read_source(str(poly))
    with pytest.raises(ReconcileError, match=r"lines: no version 'v9' \(versions: v1\)"):
        read_source(f"{make_agreement()}@v9")
    bad_date = tmp_path / "line.geojson"
    write_features(bad_date, [(OFFSET, {"version": "soon"})])
    with pytest.raises(ReconcileError, match=r"line\.geojson: feature 0: version: 'soon' is not a date"):
        read_source(str(bad_date))
    line_first = LineSource("file", None, OFFSET, "file.geojson")
    with pytest.raises(ReconcileError, match=r"file\.geojson: the first source gives the agreed line and must be an"):
        write_band(measure_band(line_first, [read_source(str(make_agreement()))]), tmp_path / "o")


def test_cli_reconcile_prints_the_band_and_refuses_one_source(make_agreement, tmp_path):
    other = tmp_path / "other.geojson"
    write_features(other, [(OFFSET, {})])
    root = make_agreement()
    r = runner.invoke(app, ["agreement", "reconcile", str(root), str(other), "--out", str(tmp_path / "o"), "--json"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert s["median_km"] == pytest.approx(_km_east(48.0), abs=0.002) and s["written"].endswith("agreement.yaml")
    text = runner.invoke(app, ["agreement", "reconcile", str(root), str(other)])
    assert text.exit_code == 0 and f"median {_km_east(48.0):.2f} km" in text.output
    one = runner.invoke(app, ["agreement", "reconcile", str(root)])
    assert one.exit_code == 2 and "two or more sources" in one.output
    missing = runner.invoke(app, ["agreement", "reconcile", str(root), str(tmp_path / "nope.geojson")])
    assert missing.exit_code == 2 and "nope.geojson: no such file or folder" in missing.output


def _moved(m, root):
    """A second version from 2026-02-01: RU took the strip 34.9-35°E, 47.5-48.5°N."""
    taken = shapely.box(34.9, 47.5, 35.0, 48.5)
    write_features(root / "layers" / "ru_v2.geojson", [(shapely.union(TOY_RU, taken), {})], precision=9)
    write_features(root / "layers" / "ua_v2.geojson", [(shapely.difference(TOY_UA, taken), {})], precision=9)
    line2 = shapely.LineString([(35, 47), (35, 47.5), (34.9, 47.5), (34.9, 48.5), (35, 48.5), (35, 49)])
    write_features(root / "layers" / "line_v2.geojson", [(line2, {})])
    m["lines"].append(
        {
            "id": "v2",
            "valid_from": "2026-02-01T00:00:00+00:00",
            "line": "layers/line_v2.geojson",
            "controlled_areas": {"UA": "layers/ua_v2.geojson", "RU": "layers/ru_v2.geojson"},
        }
    )


def test_movement_between_versions_per_direction_and_where(make_agreement, tmp_path):
    a = load_agreement(make_agreement(_moved))
    rows, feats = series(list(a.versions), list(a.parties))
    [row] = rows
    assert (row["from"], row["to"], row["to_date"]) == ("v1", "v2", "2026-02-01")
    gained = row["directions"]["RU<-UA"]
    assert gained["km2"] == pytest.approx(area_km2(shapely.box(34.9, 47.5, 35.0, 48.5)), rel=1e-4)
    assert gained["pieces"] == 1 and gained["largest"][0]["lon"] == pytest.approx(34.95, abs=1e-3)
    assert row["directions"]["UA<-RU"] == {"km2": 0.0, "pieces": 0, "largest": []}
    assert [f[1]["gainer"] for f in feats] == ["RU"]
    out = tmp_path / "moved.geojson"
    r = runner.invoke(app, ["agreement", "reconcile", str(a.path), "--series", "--movement", str(out)])
    assert r.exit_code == 0, r.output
    assert f"RU<-UA: {gained['km2']:,.2f} km² in 1 piece(s); largest" in r.output and out.is_file()


def test_a_series_needs_agreements_with_two_versions(make_agreement, tmp_path):
    with pytest.raises(ReconcileError, match="at least two dated versions"):
        series(list(load_agreement(make_agreement()).versions), ["UA", "RU"])
    line = tmp_path / "line.geojson"
    write_features(line, [(OFFSET, {})])
    r = runner.invoke(app, ["agreement", "reconcile", str(line), str(line), "--series"])
    assert r.exit_code == 1 and "not an agreement directory" in r.output


# --- the real 2023 exports ------------------------------------------------------------------------------


def test_isw_against_deepstate_2023(shared_data):
    other = shared_data / "frontline" / "other_sources"
    files = {
        "isw": other / "isw_combined_20230601.geojson.gz",
        "deepstate": other / "deepstate_20230522T095119Z_1684749079.geojson.gz",
    }
    if not all(p.is_file() for p in files.values()):
        pytest.skip(f"{other} lacks the 2023 exports")
    deriver = LineDeriver(load_country(shared_data / "admin" / "ua_oblasts_minregion_2020.geojson"))
    lines = {
        k: deriver.derive(read_control(p, Selection.parse(preset=k), 100.0).geometry).line for k, p in files.items()
    }
    isw = LineSource("ISW", dt.date(2023, 6, 1), lines["isw"], str(files["isw"]))
    ds = LineSource("DeepState", dt.date(2023, 5, 22), lines["deepstate"], str(files["deepstate"]))
    s = measure_band(isw, [ds]).summary()
    assert 1_000 < s["line_km"] < 1_100
    assert 0.4 < s["median_km"] < 1.6 and 3.0 < s["p90_km"] < 5.5  # issue 18: median 0.4-1.6 km, p90 3-5 km
    assert 0.4 < s["by_source"]["DeepState"]["reverse"]["median_km"] < 2.0
