"""Value objects for place, time and count, each with its uncertainty.

Every record carries uncertainty: a coarse precision code (like UCDP ``date_prec`` /
``where_prec``) plus a numeric standard deviation or covariance where it is known, and
low/best/high counts.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import Field, field_validator, model_validator

from truceline.core.base import (
    FiniteFloat,
    FrozenModel,
    NonNegativeFloat,
    NonNegativeInt,
    UtcDatetime,
)
from truceline.core.enums import GeoPrecision, TimePrecision
from truceline.core.errors import FieldProblem

__all__ = [
    "CountRange",
    "Covariance2",
    "GeoUncertainty",
    "Position",
    "TimeUncertainty",
    "TimeWindow",
    "chi2_2dof_scale",
]

Covariance2 = tuple[tuple[FiniteFloat, FiniteFloat], tuple[FiniteFloat, FiniteFloat]]
"""A 2x2 covariance ``((c_ee, c_en), (c_ne, c_nn))`` in m², east/north axes."""

_REL_TOL = 1e-9


def chi2_2dof_scale(confidence: float) -> float:
    """Scale factor ``k`` of a 2-D Gaussian ellipse: ``k**2`` is the chi-square (2 dof) quantile.

    For 2 degrees of freedom the quantile has the closed form ``-2 ln(1 - p)``
    (``k = 2.4477`` for ``p = 0.95``).

    Parameters
    ----------
    confidence : float
        Probability mass inside the ellipse, in (0, 1).
    """
    if not (isinstance(confidence, int | float) and 0.0 < confidence < 1.0):
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    return math.sqrt(-2.0 * math.log1p(-confidence))


class Position(FrozenModel):
    """A point on the WGS 84 ellipsoid (EPSG:4326, longitude first).

    Attributes
    ----------
    lon_deg : float
        Longitude in degrees east, in [-180, 180].
    lat_deg : float
        Latitude in degrees north, in [-90, 90].
    """

    lon_deg: FiniteFloat = Field(ge=-180.0, le=180.0)
    lat_deg: FiniteFloat = Field(ge=-90.0, le=90.0)

    def as_tuple(self) -> tuple[float, float]:
        """Return ``(lon_deg, lat_deg)``."""
        return (self.lon_deg, self.lat_deg)


class TimeUncertainty(FrozenModel):
    """Uncertainty of a reported time.

    Attributes
    ----------
    sigma_s : float or None
        Standard deviation in seconds, >= 0, where known.
    precision : TimePrecision
        Unit the time was reported to (``exact``, ``minute``... ``month``).
    """

    sigma_s: NonNegativeFloat | None = None
    precision: TimePrecision = TimePrecision.EXACT

    @property
    def effective_sigma_s(self) -> float:
        """``sigma_s`` if known, else the rounding sigma of ``precision`` (seconds)."""
        return self.sigma_s if self.sigma_s is not None else self.precision.nominal_sigma_s


def _check_covariance(cov: Covariance2) -> Covariance2:
    (c_ee, c_en), (c_ne, c_nn) = cov
    scale = max(abs(c_ee), abs(c_nn), abs(c_en), abs(c_ne))
    if abs(c_en - c_ne) > _REL_TOL * scale:
        raise ValueError("covariance is not symmetric")
    off = 0.5 * (c_en + c_ne)
    half_trace = 0.5 * (c_ee + c_nn)
    radius = math.hypot(0.5 * (c_ee - c_nn), off)
    smallest = half_trace - radius
    if c_ee < 0.0 or c_nn < 0.0 or smallest < -_REL_TOL * max(scale, 1e-300):
        raise ValueError("covariance is not positive semi-definite")
    return ((c_ee, off), (off, c_nn))


class GeoUncertainty(FrozenModel):
    """Uncertainty of a location: precision code plus, where known, sigma or covariance.

    Give at most one of ``sigma_m`` (isotropic) and ``cov_en_m2`` (full covariance).

    Attributes
    ----------
    sigma_m : float or None
        Isotropic standard deviation per axis, in metres.
    cov_en_m2 : tuple or None
        2x2 covariance in m², axes east and north; symmetric positive semi-definite.
    precision : GeoPrecision
        Coarse precision of the place (``exact``, ``settlement``... ``country``).
    """

    sigma_m: NonNegativeFloat | None = None
    cov_en_m2: Covariance2 | None = None
    precision: GeoPrecision = GeoPrecision.EXACT

    @field_validator("cov_en_m2")
    @classmethod
    def _symmetric_psd(cls, value: Covariance2 | None) -> Covariance2 | None:
        return None if value is None else _check_covariance(value)

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if self.sigma_m is not None and self.cov_en_m2 is not None:
            raise FieldProblem("cov_en_m2", self.cov_en_m2, "give sigma_m or cov_en_m2, not both")
        return self

    @classmethod
    def isotropic(cls, sigma_m: float, precision: GeoPrecision = GeoPrecision.EXACT) -> Self:
        """Isotropic uncertainty with ``sigma_m`` metres per axis."""
        return cls(sigma_m=sigma_m, precision=precision)

    @classmethod
    def from_covariance(
        cls, cov_en_m2: ArrayLike, precision: GeoPrecision = GeoPrecision.EXACT
    ) -> Self:
        """Build from a 2x2 array-like covariance in m² (east, north)."""
        arr = np.asarray(cov_en_m2, dtype=float)
        if arr.shape != (2, 2):
            raise ValueError(f"covariance must be 2x2, got shape {arr.shape}")
        cov = ((float(arr[0, 0]), float(arr[0, 1])), (float(arr[1, 0]), float(arr[1, 1])))
        return cls(cov_en_m2=cov, precision=precision)

    @property
    def has_numeric(self) -> bool:
        """True if a numeric sigma or covariance is known."""
        return self.sigma_m is not None or self.cov_en_m2 is not None

    def covariance_en_m2(self) -> NDArray[np.float64]:
        """Return the 2x2 covariance (m², east/north) as an array.

        Raises
        ------
        ValueError
            If neither ``sigma_m`` nor ``cov_en_m2`` is known.
        """
        if self.cov_en_m2 is not None:
            return np.array(self.cov_en_m2, dtype=float)
        if self.sigma_m is not None:
            return np.eye(2) * self.sigma_m**2
        raise ValueError(f"no numeric location uncertainty (precision {self.precision.value})")

    def ellipse(self, confidence: float = 0.95) -> tuple[float, float, float]:
        """Confidence ellipse of a 2-D Gaussian location error.

        Parameters
        ----------
        confidence : float
            Probability mass inside the ellipse, in (0, 1); the scale is the square root of
            the chi-square quantile with 2 degrees of freedom.

        Returns
        -------
        semi_major_m, semi_minor_m, azimuth_deg : float
            Semi-axes in metres and azimuth of the major axis in degrees clockwise from
            north, in [0, 180) (0 for a circle).

        Raises
        ------
        ValueError
            If no numeric uncertainty is known or ``confidence`` is not in (0, 1).
        """
        k = chi2_2dof_scale(confidence)
        if self.cov_en_m2 is None:
            if self.sigma_m is None:
                raise ValueError(
                    f"no numeric location uncertainty (precision {self.precision.value})"
                )
            return (k * self.sigma_m, k * self.sigma_m, 0.0)
        (c_ee, c_en), (_, c_nn) = self.cov_en_m2
        half_trace = 0.5 * (c_ee + c_nn)
        radius = math.hypot(0.5 * (c_ee - c_nn), c_en)
        lam_major = max(half_trace + radius, 0.0)
        lam_minor = max(half_trace - radius, 0.0)
        if radius == 0.0:
            azimuth = 0.0
        else:
            theta_from_east = 0.5 * math.degrees(math.atan2(2.0 * c_en, c_ee - c_nn))
            azimuth = (90.0 - theta_from_east) % 180.0
        return (k * math.sqrt(lam_major), k * math.sqrt(lam_minor), azimuth)


class CountRange(FrozenModel):
    """A count with its range: ``0 <= low <= best <= high`` (UCDP-style low/best/high).

    Attributes
    ----------
    low, best, high : int
        Lowest plausible, best estimate and highest plausible count.
    """

    low: NonNegativeInt
    best: NonNegativeInt
    high: NonNegativeInt

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.low > self.best:
            raise FieldProblem("low", self.low, f"low ({self.low}) > best ({self.best})")
        if self.best > self.high:
            raise FieldProblem("high", self.high, f"high ({self.high}) < best ({self.best})")
        return self

    @classmethod
    def exact(cls, n: int) -> Self:
        """A count known exactly: ``low = best = high = n``."""
        return cls(low=n, best=n, high=n)

    @classmethod
    def one(cls) -> Self:
        """The count of a single item (the default of most records)."""
        return cls(low=1, best=1, high=1)


class TimeWindow(FrozenModel):
    """A closed time interval ``[start, end]`` in UTC.

    Attributes
    ----------
    start, end : datetime
        Timezone-aware bounds, ``start <= end``.
    """

    start: UtcDatetime
    end: UtcDatetime

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise FieldProblem("end", self.end, f"end is before start ({self.start.isoformat()})")
        return self

    @property
    def duration_s(self) -> float:
        """Length of the window in seconds."""
        return (self.end - self.start).total_seconds()

    def contains(self, time: dt.datetime) -> bool:
        """True if the aware datetime ``time`` lies in ``[start, end]``."""
        return self.start <= time <= self.end
