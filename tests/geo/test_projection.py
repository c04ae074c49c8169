import numpy as np
from pyproj import Geod

from truceline.geo.projection import LocalProjection

GEOD = Geod(ellps="WGS84")


def test_forward_inverse_round_trip():
    proj = LocalProjection.for_bounds((22.0, 44.0, 41.0, 52.5))
    lon = np.array([22.5, 30.5, 37.8, 40.9])
    lat = np.array([44.2, 50.4, 48.0, 52.3])
    back = proj.inverse(*proj.forward(lon, lat))
    assert np.allclose(back[0], lon, atol=1e-9) and np.allclose(back[1], lat, atol=1e-9)


def test_scale_factor_matches_pyproj():
    proj = LocalProjection.for_bounds((22.0, 44.0, 41.0, 52.5))
    lon = np.array([25.0, 31.5, 38.0, 40.0])
    lat = np.array([44.5, 47.0, 49.5, 52.0])
    from pyproj import Proj

    expected = np.asarray(Proj(proj.crs).get_factors(lon, lat).parallel_scale)
    got = proj.scale(*proj.forward(lon, lat))
    assert np.allclose(got, expected, rtol=1e-9)
    assert np.all(np.abs(got - 1) < 0.003)


def test_geodesic_length_of_chords_is_within_a_metre_up_to_500_km():
    proj = LocalProjection.for_bounds((22.0, 44.0, 41.0, 52.5))
    rng = np.random.default_rng(7)
    lon1, lat1 = rng.uniform(23, 40, 300), rng.uniform(44.5, 52, 300)
    az = rng.uniform(0, 360, 300)
    dist = rng.uniform(10, 500_000, 300)
    lon2, lat2, _ = GEOD.fwd(lon1, lat1, az, dist)
    x1, y1 = proj.forward(lon1, lat1)
    x2, y2 = proj.forward(np.asarray(lon2), np.asarray(lat2))
    got = proj.geodesic_length(x1, y1, x2, y2)
    assert np.max(np.abs(got - dist)) < 1.0
