"""Several sources, one line with a band; a series of versions, the movement between them.

``truceline agreement reconcile`` (see docs/agreement.md, "Reconciling sources"):

- :func:`read_source` reads a derived line: an agreement directory (its newest version, or
  ``DIR@VERSION_ID``) or a line GeoJSON file as ``derive`` writes it.
- :func:`measure_band` cuts the **agreed line** (the first source's line, unchanged, so that its
  controlled areas still match it) into pieces of about ``step_km`` and measures, from each piece's
  midpoint, the distance to every other source's line: the **disagreement band**.
- :func:`write_band` writes the band as the version's ``band`` layer into an agreement directory.
- :func:`movement` measures what changed hands between two dated versions, per direction, and where.

Distances are measured in a local conformal projection (:class:`LocalProjection`) and divided by
its scale factor at the sample, so they are geodesic to well under a metre per km.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import shapely.ops
import yaml
from numpy.typing import NDArray

from truceline.agreement.build import snapshot_date
from truceline.agreement.load import MANIFEST, AgreementError, load_agreement, manifest_path
from truceline.agreement.model import Agreement, LineVersion
from truceline.geo.derive import polygonal
from truceline.geo.measure import area_km2, length_km
from truceline.geo.projection import LocalProjection
from truceline.io.geojson import GeoJSONError, read_features, write_features

#: A version's ``source`` as ``derive`` writes it: ``NAME, YYYY-MM-DD (credits)...``.
_SOURCE = re.compile(r"^(?P<name>[^;]+?), (?P<date>\d{4}-\d{2}-\d{2}) \(")


class ReconcileError(ValueError):
    """A source cannot be read or reconciled; the message names the file and the field."""


@dataclass(frozen=True)
class LineSource:
    """One source's line for one date: where it came from, and its agreement version when it has one."""

    name: str
    date: dt.date | None
    line: shapely.Geometry
    origin: str
    agreement: Agreement | None = None
    version: LineVersion | None = None


def _is_agreement(p: Path) -> bool:
    return p.is_dir() or p.suffix in (".yaml", ".yml")


def read_source(spec: str, name: str | None = None) -> LineSource:
    """A derived line from ``DIR``, ``DIR@VERSION_ID``, ``agreement.yaml`` or a line GeoJSON file.

    The name and date come from the version's ``source`` (``NAME, DATE (...``, as ``derive`` writes
    it), else ``AGREEMENT_ID:VERSION_ID`` and the version's start; for a file, from its features'
    ``version`` property, else the date in its name. ``name`` overrides the name.

    Raises
    ------
    ReconcileError
        Naming the file and what is wrong with it.
    """
    path, version_id = Path(spec), None
    if not path.exists() and "@" in spec:
        head, _, version_id = spec.rpartition("@")
        path = Path(head)
    if not path.exists():
        raise ReconcileError(f"{path}: not found")
    if _is_agreement(path):
        return _agreement_source(path, version_id, name)
    if version_id is not None:
        raise ReconcileError(f"{spec}: @VERSION applies to an agreement directory, not to a file")
    return _file_source(path, name)


def versions_of(spec: str) -> tuple[Agreement, list[LineVersion]]:
    """The agreement ``DIR`` (every version) or ``DIR@VERSION_ID`` (that one) names."""
    path, version_id = Path(spec), None
    if not path.exists() and "@" in spec:
        head, _, version_id = spec.rpartition("@")
        path = Path(head)
    if not path.exists() or not _is_agreement(path):
        raise ReconcileError(f"{spec}: not an agreement directory (a series needs each version's controlled areas)")
    agreement = _load(path)
    if version_id is None:
        return agreement, list(agreement.versions)
    return agreement, [_version(agreement, path, version_id)]


def _load(path: Path) -> Agreement:
    try:
        return load_agreement(path)
    except AgreementError as exc:
        raise ReconcileError(str(exc)) from None


def _version(agreement: Agreement, path: Path, version_id: str) -> LineVersion:
    for v in agreement.versions:
        if v.id == version_id:
            return v
    have = ", ".join(v.id for v in agreement.versions)
    raise ReconcileError(f"{manifest_path(path)}: lines: no version {version_id!r} (versions: {have})")


def _agreement_source(path: Path, version_id: str | None, name: str | None) -> LineSource:
    agreement = _load(path)
    v = agreement.versions[-1] if version_id is None else _version(agreement, path, version_id)
    m = _SOURCE.match(v.source)
    label = name or (m["name"].strip() if m else f"{agreement.id}:{v.id}")
    when = dt.date.fromisoformat(m["date"]) if m else v.valid_from.date()
    return LineSource(label, when, v.line, f"{manifest_path(path)} {v.id}", agreement, v)


def _file_source(path: Path, name: str | None) -> LineSource:
    try:
        feats = read_features(path)
    except GeoJSONError as exc:
        raise ReconcileError(str(exc)) from None
    if not feats:
        raise ReconcileError(f"{path}: the file has no features")
    for i, f in enumerate(feats):
        if f.geometry.geom_type not in ("LineString", "MultiLineString"):
            raise ReconcileError(
                f"{path}: feature {i}: geometry: {f.geometry.geom_type}, expected a LineString or MultiLineString"
            )
    line = shapely.line_merge(shapely.union_all([f.geometry for f in feats]))
    if line.is_empty:
        raise ReconcileError(f"{path}: feature 0: geometry: the line is empty")
    when = None
    raw = feats[0].properties.get("version")
    if raw is not None:
        try:
            when = dt.date.fromisoformat(str(raw)[:10])
        except ValueError:
            raise ReconcileError(f"{path}: feature 0: version: {raw!r} is not a date (YYYY-MM-DD)") from None
    label = name or path.name.removesuffix(".gz").removesuffix(".geojson")
    return LineSource(label, when or snapshot_date(path), line, str(path))


# --- distances -------------------------------------------------------------------------------------------


def segments_of(geom: shapely.Geometry) -> NDArray[np.object_]:
    """The straight 2-point segments of a (multi)line or of a (multi)polygon's rings, as LineStrings."""
    lines: list[shapely.Geometry] = []
    for part in shapely.get_parts(geom):
        lines += list(shapely.get_rings(part)) if part.geom_type == "Polygon" else [part]
    out = []
    for line in lines:
        c = shapely.get_coordinates(line)
        if len(c) >= 2:
            out.append(shapely.linestrings(np.stack([c[:-1], c[1:]], axis=1)))
    return np.concatenate(out) if out else np.array([], dtype=object)


def nearest_m(points: NDArray[np.object_], tree: shapely.STRtree) -> NDArray[np.float64]:
    """Distance (projected m) of each point to the nearest geometry of ``tree``."""
    idx, dist = tree.query_nearest(points, return_distance=True, all_matches=False)
    out = np.full(len(points), np.inf)
    out[idx[0]] = dist
    return out


def sample(line_xy: shapely.Geometry, step_m: float) -> tuple[list[shapely.Geometry], NDArray[np.object_]]:
    """``line_xy`` cut into pieces of about ``step_m`` (at least one per part) and each piece's midpoint."""
    pieces: list[shapely.Geometry] = []
    mids = []
    for part in shapely.get_parts(line_xy):
        n = max(math.ceil(part.length / step_m), 1)
        cuts = np.linspace(0.0, part.length, n + 1)
        pieces += [shapely.ops.substring(part, cuts[k], cuts[k + 1]) for k in range(n)]
        mids.append(shapely.line_interpolate_point(part, (cuts[:-1] + cuts[1:]) / 2.0))
    return pieces, (np.concatenate(mids) if mids else np.array([], dtype=object))


def distances_km(proj: LocalProjection, points: NDArray[np.object_], tree: shapely.STRtree) -> NDArray[np.float64]:
    """Geodesic km (projected distance over the scale factor at the point) from points to ``tree``."""
    xy = shapely.get_coordinates(points)
    return nearest_m(points, tree) / proj.scale(xy[:, 0], xy[:, 1]) / 1000.0


# --- the band --------------------------------------------------------------------------------------------


def _stats(km: NDArray[np.float64]) -> dict[str, float | None]:
    if km.size == 0:
        return {"median_km": None, "p90_km": None, "max_km": None, "within_1km": None}
    return {
        "median_km": round(float(np.median(km)), 3),
        "p90_km": round(float(np.percentile(km, 90)), 3),
        "max_km": round(float(km.max()), 2),
        "within_1km": round(float(np.mean(km <= 1.0)), 3),
    }


@dataclass(frozen=True)
class Band:
    """The agreed line (``reference``'s) in pieces, and each piece's distance (km) to each other source.

    ``km[i, j]`` is piece ``i``'s midpoint's distance to ``others[j]``'s line; ``reverse[j]`` the
    distances of ``others[j]``'s line, sampled the same way, to the agreed line.
    """

    reference: LineSource
    others: tuple[LineSource, ...]
    step_km: float
    segments: tuple[shapely.Geometry, ...]
    km: NDArray[np.float64]
    reverse: tuple[NDArray[np.float64], ...] = field(default=())

    @property
    def disagreement_km(self) -> NDArray[np.float64]:
        """Each piece's largest distance to another source's line."""
        return self.km.max(axis=1)

    def features(self) -> list[tuple[shapely.Geometry, dict[str, Any]]]:
        """The band layer: one LineString per piece with its distances and the sources named."""
        names = [self.reference.name, *(o.name for o in self.others)]
        dates = [d.isoformat() if d else None for d in (self.reference.date, *(o.date for o in self.others))]
        out = []
        for seg, row in zip(self.segments, self.km, strict=True):
            j = int(np.argmax(row))
            props = {
                "disagreement_km": round(float(row[j]), 3),
                "farthest": self.others[j].name,
                "km_by_source": {o.name: round(float(k), 3) for o, k in zip(self.others, row, strict=True)},
                "reference": self.reference.name,
                "sources": names,
                "dates": dates,
            }
            out.append((seg, props))
        return out

    def summary(self) -> dict[str, Any]:
        """Median, p90 and max of the band, and per other source both ways."""
        by_source = {}
        for j, o in enumerate(self.others):
            rev = self.reverse[j] if j < len(self.reverse) else np.array([])
            by_source[o.name] = {
                "date": o.date.isoformat() if o.date else None,
                **_stats(self.km[:, j]),
                "reverse": _stats(rev),
            }
        return {
            "reference": self.reference.name,
            "reference_date": self.reference.date.isoformat() if self.reference.date else None,
            "step_km": self.step_km,
            "segments": len(self.segments),
            "line_km": round(sum(length_km(s) for s in self.segments), 1),
            **_stats(self.disagreement_km),
            "by_source": by_source,
        }


def measure_band(reference: LineSource, others: list[LineSource], step_km: float = 1.0) -> Band:
    """The disagreement band along ``reference``'s line against each of ``others`` (see the module)."""
    if not others:
        raise ReconcileError("a band needs at least two sources")
    if not step_km > 0:
        raise ReconcileError(f"--step-km: {step_km} must be > 0")
    bounds = np.array([s.line.bounds for s in (reference, *others)])
    proj = LocalProjection.for_bounds((bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max()))
    ref_xy = proj.project_geometry(reference.line)
    pieces, mids = sample(ref_xy, step_km * 1000.0)
    ref_tree = shapely.STRtree(segments_of(ref_xy))
    cols, reverse = [], []
    for o in others:
        o_xy = proj.project_geometry(o.line)
        cols.append(distances_km(proj, mids, shapely.STRtree(segments_of(o_xy))))
        _, o_mids = sample(o_xy, step_km * 1000.0)
        reverse.append(distances_km(proj, o_mids, ref_tree))
    segments = tuple(proj.unproject_geometry(np.array(pieces, dtype=object)))
    return Band(reference, tuple(others), step_km, segments, np.column_stack(cols), tuple(reverse))


def write_band(band: Band, out: Path) -> Path:
    """Write the agreed line's agreement with the band as its version's ``band`` layer; the manifest.

    ``out`` may be the reference's own agreement directory (the band is added in place) or a new
    directory (the reference agreement is copied there, its layer files with it).
    """
    ref = band.reference
    if ref.agreement is None or ref.version is None or ref.agreement.path is None:
        raise ReconcileError(
            f"{ref.origin}: the first source gives the agreed line and must be an agreement directory "
            "(its controlled areas go with the line)"
        )
    src = ref.agreement.path
    manifest = yaml.safe_load(manifest_path(src).read_text(encoding="utf-8"))
    out.mkdir(parents=True, exist_ok=True)
    if out.resolve() != src.resolve():
        _copy_layers(src, out, manifest)
    rel = f"layers/band_{ref.version.id}.geojson"
    names = [ref.name, *(o.name for o in band.others)]
    write_features(out / rel, band.features(), precision=6, sources=names)
    for entry in manifest["lines"]:
        if entry.get("id") == ref.version.id:
            entry["band"] = {"file": rel, "sources": names, "step_km": band.step_km}
    mpath = out / MANIFEST
    mpath.write_text(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=10_000), encoding="utf-8")
    return mpath


def _copy_layers(src: Path, out: Path, manifest: dict[str, Any]) -> None:
    """Copy every layer file a manifest names from ``src`` to ``out`` (same relative paths)."""
    rels: list[tuple[str, str]] = []
    for i, entry in enumerate(manifest.get("lines") or []):
        rels.append((f"lines[{i}].line", entry["line"]))
        rels += [(f"lines[{i}].controlled_areas.{p}", r) for p, r in entry["controlled_areas"].items()]
        if entry.get("band"):
            rels.append((f"lines[{i}].band.file", entry["band"]["file"]))
    rels += [(k, manifest[k]) for k in ("protected_sites", "sectors", "disengagement_areas") if manifest.get(k)]
    for fld, rel in rels:
        dest = (out / rel).resolve()
        if not dest.is_relative_to(out.resolve()):
            raise ReconcileError(f"{manifest_path(src)}: {fld}: {rel} lies outside the agreement; cannot copy it")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / rel, dest)


# --- movement between versions ------------------------------------------------------------------------------


def _pieces(geom: shapely.Geometry, largest: int) -> tuple[float, int, list[dict[str, Any]]]:
    """Total km², number of pieces and the ``largest`` pieces (km², centroid) of a polygonal geometry."""
    parts = [p for p in shapely.get_parts(polygonal(geom)) if not p.is_empty]
    sizes = [area_km2(p) for p in parts]
    order = sorted(range(len(parts)), key=lambda k: -sizes[k])[:largest]
    where = []
    for k in order:
        c = shapely.centroid(parts[k])
        where.append({"km2": round(sizes[k], 3), "lon": round(c.x, 4), "lat": round(c.y, 4)})
    return sum(sizes), len(parts), where


def movement(
    before: LineVersion, after: LineVersion, parties: list[str], largest: int = 5
) -> tuple[dict[str, Any], list[tuple[shapely.Geometry, dict[str, Any]]]]:
    """What changed hands from ``before`` to ``after``: per direction (``RU<-UA``: RU gained from UA) the
    km², the number of pieces and the largest pieces' centroids; and the changed polygons as features."""
    p, q = parties
    out: dict[str, Any] = {
        "from": before.id,
        "to": after.id,
        "from_date": before.valid_from.date().isoformat(),
        "to_date": after.valid_from.date().isoformat(),
        "directions": {},
    }
    feats = []
    for gainer, loser in ((p, q), (q, p)):
        changed = polygonal(shapely.intersection(after.areas[gainer], before.areas[loser]))
        km2, n, where = _pieces(changed, largest)
        key = f"{gainer}<-{loser}"
        out["directions"][key] = {"km2": round(km2, 3), "pieces": n, "largest": where}
        if not changed.is_empty:
            props = {"gainer": gainer, "loser": loser, "from": before.id, "to": after.id, "km2": round(km2, 3)}
            feats.append((changed, props))
    out["net_km2"] = {p: round(out["directions"][f"{p}<-{q}"]["km2"] - out["directions"][f"{q}<-{p}"]["km2"], 3)}
    return out, feats


def series(
    versions: list[LineVersion], parties: list[str], largest: int = 5
) -> tuple[list[dict[str, Any]], list[tuple[shapely.Geometry, dict[str, Any]]]]:
    """The movement between each pair of consecutive versions (ordered by ``valid_from``)."""
    ordered = sorted(versions, key=lambda v: v.valid_from)
    if len(ordered) < 2:
        raise ReconcileError("a series needs at least two dated versions")
    for v in ordered:
        if sorted(v.areas) != sorted(parties):
            raise ReconcileError(f"version {v.id}: parties {sorted(v.areas)}, expected {sorted(parties)}")
    rows, feats = [], []
    for a, b in itertools.pairwise(ordered):
        row, f = movement(a, b, parties, largest)
        rows.append(row)
        feats += f
    return rows, feats
