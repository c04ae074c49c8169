"""The sensor network: sensors with their health, and the coverage grid."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from truceline.adjudicate.coverage import HEALTH_CODES, NOT_INSTALLED, SensorNetwork, coverage_grid
from truceline.agreement import Agreement
from truceline.core import (
    Sensor,
    SensorStatusReport,
    to_json_dict,
)
from truceline.core.errors import Forbidden, InvalidInput
from truceline.service.queries.features import _feature, _point
from truceline.service.queries.filters import (
    FULL,
    Filters,
    QueryError,
    View,
    _values,
)
from truceline.service.queries.paging import Page, _page, _Row, _select
from truceline.service.redaction import sees_network
from truceline.store.base import Store, from_us

#: The most cells one coverage request may ask for (the dashboard's 5 km grid over the whole line is
#: ~20,000; a 1 km grid over 10 x 10 degrees, 3.4 GB and 79 s of one core, is refused with 422).
MAX_COVERAGE_CELLS = 100_000


def data_time(store: Store) -> dt.datetime:
    """The newest observation time in the store (the "present" of its data), else now (UTC)."""
    span = store.time_span_us()
    if span is None:
        return dt.datetime.now(dt.UTC)
    return from_us(span[1])


def sensors(store: Store, f: Filters, view: View, at: dt.datetime | None = None,
            agreement: Agreement | None = None) -> Page:  # fmt: skip
    """Sensors with their ``health`` at ``at`` (default :func:`data_time`), ``last_report`` and
    ``health_reason``; ``status`` filters on health (or ``not_installed``), ``kind`` on the sensor kind.

    Raises
    ------
    Forbidden
        (a ``PermissionError``) For a liaison or public view: sensor positions and health are for the
        mission only.
    """
    if not sees_network(view):
        raise Forbidden("sensor positions and health are for the mission only")
    when = at or data_time(store)
    sens = [s for s in store.records("sensor") if isinstance(s, Sensor)]
    reports = [r for r in store.records("sensor_status_report") if isinstance(r, SensorStatusReport)]
    net = SensorNetwork.from_records(sens, reports)
    codes = net.health_at(when) if sens else np.zeros(0, dtype=np.int64)
    last: dict[str, SensorStatusReport] = {}
    for r in reports:
        if r.time <= when:
            last[r.sensor_id] = r
    rows = []
    for s, code in zip(sens, codes.tolist(), strict=True):
        health = "not_installed" if code == NOT_INSTALLED else HEALTH_CODES[code].value
        rows.append(_Row(s, s.position.lon_deg, s.position.lat_deg, None, health, (s.kind.value,),
                         extra={"report": last.get(s.id)}))  # fmt: skip
    sel = _select(rows, f, view, agreement, _values("sensors", "status"), _values("sensors", "kind"))

    def build(r: _Row) -> dict[str, Any]:
        s: Sensor = r.obj
        rep: SensorStatusReport | None = r.extra["report"]
        props = to_json_dict(s) | {
            "health": r.status,
            "health_at": when.astimezone(dt.UTC).isoformat(),
            "last_report": None if rep is None else to_json_dict(rep),
        }
        return _feature(s.id, _point(s.position.lon_deg, s.position.lat_deg), props)

    return _page(sel, f, build)


def coverage(store: Store, at: dt.datetime | None, weapon_class: str, kind: str, cell_km: float,
             bbox: tuple[float, float, float, float] | None = None, min_probability: float = 0.01,
             view: View = FULL) -> dict[str, Any]:  # fmt: skip
    """The coverage grid (P(at least 6 sensors hear)) at ``at`` (default :func:`data_time`) as GeoJSON.

    Raises
    ------
    Forbidden
        (a ``PermissionError``) For a liaison or public view (coverage maps the network).
    QueryError
        For a kind other than impact or launch.
    InvalidInput
        (a ``ValueError``) For a bad weapon class, cell size, bbox or probability (what
        :func:`coverage_grid` refuses), or no sensors without a bbox.
    """
    if not sees_network(view):
        raise Forbidden("coverage is for the mission only")
    if kind not in ("impact", "launch"):
        raise QueryError("kind", f"{kind!r} is not impact or launch")
    sens = [s for s in store.records("sensor") if isinstance(s, Sensor)]
    reports = [r for r in store.records("sensor_status_report") if isinstance(r, SensorStatusReport)]
    net = SensorNetwork.from_records(sens, reports)
    when = at or data_time(store)
    try:  # the grid checks the caller's parameters: what it refuses is the caller's mistake
        grid = coverage_grid(net, bbox, cell_km, when=when, weapon_class=weapon_class, kind=kind,
                             max_cells=MAX_COVERAGE_CELLS)
        return grid.to_geojson(min_probability)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
