"""The reporting day: the daily cut-off at which the mission's day ends, in local time.

Counts are made as the OSCE Special Monitoring Mission counted them: a reporting day runs from the
daily cut-off (19:30 Kyiv local time by default, see :class:`CutOff`) of the previous day to the
cut-off of the day it is named after, so a violation at 20:00 local time on 2 September counts on
3 September.

Times are converted with a table of the time zone's offset changes (no per-record time-zone
arithmetic): the zone is sampled over the span of the input and every instant takes the offset in
force with one :func:`numpy.searchsorted`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from numpy.typing import NDArray

__all__ = ["CutOff"]

_US_PER_S = 1_000_000
_US_PER_DAY = 86_400 * _US_PER_S
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: Spacing of the samples used to find a time zone's offset changes (no zone changes twice in 6 h).
_TZ_STEP_S = 6 * 3600


@dataclass(frozen=True)
class CutOff:
    """The daily cut-off of the reporting day, in local time.

    A reporting day ``D`` covers the local times ``[D-1 hh:mm, D hh:mm)``: it is named after the
    date on which it ends, as the OSCE mission's daily reports were ("19:30 on 2 September to
    19:30 on 3 September" is 3 September). An instant exactly at the cut-off opens the next day.
    With a midnight cut-off (``hour=0, minute=0``) the day is the local calendar date.

    Parameters
    ----------
    hour : int
        Hour of the cut-off, 0-23 (local time). Default 19.
    minute : int
        Minute of the cut-off, 0-59. Default 30.
    tz : str
        IANA time-zone name of the local time; default ``"Europe/Kyiv"`` (EET, UTC+2, with
        summer time EEST, UTC+3). ``"UTC"`` counts in UTC.

    Raises
    ------
    ValueError
        When a field is out of range or of the wrong type, or ``tz`` is not a known time zone;
        the message names the field.

    Notes
    -----
    The cut-off is a wall-clock time, so the reporting days around a change of summer time
    last 23 or 25 hours (in Kyiv: the last Sundays of March and October).
    """

    hour: int = 19
    minute: int = 30
    tz: str = "Europe/Kyiv"

    def __post_init__(self) -> None:
        for name, value, top in (("hour", self.hour, 23), ("minute", self.minute, 59)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise ValueError(f"cutoff.{name}: {value!r} is not an integer")
            if not 0 <= value <= top:
                raise ValueError(f"cutoff.{name}: {value} is outside [0, {top}]")
        if not isinstance(self.tz, str) or not self.tz:
            raise ValueError(f"cutoff.tz: {self.tz!r} is not a time-zone name")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"cutoff.tz: unknown time zone {self.tz!r}") from exc

    @property
    def zone(self) -> ZoneInfo:
        """The local time zone."""
        return ZoneInfo(self.tz)

    @property
    def offset_s(self) -> int:
        """Seconds from local midnight to the cut-off."""
        return int(self.hour) * 3600 + int(self.minute) * 60

    def report_day(self, times: Sequence[dt.datetime] | NDArray[Any] | dt.datetime) -> NDArray[np.datetime64]:
        """The reporting day of each time.

        Parameters
        ----------
        times : sequence of aware datetime, datetime, or numpy datetime64 array
            Instants; a ``datetime64`` array is read as UTC. Naive datetimes are refused.

        Returns
        -------
        ndarray of datetime64[D]
            One reporting day per time (``.astype(str)`` gives ISO dates; ``.tolist()`` gives
            :class:`datetime.date`).

        Raises
        ------
        ValueError
            When a time is naive or not a datetime (the message names its index).
        """
        return self._days(_as_utc_us(times))

    def _days(self, t_us: NDArray[np.int64]) -> NDArray[np.datetime64]:
        if t_us.size == 0:
            return np.empty(0, dtype="datetime64[D]")
        local_us = t_us + _utc_offsets_s(self.tz, t_us // _US_PER_S) * _US_PER_S
        days = (local_us - self.offset_s * _US_PER_S) // _US_PER_DAY
        if self.offset_s:
            days += 1  # named after the date on which the period ends
        return days.astype("datetime64[D]")

    def period(self, day: dt.date | str) -> tuple[dt.datetime, dt.datetime]:
        """The UTC bounds ``[start, end)`` of a reporting day.

        Parameters
        ----------
        day : date or ISO date string
            The reporting day.

        Returns
        -------
        tuple of datetime
            Start (inclusive) and end (exclusive), aware, in UTC.
        """
        d = dt.date.fromisoformat(day) if isinstance(day, str) else day
        end_date = d if self.offset_s else d + dt.timedelta(days=1)
        wall = dt.time(int(self.hour), int(self.minute))
        end = dt.datetime.combine(end_date, wall, tzinfo=self.zone).astimezone(dt.UTC)
        start = dt.datetime.combine(end_date - dt.timedelta(days=1), wall, tzinfo=self.zone).astimezone(dt.UTC)
        return start, end


def _as_utc_us(times: Sequence[dt.datetime] | NDArray[Any] | dt.datetime) -> NDArray[np.int64]:
    """Microseconds since 1970-01-01T00:00Z of each time."""
    if isinstance(times, dt.datetime):
        times = [times]
    arr = np.asarray(times)
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[us]").astype(np.int64).ravel()
    flat = np.atleast_1d(arr).ravel()
    out = np.empty(flat.size, dtype=np.int64)
    one_us = dt.timedelta(microseconds=1)
    for i, t in enumerate(flat):
        if not isinstance(t, dt.datetime) or t.tzinfo is None or t.utcoffset() is None:
            raise ValueError(f"times[{i}]: {t!r} is not a timezone-aware datetime")
        out[i] = (t - _EPOCH) // one_us
    return out


def _offset_at(zone: ZoneInfo, t_s: int) -> int:
    off = dt.datetime.fromtimestamp(t_s, zone).utcoffset()
    assert off is not None
    return int(off.total_seconds())


def _utc_offsets_s(tz: str, t_s: NDArray[np.int64]) -> NDArray[np.int64]:
    """UTC offset (seconds) of the zone at each instant (seconds since the epoch).

    The zone is sampled every 6 hours over the span of the input; each change found between two
    samples is located to the second by bisection, and every instant then takes the offset in
    force with one :func:`numpy.searchsorted`.
    """
    zone = ZoneInfo(tz)
    lo, hi = int(t_s.min()), int(t_s.max())
    grid = np.arange(lo - lo % _TZ_STEP_S, hi + _TZ_STEP_S, _TZ_STEP_S, dtype=np.int64)
    offs = np.array([_offset_at(zone, int(s)) for s in grid], dtype=np.int64)
    starts = [int(grid[0])]
    values = [int(offs[0])]
    for k in np.flatnonzero(offs[1:] != offs[:-1]):
        a, b = int(grid[k]), int(grid[k + 1])  # offset changes in (a, b]
        while b - a > 1:
            mid = (a + b) // 2
            if _offset_at(zone, mid) == offs[k]:
                a = mid
            else:
                b = mid
        starts.append(b)
        values.append(int(offs[k + 1]))
    idx = np.searchsorted(np.asarray(starts, dtype=np.int64), t_s, side="right") - 1
    result: NDArray[np.int64] = np.asarray(values, dtype=np.int64)[idx]
    return result
