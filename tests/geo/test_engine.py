import numpy as np
import pytest
import shapely
from pyproj import Geod

from truceline.geo.engine import LineGeometry, Site, ZoneEngine
from truceline.geo.errors import InvalidCoordinateError

from ..conftest import TOY_LINE, TOY_RU, TOY_UA

GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def engine() -> ZoneEngine:
    geometry = LineGeometry(TOY_LINE, {"UA": TOY_UA, "RU": TOY_RU})
    return ZoneEngine(
        geometry,
        buffer_km=7.5,
        withdrawal_km={"artillery_ge_100mm": 25.0, "mlrs": 35.0},
        disengagement=[("da-1", shapely.box(34.95, 48.45, 35.05, 48.55))],
        sites=[Site("site-a", 34.9, 48.0, 3.0), Site("site-b", 35.5, 47.5, 2.0)],
        sectors=[("S", shapely.box(33, 46.5, 37, 48)), ("N", shapely.box(33, 48, 37, 49.5))],
    )


def _east_of_line(km: float, lat: float = 48.0) -> float:
    """Longitude of the point ``km`` east of (35°E, lat) along the parallel-ish geodesic."""
    lon, _, _ = GEOD.fwd(35.0, lat, 90.0, km * 1000.0)
    return float(lon)


def test_side_and_signed_distance(engine):
    lon = [34.0, 36.0, _east_of_line(10.0)]
    lat = [48.0, 48.0, 48.0]
    r = engine.query(lon, lat).sides
    assert r.party_ids().tolist() == ["UA", "RU", "RU"]
    assert r.signed_distance_km[0] > 0 > r.signed_distance_km[1]
    assert abs(r.distance_km[2] - 10.0) < 0.01


def test_points_on_the_line_belong_to_no_party(engine):
    r = engine.query([35.0, 35.0], [48.0, 47.3]).sides
    assert r.on_line.all()
    assert r.side.tolist() == [-1, -1]
    assert r.signed_distance_km.tolist() == [0.0, 0.0]


def test_points_outside_both_areas(engine):
    r = engine.query([30.0, 38.0], [48.0, 48.0]).sides
    assert r.side.tolist() == [-1, -1]
    assert np.isnan(r.signed_distance_km).all()
    assert (r.distance_km > 200).all()
    assert r.party_ids().tolist() == [None, None]


def test_buffer_edge_within_ten_metres(engine):
    inside = _east_of_line(7.49)
    outside = _east_of_line(7.51)
    r = engine.query([inside, outside], [48.0, 48.0])
    assert r.in_buffer.tolist() == [True, False]


def test_withdrawal_zones_by_class(engine):
    r = engine.query([_east_of_line(20.0), _east_of_line(30.0), _east_of_line(40.0)], [48.5] * 3)
    assert r.in_withdrawal["artillery_ge_100mm"].tolist() == [True, False, False]
    assert r.in_withdrawal["mlrs"].tolist() == [True, True, False]


def test_sites_sectors_and_disengagement(engine):
    just_in_lon, just_in_lat, _ = GEOD.fwd(34.9, 48.0, 200.0, 2990.0)
    just_out_lon, just_out_lat, _ = GEOD.fwd(34.9, 48.0, 200.0, 3010.0)
    r = engine.query([just_in_lon, just_out_lon, 35.5, 35.0, 36.5], [just_in_lat, just_out_lat, 47.5, 48.5, 48.9])
    assert r.site.tolist()[:3] == [0, -1, 1]
    assert abs(r.site_distance_km[0] - 2.99) < 0.01
    assert r.disengagement.tolist() == [-1, -1, -1, 0, -1]
    assert r.sector.tolist() == [0, 0, 0, 1, 1]


def test_bad_coordinates_raise(engine):
    with pytest.raises(InvalidCoordinateError, match="point 1: lat=91"):
        engine.query([35, 35], [48, 91])


def test_needs_exactly_two_parties():
    with pytest.raises(ValueError, match="two parties"):
        LineGeometry(TOY_LINE, {"UA": TOY_UA})


def test_large_batch_matches_small_batches(engine):
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(32, 38, 50_000), rng.uniform(46, 50, 50_000)
    big = engine.query(lon, lat)
    small = engine.query(lon[:100], lat[:100])
    assert np.array_equal(big.sides.side[:100], small.sides.side)
    assert np.allclose(big.sides.distance_km[:100], small.sides.distance_km)


def test_a_large_site_is_found_behind_many_small_ones():
    geometry = LineGeometry(TOY_LINE, {"UA": TOY_UA, "RU": TOY_RU})
    small = [Site(f"s{i}", 34.0 + 0.001 * i, 48.0, 0.05) for i in range(6)]
    big = Site("big", 34.02, 48.0, 5.0)
    eng = ZoneEngine(geometry, 7.5, {}, sites=[*small, big])
    r = eng.query([34.003], [48.001])  # near the small ones, outside all of them, inside the big one
    assert eng.site_ids[r.site[0]] == "big"


def test_a_point_near_a_site_but_outside_its_radius(engine):
    r = engine.query([34.9], [48.02725])  # ~3.03 km north of site-a: past its 3 km radius, within the search reach
    assert r.site.tolist() == [-1] and np.isnan(r.site_distance_km[0])


def test_area_grid_gives_the_same_answers_as_point_in_polygon():
    from truceline.geo.areas import AreaIndex

    rng = np.random.default_rng(12)
    star = shapely.Polygon(
        [
            (34 + 1.5 * np.cos(a) * (1 + 0.5 * np.cos(5 * a)), 48 + 1.0 * np.sin(a) * (1 + 0.5 * np.cos(5 * a)))
            for a in np.linspace(0, 2 * np.pi, 400)
        ]
    )
    box = shapely.box(33.5, 47.5, 36.5, 49.5)  # overlaps the star: the star (first) wins there
    idx = AreaIndex([star, box])
    lon, lat = rng.uniform(31, 37, 60_000), rng.uniform(46, 50.5, 60_000)
    got = idx.locate(lon, lat)  # large: through the grid
    expected = np.where(shapely.contains_xy(star, lon, lat), 0, np.where(shapely.contains_xy(box, lon, lat), 1, -1))
    assert np.array_equal(got, expected)
    assert np.array_equal(idx.locate(lon[:100], lat[:100]), expected[:100])  # small: without the grid
