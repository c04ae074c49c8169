"""The agreement's layers (line, areas, buffer, sectors, sites, disengagement, oblast boundaries) as GeoJSON."""

from __future__ import annotations

import datetime as dt
import json
from functools import cached_property
from importlib.resources import files
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping

from truceline.agreement import Agreement, LineVersion, NoLineInForce
from truceline.core.errors import NotFound
from truceline.geo.places import gazetteer
from truceline.service.queries.features import _feature, _point

# ----------------------------------------------------------------------------------- agreement layers
#: Agreement layers: name -> title.
LAYERS: dict[str, str] = {
    "boundaries": "Oblast boundaries of Ukraine (Minregion, CC BY-SA; Crimea in Ukraine)",
    "line": "Line of contact in force",
    "areas": "Areas controlled by each party",
    "buffer": "Buffer zone (the band within the agreement's half-width of the line)",
    "band": "Disagreement between sources along the line in force (km; empty where the agreement gives none)",
    "sectors": "Sectors of responsibility",
    "sites": "Protected sites",
    "disengagement": "Disengagement areas",
    "settlements": "Settlements of 1,000 inhabitants or more (GeoNames, CC BY 4.0), largest first",
}
#: The smallest settlement the settlements layer lists.
SETTLEMENT_MIN_POPULATION = 1000


def _rounded(geom: shapely.Geometry, decimals: int = 6) -> dict[str, Any]:
    out: dict[str, Any] = mapping(shapely.transform(geom, lambda c: np.round(c, decimals)))
    return json.loads(json.dumps(out))  # tuples -> lists


class AgreementLayers:
    """The agreement's layers as GeoJSON, built once per line version and kept.

    Parameters
    ----------
    agreement : Agreement
    """

    def __init__(self, agreement: Agreement) -> None:
        self.agreement = agreement
        self._cache: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def version(self, at: dt.datetime | None) -> LineVersion:
        """The line version in force at ``at`` (the newest without ``at``).

        Raises
        ------
        NotFound
            (a ``LookupError``) When no line is in force at ``at``.
        """
        if at is None:
            return self.agreement.versions[-1]
        try:
            return self.agreement.line_at(at)
        except NoLineInForce as exc:
            raise NotFound(str(exc)) from None

    @cached_property
    def extent(self) -> tuple[float, float, float, float]:
        """Bounds of every version's areas and line (lon0, lat0, lon1, lat1)."""
        versions = self.agreement.versions
        geoms = [v.line for v in versions] + [g for v in versions for g in v.areas.values()]
        b = shapely.total_bounds(geoms)
        return float(b[0]), float(b[1]), float(b[2]), float(b[3])

    def features(self, name: str, at: dt.datetime | None = None) -> list[dict[str, Any]]:
        """The features of layer ``name`` (see :data:`LAYERS`); ``line``, ``areas``, ``buffer`` and ``band`` at ``at``.

        Raises
        ------
        NotFound
            (a ``LookupError``) For an unknown layer, or no line in force at ``at``.
        """
        if name not in LAYERS:
            raise NotFound(f"layer {name!r}: not found; layers are {', '.join(LAYERS)}")
        version = self.version(at) if name in ("line", "areas", "buffer", "band") else None
        key = (name, "" if version is None else version.id)
        if key not in self._cache:
            self._cache[key] = self._build(name, version)
        return self._cache[key]

    def geojson(self, name: str, at: dt.datetime | None = None) -> dict[str, Any]:
        """A FeatureCollection of layer ``name`` (see :meth:`features`)."""
        doc: dict[str, Any] = {"type": "FeatureCollection", "name": name, "title": LAYERS.get(name, name)}
        feats = self.features(name, at)
        if name == "boundaries":
            doc["attribution"] = _oblasts()["attribution"]
        if name == "settlements":
            doc["attribution"] = "Settlements: GeoNames (CC BY 4.0), names checked against KATOTTG"
        return doc | {"features": feats}

    def line_versions(self) -> list[dict[str, Any]]:
        """Every version of the line as a feature with ``valid_from``/``valid_to`` (the OGC collection)."""
        return [
            _feature(v.id, _rounded(v.line), {"id": v.id, "valid_from": v.valid_from.isoformat(),
                     "valid_to": None if v.valid_to is None else v.valid_to.isoformat(), "source": v.source})
            for v in self.agreement.versions
        ]  # fmt: skip

    def _build(self, name: str, version: LineVersion | None) -> list[dict[str, Any]]:
        a = self.agreement
        if name == "boundaries":
            return [dict(f, id=f["properties"].get("iso_3166_2", i)) for i, f in enumerate(_oblasts()["features"])]
        if name == "settlements":
            return _settlements()
        if name == "sectors":
            return [_feature(s.id, _rounded(s.geometry), {"id": s.id, "name": s.name, "contingent": s.contingent})
                    for s in a.sectors]  # fmt: skip
        if name == "disengagement":
            return [_feature(s.id, _rounded(s.geometry), {"id": s.id, "name": s.name}) for s in a.disengagement_areas]
        if name == "sites":
            return [_feature(s.id, _point(s.lon, s.lat), {**s.properties, "id": s.id, "name": s.name,
                             "category": s.category, "radius_km": s.radius_km}) for s in a.protected_sites]  # fmt: skip
        assert version is not None
        vprops = {"version": version.id, "valid_from": version.valid_from.isoformat(),
                  "valid_to": None if version.valid_to is None else version.valid_to.isoformat()}  # fmt: skip
        if name == "line":
            return [_feature(version.id, _rounded(version.line), {"id": version.id, **vprops})]
        if name == "areas":
            return [_feature(f"{version.id}:{p}", _rounded(g), {"party": p, "name": a.parties.get(p, p), **vprops})
                    for p, g in version.areas.items()]  # fmt: skip
        if name == "band":
            b = version.band
            if b is None:
                return []
            return [
                _feature(f"{version.id}:band:{i}", _rounded(g, 5),
                         {"disagreement_km": km, "sources": list(b.sources), **vprops})
                for i, (g, km) in enumerate(zip(b.segments, b.disagreement_km, strict=True))
            ]  # fmt: skip
        proj = a.zones(version).geometry.projection
        band = proj.unproject_geometry(shapely.buffer(proj.project_geometry(version.line, max_edge_deg=None),
                                                      a.buffer_zone_km * 1000.0, quad_segs=8))  # fmt: skip
        land = shapely.union_all(list(version.areas.values()))
        zone = shapely.intersection(band, land)
        return [_feature(f"{version.id}:buffer", _rounded(zone, 5), {"half_width_km": a.buffer_zone_km, **vprops})]


_OBLASTS: dict[str, Any] = {}


def _oblasts() -> dict[str, Any]:
    if not _OBLASTS:
        text = files("truceline").joinpath("data", "ua_oblasts.geojson").read_text(encoding="utf-8")
        _OBLASTS.update(json.loads(text))
    return _OBLASTS


def _settlements() -> list[dict[str, Any]]:
    """The gazetteer's settlements of :data:`SETTLEMENT_MIN_POPULATION` or more, largest first (a map labels
    the large ones first and the smaller as it zooms in)."""
    g = gazetteer()
    keep = sorted(np.flatnonzero(g.population >= SETTLEMENT_MIN_POPULATION), key=lambda i: -int(g.population[i]))
    return [
        _feature(str(g.ids[i]), _point(round(float(g.lon[i]), 4), round(float(g.lat[i]), 4)),
                 {"name": g.names[i], "name_uk": g.names_uk[i] or None, "population": int(g.population[i])})
        for i in keep
    ]  # fmt: skip
