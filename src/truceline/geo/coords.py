"""Validation of longitude/latitude arrays."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from truceline.geo.errors import InvalidCoordinateError


def as_lonlat(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return ``lon``, ``lat`` as equal-length 1-D float64 arrays, or raise.

    Parameters
    ----------
    lon, lat : array_like
        WGS84 longitude and latitude in degrees (GeoJSON order). Scalars are accepted.

    Raises
    ------
    InvalidCoordinateError
        On NaN or infinite values, ``|lat| > 90`` or ``|lon| > 180``; the error names the
        first bad point, the field and the value.
    ValueError
        When the two arrays differ in shape.
    """
    lon_a = np.atleast_1d(np.asarray(lon, dtype=np.float64)).ravel()
    lat_a = np.atleast_1d(np.asarray(lat, dtype=np.float64)).ravel()
    if lon_a.shape != lat_a.shape:
        raise ValueError(f"lon has {lon_a.size} values but lat has {lat_a.size}")
    for field, arr, limit in (("lon", lon_a, 180.0), ("lat", lat_a, 90.0)):
        bad = ~np.isfinite(arr) | (np.abs(arr) > limit)
        if bad.any():
            idx = np.flatnonzero(bad)
            i = int(idx[0])
            v = float(arr[i])
            reason = "is not a finite number" if not np.isfinite(v) else f"is outside [-{limit:g}, {limit:g}]"
            raise InvalidCoordinateError(i, field, v, int(idx.size), reason)
    return lon_a, lat_a
