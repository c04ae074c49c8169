"""Derive the line of contact and the controlled areas from a control-of-terrain polygon.

The line of contact is the boundary of the area one party controls inside the country, less the
stretches that run along the country's own outline (the international border and the coast).
Map sources draw the border a little differently from the official outline, so the outline is
widened by ``border_tolerance_km`` before it is removed, and leftover slivers shorter than
``min_piece_km`` are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely

from truceline.geo.measure import length_km
from truceline.geo.projection import LocalProjection


@dataclass(frozen=True)
class Derivation:
    """Result of :func:`derive_line`.

    Attributes
    ----------
    line : MultiLineString, WGS84
        The line of contact.
    controlled : (Multi)Polygon, WGS84
        The area held by the party of the control polygon, clipped to the country.
    rest : (Multi)Polygon, WGS84
        The rest of the country (held by the other party).
    repaired : str
        Empty, or why the control polygon was invalid before it was repaired (GEOS's reason).
    """

    line: shapely.Geometry
    controlled: shapely.Geometry
    rest: shapely.Geometry
    repaired: str = ""

    @property
    def line_length_km(self) -> float:
        """Geodesic length of the line in km."""
        return length_km(self.line)


def polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygonal part of ``geom`` (overlay results can carry stray lines and points)."""
    polys = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polys) if polys else shapely.Polygon()


class LineDeriver:
    """Derives lines from successive control polygons against one country outline.

    The border strip (the outline widened by ``border_tolerance_km``) is built once, from the
    outline simplified to 50 m, so deriving many daily snapshots stays fast.

    Parameters
    ----------
    country : (Multi)Polygon, WGS84
        The country's outline (border and coast).
    border_tolerance_km : float
        Boundary stretches within this distance of the outline are border or coast, not line.
    min_piece_km : float
        Line pieces shorter than this after removing the border are dropped as slivers.
    """

    def __init__(self, country: shapely.Geometry, border_tolerance_km: float = 2.0, min_piece_km: float = 1.0) -> None:
        if border_tolerance_km <= 0 or min_piece_km < 0:
            raise ValueError("border_tolerance_km must be > 0 and min_piece_km >= 0")
        self.country = country
        self.border_tolerance_km = border_tolerance_km
        self.min_piece_km = min_piece_km
        self.projection = LocalProjection.for_bounds(country.bounds)
        outline_xy = shapely.simplify(self.projection.project_geometry(shapely.boundary(country)), 50.0)
        self._strip = shapely.buffer(outline_xy, border_tolerance_km * 1000.0, quad_segs=4)
        shapely.prepare(self._strip)

    def derive(self, control: shapely.Geometry) -> Derivation:
        """Line of contact and both controlled areas for one control polygon (WGS84)."""
        if control.is_empty:
            raise ValueError("the control polygon is empty")
        repaired = ""
        if not control.is_valid:
            repaired = shapely.is_valid_reason(control)
            control = polygonal(shapely.make_valid(control))
        controlled = polygonal(shapely.intersection(control, self.country))
        rest = polygonal(shapely.difference(self.country, controlled))
        boundary_xy = self.projection.project_geometry(shapely.boundary(controlled))
        line_xy = shapely.line_merge(shapely.difference(boundary_xy, self._strip))
        keep = [p for p in shapely.get_parts(line_xy) if p.length >= self.min_piece_km * 1000.0]
        line = self.projection.unproject_geometry(shapely.multilinestrings(keep))
        return Derivation(line=line, controlled=controlled, rest=rest, repaired=repaired)


def derive_line(
    control: shapely.Geometry,
    country: shapely.Geometry,
    border_tolerance_km: float = 2.0,
    min_piece_km: float = 1.0,
) -> Derivation:
    """Build the line of contact and both controlled areas for one control polygon.

    See :class:`LineDeriver` for the parameters; use it directly for many snapshots.
    """
    return LineDeriver(country, border_tolerance_km, min_piece_km).derive(control)
