"""What a daily bulletin reports, read from the store for one reporting day.

The reporting day is the OSCE mission's: from the cut-off (19:30 Kyiv time) of the previous
evening to the cut-off on the day it is named after (:class:`truceline.adjudicate.aggregates.CutOff`).
Everything derived is read as it stands now, with the analysts' reviewed status
(:func:`truceline.service.export.current`).

Two counts are kept apart, as the design asks:

- **ceasefire violations**, counted as the OSCE Special Monitoring Mission counted them: every
  located explosion or firing of the sensor network (an event, ``count.best`` rounds each; a fire
  mission's rounds heard but not located are added to its best-located launch and impact), plus
  every violation a patrol reported that no finding cites as evidence (so a patrol's report of a
  round the sensors located is not counted twice);
- **findings**: violations of the agreement's provisions, each found by a rule
  (:class:`~truceline.core.Violation`).

Claims are never counted as either; they carry their verdicts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from truceline.adjudicate.aggregates import NO_SECTOR, CutOff, oblast_of
from truceline.agreement import Agreement, LineVersion, NoLineInForce
from truceline.core import (
    Claim,
    ClaimAssessment,
    CountRange,
    Event,
    FreedomOfMovementRestriction,
    Incident,
    ObserverReport,
    Sensor,
    SensorStatusReport,
    Sighting,
    Violation,
)
from truceline.core.enums import EventKind, ViolationKind
from truceline.core.errors import InvalidInput
from truceline.geo.areas import AreaIndex
from truceline.service.export import current
from truceline.service.ledger_decisions import LogPosition, log_position
from truceline.service.process import processed_until
from truceline.service.quarantine import read, read_derived
from truceline.store.base import Store, from_us

__all__ = ["DayData", "Tally", "load_day", "parse_day", "sector_of"]

#: OSCE kind of a located event that carries none of its own.
EVENT_KIND: dict[EventKind, ViolationKind] = {
    EventKind.LAUNCH: ViolationKind.EXPLOSION_OUTGOING,
    EventKind.IMPACT: ViolationKind.EXPLOSION_IMPACT,
    EventKind.UNDETERMINED: ViolationKind.EXPLOSION_UNDETERMINED,
}




def parse_day(value: str | dt.date) -> dt.date:
    """A reporting day from an ISO date (``YYYY-MM-DD``).

    Raises
    ------
    InvalidInput
        (a ``ValueError``) naming the value, when it is not a calendar date in ISO form.
    """
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    text = str(value).strip()
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date in ISO form YYYY-MM-DD (e.g. 2026-09-02)") from None


def sector_of(agreement: Agreement, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.str_]:
    """Id of the agreement's sector containing each point (the first listed wins), or ``none``."""
    if lon.size == 0:
        return np.empty(0, dtype=str)
    if not agreement.sectors:
        return np.full(lon.size, NO_SECTOR, dtype=object).astype(str)
    idx = AreaIndex([s.geometry for s in agreement.sectors]).locate(lon, lat)
    table = np.array([*(s.id for s in agreement.sectors), NO_SECTOR], dtype=str)
    result: NDArray[np.str_] = table[idx]
    return result


@dataclass
class Tally:
    """Ceasefire violations as the OSCE counted them, as columns (one row per event or report).

    Attributes
    ----------
    kind : ndarray of str
        :class:`~truceline.core.ViolationKind` value.
    count : ndarray of int
        Rounds (``count.best``).
    lon, lat : ndarray of float
        Where: the located source, or the reporting patrol's position.
    source : ndarray of str
        ``sensors`` (a located event) or ``patrol`` (an observer report no finding cites).
    oblast, sector : ndarray of str
        Region (oblast layer name, or ``outside``) and sector id (or ``none``) of each row.
    """

    kind: NDArray[np.str_]
    count: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    source: NDArray[np.str_]
    oblast: NDArray[np.str_]
    sector: NDArray[np.str_]

    @property
    def total(self) -> int:
        """Ceasefire violations counted (rounds)."""
        return int(self.count.sum())

    @property
    def explosions(self) -> int:
        """Of which explosions (the four ``explosion_*`` kinds)."""
        return int(self.count[np.char.startswith(self.kind, "explosion_")].sum()) if self.kind.size else 0

    @classmethod
    def of(
        cls, agreement: Agreement, events: Sequence[Event], reports: Sequence[ObserverReport], cited: set[str]
    ) -> Tally:
        """The tally of located events and of the patrol reports not in ``cited``."""
        extra = [r for r in reports if r.id not in cited]
        kind = [(e.violation_kind or EVENT_KIND[e.kind]).value for e in events] + [r.kind.value for r in extra]
        # Out-of-bounds counts are held by the reads (service.quarantine.out_of_bounds); clipped here too.
        count = [min(e.count.best, MAX_TALLY) for e in events] + [min(r.count.best, MAX_TALLY) for r in extra]
        lon = [e.position.lon_deg for e in events] + [r.observer_position.lon_deg for r in extra]
        lat = [e.position.lat_deg for e in events] + [r.observer_position.lat_deg for r in extra]
        lon_a, lat_a = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        return cls(
            kind=np.asarray(kind, dtype=str),
            count=np.asarray(count, dtype=np.int64),
            lon=lon_a,
            lat=lat_a,
            source=np.asarray(["sensors"] * len(events) + ["patrol"] * len(extra), dtype=str),
            oblast=oblast_of(lon_a, lat_a) if lon_a.size else np.empty(0, dtype=str),
            sector=sector_of(agreement, lon_a, lat_a),
        )


@dataclass
class DayData:
    """Everything one bulletin reports, read once from the store.

    Attributes
    ----------
    day : date
        The reporting day.
    start, end : datetime
        Its bounds, UTC, ``[start, end)``.
    cutoff : CutOff
    agreement : Agreement
        The agreement the bulletin judges against (layers for the maps, sectors, titles).
    line : LineVersion or None
        The line version in force at the end of the day (None when none is).
    violations : list of Violation
        Current findings timed in the day, with their reviewed status, in time order.
    oblast, sector : ndarray of str
        Region and sector of each finding.
    events : list of Event
    observer_reports : list of ObserverReport
    tally : Tally
        The OSCE count of ceasefire violations.
    claims : list of Claim
        Claims whose period overlaps the day.
    assessments : dict of str to ClaimAssessment
        Current verdict of each claim, by claim id.
    sensors : list of Sensor
    status_reports : list of SensorStatusReport
        All of them (the network's health before the day matters).
    restrictions : list of FreedomOfMovementRestriction
    sightings : list of Sighting
        Sightings of weapons timed in the day.
    trend_days : list of date
        The reporting days of the trend, oldest first, ending with ``day``.
    trend_findings : list of Violation
        Current findings of those days.
    trend_tallies : dict of date to (int, int)
        Ceasefire violations and explosions of each trend day, counted as :attr:`tally` is.
    processed_until : datetime or None
        Where the contiguous processed windows of the store end (judged by the window length stored
        with its processing runs).
    data_since : datetime or None
        Time of the earliest observation in the store (None when it holds none): a day that ends
        before it has no data, which is not the same as a quiet day.
    store_seq : int
        The newest observation sequence of the store (what data the bulletin saw).
    log_position : LogPosition or None
        The transparency log's latest checkpoint when the bulletin is built (None: no log).
    missions : list of Incident
        The fire missions of the day (incidents of two rounds or more), in time order.
    generated_at : datetime
    """

    day: dt.date
    start: dt.datetime
    end: dt.datetime
    cutoff: CutOff
    agreement: Agreement
    line: LineVersion | None
    violations: list[Violation]
    oblast: NDArray[np.str_]
    sector: NDArray[np.str_]
    events: list[Event]
    observer_reports: list[ObserverReport]
    tally: Tally
    claims: list[Claim]
    assessments: dict[str, ClaimAssessment]
    sensors: list[Sensor]
    status_reports: list[SensorStatusReport]
    restrictions: list[FreedomOfMovementRestriction]
    sightings: list[Sighting]
    trend_days: list[dt.date]
    trend_findings: list[Violation]
    trend_tallies: dict[dt.date, tuple[int, int]]
    processed_until: dt.datetime | None
    data_since: dt.datetime | None
    store_seq: int
    log_position: LogPosition | None = None
    missions: list[Incident] = field(default_factory=list)
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def has_data(self, day: dt.date) -> bool:
        """True when the store holds observations timed before the end of reporting day ``day``."""
        return self.data_since is not None and self.data_since < self.cutoff.period(day)[1]

    @property
    def processed(self) -> bool:
        """True when the store's processing reaches the end of the day."""
        return self.processed_until is not None and self.processed_until >= self.end

    @property
    def agreements_applied(self) -> list[tuple[str, str]]:
        """``(agreement_id, version)`` pairs the day's findings were judged under."""
        seen = {
            (str(v.rule_parameters.get("agreement_id", "?")), str(v.rule_parameters.get("agreement_version", "?")))
            for v in self.violations
        }
        return sorted(seen)


def _records(store: Store, kind: str, since: dt.datetime | None = None, until: dt.datetime | None = None) -> list[Any]:
    """Observations of a kind; one that no longer decodes is held in quarantine and left out."""
    return read(store, kind, since, until)


def _derived(store: Store, kind: str, since: dt.datetime | None = None, until: dt.datetime | None = None) -> list[Any]:
    """Current derived records with their reviewed status; a row that no longer decodes is held in
    quarantine and left out (the bulletin is written over the rest)."""
    return [current(d) for d in read_derived(store, kind, since, until)]


#: The largest count one record adds to a day's tallies (2**53: beyond, a count is no physical one).
MAX_TALLY = 2**53


def with_mission_rounds(events: Sequence[Event], incidents: Sequence[Incident]) -> list[Event]:
    """The events, with a fire mission's rounds heard but not located counted on its best-located launch and
    impact: a mission of 30 rounds of which 26 impacts were located counts 30 launches and 30 explosions
    of impacts, as a patrol that heard the ripple would have (the rounds told apart are counted once each)."""
    by_id = {e.id: e for e in events}
    extra: dict[str, tuple[int, int]] = {}
    for inc in incidents:
        if inc.rounds.best <= 1:
            continue
        for kind, rep in ((EventKind.LAUNCH, inc.launch_event_id), (EventKind.IMPACT, inc.impact_event_id)):
            located = sum(1 for i in inc.event_ids if i in by_id and by_id[i].kind is kind)
            if rep in by_id and inc.rounds.best > located:
                b, h = extra.get(rep, (0, 0))
                extra[rep] = (b + inc.rounds.best - located, h + inc.rounds.high - located)
    out = []
    for e in events:
        if e.id not in extra:
            out.append(e)
            continue
        (b, h), c = extra[e.id], e.count
        out.append(e.model_copy(update={"count": CountRange(low=c.low, best=c.best + b, high=c.high + h)}))
    return out


def _daily_tallies(
    cut: CutOff, days: list[dt.date], events: Sequence[Event], reports: Sequence[ObserverReport]
) -> dict[dt.date, tuple[int, int]]:
    """Ceasefire violations and explosions per reporting day (events, and reports no finding cites)."""
    kinds = [(e.violation_kind or EVENT_KIND[e.kind]).value for e in events] + [r.kind.value for r in reports]
    # A count stored before the ingest bounds (docs/formats.md) could exceed int64: clip, never overflow.
    counts = np.array([min(e.count.best, MAX_TALLY) for e in events] + [min(r.count.best, MAX_TALLY) for r in reports],
                      dtype=np.int64)  # fmt: skip
    times = [e.origin_time for e in events] + [r.time for r in reports]
    out = {d: (0, 0) for d in days}
    if not times:
        return out
    labels = cut.report_day(times)
    boom = np.char.startswith(np.asarray(kinds, dtype=str), "explosion_")
    for d in days:
        sel = labels == np.datetime64(d, "D")
        out[d] = (int(counts[sel].sum()), int(counts[sel & boom].sum()))
    return out


def load_day(
    store: Store, agreement: Agreement, day: dt.date, cutoff: CutOff | None = None, trend_days: int = 7
) -> DayData:
    """Read one reporting day (and the trend before it) from the store.

    Parameters
    ----------
    store : Store
    agreement : Agreement
    day : date
        The reporting day (named after the date on which it ends).
    cutoff : CutOff, optional
        Default 19:30 Europe/Kyiv.
    trend_days : int
        Reporting days in the trend, ``day`` included (>= 1).
    """
    if trend_days < 1:
        raise InvalidInput(f"trend_days: {trend_days} must be >= 1")
    cut = cutoff or CutOff()
    start, end = cut.period(day)
    days = [day - dt.timedelta(days=k) for k in range(trend_days - 1, -1, -1)]
    t_lo = cut.period(days[0])[0]

    trend_v = cast(list[Violation], _derived(store, "violation", t_lo, end))
    violations = sorted((v for v in trend_v if v.time >= start), key=lambda v: (v.time, v.id))
    trend_inc = cast(list[Incident], _derived(store, "incident", t_lo, end))
    trend_ev = with_mission_rounds(cast(list[Event], _derived(store, "event", t_lo, end)), trend_inc)
    missions = sorted((i for i in trend_inc if i.rounds.best > 1 and start <= i.window.start < end),
                      key=lambda i: (i.window.start, i.id))  # fmt: skip
    events = sorted((e for e in trend_ev if e.origin_time >= start), key=lambda e: (e.origin_time, e.id))
    trend_reports = cast(list[ObserverReport], _records(store, "observer_report", t_lo, end))
    reports = [r for r in trend_reports if r.time >= start]
    cited = {i for v in trend_v for i in v.observation_ids}
    tally = Tally.of(agreement, events, reports, cited)
    tallies = _daily_tallies(cut, days, trend_ev, [r for r in trend_reports if r.id not in cited])

    lon = np.array([v.position.lon_deg for v in violations], dtype=np.float64)
    lat = np.array([v.position.lat_deg for v in violations], dtype=np.float64)

    claims = [c for c in cast(list[Claim], _records(store, "claim")) if c.period.start < end and c.period.end >= start]
    assessments = {
        a.claim_id: a for a in cast(list[ClaimAssessment], [d.record for d in read_derived(store, "claim_assessment")])
    }
    span = store.time_span_us()
    try:
        line: LineVersion | None = agreement.line_at(end - dt.timedelta(microseconds=1))
    except NoLineInForce:
        line = None
    return DayData(
        day=day,
        start=start,
        end=end,
        cutoff=cut,
        agreement=agreement,
        line=line,
        violations=violations,
        oblast=oblast_of(lon, lat) if lon.size else np.empty(0, dtype=str),
        sector=sector_of(agreement, lon, lat),
        events=events,
        observer_reports=reports,
        tally=tally,
        missions=missions,
        claims=sorted(claims, key=lambda c: (c.period.start, c.id)),
        assessments=assessments,
        sensors=cast(list[Sensor], _records(store, "sensor")),
        status_reports=cast(list[SensorStatusReport], _records(store, "sensor_status_report")),
        restrictions=cast(
            list[FreedomOfMovementRestriction], _records(store, "freedom_of_movement_restriction", start, end)
        ),
        sightings=cast(list[Sighting], _records(store, "sighting", start, end)),
        trend_days=days,
        trend_findings=trend_v,
        trend_tallies=tallies,
        processed_until=processed_until(store),  # by the window length the store was processed with
        data_since=None if span is None else from_us(span[0]),
        store_seq=store.last_seq(),
        log_position=log_position(store),
    )
