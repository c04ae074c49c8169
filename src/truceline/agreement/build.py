"""Build an agreement directory from control-of-terrain snapshots (``truceline agreement derive``)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import shapely
import yaml

from truceline.agreement.load import MANIFEST, manifest_path
from truceline.agreement.schema import FORMAT_VERSION
from truceline.geo.derive import Derivation, LineDeriver, polygonal
from truceline.io.geojson import GeoJSONError, read_features, read_union, write_features

_DATE = re.compile(r"(20\d{2})[-_]?(\d{2})[-_]?(\d{2})")

#: Minsk II (12 Feb 2015) and its 29 Sep 2015 addendum: km each side of the line.
MINSK_II_WITHDRAWAL_KM: dict[str, float] = {
    "artillery_ge_100mm": 25.0,
    "mlrs": 35.0,
    "heavy_mlrs": 70.0,
    "tactical_missile": 70.0,
    "tank": 15.0,
    "artillery_lt_100mm": 15.0,
    "mortar_le_120mm": 15.0,
}

DEEPSTATE_ATTRIBUTION = "DeepStateMap.Live via cyterat/deepstate-map-data"
OUTLINE_ATTRIBUTION = "Ukraine outline: © Мінрегіон (Minregion), CC BY-SA, via justinelliotmeyers/Ukraine_2020"


def snapshot_date(path: str | Path) -> dt.date | None:
    """The date in a snapshot's file name (``..._20260822.geojson.gz``), if any."""
    m = _DATE.search(Path(path).name)
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def collect_snapshots(
    paths: Iterable[str | Path],
    date: dt.date | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    every_days: int = 1,
) -> list[tuple[dt.date, Path]]:
    """Snapshot files with their dates, oldest first.

    A directory contributes every ``*.geojson`` / ``*.geojson.gz`` with a date in its name.
    ``date`` dates a single file whose name has none (and overrides its name's date).
    ``every_days`` keeps one snapshot in that many days (the first and last are always kept).
    """
    found: list[tuple[dt.date, Path]] = []
    for raw in paths:
        p = Path(raw)
        files = sorted([*p.glob("*.geojson"), *p.glob("*.geojson.gz")]) if p.is_dir() else [p]
        for f in files:
            d = date if (date is not None and not p.is_dir()) else snapshot_date(f)
            if d is None:
                raise ValueError(f"{f}: no date in the file name; give it with --date")
            found.append((d, f))
    by_date: dict[dt.date, Path] = {}
    for d, f in found:
        if d in by_date and by_date[d] != f:
            raise ValueError(f"two snapshots for {d}: {by_date[d]} and {f}")
        by_date[d] = f
    found = sorted(by_date.items())
    found = [(d, f) for d, f in found if (since is None or d >= since) and (until is None or d <= until)]
    if not found:
        raise ValueError("no control snapshot matches")
    if every_days > 1:
        kept = [found[0]]
        for d, f in found[1:]:
            if (d - kept[-1][0]).days >= every_days:
                kept.append((d, f))
        if kept[-1] != found[-1]:
            kept.append(found[-1])
        found = kept
    return found


def default_manifest(first: dt.date) -> dict[str, Any]:
    """Manifest defaults: UA and RU, a 7.5 km buffer each side, Minsk II withdrawal distances."""
    return {
        "truceline_agreement": FORMAT_VERSION,
        "id": "derived",
        "title": "Derived line of contact",
        "version": first.isoformat(),
        "effective_from": f"{first.isoformat()}T00:00:00+00:00",
        "attribution": [DEEPSTATE_ATTRIBUTION, OUTLINE_ATTRIBUTION],
        "parties": [{"id": "UA", "name": "Ukraine"}, {"id": "RU", "name": "Russian Federation"}],
        "buffer_zone_km": 7.5,
        "withdrawal_km": dict(MINSK_II_WITHDRAWAL_KM),
    }


def derive_agreement(
    snapshots: list[tuple[dt.date, Path]],
    country: shapely.Geometry,
    out_dir: str | Path,
    template: str | Path | None = None,
    controlling_party: str = "RU",
    other_party: str = "UA",
    border_tolerance_km: float = 2.0,
    min_piece_km: float = 1.0,
    progress: Callable[[dt.date], None] | None = None,
    source_attribution: str = DEEPSTATE_ATTRIBUTION,
    warn: Callable[[str], None] | None = None,
    rear_areas: dict[str, shapely.Geometry] | None = None,
) -> Path:
    """Write an agreement whose line versions come from control snapshots.

    Each snapshot gives a version valid from its date (00:00 UTC) until the next one; a snapshot
    whose line is unchanged from the previous one adds no version. ``rear_areas`` maps a party to
    its own state's outline, added to its area near the country (:func:`with_rear_area`); the
    line is derived before. With ``template`` (an
    agreement directory) its parties, zones, sites, sectors and windows are kept and its layer
    files copied; otherwise :func:`default_manifest` is used.

    Returns
    -------
    Path
        The written manifest.
    """
    out = Path(out_dir)
    (out / "layers").mkdir(parents=True, exist_ok=True)
    manifest = _start_manifest(out, template) if template is not None else default_manifest(snapshots[0][0])
    deriver = LineDeriver(country, border_tolerance_km, min_piece_km)
    versions: list[dict[str, Any]] = []
    previous: shapely.Geometry | None = None
    for day, path in snapshots:
        if progress is not None:
            progress(day)
        control, repairs = _read_control(path)
        d = deriver.derive(control)
        repairs += [d.repaired] if d.repaired else []
        if repairs and warn is not None:
            warn(f"{path.name}: invalid control polygon repaired ({'; '.join(repairs)})")
        if previous is not None and shapely.equals_exact(d.line, previous, tolerance=1e-7):
            continue
        previous = d.line
        src = (
            f"{path.name} ({source_attribution}); line = boundary minus border/coast "
            f"(tolerance {border_tolerance_km} km, pieces >= {min_piece_km} km)"
            + (f"; invalid polygon repaired: {'; '.join(repairs)}" if repairs else "")
        )
        sides = [(controlling_party, d.controlled), (other_party, d.rest)]
        if rear_areas:  # its own state's territory next to the country
            sides = [(p, with_rear_area(g, rear_areas[p], country) if p in rear_areas else g) for p, g in sides]
        versions.append(_write_version(out, day.isoformat(), d, sides, src, source_attribution))
    manifest["lines"] = versions
    mpath = out / MANIFEST
    mpath.write_text(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8")
    return mpath


def _start_manifest(out: Path, template: str | Path) -> dict[str, Any]:
    """The template agreement's manifest, its layer files copied into ``out``."""
    tpath = manifest_path(template)
    manifest: dict[str, Any] = yaml.safe_load(tpath.read_text(encoding="utf-8"))
    for key in ("protected_sites", "sectors", "disengagement_areas"):
        if manifest.get(key):
            dest = out / manifest[key]
            dest.parent.mkdir(parents=True, exist_ok=True)
            if (tpath.parent / manifest[key]).resolve() != dest.resolve():
                shutil.copyfile(tpath.parent / manifest[key], dest)
    return manifest


def _write_version(
    out: Path,
    tag: str,
    d: Derivation,
    sides: list[tuple[str, shapely.Geometry]],
    src: str,
    source_attribution: str,
) -> dict[str, Any]:
    """Write one line version's layers (the line, each party's area); return its manifest entry."""
    line_rel = f"layers/line_{tag}.geojson"
    write_features(
        out / line_rel,
        [(d.line, {"version": tag, "length_km": round(d.line_length_km, 1)})],
        attribution=source_attribution,
    )
    areas = {}
    for party, geom in sides:
        rel = f"layers/area_{party}_{tag}.geojson"
        write_features(
            out / rel,
            [(geom, {"party": party, "version": tag})],
            attribution=f"{source_attribution}; {OUTLINE_ATTRIBUTION}",
        )
        areas[party] = rel
    return {
        "id": f"loc-{tag}",
        "valid_from": f"{tag}T00:00:00+00:00",
        "line": line_rel,
        "controlled_areas": areas,
        "source": src,
    }


def _read_control(path: Path) -> tuple[shapely.Geometry, list[str]]:
    """Union of a control file's polygons, each invalid one repaired first (with the reasons)."""
    feats = read_features(path)
    if not feats:
        raise GeoJSONError(path, "the file has no features")
    geoms, repairs = [], []
    for i, f in enumerate(feats):
        g = f.geometry
        if not g.is_valid:
            repairs.append(f"feature {i}: {shapely.is_valid_reason(g)}")
            g = polygonal(shapely.make_valid(g))
        geoms.append(g)
    return shapely.union_all(geoms), repairs


def with_rear_area(
    area: shapely.Geometry, neighbour: shapely.Geometry, country: shapely.Geometry, margin_deg: float = 1.0
) -> shapely.Geometry:
    """A party's controlled area grown by its own state's territory next to the country.

    ``neighbour`` (e.g. Russia's outline) is clipped to the country's bounding box grown by
    ``margin_deg`` and cut by the country's outline, so it never overlaps the other party's area.
    Fire from there (a launch in Belgorod oblast, say) then has a side like fire from the
    occupied areas. Thin gaps where two sources draw the border differently stay with no side.
    """
    w, s, e, n = country.bounds
    box = shapely.box(w - margin_deg, s - margin_deg, e + margin_deg, n + margin_deg)
    rear = polygonal(shapely.difference(shapely.intersection(neighbour, box), country))
    return polygonal(shapely.union(area, rear))


def load_country(path: str | Path, simplify_m: float = 50.0) -> shapely.Geometry:
    """The country outline: union of the polygons in a GeoJSON file, simplified to ``simplify_m``.

    Simplification (topology-preserving, in degrees scaled from metres) keeps the shipped layers
    small; it moves the outline by at most ``simplify_m``, well inside the border tolerance.
    """
    geom = read_union(path)
    if simplify_m > 0:
        geom = polygonal(shapely.make_valid(shapely.simplify(geom, simplify_m / 111_320.0, preserve_topology=True)))
    return geom
