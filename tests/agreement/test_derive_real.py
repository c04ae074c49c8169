"""``agreement derive`` on real exports: layer selection, skipped and repaired features, holes, bounds, credits.

Hand-made files test each repair; the two real exports in ``frontline/other_sources`` test the
presets against the DeepState daily snapshot nearest their date.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
import yaml
from typer.testing import CliRunner

from truceline.agreement.build import (
    ControlOptions,
    ImplausibleDerivation,
    SourceInfo,
    collect_snapshots,
    derive_agreement,
    load_country,
)
from truceline.agreement.control import Selection, bounds_for, fill_holes, implausible, read_control
from truceline.cli import app
from truceline.geo.derive import LineDeriver
from truceline.geo.measure import area_km2
from truceline.io.geojson import GeoJSONError, to_feature_dict

runner = CliRunner()


def write_raw(path: Path, features: list[tuple[Any, dict[str, Any]]]) -> Path:
    """A FeatureCollection written as is (a geometry of None stays null; invalid rings stay invalid)."""
    feats = []
    for geom, props in features:
        f = to_feature_dict(geom, props) if geom is not None else {"type": "Feature", "properties": props}
        f.setdefault("geometry", None)
        feats.append(f)
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    return path


OCCUPIED = shapely.box(36, 46, 38, 48)
ORDLO = shapely.box(37.5, 47.5, 39, 49)
MIXED = [
    (OCCUPIED, {"name": "Окуповано /// Occupied"}),
    (ORDLO, {"name": "ОРДЛО /// CADR and CALR"}),
    (shapely.box(34, 46, 35, 47), {"name": "Звільнено /// Liberated"}),
    (shapely.box(35, 47, 35.5, 47.5), {"name": "Статус невідомий /// Unknown status"}),
    (shapely.Point(37, 47), {"name": "Аеродром /// Airfield"}),
    (shapely.LineString([(35, 48), (36, 48)]), {"name": "Напрямок /// Attack direction"}),
    (None, {"name": "Окуповано /// Occupied"}),
]


def test_the_deepstate_preset_keeps_occupied_ordlo_and_crimea_only(tmp_path):
    path = write_raw(
        tmp_path / "raw.geojson",
        [*MIXED, (shapely.box(33, 44.5, 36, 46), {"name": "Окупований Крим /// Occupied Crimea"})],
    )
    read = read_control(path, Selection.parse(preset="deepstate"))
    assert read.selected == 4 and read.used == 3  # occupied, ORDLO, Crimea; the null one skipped
    assert read.geometry.equals(shapely.union_all([OCCUPIED, ORDLO, shapely.box(33, 44.5, 36, 46)]))
    assert any(
        "skipped 1 feature(s), null geometry: feature 6 (name='Окуповано /// Occupied')" in n for n in read.notes
    )


def test_every_feature_skips_points_lines_and_nulls_naming_them(tmp_path):
    read = read_control(write_raw(tmp_path / "raw.geojson", MIXED))
    assert read.used == 4
    notes = "\n".join(read.notes)
    assert "skipped 1 feature(s), Point, not an area: feature 4 (name='Аеродром /// Airfield')" in notes
    assert "skipped 1 feature(s), LineString, not an area: feature 5" in notes
    assert "null geometry: feature 6" in notes


def test_select_by_layer_and_where(tmp_path):
    path = write_raw(
        tmp_path / "isw.geojson",
        [
            (shapely.box(36, 46, 38, 48), {"layer": "VIEW_RussiaCoTinUkraine_V3"}),
            (shapely.box(35, 46, 36, 48), {"layer": "MDS_AssessedRussianAdvanceInUkraine_view"}),
            (None, {"layer": "MDS_AssessedRussianAdvanceInUkraine_view"}),
            (shapely.box(30, 46, 31, 47), {"Name": "claimed"}),
        ],
    )
    by_layer = read_control(path, Selection.parse(layers=["VIEW_RussiaCoTinUkraine_V3"]))
    assert by_layer.selected == 1 and by_layer.geometry.equals(shapely.box(36, 46, 38, 48))
    assert read_control(path, Selection.parse(layers=["claimed"])).geometry.equals(shapely.box(30, 46, 31, 47))
    both = read_control(path, Selection.parse(where=["layer~CoT|Advance"]))
    assert both.selected == 3 and both.used == 2
    assert read_control(path, Selection.parse(preset="isw")).geometry.equals(shapely.box(36, 46, 38, 48))
    anded = Selection.parse(where=["layer~Russia", "layer~Advance"])
    assert read_control(path, anded).geometry.equals(shapely.box(35, 46, 36, 48))


def test_nothing_usable_names_the_file_and_the_selection(tmp_path):
    path = write_raw(tmp_path / "raw.geojson", MIXED)
    with pytest.raises(GeoJSONError, match=r"raw.geojson: nothing usable.*--where 'name~Petsamo' selected 0 of 7"):
        read_control(path, Selection.parse(where=["name~Petsamo"]))
    with pytest.raises(GeoJSONError, match=r"selected 1 of 7 feature\(s\), 0 with a non-empty area"):
        read_control(path, Selection.parse(where=["name~Airfield"]))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"where": ["name"]}, "is not PROP~REGEX"),
        ({"where": ["name~("]}, "bad regular expression"),
        ({"preset": "osce"}, "is not one of deepstate, isw"),
    ],
)
def test_bad_selection_options(args, message):
    with pytest.raises(ValueError, match=message):
        Selection.parse(**args)


def test_an_invalid_bowtie_is_repaired_and_reported(tmp_path):
    bowtie = shapely.Polygon([(36, 46), (38, 48), (38, 46), (36, 48)])
    read = read_control(write_raw(tmp_path / "bow.geojson", [(bowtie, {"name": "x"})]))
    assert read.geometry.is_valid and read.repairs and "Self-intersection" in read.repairs[0]
    assert abs(area_km2(read.geometry) / area_km2(shapely.box(36, 46, 38, 48)) - 0.5) < 0.02


def test_holes_below_the_threshold_are_filled_above_kept():
    small = shapely.box(37.0, 47.0, 37.05, 47.05)  # ~21 km²
    large = shapely.box(36.2, 46.2, 36.5, 46.5)  # ~770 km²
    sliver = shapely.box(37.5, 46.5, 37.5001, 47.5)  # ~0.8 km² but 111 km long: phantom line
    geom = shapely.box(36, 46, 38, 48).difference(shapely.union_all([small, large, sliver]))
    assert len(geom.interiors) == 3
    filled, areas, edge = fill_holes(geom, 100.0)
    assert len(filled.interiors) == 1 and len(areas) == 2
    assert abs(area_km2(shapely.Polygon(filled.interiors[0])) - area_km2(large)) < 1
    assert edge > 2 * 110  # the sliver's two long sides
    unfilled, none, _ = fill_holes(geom, 0.0)
    assert unfilled.equals(geom) and none == []


def test_sliver_between_overlapping_layers_adds_no_line(tmp_path):
    # Two layers overlapping at both ends, 8 m apart between: without filling, the gap's two edges are line.
    west = shapely.box(35, 46, 37, 48)
    east = shapely.union_all(
        [shapely.box(37.0001, 46, 39, 48), shapely.box(36.9, 46, 37.1, 46.2), shapely.box(36.9, 47.8, 37.1, 48)]
    )
    path = write_raw(tmp_path / "c_20260101.geojson", [(west, {}), (east, {})])
    country = shapely.box(30, 45, 40, 52)
    deriver = LineDeriver(country)
    unfilled = deriver.derive(read_control(path).geometry).line_length_km
    filled = deriver.derive(read_control(path, fill_below_km2=100).geometry).line_length_km
    assert unfilled - filled > 300  # two edges of a ~178 km sliver
    assert read_control(path, fill_below_km2=100).filled_km2


def _derive(tmp_path: Path, path: Path, **kw: Any) -> tuple[dict[str, Any], list[str]]:
    notes: list[str] = []
    m = derive_agreement(
        [(dt.date(2026, 1, 1), path)], shapely.box(30, 45, 40, 52), tmp_path / "out", warn=notes.append, **kw
    )
    return yaml.safe_load(m.read_text()), notes


def test_source_name_date_and_attribution_go_into_the_manifest(tmp_path):
    path = write_raw(tmp_path / "export.geojson", MIXED)
    src = SourceInfo("ISW", dt.date(2023, 6, 1), ("© ISW, attribution required", "layer: control of terrain"))
    manifest, notes = _derive(tmp_path, path, source=src, options=ControlOptions(Selection.parse(preset="deepstate")))
    assert manifest["attribution"][:2] == ["© ISW, attribution required", "layer: control of terrain"]
    assert not any("DeepStateMap" in a for a in manifest["attribution"])
    source = manifest["lines"][0]["source"]
    assert source.startswith(
        "ISW, 2023-06-01 (© ISW, attribution required; layer: control of terrain); file export.geojson"
    )
    assert "selected 3 of 7 features by --where 'name~" in source and "1 feature(s) without an area skipped" in source
    assert not any("no --attribution" in n for n in notes)


def test_without_attribution_files_are_credited_by_name_with_a_warning(tmp_path):
    path = write_raw(tmp_path / "export.geojson", MIXED)
    manifest, notes = _derive(tmp_path, path)
    assert manifest["attribution"][0] == "control polygons from export.geojson: source not stated"
    assert any("no --attribution given" in n for n in notes)
    daily = write_raw(tmp_path / "deepstatemap_data_20260101.geojson", [(OCCUPIED, {})])
    manifest, notes = _derive(tmp_path, daily)
    assert manifest["attribution"][0] == "DeepStateMap.Live via cyterat/deepstate-map-data"
    assert not any("no --attribution" in n for n in notes)


def test_bounds_by_date():
    assert bounds_for(dt.date(2010, 1, 1)) is None
    assert implausible(dt.date(2019, 6, 1), 430, 43_000) == ""
    assert "line 1,400 km outside 250-900 km" in implausible(dt.date(2019, 6, 1), 1400, 43_000)
    assert implausible(dt.date(2026, 8, 22), 1407, 116_500) == ""
    why = implausible(dt.date(2023, 5, 22), 7634, 151_934)
    assert "line 7,634 km outside 900-2,000 km and area 151,934 km² outside 90,000-135,000 km²" in why


def test_cli_options_reach_the_manifest(tmp_path):
    path = write_raw(tmp_path / "export_20260101.geojson", MIXED)
    country = tmp_path / "country.geojson"
    write_raw(country, [(shapely.box(30, 45, 40, 52), {})])
    args = ["agreement", "derive", "--control", str(path), "--country", str(country), "--out", str(tmp_path / "o")]
    result = runner.invoke(
        app,
        [
            *args,
            "--preset",
            "deepstate",
            "--source",
            "DSM",
            "--source-date",
            "2025-12-31",
            "--attribution",
            "DeepStateMap.Live",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "skipped 1 feature(s), null geometry" in result.output
    manifest = yaml.safe_load((tmp_path / "o" / "agreement.yaml").read_text())
    assert manifest["attribution"][0] == "DeepStateMap.Live"
    assert manifest["lines"][0]["source"].startswith("DSM, 2025-12-31 (DeepStateMap.Live)")
    for bad, msg in (
        (["--where", "x"], "--where"),
        (["--preset", "x"], "--preset"),
        (["--fill-holes-km2", "-1"], "negative"),
    ):
        r = runner.invoke(app, [*args, *bad])
        assert r.exit_code == 2 and msg in r.output
    nothing = runner.invoke(app, [*args, "--layer", "none"])
    assert nothing.exit_code == 1 and "nothing usable" in nothing.output


# --- the real exports -------------------------------------------------------------------------------

RAW_DEEPSTATE = "deepstate_20230522T095119Z_1684749079.geojson.gz"
RAW_ISW = "isw_combined_20230601.geojson.gz"


@pytest.fixture(scope="module")
def ukraine(shared_data):
    return load_country(shared_data / "admin" / "ua_oblasts_minregion_2020.geojson")


@pytest.fixture(scope="module")
def deriver(ukraine):
    return LineDeriver(ukraine)


def _other(shared_data: Path, name: str) -> Path:
    path = shared_data / "frontline" / "other_sources" / name
    if not path.is_file():
        pytest.skip(f"{path} is absent from the shared data")
    return path


def _sample_distances_km(deriver: LineDeriver, line: shapely.Geometry, ref: shapely.Geometry) -> np.ndarray:
    """Distances (km) of ``line`` sampled every 500 m to ``ref``, in the deriver's projection."""
    a, b = deriver.projection.project_geometry(line), deriver.projection.project_geometry(ref)
    pts = [p.interpolate(d) for p in shapely.get_parts(a) for d in np.arange(0, p.length, 500.0)]
    return shapely.distance(np.array(pts), b) / 1000.0


def test_real_deepstate_export_with_its_preset_is_near_the_daily_line(shared_data, deriver):
    path = _other(shared_data, RAW_DEEPSTATE)
    read = read_control(path, Selection.parse(preset="deepstate"), 100.0)
    d = deriver.derive(read.geometry)
    assert read.selected == 11 and read.filled_km2
    assert 1_000 < d.line_length_km < 1_400  # 1,474 km before the slivers between layers are filled
    assert implausible(dt.date(2023, 5, 22), d.line_length_km, area_km2(d.controlled)) == ""
    # The nearest daily snapshot is 2024-07-08, 13 months later: the front moved up to ~15 km since.
    (_, snap), *_ = collect_snapshots([shared_data / "frontline" / "deepstate_daily"], until=dt.date(2024, 7, 8))
    ref = deriver.derive(read_control(snap, fill_below_km2=100.0).geometry)
    dist = _sample_distances_km(deriver, d.line, ref.line)
    assert np.median(dist) < 1.0 and np.percentile(dist, 90) < 10.0 and dist.max() < 25.0


def test_real_deepstate_export_with_every_layer_is_refused(shared_data, deriver, ukraine, tmp_path):
    path = _other(shared_data, RAW_DEEPSTATE)
    with pytest.raises(ImplausibleDerivation, match=r"implausible result: line [\d,]+ km outside 900-2,000 km"):
        derive_agreement([(dt.date(2023, 5, 22), path)], ukraine, tmp_path / "o", options=ControlOptions())


def test_real_isw_export_with_its_preset(shared_data, deriver, ukraine, tmp_path):
    path = _other(shared_data, RAW_ISW)
    notes: list[str] = []
    opts = ControlOptions(Selection.parse(preset="isw"))
    src = SourceInfo("ISW", None, ("Map content © Institute for the Study of War, attribution required",))
    m = derive_agreement(
        [(dt.date(2023, 6, 1), path)], ukraine, tmp_path / "o", warn=notes.append, source=src, options=opts
    )
    manifest = yaml.safe_load(m.read_text())
    assert manifest["attribution"][0].startswith("Map content © Institute for the Study of War")
    assert any("invalid control polygon repaired (feature 0: Ring Self-intersection" in n for n in notes)
    every = read_control(path)  # the null geometries of the other layers are skipped, not fatal
    assert sorted(every.skipped) == ["null geometry"] and len(every.skipped["null geometry"]) == 5
    d = deriver.derive(read_control(path, opts.selection, 100.0).geometry)
    assert 900 < d.line_length_km < 1_300 and 95_000 < area_km2(d.controlled) < 115_000
    deep = deriver.derive(
        read_control(_other(shared_data, RAW_DEEPSTATE), Selection.parse(preset="deepstate"), 100.0).geometry
    )
    dist = _sample_distances_km(deriver, d.line, deep.line)  # DeepState 10 days earlier
    assert np.median(dist) < 2.0 and np.percentile(dist, 90) < 10.0
