"""Geometry checks of a valid agreement (``truceline agreement validate``): overlaps, slivers, a line far from
the boundary the two areas share.

The loader refuses an agreement whose parties' areas overlap by more than
:data:`~truceline.agreement.load.OVERLAP_TOLERANCE_KM2`; these checks look at what it lets through
and at what it does not look at, and report each problem with the layer (the manifest field), the
file, the feature (and polygon part or hole) and a place (lon, lat):

- **overlap**: every piece where the two parties' areas overlap (at least :data:`MIN_OVERLAP_KM2`);
- **sliver**: a polygon part or a hole of an area smaller than ``sliver_km2`` and thin: its mean
  width (2 x area / perimeter) under ``sliver_width_m`` (pieces left between layers or by clipping
  to the coast; a small round island is not one);
- **far line**: a stretch of the line whose points lie more than ``far_km`` from the boundary the
  two areas share. A point's distance from it is the larger of its distances to the two areas (0
  inside an area): a point on the shared boundary touches both.

Every finding is a warning: the agreement loads and works. ``validate --strict`` fails on them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import yaml

from truceline.agreement.load import load_agreement, manifest_path
from truceline.agreement.model import Agreement, LineVersion
from truceline.agreement.reconcile import nearest_m, segments_of
from truceline.agreement.schema import AgreementSpec
from truceline.geo.measure import area_km2, length_km
from truceline.geo.projection import LocalProjection
from truceline.io.geojson import read_features

#: Overlap pieces smaller than this (km², 1 m²) are rounding, not reported.
MIN_OVERLAP_KM2 = 1e-6
#: Default ``--sliver-km2``: polygon parts and holes below this area are slivers.
SLIVER_KM2 = 1.0
#: Default ``--sliver-width-m``: ... and whose mean width is below this (m).
SLIVER_WIDTH_M = 50.0
#: Default ``--far-km``: line farther than this from the shared boundary is reported.
FAR_KM = 2.0
#: The line is sampled every this many km for the far-line check.
STEP_KM = 0.25


@dataclass(frozen=True)
class Finding:
    """One problem: which check, the layer (manifest field), file, feature, place and what."""

    check: str
    layer: str
    file: str
    feature: str
    lon: float
    lat: float
    message: str
    value: float
    severity: str = "warning"

    def __str__(self) -> str:
        return f"{self.layer}: {self.file} {self.feature} at {self.lon:.4f},{self.lat:.4f}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _place(geom: shapely.Geometry) -> tuple[float, float]:
    p = shapely.point_on_surface(geom)
    return round(float(p.x), 5), round(float(p.y), 5)


def _features(root: Path, rel: str) -> list[shapely.Geometry]:
    return [f.geometry for f in read_features(root / rel)]


def check_agreement(
    path: str | Path,
    sliver_km2: float = SLIVER_KM2,
    far_km: float = FAR_KM,
    sliver_width_m: float = SLIVER_WIDTH_M,
    agreement: Agreement | None = None,
) -> list[Finding]:
    """The findings of every line version of the (valid) agreement at ``path``.

    Raises
    ------
    AgreementError
        When the agreement does not load (:func:`load_agreement`).
    """
    mpath = manifest_path(path)
    a = agreement or load_agreement(mpath)
    spec = AgreementSpec.model_validate(yaml.safe_load(mpath.read_text(encoding="utf-8")))
    by_id = {v.id: v for v in a.versions}
    out: list[Finding] = []
    for i, vs in enumerate(spec.lines):
        v = by_id[vs.id]
        base = f"lines[{i}]"
        files = {p.value: rel for p, rel in vs.controlled_areas.items()}
        feats = {p: _features(mpath.parent, rel) for p, rel in files.items()}
        out += overlaps(v, base, files, feats)
        for party, rel in files.items():
            out += slivers(feats[party], f"{base}.controlled_areas.{party}", rel, sliver_km2, sliver_width_m)
        out += far_line(v, _features(mpath.parent, vs.line), f"{base}.line", vs.line, far_km)
    return out


def overlaps(
    v: LineVersion, base: str, files: dict[str, str], feats: dict[str, list[shapely.Geometry]]
) -> list[Finding]:
    """Each piece of overlap between the two parties' areas, naming the feature of each file it lies in."""
    (p, a), (q, b) = v.areas.items()
    shared = shapely.intersection(a, b)
    pieces = [g for g in shapely.get_parts(shared) if g.geom_type == "Polygon"]
    sizes = [area_km2(g) for g in pieces]
    total = sum(sizes)
    out = []
    for g, km2 in sorted(zip(pieces, sizes, strict=True), key=lambda t: -t[1]):
        if km2 < MIN_OVERLAP_KM2:
            continue
        fp = [k for k, f in enumerate(feats[p]) if f.intersects(g)]
        fq = [k for k, f in enumerate(feats[q]) if f.intersects(g)]
        lon, lat = _place(g)
        msg = f"the {p} and {q} areas overlap by {km2:.4g} km² here ({q}: {files[q]} feature {_ks(fq)}); "
        msg += f"{total:.4g} km² in all"
        out.append(Finding("overlap", f"{base}.controlled_areas", files[p], f"feature {_ks(fp)}", lon, lat, msg, km2))
    return out


def _ks(ks: list[int]) -> str:
    return ",".join(map(str, ks)) if ks else "?"


def slivers(
    feats: list[shapely.Geometry], layer: str, rel: str, below_km2: float, width_m: float = SLIVER_WIDTH_M
) -> list[Finding]:
    """Polygon parts and holes of an area layer smaller than ``below_km2`` and thinner than ``width_m``."""
    out = []
    for i, geom in enumerate(feats):
        for j, part in enumerate(shapely.get_parts(geom)):
            pieces = [(f"feature {i} part {j}", "polygon", part)]
            pieces += [
                (f"feature {i} part {j} hole {k}", "hole", shapely.Polygon(r)) for k, r in enumerate(part.interiors)
            ]
            for where, kind, poly in pieces:
                km2 = area_km2(poly)
                mean_m = 2000.0 * km2 / max(length_km(poly.exterior), 1e-9)
                if km2 >= below_km2 or mean_m >= width_m:
                    continue
                lon, lat = _place(poly)
                msg = f"{kind} of {km2:.4g} km², mean width {mean_m:,.0f} m"
                msg += f" (sliver: < {below_km2:g} km², < {width_m:g} m)"
                out.append(Finding("sliver", layer, rel, where, lon, lat, msg, km2))
    return out


def _runs(flag: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` of each run of True."""
    d = np.diff(np.concatenate([[0], flag.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))


def far_line(v: LineVersion, feats: list[shapely.Geometry], layer: str, rel: str, far_km: float) -> list[Finding]:
    """Stretches of the line farther than ``far_km`` from the boundary the two areas share (see the module)."""
    proj = LocalProjection.for_bounds(v.line.bounds)
    window = shapely.buffer(shapely.envelope(v.line), 2.0)  # only the areas near the line matter
    areas_xy = [proj.project_geometry(shapely.intersection(g, window)) for g in v.areas.values()]
    trees = [shapely.STRtree(segments_of(g)) for g in areas_xy]
    for g in areas_xy:
        shapely.prepare(g)
    out = []
    for i, geom in enumerate(feats):
        for j, part in enumerate(shapely.get_parts(geom)):
            line = proj.project_geometry(part)
            n = max(int(line.length // (STEP_KM * 1000.0)), 1)
            pts = shapely.line_interpolate_point(line, np.linspace(0.0, line.length, n + 1))
            xy = shapely.get_coordinates(pts)
            k = proj.scale(xy[:, 0], xy[:, 1])
            off = np.zeros(len(xy))
            for g, t in zip(areas_xy, trees, strict=True):
                off = np.maximum(off, np.where(shapely.contains_xy(g, xy[:, 0], xy[:, 1]), 0.0, nearest_m(pts, t) / k))
            off /= 1000.0
            step = line.length / n / 1000.0
            for s, e in _runs(off > far_km):
                m = s + int(np.argmax(off[s:e]))
                lon, lat = proj.inverse(xy[m : m + 1, 0], xy[m : m + 1, 1])
                run_km = min((e - s) * step, line.length / 1000.0)
                msg = f"{run_km:,.1f} km of line run up to {off[m]:,.1f} km from the boundary the two areas "
                msg += f"share (more than {far_km:g} km)"
                where = f"feature {i} part {j} km {s * step:,.1f}-{(e - 1) * step:,.1f}"
                at = (round(float(lon[0]), 5), round(float(lat[0]), 5))
                out.append(Finding("far_line", layer, rel, where, *at, msg, float(off[m])))
    return out
