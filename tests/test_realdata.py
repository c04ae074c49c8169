"""Real data from ../shared/data: line lengths, known towns on the right side, the shipped examples."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
import shapely
from typer.testing import CliRunner

from truceline.agreement import default_agreement, load_agreement
from truceline.agreement.build import load_country
from truceline.cli import app
from truceline.geo.derive import LineDeriver
from truceline.geo.measure import length_km
from truceline.io.geojson import read_union

from .geo.reference import geodesic_distance_to_line_m

pytestmark = pytest.mark.realdata
UTC = dt.UTC
SNAPSHOT = "frontline/deepstate_daily/deepstatemap_data_20260822.geojson.gz"

#: GeoNames coordinates (lon, lat).
TOWNS = {
    "Kramatorsk": (37.56779, 48.73106),
    "Sloviansk": (37.61620, 48.85200),
    "Zaporizhzhia": (35.14729, 47.82289),
    "Kharkiv": (36.25475, 49.98177),
    "Kherson": (32.61458, 46.63542),
    "Kyiv": (30.52380, 50.45466),
    "Donetsk": (37.80224, 48.02300),
    "Luhansk": (39.30780, 48.56705),
    "Mariupol": (37.54131, 47.09514),
    "Melitopol": (35.36530, 46.84891),
    "Simferopol": (34.10240, 44.95719),
    "Sevastopol": (33.52567, 44.58883),
}


@pytest.fixture(scope="module")
def country(shared_data):
    return load_country(shared_data / "admin" / "ua_oblasts_minregion_2020.geojson")


def test_2026_line_length_and_vertices_on_the_snapshot_boundary(shared_data, country):
    control = read_union(shared_data / SNAPSHOT)
    d = LineDeriver(country).derive(control)
    assert 1250 < d.line_length_km < 1550
    boundary = shapely.boundary(control)
    coords = shapely.get_coordinates(d.line)
    # Distance of every vertex to the snapshot's boundary, in km (degrees scaled conservatively).
    far = shapely.distance(shapely.points(coords), boundary) * 111.32
    assert far.max() < 1.0, f"a line vertex is {far.max():.2f} km (upper bound) from the snapshot boundary"


def test_2015_proxy_line_is_about_430_km(shared_data, country):
    derived = json.loads((shared_data / "derived" / "contact_line_2015_2022_from_deepstate_ordlo.geojson").read_text())
    ordlo = shapely.geometry.shape(derived["features"][1]["geometry"])
    d = LineDeriver(country).derive(ordlo)
    reference = shapely.geometry.shape(derived["features"][0]["geometry"])
    assert abs(d.line_length_km - length_km(reference)) < 15
    assert 410 < d.line_length_km < 450


def _sides(agreement, when):
    lon = [p[0] for p in TOWNS.values()]
    lat = [p[1] for p in TOWNS.values()]
    r = agreement.query(lon, lat, when)
    return dict(zip(TOWNS, r.sides.party_ids(), strict=True)), r


def test_towns_on_the_right_side_of_the_2026_line():
    sides, r = _sides(default_agreement(), dt.datetime(2026, 9, 2, tzinfo=UTC))
    for town in ("Kramatorsk", "Sloviansk", "Zaporizhzhia", "Kharkiv", "Kherson", "Kyiv"):
        assert sides[town] == "UA", town
    for town in ("Donetsk", "Luhansk", "Mariupol", "Melitopol", "Simferopol", "Sevastopol"):
        assert sides[town] == "RU", town
    signed = dict(zip(TOWNS, r.sides.signed_distance_km, strict=True))
    # Russia's own territory is on RU's side (fire from Belgorod oblast has a side); Belarus is no one's.
    rear = default_agreement().query([36.587, 27.56], [50.595, 53.90], dt.datetime(2026, 9, 2, tzinfo=UTC)).sides
    assert rear.party_ids().tolist() == ["RU", None]
    assert rear.signed_distance_km[0] < 0 and np.isnan(rear.signed_distance_km[1])
    assert signed["Kramatorsk"] > 0 > signed["Donetsk"]
    assert 2 < signed["Kherson"] < 10  # across the Dnipro from the occupied bank
    assert signed["Simferopol"] < -100


def test_towns_on_the_right_side_of_the_minsk_line():
    sides, _ = _sides(default_agreement("minsk2015"), dt.datetime(2018, 6, 1, tzinfo=UTC))
    for town in ("Kramatorsk", "Mariupol", "Zaporizhzhia", "Kherson", "Melitopol"):
        assert sides[town] == "UA", town
    for town in ("Donetsk", "Luhansk", "Simferopol"):
        assert sides[town] == "RU", town


def test_engine_distance_within_10_m_of_geodesic_reference_on_the_real_line():
    a = default_agreement()
    version = a.versions[-1]
    rng = np.random.default_rng(2026)
    lon, lat = rng.uniform(32.0, 40.0, 12), rng.uniform(46.0, 51.0, 12)
    got = a.zones(version).query(lon, lat).sides.distance_km * 1000.0
    for i in range(lon.size):
        ref = geodesic_distance_to_line_m(lon[i], lat[i], version.line, step_m=5.0, window_m=got[i] + 3000)
        assert abs(got[i] - ref) < 10.0, (lon[i], lat[i], got[i], ref)


def test_shipped_examples_are_valid_and_carry_their_sources():
    for name in ("default", "minsk2015"):
        a = default_agreement(name)
        assert any("DeepStateMap" in s for s in a.attribution)
        assert len(a.protected_sites) >= 3 and len(a.sectors) >= 2


def test_derive_dated_versions_from_daily_snapshots(shared_data, tmp_path):
    out = tmp_path / "versions"
    result = CliRunner().invoke(
        app,
        [
            "agreement",
            "derive",
            "--control",
            str(shared_data / "frontline" / "deepstate_daily"),
            "--since",
            "2026-08-18",
            "--until",
            "2026-08-22",
            "--out",
            str(out),
            "--country",
            str(shared_data / "admin" / "ua_oblasts_minregion_2020.geojson"),
        ],
    )
    assert result.exit_code == 0, result.output
    a = load_agreement(out)
    assert 2 <= len(a.versions) <= 5
    assert a.versions[0].valid_from == dt.datetime(2026, 8, 18, tzinfo=UTC)
    for v in a.versions:
        assert 1250 < length_km(v.line) < 1550
    noon = dt.datetime(2026, 8, 20, 12, tzinfo=UTC)
    in_force = a.line_at(noon)
    assert in_force.valid_from <= noon and (in_force.valid_to is None or noon < in_force.valid_to)
    assert a.line_at(dt.datetime(2026, 8, 30, tzinfo=UTC)).id == a.versions[-1].id


def test_derive_with_a_rear_area(shared_data, tmp_path):
    out = tmp_path / "rear"
    args = [
        "agreement",
        "derive",
        "--control",
        str(shared_data / SNAPSHOT),
        "--out",
        str(out),
        "--country",
        str(shared_data / "admin" / "ua_oblasts_minregion_2020.geojson"),
        "--world",
        str(shared_data / "world" / "visionscarto_countries-50m.topojson.json"),
        "--rear-area",
        "RU=Russia",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    a = load_agreement(out)
    r = a.query([36.587], [50.595], dt.datetime(2026, 9, 2, tzinfo=UTC)).sides  # Belgorod
    assert r.party_ids().tolist() == ["RU"]
    assert 1250 < length_km(a.versions[0].line) < 1550  # the line is derived before the rear area
    bad = CliRunner().invoke(app, [*args[:-1], "RU=Atlantis"])
    assert bad.exit_code == 2 and "no country named 'Atlantis'" in bad.output
