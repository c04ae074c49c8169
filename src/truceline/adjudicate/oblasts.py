"""The oblast (first-level unit of Ukraine) of a point, from the packaged layer.

Points are placed with prepared polygons (:class:`truceline.geo.areas.AreaIndex`), not per-row
geometry loops; the layer (``truceline/data/ua_oblasts.geojson``, see its README for source and
licence) is loaded once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib.resources import files

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry import shape

from truceline.geo.areas import AreaIndex
from truceline.geo.coords import as_lonlat

__all__ = ["OBLAST_LAYER", "OUTSIDE", "oblast_names", "oblast_of"]

#: Oblast of a point in no unit of the packaged layer (Russia, Belarus, the open sea...).
OUTSIDE = "outside"
#: The packaged oblast layer (``truceline/data``), see its README for source and licence.
OBLAST_LAYER = "ua_oblasts.geojson"
#: Properties of the layer naming each unit: English name, Ukrainian name, ISO 3166-2 code.
_NAME_FIELDS = ("name", "name_uk", "iso_3166_2")


@dataclass(frozen=True)
class _OblastLayer:
    names: dict[str, NDArray[np.str_]]
    geoms: NDArray[np.object_]

    @cached_property
    def index(self) -> AreaIndex:
        return AreaIndex(list(self.geoms))

    @cached_property
    def tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.geoms)

    @cached_property
    def outline(self) -> shapely.Geometry:
        """Union of all units (prepared): a point in no unit but on this lies on a border."""
        union = shapely.coverage_union_all(self.geoms)
        shapely.prepare(union)
        return union


@lru_cache(maxsize=1)
def _oblast_layer() -> _OblastLayer:
    text = files("truceline").joinpath("data", OBLAST_LAYER).read_text(encoding="utf-8")
    feats = json.loads(text)["features"]
    geoms = np.array([shape(f["geometry"]) for f in feats], dtype=object)
    names = {k: np.array([str(f["properties"][k]) for f in feats], dtype=str) for k in _NAME_FIELDS}
    return _OblastLayer(names=names, geoms=geoms)


def oblast_names(name: str = "name") -> tuple[str, ...]:
    """Names of the 27 units of the packaged layer, in the layer's order (by ISO 3166-2 code).

    Parameters
    ----------
    name : {"name", "name_uk", "iso_3166_2"}
        Which property: English name (default), Ukrainian name, or ISO 3166-2 code.
    """
    return tuple(_layer_names(name).tolist())


def _layer_names(name: str) -> NDArray[np.str_]:
    layer = _oblast_layer()
    if name not in layer.names:
        raise ValueError(f"name: {name!r} is not one of {_NAME_FIELDS}")
    return layer.names[name]


def _oblast_index(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.int64]:
    """Index of the unit containing each point, or -1 (points on a border go to the lower index)."""
    layer = _oblast_layer()
    idx = layer.index.locate(lon, lat).astype(np.int64)
    miss = np.flatnonzero(idx < 0)
    if miss.size:  # AreaIndex leaves points on a border out: give them to a unit they touch
        miss = miss[shapely.intersects_xy(layer.outline, lon[miss], lat[miss])]
    if miss.size:
        pt, poly = layer.tree.query(shapely.points(lon[miss], lat[miss]), predicate="intersects")
        if pt.size:
            best = np.full(miss.size, len(layer.geoms), dtype=np.int64)
            np.minimum.at(best, pt, poly)
            hit = best < len(layer.geoms)
            idx[miss[hit]] = best[hit]
    return idx


def oblast_of(lon: ArrayLike, lat: ArrayLike, *, name: str = "name") -> NDArray[np.str_]:
    """The oblast (first-level unit of Ukraine) of each point, from the packaged layer.

    Parameters
    ----------
    lon, lat : array_like
        WGS84 longitude and latitude, degrees (scalars accepted).
    name : {"name", "name_uk", "iso_3166_2"}
        Which property names the unit: English name (default, e.g. ``"Donetsk Oblast"``,
        ``"Autonomous Republic of Crimea"``, ``"Sevastopol City"``), Ukrainian name, or ISO code.

    Returns
    -------
    ndarray of str
        One name per point; ``"outside"`` for points in no unit (e.g. in Russia, or at sea
        beyond the coastline as drawn).

    Raises
    ------
    InvalidCoordinateError
        On a non-finite or out-of-range coordinate (names the point).

    Notes
    -----
    The layer (``truceline/data/ua_oblasts.geojson``) is Minregion's 2020 layer simplified to
    ~0.005 degrees (© Мінрегіон, CC BY-SA); it is loaded once. Crimea and Sevastopol are units
    of Ukraine, as in the source. Borders are good to a few hundred metres: fine for counting,
    not a legal boundary.
    """
    labels = _layer_names(name)
    lon_a, lat_a = as_lonlat(lon, lat)
    idx = _oblast_index(lon_a, lat_a)
    table = np.append(labels, OUTSIDE)
    result: NDArray[np.str_] = table[idx]  # -1 picks the appended OUTSIDE
    return result
