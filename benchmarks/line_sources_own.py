"""The derived line against its own source: the boundary of the control area the derivation read.

``line_sources.py`` reads each file with ``truceline.agreement.control.read_control`` (selection,
null geometries skipped, invalid polygons repaired, holes below the stated area filled) and derives
the line from that union with ``truceline.geo.derive.LineDeriver``. :func:`own_boundary` measures
the derived line against the boundary of that same union (``ControlRead.geometry``, read once, used
for both), in the deriver's projection, with geodesic distances (``LocalProjection.geodesic_length``
from each point to its nearest point of the boundary):

- every vertex of the derived line to the whole boundary: max, p99, share within ``NEAR_KM``;
- phantom: the derived line lying more than ``NEAR_KM`` from the boundary (the line less the
  boundary's ``NEAR_KM`` buffer, in projected metres; total and longest piece, geodesic km);
- Hausdorff between the derived line and the boundary's part facing the other party: the boundary
  inside the country outline less the stretches within the deriver's border tolerance of the
  outline (the border and the coast), both densified every ``STEP_M`` (discrete Hausdorff, so
  exact to about half a step);
- the derived line running along the union's holes (interior rings): part of the source's boundary,
  so never phantom above, but line no front runs along when the holes are slivers between layers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from truceline.geo.derive import Derivation, LineDeriver
from truceline.geo.measure import length_km

NEAR_KM = 1.0
STEP_M = 250.0


def _segments(lines: shapely.Geometry) -> np.ndarray:
    """Every segment of a (multi)line as an array of two-point LineStrings."""
    out = []
    for part in shapely.get_parts(lines):
        c = shapely.get_coordinates(part)
        if len(c) >= 2:
            out.append(shapely.linestrings(np.stack([c[:-1], c[1:]], axis=1)))
    return np.concatenate(out) if out else np.array([], dtype=object)


class Nearest:
    """Geodesic distance (m) from projected points to a projected (multi)line, through an index of its segments."""

    def __init__(self, deriver: LineDeriver, target: shapely.Geometry) -> None:
        self.proj = deriver.projection
        self.segs = _segments(target)
        self.tree = shapely.STRtree(self.segs)

    def metres(self, xy: np.ndarray) -> np.ndarray:
        if len(xy) == 0 or len(self.segs) == 0:
            return np.full(len(xy), np.inf)
        pts = shapely.points(xy)
        (i_pt, i_seg), _ = self.tree.query_nearest(pts, return_distance=True, all_matches=False)
        to = shapely.get_coordinates(shapely.shortest_line(pts[i_pt], self.segs[i_seg]))[1::2]
        out = np.empty(len(xy))
        out[i_pt] = self.proj.geodesic_length(xy[i_pt, 0], xy[i_pt, 1], to[:, 0], to[:, 1])
        return out


def facing(deriver: LineDeriver, source: shapely.Geometry) -> shapely.Geometry:
    """The boundary's part facing the other party, projected: inside the country, off the outline's strip."""
    proj = deriver.projection
    outline_xy = shapely.simplify(proj.project_geometry(shapely.boundary(deriver.country)), 50.0)
    strip = shapely.buffer(outline_xy, deriver.border_tolerance_km * 1000.0, quad_segs=4)
    inside_xy = proj.project_geometry(shapely.intersection(shapely.boundary(source), deriver.country))
    return shapely.line_merge(shapely.difference(inside_xy, strip))


def _dense(geom: shapely.Geometry) -> np.ndarray:
    return shapely.get_coordinates(shapely.segmentize(geom, STEP_M)) if not geom.is_empty else np.empty((0, 2))


def hole_edge_km(deriver: LineDeriver, line_xy: shapely.Geometry, source: shapely.Geometry) -> float:
    """Geodesic km of the (projected) line running along the source's holes (within 1 m of an interior ring)."""
    rings = [shapely.LineString(r.coords) for p in shapely.get_parts(source) for r in p.interiors]
    if not rings:
        return 0.0
    holes_xy = deriver.projection.project_geometry(shapely.MultiLineString(rings))
    on = shapely.intersection(line_xy, shapely.buffer(holes_xy, 1.0))
    return length_km(deriver.projection.unproject_geometry(on))


def own_boundary(deriver: LineDeriver, d: Derivation, source: shapely.Geometry) -> dict[str, Any]:
    """The derived line ``d.line`` against the boundary of ``source``, the control area it was derived from."""
    proj = deriver.projection
    boundary_xy = proj.project_geometry(shapely.boundary(source))
    line_xy = proj.project_geometry(d.line, max_edge_deg=None)
    vertex_m = Nearest(deriver, boundary_xy).metres(shapely.get_coordinates(line_xy))
    far_xy = shapely.difference(line_xy, shapely.buffer(boundary_xy, NEAR_KM * 1000.0, quad_segs=8))
    far = [length_km(proj.unproject_geometry(p)) for p in shapely.get_parts(far_xy) if not p.is_empty]
    face_xy = facing(deriver, source)
    line_to_face = Nearest(deriver, face_xy).metres(_dense(line_xy)).max(initial=0.0) / 1000.0
    face_to_line = Nearest(deriver, line_xy).metres(_dense(face_xy)).max(initial=0.0) / 1000.0
    return {
        "line_km": round(d.line_length_km, 1),
        "boundary_km": round(length_km(shapely.boundary(source)), 1),
        "facing_km": round(length_km(proj.unproject_geometry(face_xy)), 1),
        "vertices": int(vertex_m.size),
        "vertex_max_m": round(float(vertex_m.max()), 3),
        "vertex_p99_m": round(float(np.percentile(vertex_m, 99)), 3),
        "vertex_within_1km": round(float(np.mean(vertex_m <= NEAR_KM * 1000.0)), 5),
        "phantom_km": round(float(sum(far)), 3),
        "phantom_pieces": len(far),
        "phantom_longest_km": round(float(max(far, default=0.0)), 3),
        "hausdorff_facing_km": round(float(max(line_to_face, face_to_line)), 3),
        "line_to_facing_max_km": round(float(line_to_face), 3),
        "facing_to_line_max_km": round(float(face_to_line), 3),
        "hole_edge_km": round(hole_edge_km(deriver, line_xy, source), 1),
    }
