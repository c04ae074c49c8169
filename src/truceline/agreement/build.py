"""Build an agreement directory from control-of-terrain snapshots (``truceline agreement derive``)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
import yaml

from truceline.agreement.control import (
    DEEPSTATE_DAILY,
    FILL_HOLES_KM2,
    ControlRead,
    Selection,
    implausible,
    read_control,
)
from truceline.agreement.load import MANIFEST, manifest_path
from truceline.agreement.schema import FORMAT_VERSION
from truceline.geo.derive import Derivation, LineDeriver, polygonal
from truceline.geo.measure import area_km2
from truceline.io.geojson import read_union, write_features

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


class ImplausibleDerivation(ValueError):
    """A derived line or area is outside the bounds for the source's date (:data:`control.BOUNDS`)."""


#: Ukraine's area (km², geodesic) and bounds (degrees) from the Minregion outline: the plausibility
#: bounds apply to an outline within 5 % of that area and 1° of those bounds (:func:`is_ukraine`).
UKRAINE_KM2 = 602_300.0
UKRAINE_BOUNDS = (22.14, 44.39, 40.23, 52.38)


def is_ukraine(country: shapely.Geometry) -> bool:
    """Whether an outline is Ukraine's (area and bounds), so that :data:`control.BOUNDS` apply."""
    near = all(abs(a - b) < 1.0 for a, b in zip(country.bounds, UKRAINE_BOUNDS, strict=True))
    return near and abs(area_km2(country) / UKRAINE_KM2 - 1.0) < 0.05


@dataclass(frozen=True)
class SourceInfo:
    """Who made the control polygons: goes into each version's ``source`` and the manifest's attribution.

    ``name`` defaults to the file name, ``date`` to each snapshot's date. ``attribution`` is the
    source's credit and licence lines; when empty, cyterat's daily DeepStateMap files are
    recognised by name (:data:`control.DEEPSTATE_DAILY`) and credited as before, anything else
    is credited by file name, with a warning.
    """

    name: str | None = None
    date: dt.date | None = None
    attribution: tuple[str, ...] = ()

    def credits(self, files: list[Path]) -> tuple[list[str], str]:
        """The attribution lines for these files, and a warning when none was given or recognised."""
        if self.attribution:
            return list(self.attribution), ""
        if files and all(DEEPSTATE_DAILY.match(f.name) for f in files):
            return [DEEPSTATE_ATTRIBUTION], ""
        names = ", ".join(sorted({f.name for f in files})[:3]) + (", ..." if len({f.name for f in files}) > 3 else "")
        return [f"control polygons from {names}: source not stated"], (
            "no --attribution given and the files are not DeepStateMap daily snapshots: "
            "the manifest credits the file names only; give the source's credit and licence with --attribution"
        )


@dataclass(frozen=True)
class ControlOptions:
    """How control areas are read from each file (:func:`control.read_control`) and checked."""

    selection: Selection = field(default_factory=Selection)
    fill_holes_km2: float = FILL_HOLES_KM2
    force: bool = False


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
    source_attribution: str | None = None,
    warn: Callable[[str], None] | None = None,
    rear_areas: dict[str, shapely.Geometry] | None = None,
    source: SourceInfo | None = None,
    options: ControlOptions | None = None,
) -> Path:
    """Write an agreement whose line versions come from control snapshots.

    Each snapshot gives a version valid from its date (00:00 UTC) until the next one; a snapshot
    whose line is unchanged from the previous one adds no version. Each file's control area is
    read with ``options`` (selection, repairs, holes filled; see :func:`control.read_control`)
    and the result checked against the bounds for its date unless ``options.force``
    (:class:`ImplausibleDerivation`). ``source`` names the source and its credits
    (``source_attribution``, one credit line, is kept for older callers). ``rear_areas`` maps a
    party to its own state's outline, added to its area near the country
    (:func:`with_rear_area`); the line is derived before. With ``template`` (an agreement
    directory) its parties, zones, sites, sectors and windows are kept and its layer files
    copied; otherwise :func:`default_manifest` is used.

    Returns
    -------
    Path
        The written manifest.
    """
    out = Path(out_dir)
    (out / "layers").mkdir(parents=True, exist_ok=True)
    note = warn or (lambda _: None)
    src = source or SourceInfo(attribution=(source_attribution,) if source_attribution else ())
    credits, unstated = src.credits([f for _, f in snapshots])
    if unstated:
        note(unstated)
    manifest = _start_manifest(out, template) if template is not None else default_manifest(snapshots[0][0])
    manifest["attribution"] = _merge_credits(manifest.get("attribution"), credits, template is None)
    deriver = LineDeriver(country, border_tolerance_km, min_piece_km)
    check = is_ukraine(country)
    if not check:
        note("plausibility bounds not checked: the country outline is not Ukraine's")
    opts = options or ControlOptions()
    versions: list[dict[str, Any]] = []
    previous: shapely.Geometry | None = None
    for day, path in snapshots:
        if progress is not None:
            progress(day)
        read, d = _derive_one(path, src.date or day, deriver, opts, note if check else None, warn)
        if previous is not None and shapely.equals_exact(d.line, previous, tolerance=1e-7):
            continue
        previous = d.line
        text = _version_source(path, day, src, credits, read, border_tolerance_km, min_piece_km, opts)
        sides = [(controlling_party, d.controlled), (other_party, d.rest)]
        if rear_areas:  # its own state's territory next to the country
            sides = [(p, with_rear_area(g, rear_areas[p], country) if p in rear_areas else g) for p, g in sides]
        versions.append(_write_version(out, day.isoformat(), d, sides, text, "; ".join(credits)))
    manifest["lines"] = versions
    mpath = out / MANIFEST
    mpath.write_text(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=10_000), encoding="utf-8")
    return mpath


def _merge_credits(current: Any, credits: list[str], fresh: bool) -> list[str]:
    """The manifest's attribution: the source's credits then the outline's (fresh), or the template's plus new ones."""
    if fresh:
        return [*credits, OUTLINE_ATTRIBUTION]
    have = [str(c) for c in current] if isinstance(current, list) else []
    return have + [c for c in credits if c not in have and "source not stated" not in c]


def _derive_one(
    path: Path,
    when: dt.date,
    deriver: LineDeriver,
    opts: ControlOptions,
    bounds_note: Callable[[str], None] | None,
    warn: Callable[[str], None] | None,
) -> tuple[ControlRead, Derivation]:
    """Read one file's control area and derive its line; refuse an implausible one (``bounds_note``: checked)."""
    read = read_control(path, opts.selection, opts.fill_holes_km2)
    d = deriver.derive(read.geometry)
    if d.repaired:
        read.repairs.append(d.repaired)
    if warn is not None:
        if read.repairs:
            warn(f"{path.name}: invalid control polygon repaired ({'; '.join(read.repairs)})")
        for line in _summarised(read.notes):
            warn(f"{path.name}: {line}")
    if bounds_note is not None:
        why = implausible(when, d.line_length_km, area_km2(d.controlled))
        if why and not opts.force:
            raise ImplausibleDerivation(f"{path}: implausible result: {why}; check the selection, or --force")
        if why:
            bounds_note(f"{path.name}: implausible result kept (--force): {why}")
    return read, d


def _summarised(notes: list[str], most: int = 12) -> list[str]:
    """The notes, at most ``most`` of them, then how many more there were."""
    return notes if len(notes) <= most else [*notes[:most], f"... and {len(notes) - most} more note(s)"]


def _version_source(
    path: Path,
    day: dt.date,
    src: SourceInfo,
    credits: list[str],
    read: ControlRead,
    tolerance_km: float,
    min_piece_km: float,
    opts: ControlOptions,
) -> str:
    """A line version's ``source``: who drew it, from which file and selection, and what was repaired."""
    text = f"{src.name or path.name}, {(src.date or day).isoformat()} ({'; '.join(credits)})"
    text += f"; file {path.name}" if src.name else ""
    if not opts.selection.everything:
        text += f"; selected {read.selected} of {read.total} features by {opts.selection.describe()}"
    text += f"; line = boundary minus border/coast (tolerance {tolerance_km} km, pieces >= {min_piece_km} km)"
    if read.repairs:
        text += f"; invalid polygon repaired: {'; '.join(read.repairs)}"
    skipped = read.selected - read.used
    if skipped:
        text += f"; {skipped} feature(s) without an area skipped"
    if read.filled_km2:
        text += f"; {len(read.filled_km2)} hole(s) < {opts.fill_holes_km2:g} km² filled"
    return text


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
