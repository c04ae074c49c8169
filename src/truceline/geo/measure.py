"""Geodesic measures of geometries on the WGS84 ellipsoid."""

from __future__ import annotations

import shapely
from pyproj import Geod

WGS84 = Geod(ellps="WGS84")


def length_km(geom: shapely.Geometry) -> float:
    """Geodesic length of a (multi)line in km (0 for an empty geometry)."""
    if geom is None or geom.is_empty:
        return 0.0
    return float(WGS84.geometry_length(geom)) / 1000.0


def area_km2(geom: shapely.Geometry) -> float:
    """Geodesic area of a (multi)polygon in km² (0 for an empty geometry)."""
    if geom is None or geom.is_empty:
        return 0.0
    area, _ = WGS84.geometry_area_perimeter(geom)
    return abs(float(area)) / 1e6
