"""Errors raised by the geometry engine."""

from __future__ import annotations


class GeoError(ValueError):
    """Base class of geometry errors."""


class InvalidCoordinateError(GeoError):
    """A coordinate is not a finite WGS84 longitude/latitude.

    Attributes
    ----------
    index : int
        Position of the first bad point in the input arrays.
    field : str
        ``"lon"`` or ``"lat"``.
    value : float
        The bad value.
    count : int
        How many points are bad in all.
    """

    def __init__(self, index: int, field: str, value: float, count: int, reason: str) -> None:
        self.index = index
        self.field = field
        self.value = value
        self.count = count
        more = f" ({count - 1} more bad points)" if count > 1 else ""
        super().__init__(f"point {index}: {field}={value!r} {reason}{more}")
