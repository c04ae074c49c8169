"""Load and validate an agreement directory, reporting every error at once with its field path."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import shapely
import yaml
from pydantic import BaseModel, ValidationError

from truceline.agreement.model import (
    Agreement,
    CeasefireWindow,
    LineBand,
    LineVersion,
    NamedArea,
    ProtectedSite,
    Transparency,
)
from truceline.agreement.schema import (
    AgreementSpec,
    BandSpec,
    CeasefireWindowSpec,
    LineVersionSpec,
    PartySpec,
    utc,
)
from truceline.core import MISSING
from truceline.core.codec import validation_problems
from truceline.geo.measure import area_km2
from truceline.io.geojson import Feature, GeoJSONError, read_features

MANIFEST = "agreement.yaml"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
#: Two parties' controlled areas may overlap by at most this much (digitising slivers), km².
OVERLAP_TOLERANCE_KM2 = 0.05

_M = TypeVar("_M", bound=BaseModel)


@dataclass(frozen=True)
class Issue:
    """One problem in an agreement: where (``field`` path) and what."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class AgreementError(ValueError):
    """The agreement is invalid; :attr:`issues` lists every problem found."""

    def __init__(self, path: Path, issues: list[Issue]) -> None:
        self.path = path
        self.issues = issues
        lines = "\n".join(f"  - {i}" for i in issues)
        super().__init__(f"{path}: {len(issues)} problem(s)\n{lines}")


def manifest_path(path: str | Path) -> Path:
    """The manifest file for an agreement directory or file path."""
    p = Path(path)
    return p / MANIFEST if p.is_dir() else p


def validate_agreement(path: str | Path) -> list[Issue]:
    """Every problem of the agreement at ``path`` (empty when valid)."""
    try:
        load_agreement(path)
    except AgreementError as exc:
        return exc.issues
    return []


def load_agreement(path: str | Path) -> Agreement:
    """Load an agreement from its directory (or its ``agreement.yaml``).

    Raises
    ------
    AgreementError
        With every problem found: schema errors, missing or malformed layers, invalid
        geometry, overlapping versions, dangling references.
    """
    mpath = manifest_path(path)
    issues: list[Issue] = []
    try:
        raw = yaml.safe_load(mpath.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AgreementError(mpath, [Issue("(file)", "agreement manifest not found")]) from None
    except yaml.YAMLError as exc:
        raise AgreementError(mpath, [Issue("(file)", f"not valid YAML: {exc}")]) from None
    if not isinstance(raw, dict):
        raise AgreementError(mpath, [Issue("(file)", "the manifest is not a YAML mapping")])
    try:
        spec = AgreementSpec.model_validate(raw)
    except ValidationError as exc:
        for fld, value, reason in validation_problems(exc):
            shown = "" if value is MISSING else f" (got {value!r})"
            issues.append(Issue(fld or "(manifest)", f"{reason}{shown}"))
        _check_layers_of_invalid_manifest(mpath.parent, raw, issues)
        raise AgreementError(mpath, issues) from None
    builder = _Builder(mpath.parent, spec, issues)
    agreement = builder.build(mpath)
    if issues:
        raise AgreementError(mpath, issues)
    return agreement


def _where(geom: shapely.Geometry) -> str:
    """`` (largest piece X km² at lon,lat)`` of a polygonal geometry with several pieces, or its place."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return ""
    sizes = [area_km2(p) for p in parts]
    k = max(range(len(parts)), key=sizes.__getitem__)
    at = shapely.point_on_surface(parts[k])
    if len(parts) == 1:
        return f" at {at.x:.4f},{at.y:.4f}"
    return f" in {len(parts)} pieces, largest {sizes[k]:.2f} km² at {at.x:.4f},{at.y:.4f}"


def _valid_items(model: type[_M], items: Any) -> list[tuple[int, _M]]:
    """The items of a manifest list that pass ``model`` on their own, with their index."""
    out = []
    for i, item in enumerate(items if isinstance(items, list) else []):
        try:
            out.append((i, model.model_validate(item)))
        except ValidationError:
            continue  # already reported by the validation of the whole manifest
    return out


def _check_layers_of_invalid_manifest(root: Path, raw: dict[str, Any], issues: list[Issue]) -> None:
    """Check the layers a manifest with schema errors names, so every problem shows at once."""
    b = _Builder(root, None, issues)
    party_ids = [p.id.value for _, p in _valid_items(PartySpec, raw.get("parties"))]
    b.versions(_valid_items(LineVersionSpec, raw.get("lines")), party_ids)
    rels = {
        k: raw.get(k) if isinstance(raw.get(k), str) else None
        for k in ("protected_sites", "sectors", "disengagement_areas")
    }
    sites = b.sites(rels["protected_sites"])
    sectors = b.named_areas("sectors", rels["sectors"], require=("contingent",))
    b.named_areas("disengagement_areas", rels["disengagement_areas"], require=())
    b.windows(
        _valid_items(CeasefireWindowSpec, raw.get("ceasefire_windows")), {x.id for x in sites}, {x.id for x in sectors}
    )


class _Builder:
    def __init__(self, root: Path, spec: AgreementSpec | None, issues: list[Issue]) -> None:
        self.root = root
        self.spec = spec
        self.issues = issues

    def err(self, fld: str, message: str) -> None:
        self.issues.append(Issue(fld, message))

    def features(self, fld: str, rel: str) -> list[Feature] | None:
        p = self.root / rel
        try:
            return read_features(p)
        except FileNotFoundError:
            self.err(fld, f"layer file {rel} not found")
        except GeoJSONError as exc:
            self.err(fld, str(exc))
        return None

    def geometry(self, fld: str, rel: str, kinds: tuple[str, ...]) -> shapely.Geometry | None:
        feats = self.features(fld, rel)
        if feats is None:
            return None
        if not feats:
            self.err(fld, f"layer {rel} has no features")
            return None
        ok = True
        for i, f in enumerate(feats):
            if f.geometry.geom_type not in kinds:
                self.err(fld, f"{rel} feature {i}: geometry is {f.geometry.geom_type}, expected {' or '.join(kinds)}")
                ok = False
            elif not f.geometry.is_valid:
                self.err(fld, f"{rel} feature {i}: invalid geometry: {shapely.is_valid_reason(f.geometry)}")
                ok = False
        return shapely.union_all([f.geometry for f in feats]) if ok else None

    def build(self, mpath: Path) -> Agreement:
        s = self.spec
        assert s is not None
        party_ids = [p.id.value for p in s.parties]
        versions = self.versions(list(enumerate(s.lines)), party_ids)
        sites = self.sites(s.protected_sites)
        sectors = self.named_areas("sectors", s.sectors, require=("contingent",))
        diseng = self.named_areas("disengagement_areas", s.disengagement_areas, require=())
        windows = self.windows(list(enumerate(s.ceasefire_windows)), {x.id for x in sites}, {x.id for x in sectors})
        return Agreement(
            id=s.id,
            title=s.title,
            version=s.version,
            effective_from=utc(s.effective_from),
            parties={p.id.value: p.name for p in s.parties},
            versions=tuple(versions),
            buffer_zone_km=s.buffer_zone_km,
            withdrawal_km={k.value: v for k, v in s.withdrawal_km.items()},
            protected_sites=tuple(sites),
            sectors=tuple(sectors),
            disengagement_areas=tuple(diseng),
            ceasefire_windows=tuple(windows),
            attribution=tuple(s.attribution),
            notes=s.notes,
            path=mpath.parent,
            transparency=None
            if s.transparency is None
            else Transparency(
                tuple(s.transparency.log_keys),
                tuple(s.transparency.witnesses),
                s.transparency.quorum,
                s.transparency.origin,
            ),
        )

    def versions(self, specs: list[tuple[int, LineVersionSpec]], party_ids: list[str]) -> list[LineVersion]:
        out: list[tuple[int, LineVersion]] = []
        seen: set[str] = set()
        for i, v in specs:
            base = f"lines[{i}]"
            if v.id in seen:
                self.err(f"{base}.id", f"duplicate line version id {v.id!r}")
            seen.add(v.id)
            line = self.geometry(f"{base}.line", v.line, ("LineString", "MultiLineString"))
            got = sorted(p.value for p in v.controlled_areas)
            if got != sorted(party_ids):
                self.err(f"{base}.controlled_areas", f"needs one area per party {sorted(party_ids)}, got {got}")
            areas: dict[str, shapely.Geometry] = {}
            for party, rel in v.controlled_areas.items():
                g = self.geometry(f"{base}.controlled_areas.{party.value}", rel, ("Polygon", "MultiPolygon"))
                if g is not None:
                    areas[party.value] = g
            if len(areas) == 2:
                a, b = areas.values()
                shared = shapely.intersection(a, b)
                overlap = area_km2(shared)
                if overlap > OVERLAP_TOLERANCE_KM2:
                    self.err(
                        f"{base}.controlled_areas", f"the parties' areas overlap by {overlap:.2f} km²{_where(shared)}"
                    )
            band = self.band(f"{base}.band", v.band) if v.band is not None else None
            if line is not None and len(areas) == 2 and len(areas) == len(party_ids):
                start, end = utc(v.valid_from), utc(v.valid_to) if v.valid_to else None
                out.append((i, LineVersion(v.id, start, end, line, areas, v.source, band)))
        return self.close_versions(out)

    def band(self, fld: str, spec: BandSpec) -> LineBand | None:
        """A version's disagreement band: segments (lines) each with a number ``disagreement_km`` >= 0."""
        feats = self.features(f"{fld}.file", spec.file)
        if feats is None:
            return None
        ok = True
        for i, f in enumerate(feats):
            km = f.properties.get("disagreement_km")
            if f.geometry.geom_type not in ("LineString", "MultiLineString"):
                self.err(f"{fld}.file", f"{spec.file} feature {i}: geometry is {f.geometry.geom_type}, expected a line")
                ok = False
            if isinstance(km, bool) or not isinstance(km, int | float) or not math.isfinite(km) or km < 0:
                self.err(f"{fld}.file", f"{spec.file} feature {i}: disagreement_km: must be a number >= 0 (got {km!r})")
                ok = False
        if not ok:
            return None
        return LineBand(
            spec.file,
            tuple(spec.sources),
            spec.step_km,
            tuple(f.geometry for f in feats),
            tuple(float(f.properties["disagreement_km"]) for f in feats),
            tuple(dict(f.properties) for f in feats),
        )

    def close_versions(self, indexed: list[tuple[int, LineVersion]]) -> list[LineVersion]:
        """Sort versions, end each where the next begins, and report overlaps."""
        ordered = sorted(indexed, key=lambda iv: iv[1].valid_from)
        result: list[LineVersion] = []
        for k, (i, v) in enumerate(ordered):
            nxt = ordered[k + 1] if k + 1 < len(ordered) else None
            end = v.valid_to
            if nxt is not None:
                j, w = nxt
                if w.valid_from == v.valid_from or (end is not None and end > w.valid_from):
                    self.err(
                        f"lines[{j}].valid_from",
                        f"version {w.id!r} starting {w.valid_from.isoformat()} overlaps version "
                        f"{v.id!r} (lines[{i}]) which runs until "
                        f"{end.isoformat() if end else 'the next version'}",
                    )
                if end is None:
                    end = w.valid_from
            result.append(replace(v, valid_to=end))
        return result

    def _props(self, fld: str, i: int, f: Feature, require: tuple[str, ...]) -> dict[str, Any] | None:
        p = f.properties
        ok = True
        if not isinstance(p.get("id"), str) or not _ID.match(p["id"]):
            self.err(f"{fld}[{i}].id", f"missing or malformed id (got {p.get('id')!r})")
            ok = False
        for key in ("name", *require):
            if not isinstance(p.get(key), str) or not p[key].strip():
                self.err(f"{fld}[{i}].{key}", f"missing or empty (got {p.get(key)!r})")
                ok = False
        return p if ok else None

    def sites(self, rel: str | None) -> list[ProtectedSite]:
        feats = self.features("protected_sites", rel) if rel else []
        out: list[ProtectedSite] = []
        seen: set[str] = set()
        for i, f in enumerate(feats or []):
            fld = "protected_sites"
            p = self._props(fld, i, f, ())
            r = f.properties.get("radius_km")
            if f.geometry.geom_type != "Point":
                self.err(f"{fld}[{i}].geometry", f"a site is a Point, got {f.geometry.geom_type}")
                p = None
            if isinstance(r, bool) or not isinstance(r, int | float) or not 0 < r <= 100:
                self.err(f"{fld}[{i}].radius_km", f"must be a number in (0, 100] km (got {r!r})")
                p = None
            if p is None or not isinstance(r, int | float):
                continue
            if p["id"] in seen:
                self.err(f"{fld}[{i}].id", f"duplicate site id {p['id']!r}")
            seen.add(p["id"])
            out.append(
                ProtectedSite(
                    p["id"], p["name"], str(p.get("category", "")), f.geometry.x, f.geometry.y, float(r), dict(p)
                )
            )
        return out

    def named_areas(self, fld: str, rel: str | None, require: tuple[str, ...]) -> list[NamedArea]:
        feats = self.features(fld, rel) if rel else []
        out: list[NamedArea] = []
        seen: set[str] = set()
        for i, f in enumerate(feats or []):
            p = self._props(fld, i, f, require)
            if f.geometry.geom_type not in ("Polygon", "MultiPolygon"):
                self.err(f"{fld}[{i}].geometry", f"expected a polygon, got {f.geometry.geom_type}")
                p = None
            elif not f.geometry.is_valid:
                self.err(f"{fld}[{i}].geometry", f"invalid geometry: {shapely.is_valid_reason(f.geometry)}")
                p = None
            if p is None:
                continue
            if p["id"] in seen:
                self.err(f"{fld}[{i}].id", f"duplicate id {p['id']!r}")
            seen.add(p["id"])
            out.append(NamedArea(p["id"], p["name"], f.geometry, dict(p)))
        return out

    def windows(
        self, specs: list[tuple[int, CeasefireWindowSpec]], site_ids: set[str], sector_ids: set[str]
    ) -> list[CeasefireWindow]:
        out = []
        seen: set[str] = set()
        for i, w in specs:
            if w.id in seen:
                self.err(f"ceasefire_windows[{i}].id", f"duplicate window id {w.id!r}")
            seen.add(w.id)
            for k, sid in enumerate(w.sites):
                if sid not in site_ids:
                    self.err(f"ceasefire_windows[{i}].sites[{k}]", f"unknown protected site {sid!r}")
            for k, sid in enumerate(w.sectors):
                if sid not in sector_ids:
                    self.err(f"ceasefire_windows[{i}].sectors[{k}]", f"unknown sector {sid!r}")
            out.append(
                CeasefireWindow(w.id, w.name, utc(w.start), utc(w.end), tuple(w.sites), tuple(w.sectors), w.whole_line)
            )
        return out
