"""The loaded agreement: parties, dated line versions with geometry, zones, sites, sectors, windows."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import shapely.affinity
from numpy.typing import ArrayLike, NDArray

from truceline.geo.coords import as_lonlat
from truceline.geo.engine import LineGeometry, Site, ZoneEngine, ZoneResult

#: Zone engines by the digest of what they are built from, shared by Agreement objects of one
#: process (the tests, the benchmarks and a server load the same agreement many times); a few kept.
_ENGINES: dict[str, ZoneEngine] = {}
_ENGINES_KEPT = 8
_ENGINE_LOCK = threading.Lock()


class NoLineInForce(LookupError):
    """No version of the line of contact is in force at the time asked."""


@dataclass(frozen=True)
class LineBand:
    """How far other sources' lines lie from a version's line, segment by segment along it.

    ``segments`` are pieces of the line (about ``step_km`` long, WGS84), ``disagreement_km`` the
    largest distance from each piece's midpoint to another source's line, ``sources`` the sources
    compared (the first drew the line), ``properties`` each segment's properties as written.
    """

    file: str
    sources: tuple[str, ...]
    step_km: float
    segments: tuple[shapely.Geometry, ...]
    disagreement_km: tuple[float, ...]
    properties: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class LineVersion:
    """One version of the line of contact, in force from ``valid_from`` until ``valid_to``.

    ``valid_to`` is exclusive; ``None`` means open-ended. ``band``: the disagreement band between
    sources along the line, when the manifest declares one.
    """

    id: str
    valid_from: dt.datetime
    valid_to: dt.datetime | None
    line: shapely.Geometry
    areas: dict[str, shapely.Geometry]
    source: str = ""
    band: LineBand | None = None

    def covers(self, t: dt.datetime) -> bool:
        """Whether this version is in force at ``t``."""
        return self.valid_from <= t and (self.valid_to is None or t < self.valid_to)


@dataclass(frozen=True)
class ProtectedSite:
    """A protected site (e.g. a water filtration or power station) with its radius in km."""

    id: str
    name: str
    category: str
    lon: float
    lat: float
    radius_km: float
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NamedArea:
    """A sector of responsibility or a disengagement area."""

    id: str
    name: str
    geometry: shapely.Geometry
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def contingent(self) -> str | None:
        """The contingent responsible (sectors)."""
        value = self.properties.get("contingent")
        return str(value) if value is not None else None


@dataclass(frozen=True)
class CeasefireWindow:
    """A local ceasefire window over sites, sectors or the whole line."""

    id: str
    name: str
    start: dt.datetime
    end: dt.datetime
    sites: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    whole_line: bool = False

    def active(self, t: dt.datetime) -> bool:
        """Whether the window is open at ``t`` (end exclusive)."""
        return self.start <= t < self.end


@dataclass(frozen=True)
class Transparency:
    """The transparency log as the agreement pins it: the mission's verifier keys (signed-note text), the
    log's origin, the witnesses' cosignature keys and the quorum of them a bulletin needs to count as
    published (0: no witness required)."""

    log_keys: tuple[str, ...]
    witnesses: tuple[str, ...] = ()
    quorum: int = 0
    origin: str | None = None


@dataclass(frozen=True, eq=False)
class Agreement:
    """A loaded, validated agreement. Build it with :func:`truceline.agreement.load_agreement`."""

    id: str
    title: str
    version: str
    effective_from: dt.datetime
    parties: dict[str, str]
    versions: tuple[LineVersion, ...]
    buffer_zone_km: float
    withdrawal_km: dict[str, float]
    protected_sites: tuple[ProtectedSite, ...] = ()
    sectors: tuple[NamedArea, ...] = ()
    disengagement_areas: tuple[NamedArea, ...] = ()
    ceasefire_windows: tuple[CeasefireWindow, ...] = ()
    attribution: tuple[str, ...] = ()
    notes: str = ""
    path: Path | None = None
    transparency: Transparency | None = None

    # -- versions -------------------------------------------------------------------------
    def line_at(self, t: dt.datetime) -> LineVersion:
        """The version of the line in force at ``t`` (an aware datetime).

        Raises
        ------
        NoLineInForce
            When ``t`` falls before the first version or after a version that ends.
        """
        if t.tzinfo is None:
            raise ValueError(f"time {t.isoformat()} has no timezone")
        for v in self.versions:
            if v.covers(t):
                return v
        spans = ", ".join(
            f"{v.id} [{v.valid_from.isoformat()}, {v.valid_to.isoformat() if v.valid_to else 'open'})"
            for v in self.versions
        )
        raise NoLineInForce(f"no line of contact in force at {t.isoformat()}; versions: {spans}")

    def version_index(self, times: Sequence[dt.datetime] | NDArray[Any]) -> NDArray[np.int64]:
        """Index into :attr:`versions` of the version in force at each time (-1 if none)."""
        ts = _as_datetime64(times)
        out = np.full(ts.shape, -1, dtype=np.int64)
        for i, v in enumerate(self.versions):
            lo = np.datetime64(_naive_utc(v.valid_from), "us")
            ok = ts >= lo
            if v.valid_to is not None:
                ok &= ts < np.datetime64(_naive_utc(v.valid_to), "us")
            out[ok & (out < 0)] = i
        return out

    def windows_at(self, t: dt.datetime) -> list[CeasefireWindow]:
        """Local ceasefire windows open at ``t``."""
        return [w for w in self.ceasefire_windows if w.active(t)]

    # -- geometry -------------------------------------------------------------------------
    @cached_property
    def _engines(self) -> dict[str, ZoneEngine]:
        return {}

    def zones(self, version: LineVersion) -> ZoneEngine:
        """The zone engine of one line version (built once per process for the same geometry, then cached)."""
        eng = self._engines.get(version.id)
        if eng is None:
            key = self._engine_key(version)
            with _ENGINE_LOCK:
                eng = _ENGINES.get(key)
            if eng is None:
                ordered = {p: version.areas[p] for p in self.parties}
                eng = ZoneEngine(
                    LineGeometry(version.line, ordered),
                    buffer_km=self.buffer_zone_km,
                    withdrawal_km=self.withdrawal_km,
                    disengagement=[(a.id, a.geometry) for a in self.disengagement_areas],
                    sites=[Site(s.id, s.lon, s.lat, s.radius_km) for s in self.protected_sites],
                    sectors=[(a.id, a.geometry) for a in self.sectors],
                )
                with _ENGINE_LOCK:
                    while len(_ENGINES) >= _ENGINES_KEPT:
                        _ENGINES.pop(next(iter(_ENGINES)))
                    _ENGINES[key] = eng
            self._engines[version.id] = eng
        return eng

    def _engine_key(self, version: LineVersion) -> str:
        """A digest of everything a version's zone engine is built from: the same key, the same engine
        (another Agreement object loaded from the same files shares it)."""
        h = hashlib.sha256()
        geoms = [version.line, *(version.areas[p] for p in self.parties)]
        geoms += [a.geometry for a in self.disengagement_areas] + [a.geometry for a in self.sectors]
        for g in geoms:
            h.update(shapely.to_wkb(g, hex=False, output_dimension=2))
        h.update(repr((self.parties, self.buffer_zone_km, self.withdrawal_km,
                       [a.id for a in self.disengagement_areas], [a.id for a in self.sectors],
                       [(s.id, s.lon, s.lat, s.radius_km) for s in self.protected_sites])).encode())  # fmt: skip
        return h.hexdigest()

    def query(self, lon: ArrayLike, lat: ArrayLike, when: dt.datetime) -> ZoneResult:
        """Side, signed distance and zones of points under the line in force at ``when``."""
        return self.zones(self.line_at(when)).query(lon, lat)

    def query_at_times(
        self, lon: ArrayLike, lat: ArrayLike, times: Sequence[dt.datetime] | NDArray[Any]
    ) -> list[tuple[NDArray[np.int64], ZoneResult]]:
        """Query points that each have their own time.

        Returns one ``(indices, result)`` pair per line version that is in force at some of the
        times; ``indices`` select the points that version answers for.

        Raises
        ------
        NoLineInForce
            When some time has no line in force (the message names the first such point).
        """
        lon_a, lat_a = as_lonlat(lon, lat)  # errors name the point's index in the whole input
        vidx = self.version_index(times)
        if vidx.size != lon_a.size:
            raise ValueError(f"{lon_a.size} points but {vidx.size} times")
        if (vidx < 0).any():
            first = int(np.flatnonzero(vidx < 0)[0])
            when = _as_datetime64(times)[first]
            raise NoLineInForce(f"point {first}: no line of contact in force at {when}Z")
        out = []
        for i in np.unique(vidx):
            sel = np.flatnonzero(vidx == i)
            out.append((sel, self.zones(self.versions[int(i)]).query(lon_a[sel], lat_a[sel])))
        return out


def band_km_at(
    agreement: Agreement, lon: ArrayLike, lat: ArrayLike, times: Sequence[dt.datetime]
) -> NDArray[np.float64]:
    """The disagreement between sources (km) of the line in force at each point's time, read at the band's
    piece nearest the point (:class:`LineBand`); 0 where that version has no band or no line is in force."""
    lon_a, lat_a = as_lonlat(lon, lat)
    vidx = agreement.version_index(times)
    out = np.zeros(lon_a.size)
    for i in np.unique(vidx[vidx >= 0]).tolist():
        band = agreement.versions[i].band
        if band is None or not band.segments:
            continue
        sel = np.flatnonzero(vidx == i)
        # Nearest in degrees with longitude scaled to the latitude: the pieces are ~1 km, the error small.
        k = np.cos(np.radians(float(np.mean(lat_a[sel]))))
        pieces = [shapely.affinity.scale(g, xfact=k, yfact=1.0, origin=(0, 0)) for g in band.segments]
        nearest = shapely.STRtree(pieces).nearest(shapely.points(lon_a[sel] * k, lat_a[sel]))
        out[sel] = np.asarray(band.disagreement_km, dtype=float)[np.asarray(nearest, dtype=np.int64)]
    return out


def _naive_utc(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.UTC).replace(tzinfo=None)


def _as_datetime64(times: Sequence[dt.datetime] | NDArray[Any]) -> NDArray[np.datetime64]:
    arr = np.asarray(times)
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[us]")
    flat = []
    for i, t in enumerate(np.atleast_1d(arr).ravel()):
        if not isinstance(t, dt.datetime) or t.tzinfo is None:
            raise ValueError(f"time {i}: {t!r} is not a timezone-aware datetime")
        flat.append(np.datetime64(_naive_utc(t), "us"))
    return np.array(flat, dtype="datetime64[us]")
