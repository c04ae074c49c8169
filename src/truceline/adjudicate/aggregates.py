"""Aggregates of findings: counts per reporting day, sector, oblast, rule family, kind and party.

Counts are made as the OSCE Special Monitoring Mission counted them: a reporting day runs from the
daily cut-off (19:30 Kyiv local time by default, see :class:`CutOff`) of the previous day to the
cut-off of the day it is named after, so a violation at 20:00 local time on 2 September counts on
3 September.

Everything is vectorised: times are converted with a table of the time zone's offset changes
(no per-record time-zone arithmetic), and points are placed in sectors and oblasts with prepared
polygons (:class:`truceline.geo.areas.AreaIndex`), not per-row geometry loops.

Key values
----------
``day``
    The reporting day, ISO date (``2026-09-03``).
``sector``
    Id of the agreement's sector of responsibility containing the point, or ``none``.
``oblast``
    English name of the oblast from the packaged layer (``Donetsk Oblast``, ``Autonomous Republic
    of Crimea``, ``Sevastopol City``...), or ``outside`` (see :func:`oblast_of`).
``family``
    Rule family: the part of ``rule_id`` before the first dot (``fire`` for ``fire.impact_across_line``).
``rule``
    The whole ``rule_id``.
``kind``
    :class:`~truceline.core.ViolationKind` value, or ``unspecified``.
``weapon``
    :class:`~truceline.core.WeaponClass` value, or ``unspecified``.
``party``
    The party (``UA``, ``RU``) of the attribution when its level is at least ``party_min_level``
    (default: any level above ``unattributed``) and it names one; otherwise ``unattributed``.
``level``
    :class:`~truceline.core.AttributionLevel` value, so a table can tell findings attributed at
    level ``party`` from those whose origin area merely lies on one side.
``status``
    :class:`~truceline.core.VerificationStatus` value.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry import shape

from truceline.agreement import Agreement
from truceline.core import AttributionLevel, Violation
from truceline.geo.areas import AreaIndex
from truceline.geo.coords import as_lonlat

__all__ = [
    "DEFAULT_KEYS",
    "KEYS",
    "NO_SECTOR",
    "OUTSIDE",
    "UNATTRIBUTED",
    "UNSPECIFIED",
    "AggregateTable",
    "CutOff",
    "aggregate",
    "oblast_names",
    "oblast_of",
]

#: Every key :func:`aggregate` can group by.
KEYS = ("day", "sector", "oblast", "family", "rule", "kind", "weapon", "party", "level", "status")
#: The default grouping (``sector`` is dropped when no agreement is given).
DEFAULT_KEYS = ("day", "sector", "oblast", "family", "kind", "party")
#: Sector of a point in no sector of responsibility.
NO_SECTOR = "none"
#: Oblast of a point in no unit of the packaged layer (Russia, Belarus, the open sea...).
OUTSIDE = "outside"
#: Party of a finding not attributed (to the level asked).
UNATTRIBUTED = "unattributed"
#: Kind or weapon of a finding that has none.
UNSPECIFIED = "unspecified"

#: The packaged oblast layer (``truceline/data``), see its README for source and licence.
OBLAST_LAYER = "ua_oblasts.geojson"
#: Properties of the layer naming each unit: English name, Ukrainian name, ISO 3166-2 code.
_NAME_FIELDS = ("name", "name_uk", "iso_3166_2")

_US_PER_S = 1_000_000
_US_PER_DAY = 86_400 * _US_PER_S
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: Spacing of the samples used to find a time zone's offset changes (no zone changes twice in 6 h).
_TZ_STEP_S = 6 * 3600


# --------------------------------------------------------------------------------- cut-off
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


# ---------------------------------------------------------------------------------- oblasts
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


# -------------------------------------------------------------------------------- the table
@dataclass(frozen=True, eq=False)
class AggregateTable:
    """Counts of findings grouped by keys.

    Attributes
    ----------
    keys : tuple of str
        The grouping keys, in column order.
    rows : list of dict
        One dict per group present in the input: each key's value (str) and ``count`` (int);
        sorted by the keys' values in key order. No rows for groups with no finding.
    cutoff : CutOff
        The daily cut-off used for ``day``.
    """

    keys: tuple[str, ...]
    rows: list[dict[str, str | int]] = field(default_factory=list)
    cutoff: CutOff = field(default_factory=CutOff)

    @property
    def total(self) -> int:
        """Number of findings counted (the sum of the counts)."""
        return sum(int(r["count"]) for r in self.rows)

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names: the keys, then ``count``."""
        return (*self.keys, "count")

    def to_csv(self, path_or_buffer: str | Path | TextIO) -> None:
        """Write the table as CSV (header: the keys, then ``count``; ``\\n`` line ends, UTF-8).

        Parameters
        ----------
        path_or_buffer : str, Path or text file object
            A path to write (overwritten) or an open text stream.
        """
        if isinstance(path_or_buffer, str | Path):
            with Path(path_or_buffer).open("w", encoding="utf-8", newline="") as fh:
                self._write_csv(fh)
        else:
            self._write_csv(path_or_buffer)

    def _write_csv(self, fh: TextIO) -> None:
        writer = csv.DictWriter(fh, fieldnames=list(self.columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)

    def to_csv_text(self) -> str:
        """The CSV text (see :meth:`to_csv`)."""
        buf = io.StringIO()
        self._write_csv(buf)
        return buf.getvalue()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: keys, cut-off, total and rows."""
        return {
            "keys": list(self.keys),
            "cutoff": {"hour": int(self.cutoff.hour), "minute": int(self.cutoff.minute), "tz": self.cutoff.tz},
            "total": self.total,
            "rows": [dict(r) for r in self.rows],
        }

    def to_json(self, indent: int | None = None) -> str:
        """The table as JSON text (see :meth:`to_dict`)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)


# -------------------------------------------------------------------------------- aggregate
def _check_keys(by: str | Sequence[str] | None, have_agreement: bool) -> tuple[str, ...]:
    if by is None:
        return DEFAULT_KEYS if have_agreement else tuple(k for k in DEFAULT_KEYS if k != "sector")
    keys = (by,) if isinstance(by, str) else by
    if not isinstance(keys, Sequence):
        raise ValueError(f"by: {by!r} is not a sequence of key names")
    out: list[str] = []
    for i, k in enumerate(keys):
        if not isinstance(k, str):
            raise ValueError(f"by[{i}]: {k!r} is not a key name (a str); keys are {KEYS}")
        if k not in KEYS:
            raise ValueError(f"by[{i}]: unknown key {k!r}; keys are {KEYS}")
        if k in out:
            raise ValueError(f"by[{i}]: key {k!r} given twice")
        out.append(k)
    if "sector" in out and not have_agreement:
        raise ValueError("by: key 'sector' needs an agreement (its sectors of responsibility); pass agreement=")
    return tuple(out)


def _sector_labels(agreement: Agreement, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.str_]:
    """Id of the sector containing each point (the first listed wins, as in the zone engine), or ``none``."""
    index = AreaIndex([s.geometry for s in agreement.sectors])
    idx = index.locate(lon, lat)
    table = np.array([*(s.id for s in agreement.sectors), NO_SECTOR], dtype=str)
    result: NDArray[np.str_] = table[idx]
    return result


def aggregate(
    violations: Iterable[Violation],
    agreement: Agreement | None = None,
    cutoff: CutOff | None = None,
    by: str | Sequence[str] | None = None,
    *,
    party_min_level: AttributionLevel | str = AttributionLevel.DIRECTION_OF_FIRE,
) -> AggregateTable:
    """Count findings per group of keys (day, sector, oblast, family, kind, party...).

    Parameters
    ----------
    violations : iterable of Violation
        The findings to count.
    agreement : Agreement, optional
        Gives the sectors of responsibility; required when grouping by ``sector``.
    cutoff : CutOff, optional
        Daily cut-off of the reporting day; default :class:`CutOff` (19:30 Europe/Kyiv).
    by : str or sequence of str, optional
        Keys to group by, any subset of :data:`KEYS` in the column order wanted; an empty
        sequence gives one row with the total. Default :data:`DEFAULT_KEYS` (``day``,
        ``sector``, ``oblast``, ``family``, ``kind``, ``party``), without ``sector`` when no
        agreement is given.
    party_min_level : AttributionLevel or str, keyword-only
        Lowest attribution level at which a finding counts against its party; below it (or
        with no party named) it counts as ``unattributed``. Default ``direction_of_fire``: any
        attribution above ``unattributed`` that names a party. Use ``"party"`` to count only
        full attributions.

    Returns
    -------
    AggregateTable
        Rows sorted by key values; only groups that occur.

    Raises
    ------
    ValueError
        On a key that is not a str, unknown or repeated (names ``by[i]``); on ``sector``
        without an agreement; on a bad ``party_min_level``.
    TypeError
        When an item of ``violations`` is not a :class:`~truceline.core.Violation` (names
        its index).
    """
    cut = CutOff() if cutoff is None else cutoff
    if not isinstance(cut, CutOff):
        raise ValueError(f"cutoff: {cutoff!r} is not a CutOff")
    keys = _check_keys(by, agreement is not None)
    try:
        min_level = AttributionLevel(party_min_level)
    except ValueError as exc:
        raise ValueError(f"party_min_level: {party_min_level!r} is not an attribution level") from exc

    items = list(violations)
    for i, v in enumerate(items):
        if not isinstance(v, Violation):
            raise TypeError(f"violations[{i}]: expected a Violation, got {type(v).__name__}")
    n = len(items)
    if n == 0:
        return AggregateTable(keys=keys, rows=[], cutoff=cut)

    columns: dict[str, NDArray[np.str_]] = {}
    need = set(keys)
    if "day" in need:
        columns["day"] = cut.report_day([v.time for v in items]).astype(str)
    if need & {"sector", "oblast"}:
        lon, lat = as_lonlat([v.position.lon_deg for v in items], [v.position.lat_deg for v in items])
        if "sector" in need:
            assert agreement is not None
            columns["sector"] = _sector_labels(agreement, lon, lat)
        if "oblast" in need:
            columns["oblast"] = oblast_of(lon, lat)
    if "family" in need:
        columns["family"] = np.array([v.rule_id.split(".", 1)[0] for v in items], dtype=str)
    if "rule" in need:
        columns["rule"] = np.array([v.rule_id for v in items], dtype=str)
    if "kind" in need:
        columns["kind"] = np.array([UNSPECIFIED if v.violation_kind is None else v.violation_kind.value for v in items])
    if "weapon" in need:
        columns["weapon"] = np.array([UNSPECIFIED if v.weapon_class is None else v.weapon_class.value for v in items])
    if "party" in need:
        columns["party"] = np.array(
            [
                v.attribution.party.value
                if v.attribution.party is not None
                and v.attribution.level is not AttributionLevel.UNATTRIBUTED
                and v.attribution.level >= min_level
                else UNATTRIBUTED
                for v in items
            ]
        )
    if "level" in need:
        columns["level"] = np.array([v.attribution.level.value for v in items])
    if "status" in need:
        columns["status"] = np.array([v.status.value for v in items])

    return AggregateTable(keys=keys, rows=_group(keys, columns, n), cutoff=cut)


def _group(keys: tuple[str, ...], columns: dict[str, NDArray[np.str_]], n: int) -> list[dict[str, str | int]]:
    """Count the distinct combinations of the key columns; rows sorted by the values in key order."""
    if not keys:
        return [{"count": n}]
    uniques: list[NDArray[np.str_]] = []
    codes = np.empty((n, len(keys)), dtype=np.int64)
    for j, k in enumerate(keys):
        u, inv = np.unique(columns[k], return_inverse=True)
        uniques.append(u)
        codes[:, j] = inv.ravel()
    combos, counts = np.unique(codes, axis=0, return_counts=True)
    decoded = [u[combos[:, j]].tolist() for j, u in enumerate(uniques)]
    return [
        {**{k: str(decoded[j][r]) for j, k in enumerate(keys)}, "count": int(counts[r])} for r in range(len(combos))
    ]
