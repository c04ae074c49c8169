"""Where a point is, in words: ``3 km SW of Horlivka (Donetsk oblast)``.

The gazetteer is GeoNames' places of Ukraine with 500 or more inhabitants (CC BY 4.0, "GeoNames"),
packaged as ``truceline/data/places_ua.csv`` (``scripts/make_places.py`` made it; see the data
README). It is read once per process (:func:`gazetteer`); nothing outside the package is read.

The reference place (:data:`TIERS`), the first rule that finds one wins:

1. any place of the gazetteer within :data:`IN_KM` (1 km) of the point: ``in X``;
2. else the nearest place of 1,000 or more inhabitants within 5 km;
3. else the nearest place of 10,000 or more within 25 km;
4. else the nearest place of any size within 10 km (the countryside, where no town is near);
5. else the nearest place of 50,000 or more, at any distance.

So a reference is a place a reader finds on a map, as the OSCE's reports named them ("2 km south-west
of Horlivka"): a village close by, else a town a reader knows, else the nearest hamlet, else a city
(without rule 4 a point among hamlets read "62 km SW of Pokrovsk", true and useless to a patrol). The last rule has no
limit, so a point far from any Ukrainian place (a launch position in Russia, at sea) is described
from the nearest city with its true distance (``52 km E of Luhansk (Luhansk oblast)``): no threshold
hides a long distance. The oblast in parentheses is the *place's*, not necessarily the point's.

Distances and directions are geodesic on the WGS84 ellipsoid (:class:`pyproj.Geod`), from the
place's GeoNames point (its centre) to the point: exact, not a projection's approximation. The
distance is given to the whole kilometre (half up); the direction is the 8-point (or 16-point)
compass direction *from the place to the point*. Candidates are found with a k-d tree on unit
vectors (chord distance ranks places as great-circle distance does).

A description is never finer than the position it describes: callers describe the position the
audience is given (:func:`truceline.service.redaction.shown_place`), never the stored one.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from importlib.resources import files
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import Geod
from scipy.spatial import cKDTree

__all__ = [
    "IN_KM",
    "TIERS",
    "Gazetteer",
    "Place",
    "Tier",
    "compass",
    "describe",
    "gazetteer",
    "oblast_label",
    "place_text",
]

#: The packaged table (``truceline/data/``).
PLACES_FILE = "places_ua.csv"
#: Within this distance of a place (km) a point is ``in`` it.
IN_KM = 1.0
#: Mean Earth radius (km), for the k-d tree's chord distances only.
_R_KM = 6371.0088
_GEOD = Geod(ellps="WGS84")
_POINTS_8 = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
_POINTS_16 = ("N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW")


@dataclass(frozen=True)
class Tier:
    """A rule of the reference place: the nearest place of ``min_population`` or more within ``max_km``."""

    min_population: int
    max_km: float


#: The rules, in order (see the module's doc). The first (any place within :data:`IN_KM`) gives ``in X``.
TIERS: tuple[Tier, ...] = (
    Tier(0, IN_KM),
    Tier(1_000, 5.0),
    Tier(10_000, 25.0),
    Tier(0, 10.0),
    Tier(50_000, math.inf),
)


@dataclass(frozen=True)
class Place:
    """A point described from a place of the gazetteer.

    Attributes
    ----------
    place_id : int
        The place's GeoNames id.
    name, name_uk : str
        Its name (GeoNames' English/Latin name) and its Ukrainian name (empty where not determined).
    oblast : str
        The place's first-level unit, as the oblast layer names it (``Donetsk Oblast``).
    population : int
        The place's population (GeoNames; 0 where unknown).
    distance_km : float
        Geodesic distance from the place's centre to the point, km (to 0.1 km).
    bearing_deg : float
        Azimuth from the place to the point, degrees clockwise from north, [0, 360) (whole degrees).
    direction : str
        That azimuth as a compass point (``SW``).
    text : str
        ``3 km SW of Horlivka (Donetsk oblast)``, or ``in Kramatorsk (Donetsk oblast)``.
    """

    place_id: int
    name: str
    name_uk: str
    oblast: str
    population: int
    distance_km: float
    bearing_deg: float
    direction: str
    text: str

    @property
    def inside(self) -> bool:
        """Whether the point is ``in`` the place (within :data:`IN_KM` of its centre)."""
        return self.distance_km < IN_KM

    def as_json(self) -> dict[str, Any]:
        """The structured fields as a JSON object (the API's ``place_detail``)."""
        return {
            "place_id": self.place_id,
            "name": self.name,
            "name_uk": self.name_uk or None,
            "oblast": self.oblast,
            "distance_km": self.distance_km,
            "bearing_deg": self.bearing_deg,
            "direction": self.direction,
        }


def compass(bearing_deg: ArrayLike, points: int = 8) -> NDArray[np.str_]:
    """Compass points of azimuths (degrees from north): 8 (``N``, ``NE``...) or 16 (``NNE``...).

    Parameters
    ----------
    bearing_deg : array_like
        Azimuths, degrees clockwise from north (any range).
    points : {8, 16}
        How many points the compass has.
    """
    if points not in (8, 16):
        raise ValueError(f"a compass has 8 or 16 points, not {points}")
    names = np.array(_POINTS_8 if points == 8 else _POINTS_16)
    step = 360.0 / points
    b = np.mod(np.asarray(bearing_deg, dtype=np.float64), 360.0)
    return names[(np.floor((b + step / 2.0) / step).astype(np.int64)) % points]


def oblast_label(oblast: str) -> str:
    """How a description names a first-level unit: ``Donetsk Oblast`` -> ``Donetsk oblast``, ``Kyiv City``
    -> ``Kyiv city`` (UCDP's and the OSCE's lower case); other names as they are."""
    for suffix in (" Oblast", " City"):
        if oblast.endswith(suffix):
            return oblast[: -len(suffix)] + suffix.lower()
    return oblast


def _unit(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.float64]:
    lo, la = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _chord(km: float) -> float:
    """The chord (unit sphere) of a great-circle distance; infinite stays infinite."""
    return math.inf if not math.isfinite(km) else 2.0 * math.sin(min(km / _R_KM, math.pi) / 2.0)


def _inv(lon1: NDArray[np.float64], lat1: NDArray[np.float64], lon2: NDArray[np.float64],
         lat2: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:  # fmt: skip
    """Geodesic (WGS84) forward azimuth (degrees) and distance (km) between arrays of points."""
    if lon1.size == 1:  # pyproj's scalar path would convert 1-element arrays (deprecated in numpy)
        az1, _, d1 = _GEOD.inv(float(lon1[0]), float(lat1[0]), float(lon2[0]), float(lat2[0]))
        return np.array([az1], dtype=np.float64), np.array([d1 / 1000.0], dtype=np.float64)
    az, _, d = _GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(az, dtype=np.float64), np.asarray(d, dtype=np.float64) / 1000.0


def _round_km(km: float) -> int:
    """Whole kilometres, half up (2.5 -> 3)."""
    return math.floor(km + 0.5)


class Gazetteer:
    """Places with their position, population and first-level unit; describes points from them.

    Parameters
    ----------
    rows : sequence of mapping
        ``id, name, name_uk, lat, lon, population, oblast`` per place (the packaged CSV's columns).
    tiers : sequence of Tier
        The rules of the reference place (default :data:`TIERS`; the last should have no distance limit).
    points : {8, 16}
        The compass of the direction.
    """

    def __init__(self, rows: Sequence[dict[str, str]], tiers: Sequence[Tier] = TIERS, points: int = 8) -> None:
        if not rows:
            raise ValueError("a gazetteer needs at least one place")
        self.ids = np.array([int(r["id"]) for r in rows], dtype=np.int64)
        self.names = [r["name"] for r in rows]
        self.names_uk = [r.get("name_uk") or "" for r in rows]
        self.oblasts = [r["oblast"] for r in rows]
        self.population = np.array([int(r["population"] or 0) for r in rows], dtype=np.int64)
        self.lon = np.array([float(r["lon"]) for r in rows], dtype=np.float64)
        self.lat = np.array([float(r["lat"]) for r in rows], dtype=np.float64)
        self.tiers = tuple(tiers)
        self.points = points
        compass(0.0, points)  # checks the compass

    def __len__(self) -> int:
        return len(self.names)

    @cached_property
    def _trees(self) -> list[tuple[NDArray[np.int64], cKDTree | None]]:
        """Per tier, the indices of its places and a k-d tree of their unit vectors (None: no place)."""
        xyz = _unit(self.lon, self.lat)
        out: list[tuple[NDArray[np.int64], cKDTree | None]] = []
        for t in self.tiers:
            idx = np.flatnonzero(self.population >= t.min_population)
            out.append((idx, cKDTree(xyz[idx]) if idx.size else None))
        return out

    def reference(self, lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """The reference place of each point (index into the gazetteer, -1 for a non-finite point) and
        the point's geodesic distance from it (km, NaN for none).

        Parameters
        ----------
        lon, lat : array_like
            WGS84 longitude and latitude, degrees.
        """
        x = np.atleast_1d(np.asarray(lon, dtype=np.float64)).ravel()
        y = np.atleast_1d(np.asarray(lat, dtype=np.float64)).ravel()
        if x.shape != y.shape:
            raise ValueError("lon and lat differ in length")
        ok = np.isfinite(x) & np.isfinite(y) & (np.abs(y) <= 90.0)
        chosen = np.full(x.size, -1, dtype=np.int64)
        dist = np.full(x.size, np.nan)
        xyz = _unit(np.where(ok, x, 0.0), np.where(ok, y, 0.0))
        for tier, (idx, tree) in zip(self.tiers, self._trees, strict=True):
            todo = np.flatnonzero(ok & (chosen < 0))
            if todo.size == 0 or tree is None:
                continue
            bound = _chord(tier.max_km * 1.01)  # a margin: the geodesic check below decides
            _, k = tree.query(xyz[todo], k=1, distance_upper_bound=bound)
            found = k < idx.size
            cand, pts = idx[np.minimum(k, idx.size - 1)], todo
            _, d_km = _inv(self.lon[cand], self.lat[cand], x[pts], y[pts])
            take = found & (d_km <= tier.max_km)
            chosen[pts[take]] = cand[take]
            dist[pts[take]] = d_km[take]
        return chosen, dist

    def describe_many(self, lon: ArrayLike, lat: ArrayLike) -> list[Place | None]:
        """Describe each point (None for a non-finite one): see :func:`describe`.

        Parameters
        ----------
        lon, lat : array_like
            WGS84 longitude and latitude, degrees.
        """
        x = np.atleast_1d(np.asarray(lon, dtype=np.float64)).ravel()
        y = np.atleast_1d(np.asarray(lat, dtype=np.float64)).ravel()
        chosen, dist = self.reference(x, y)
        has = chosen >= 0
        az = np.full(x.size, np.nan)
        if has.any():
            c = chosen[has]
            fwd, _ = _inv(self.lon[c], self.lat[c], x[has], y[has])
            az[has] = np.mod(fwd, 360.0)
        dirs = compass(np.where(has, az, 0.0), self.points)
        return [
            self._place(int(chosen[i]), float(dist[i]), float(az[i]), str(dirs[i])) if has[i] else None
            for i in range(x.size)
        ]

    def _place(self, i: int, km: float, az: float, direction: str) -> Place:
        name, oblast = self.names[i], self.oblasts[i]
        where = f"({oblast_label(oblast)})" if oblast else ""
        text = f"in {name}" if km < IN_KM else f"{_round_km(km)} km {direction} of {name}"
        return Place(
            place_id=int(self.ids[i]),
            name=name,
            name_uk=self.names_uk[i],
            oblast=oblast,
            population=int(self.population[i]),
            distance_km=round(km, 1),
            bearing_deg=float(round(az) % 360),
            direction=direction,
            text=f"{text} {where}".strip(),
        )


@cache
def gazetteer() -> Gazetteer:
    """The packaged gazetteer (``truceline/data/places_ua.csv``), loaded once per process."""
    text = files("truceline").joinpath("data", PLACES_FILE).read_text(encoding="utf-8")
    return Gazetteer(list(csv.DictReader(io.StringIO(text))))


#: Places already described, by point (scalar calls are served from here; :func:`describe` on arrays fills it).
_MEMO: dict[tuple[float, float], Place | None] = {}
#: The memo is emptied when it holds this many points.
MEMO_SIZE = 200_000


def _remember(lon: NDArray[np.float64], lat: NDArray[np.float64], got: list[Place | None]) -> None:
    if len(_MEMO) + len(got) > MEMO_SIZE:
        _MEMO.clear()
    keys = zip(lon.tolist(), lat.tolist(), strict=True)
    _MEMO.update((k, p) for k, p in zip(keys, got, strict=True) if p is not None)


@overload
def describe(lon: float, lat: float) -> Place | None: ...


@overload
def describe(lon: Sequence[float] | NDArray[np.float64], lat: Sequence[float] | NDArray[np.float64]
             ) -> list[Place | None]: ...  # fmt: skip


def describe(lon: Any, lat: Any) -> Place | list[Place | None] | None:
    """Describe points from the packaged gazetteer's places (the rules: :data:`TIERS`).

    Parameters
    ----------
    lon, lat : float or array_like
        WGS84 longitude and latitude, degrees: scalars, or arrays of the same length.

    Returns
    -------
    Place or None, or list of them
        For scalars one :class:`Place` (None for a non-finite point); for arrays one per point.

    Notes
    -----
    Arrays are described in one pass (~20 µs a point); every result is remembered by its point, so
    a caller that describes a page of points at once makes the scalar calls that follow free.

    Examples
    --------
    >>> describe(37.56779, 48.73106).text
    'in Kramatorsk (Donetsk oblast)'
    >>> describe(40.0, 48.5).text  # in Russia
    '52 km E of Luhansk (Luhansk oblast)'
    """
    if np.ndim(lon) == 0 and np.ndim(lat) == 0:
        key = (float(lon), float(lat))
        if key in _MEMO:  # (only described points are kept: no NaN keys)
            return _MEMO[key]
        return describe([key[0]], [key[1]])[0]
    x = np.atleast_1d(np.asarray(lon, dtype=np.float64)).ravel()
    y = np.atleast_1d(np.asarray(lat, dtype=np.float64)).ravel()
    got = gazetteer().describe_many(x, y)
    _remember(x, y, got)
    return got


def place_text(lon: float | None, lat: float | None) -> str:
    """The description of a point (``3 km SW of Horlivka (Donetsk oblast)``); empty for none."""
    if lon is None or lat is None:
        return ""
    p = describe(float(lon), float(lat))
    return "" if p is None else p.text
