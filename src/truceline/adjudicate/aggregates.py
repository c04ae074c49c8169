"""Aggregates of findings: counts per reporting day, sector, oblast, rule family, kind and party.

Counts are made as the OSCE Special Monitoring Mission counted them: a reporting day runs from the
daily cut-off (19:30 Kyiv local time by default, see :class:`~truceline.adjudicate.cutoff.CutOff`)
of the previous day to the cut-off of the day it is named after, so a violation at 20:00 local time
on 2 September counts on 3 September.

Everything is vectorised: times are converted with a table of the time zone's offset changes
(:mod:`truceline.adjudicate.cutoff`, no per-record time-zone arithmetic), and points are placed in
sectors and oblasts (:mod:`truceline.adjudicate.oblasts`) with prepared polygons
(:class:`truceline.geo.areas.AreaIndex`), not per-row geometry loops. ``CutOff``, ``oblast_of``,
``oblast_names`` and ``OUTSIDE`` are importable from here as well.

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
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from numpy.typing import NDArray

from truceline.adjudicate.cutoff import CutOff
from truceline.adjudicate.oblasts import OUTSIDE, oblast_names, oblast_of
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
#: Party of a finding not attributed (to the level asked).
UNATTRIBUTED = "unattributed"
#: Kind or weapon of a finding that has none.
UNSPECIFIED = "unspecified"


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
    columns = _columns(items, keys, cut, agreement, min_level)
    return AggregateTable(keys=keys, rows=_group(keys, columns, n), cutoff=cut)


def _columns(
    items: list[Violation],
    keys: tuple[str, ...],
    cut: CutOff,
    agreement: Agreement | None,
    min_level: AttributionLevel,
) -> dict[str, NDArray[np.str_]]:
    """The value of each grouping key for each finding (only the keys asked are computed)."""
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
    return columns


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
