"""Selecting rows by view and filters (bbox, sector, status, party, kind), and paging them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from truceline.agreement import Agreement
from truceline.geo.areas import AreaIndex
from truceline.geo.places import describe
from truceline.service.queries.filters import (
    Filters,
    QueryError,
    View,
)


# ----------------------------------------------------------------------------------- paging
@dataclass
class Page:
    """One page of a filtered collection.

    Attributes
    ----------
    items : list
        The features (or objects) of this page.
    number_matched : int
        How many matched the filters in all.
    offset, limit : int
        Where this page starts and its size.
    matched : list
        The selected rows the page was cut from, in order (for a summary of them all, such as the OGC
        extent, without building their features); empty where not kept.
    """

    items: list[Any]
    number_matched: int
    offset: int
    limit: int
    matched: list[Any] = field(default_factory=list, repr=False, compare=False)

    @property
    def number_returned(self) -> int:
        return len(self.items)

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.items) < self.number_matched

    @property
    def has_prev(self) -> bool:
        return self.offset > 0

    def feature_collection(self) -> dict[str, Any]:
        """A GeoJSON FeatureCollection with ``numberMatched`` and ``numberReturned`` (no links)."""
        return {
            "type": "FeatureCollection",
            "numberMatched": self.number_matched,
            "numberReturned": self.number_returned,
            "features": self.items,
        }


@dataclass
class _Row:
    """A candidate record with what the filters look at."""

    obj: Any
    lon: float | None
    lat: float | None
    party: str | None
    status: str | None
    kinds: tuple[str, ...]
    concerns: tuple[str | None, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def _check_values(param: str, given: Sequence[str], allowed: Iterable[str] | None) -> None:
    if allowed is None:
        return
    ok = set(allowed)
    for v in given:
        if v not in ok:
            raise QueryError(param, f"{v!r} is not one of {', '.join(sorted(ok))}")


def _select(
    rows: list[_Row],
    f: Filters,
    view: View,
    agreement: Agreement | None,
    statuses: Iterable[str] | None,
    kinds: Iterable[str] | None,
) -> list[_Row]:
    """Rows passing the view and the filters (paging is the caller's)."""
    _check_values("status", f.status, statuses)
    _check_values("kind", f.kind, kinds)
    if f.sector:
        known = [s.id for s in agreement.sectors] if agreement is not None else []
        _check_values("sector", f.sector, known)
    out = [r for r in rows if view.sees(r.concerns)]
    if f.status:
        out = [r for r in out if r.status in f.status]
    if f.party:
        out = [r for r in out if (r.party or "unattributed") in f.party]
    if f.kind:
        out = [r for r in out if any(k in f.kind for k in r.kinds)]
    if f.bbox is not None:
        lon0, lat0, lon1, lat1 = f.bbox

        def inside(r: _Row) -> bool:
            if r.lon is None or r.lat is None or not lat0 <= r.lat <= lat1:
                return False
            return lon0 <= r.lon <= lon1 if lon0 <= lon1 else (r.lon >= lon0 or r.lon <= lon1)

        out = [r for r in out if inside(r)]
    if f.sector and agreement is not None and out:
        labels = _sector_labels(agreement, out)
        out = [r for r, s in zip(out, labels, strict=True) if s in f.sector]
    return out


_SECTOR_INDEX: dict[int, tuple[Agreement, AreaIndex]] = {}


def _sector_labels(agreement: Agreement, rows: Sequence[_Row]) -> list[str | None]:
    key = id(agreement)
    cached = _SECTOR_INDEX.get(key)
    if cached is None or cached[0] is not agreement:
        cached = (agreement, AreaIndex([s.geometry for s in agreement.sectors]))
        _SECTOR_INDEX[key] = cached
    index = cached[1]
    has = np.array([r.lon is not None and r.lat is not None for r in rows])
    lon = np.array([r.lon if r.lon is not None else 0.0 for r in rows], dtype=float)
    lat = np.array([r.lat if r.lat is not None else 0.0 for r in rows], dtype=float)
    idx = index.locate(lon, lat) if len(agreement.sectors) else np.full(len(rows), -1)
    ids = [s.id for s in agreement.sectors]
    return [ids[int(i)] if ok and i >= 0 else None for i, ok in zip(idx, has, strict=True)]


def _page(rows: list[_Row], f: Filters, build: Callable[[_Row], Any]) -> Page:
    chunk = rows[f.offset : f.offset + f.limit]
    # the places of the page's points (as shown), in one pass: the features' places are then looked up
    describe([np.nan if r.lon is None else r.lon for r in chunk], [np.nan if r.lat is None else r.lat for r in chunk])
    return Page([build(r) for r in chunk], len(rows), f.offset, f.limit, matched=rows)
