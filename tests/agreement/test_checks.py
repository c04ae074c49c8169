"""``agreement validate``'s geometry checks: overlaps, slivers, line far from the shared boundary."""

from __future__ import annotations

import json

import pytest
import shapely
from typer.testing import CliRunner

from truceline.agreement import AgreementError, example_path, load_agreement
from truceline.agreement.checks import check_agreement
from truceline.cli import app
from truceline.geo.measure import WGS84, area_km2
from truceline.io.geojson import write_features

from ..conftest import TOY_LINE, TOY_RU

runner = CliRunner()

#: A thin strip east of the toy RU box (7.6 km by ~33 m) and a small round-ish island (not thin).
STRIP = shapely.box(37.1, 47.0, 37.2, 47.0003)
ISLAND = shapely.box(37.3, 47.3, 37.305, 47.305)
#: A thin hole inside the RU box (7.4 km by ~22 m).
HOLE = shapely.box(36.0, 48.0, 36.1, 48.0002)


def _by(findings, check):
    return [f for f in findings if f.check == check]


def test_the_toy_agreement_has_no_findings(make_agreement):
    assert check_agreement(make_agreement()) == []
    ok = runner.invoke(app, ["agreement", "validate", str(make_agreement())])
    assert ok.exit_code == 0 and ok.output.strip().endswith(": valid")


def test_a_small_overlap_is_a_warning_with_its_area_and_place(make_agreement):
    wedge = shapely.Polygon([(34.999, 47.5), (35.0, 47.499), (35.0, 47.501)])  # into UA's side, ~0.008 km²

    def edit(m, root):
        write_features(root / "layers" / "ru_v1.geojson", [(shapely.union(TOY_RU, wedge), {})], precision=9)

    findings = check_agreement(make_agreement(edit))
    [f] = _by(findings, "overlap")
    assert f.value == pytest.approx(area_km2(wedge), rel=1e-3) and f.value < 0.05
    assert f.layer == "lines[0].controlled_areas" and f.feature == "feature 0"
    assert wedge.contains(shapely.Point(f.lon, f.lat))


def test_a_large_overlap_is_an_error_naming_where(make_agreement):
    def edit(m, root):
        write_features(root / "layers" / "ru_v1.geojson", [(shapely.box(34.9, 46.5, 37, 49.5), {})])

    with pytest.raises(AgreementError) as err:
        load_agreement(make_agreement(edit))
    [issue] = [str(i) for i in err.value.issues]
    assert issue.startswith("lines[0].controlled_areas: the parties' areas overlap by")
    lon, lat = (float(x) for x in issue.rsplit(" at ", 1)[1].split(","))
    assert 34.9 < lon < 35.0 and 46.5 < lat < 49.5


def _slivered(m, root):
    ru = shapely.union_all([shapely.Polygon(TOY_RU.exterior, [HOLE.exterior]), STRIP, ISLAND])
    write_features(root / "layers" / "ru_v1.geojson", [(ru, {})], precision=9)


def test_thin_parts_and_holes_are_slivers_a_round_island_is_not(make_agreement):
    findings = _by(check_agreement(make_agreement(_slivered)), "sliver")
    assert len(findings) == 2 and {f.layer for f in findings} == {"lines[0].controlled_areas.RU"}
    assert sorted(f.feature.count("hole") for f in findings) == [0, 1]
    by_place = {("hole" in f.feature): f for f in findings}
    assert HOLE.contains(shapely.Point(by_place[True].lon, by_place[True].lat))
    assert STRIP.contains(shapely.Point(by_place[False].lon, by_place[False].lat))
    assert by_place[False].value == pytest.approx(area_km2(STRIP), rel=1e-3)
    assert not any(ISLAND.contains(shapely.Point(f.lon, f.lat)) for f in findings)
    # A lower area threshold finds none; a wider width threshold finds the island too.
    assert _by(check_agreement(make_agreement(_slivered), sliver_km2=0.1), "sliver") == []
    assert len(_by(check_agreement(make_agreement(_slivered), sliver_width_m=500), "sliver")) == 3


def _far(m, root):
    deep = shapely.LineString([(36.0, 47.2), (36.0, 47.8)])  # 1° east of the shared boundary, inside RU
    write_features(root / "layers" / "line_v1.geojson", [(TOY_LINE, {}), (deep, {})])


def test_a_line_far_from_the_shared_boundary_is_reported(make_agreement):
    [f] = _by(check_agreement(make_agreement(_far)), "far_line")
    assert f.layer == "lines[0].line" and f.feature.startswith("feature 1 part 0 km 0.0-")
    _, _, widest_m = WGS84.inv(35.0, 47.2, 36.0, 47.2)  # the farthest point is the southern end
    assert f.value == pytest.approx(widest_m / 1000.0, rel=2e-3)
    assert f.lon == pytest.approx(36.0, abs=1e-6) and f.lat == pytest.approx(47.2, abs=0.01)
    assert f.message.startswith("66.7 km of line run up to 75.8 km")  # 0.6° of latitude, all of it far
    assert _by(check_agreement(make_agreement(_far), far_km=100.0), "far_line") == []


def test_validate_prints_warnings_exits_0_and_1_with_strict(make_agreement):
    root = make_agreement(_far)
    ok = runner.invoke(app, ["agreement", "validate", str(root)])
    assert ok.exit_code == 0, ok.output
    assert "valid, 1 warning(s)" in ok.output and "warning: far_line: lines[0].line: 1 found" in ok.output
    assert "feature 1 part 0" in ok.output and "at 36.0000," in ok.output
    assert runner.invoke(app, ["agreement", "validate", str(root), "--strict"]).exit_code == 1
    doc = json.loads(runner.invoke(app, ["agreement", "validate", str(root), "--json"]).output)
    assert doc["valid"] and [w["check"] for w in doc["warnings"]] == ["far_line"]
    bad = runner.invoke(app, ["agreement", "validate", str(root), "--far-km", "0"])
    assert bad.exit_code == 2 and "--far-km" in bad.output


def test_the_shipped_default_agreement(tmp_path):
    findings = check_agreement(example_path("default"))
    assert _by(findings, "far_line") == []  # the derived line lies on the shared boundary
    overlap = _by(findings, "overlap")
    assert overlap and sum(f.value for f in overlap) < 0.05  # rounding of the two layers, under the tolerance
    assert all(f.value < 1.0 for f in _by(findings, "sliver"))
