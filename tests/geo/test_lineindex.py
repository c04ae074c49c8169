import numpy as np
import shapely

from truceline.geo.lineindex import SIMPLIFY_M, LineDistanceIndex
from truceline.geo.projection import LocalProjection

from .reference import geodesic_distance_to_line_m


def _wiggly_line() -> shapely.Geometry:
    t = np.linspace(0, 1, 400)
    lon = 33 + 5 * t + 0.15 * np.sin(40 * t)
    lat = 46.5 + 3 * t + 0.1 * np.cos(55 * t)
    north = shapely.LineString(np.column_stack([lon, lat]))
    islet = shapely.LineString([(36.0, 46.0), (36.05, 46.02), (36.1, 46.0)])
    return shapely.MultiLineString([north, islet])


def test_grid_search_equals_exhaustive_search():
    line = _wiggly_line()
    proj = LocalProjection.for_bounds((32, 45, 39, 50.5))
    idx = LineDistanceIndex(line, proj, grid_bounds=(32, 45, 39, 50.5), cell_m=3000)
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(31, 40, 20_000), rng.uniform(44.5, 51, 20_000)  # some outside the grid
    x, y = proj.forward(lon, lat)
    got = idx.nearest(x, y)
    pts = shapely.points(x, y)
    xy_line = shapely.transform(line, lambda c: np.column_stack(proj.forward(c[:, 0], c[:, 1])))
    planar = shapely.distance(pts, xy_line)
    from_near = np.hypot(got.near_x - x, got.near_y - y)
    # The index drops vertices that bend the line by less than SIMPLIFY_M; nothing else differs.
    assert np.abs(from_near - planar).max() <= SIMPLIFY_M


def test_distance_matches_geodesic_reference_within_10_m():
    line = _wiggly_line()
    proj = LocalProjection.for_bounds((32, 45, 39, 50.5))
    idx = LineDistanceIndex(line, proj)
    rng = np.random.default_rng(11)
    lon, lat = rng.uniform(32, 39, 25), rng.uniform(45, 50.5, 25)
    got = idx.nearest(*proj.forward(lon, lat)).distance_m
    for i in range(lon.size):
        ref = geodesic_distance_to_line_m(lon[i], lat[i], line, step_m=5.0, window_m=got[i] + 2000)
        assert abs(got[i] - ref) < 10.0, (i, got[i], ref)


def test_empty_line_is_refused():
    import pytest

    with pytest.raises(ValueError, match="empty"):
        LineDistanceIndex(shapely.MultiLineString(), LocalProjection.for_bounds((30, 45, 35, 50)))


def test_exact_on_a_line_without_collinear_vertices():
    line = shapely.LineString([(33, 47), (34, 48.5), (35.5, 47.2), (37, 49)])
    proj = LocalProjection.for_bounds((32, 46, 38, 50))
    idx = LineDistanceIndex(line, proj, cell_m=5000)
    rng = np.random.default_rng(1)
    x, y = proj.forward(rng.uniform(32, 38, 5000), rng.uniform(46, 50, 5000))
    got = idx.nearest(x, y)
    xy_line = shapely.transform(line, lambda c: np.column_stack(proj.forward(c[:, 0], c[:, 1])))
    assert np.allclose(
        np.hypot(got.near_x - x, got.near_y - y), shapely.distance(shapely.points(x, y), xy_line), atol=1e-6
    )
