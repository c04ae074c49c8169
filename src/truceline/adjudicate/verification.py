"""Verification status of findings, with the two-independent-sources rule applied automatically.

Independent sources of a finding (DESIGN.md: "two sensors' solution, two observers of different
nationality, sensor + observer"):

- the sensor solution of each contingent whose sensors located a cited event (one source per
  contingent: sensors a contingent runs share its clocks, its processing and its interests);
- the observers of each nationality whose patrol reports match a cited event (time of hearing,
  direction, distance band and kind consistent; see :func:`matching_reports`);
- each imagery platform of the cited sightings; the patrol of a restriction report; the sensor
  telemetry of a status report.

Status: ``verified`` with at least two independent sources; ``corroborated`` with one source but
more than one supporting record (two observers of one nationality, two sightings from one
platform); ``unverified`` otherwise. Analysts move findings on (confirm, dismiss, inconclusive);
the automatic status never overrides a reviewed one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pyproj import Geod

from truceline.adjudicate.base import IMPACT_KINDS, LAUNCH_KINDS, Context
from truceline.core import Event, Incident, ObserverReport, Violation, evolve
from truceline.core.enums import EventKind, VerificationStatus

GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class MatchParams:
    """How an observer report is matched to a located event.

    ``speed_of_sound_ms`` turns distance into hearing delay; ``time_slack_s`` is added to the
    report's own time uncertainty; a direction matches within ``max(direction_sigmas * sigma,
    min_direction_deg)``; a distance band is widened by ``band_slack`` (x0.67 .. x1.5).
    """

    speed_of_sound_ms: float = 335.0
    time_slack_s: float = 30.0
    direction_sigmas: float = 3.0
    min_direction_deg: float = 15.0
    band_slack: float = 1.5




def matching_reports(
    events: list[Event], reports: list[ObserverReport], params: MatchParams = MatchParams()
) -> dict[str, list[ObserverReport]]:
    """Observer reports consistent with each event (by event id); an event may have none."""
    out: dict[str, list[ObserverReport]] = {}
    if not events or not reports:
        return out
    ev_lon = np.array([e.position.lon_deg for e in events])
    ev_lat = np.array([e.position.lat_deg for e in events])
    ev_t = np.array([e.origin_time.timestamp() for e in events])
    ev_kind = np.array([e.kind.value for e in events])
    for r in reports:
        tol = r.time_uncertainty.effective_sigma_s * 2 + params.time_slack_s
        near = np.flatnonzero(np.abs(ev_t + 5.0 - r.time.timestamp()) <= tol + 120.0)
        if r.kind in LAUNCH_KINDS:
            near = near[ev_kind[near] != EventKind.IMPACT.value]
        elif r.kind in IMPACT_KINDS:
            near = near[ev_kind[near] != EventKind.LAUNCH.value]
        if near.size == 0:
            continue
        olon = np.full(near.size, r.observer_position.lon_deg)
        olat = np.full(near.size, r.observer_position.lat_deg)
        az, _, d = GEOD.inv(olon, olat, ev_lon[near], ev_lat[near])
        d_km = np.asarray(d) / 1000.0
        heard = ev_t[near] + np.asarray(d) / params.speed_of_sound_ms
        ok = np.abs(heard - r.time.timestamp()) <= tol
        lo, hi = r.distance_band.bounds_km()
        ok &= (d_km >= lo / params.band_slack) & (d_km <= hi * params.band_slack)
        if r.direction_deg is not None:
            lim = max(params.direction_sigmas * (r.direction_sigma_deg or 10.0), params.min_direction_deg)
            diff = np.abs((np.asarray(az) - r.direction_deg + 180.0) % 360.0 - 180.0)
            ok &= diff <= lim
        for k in near[ok]:
            out.setdefault(events[int(k)].id, []).append(r)
    return out


def sources_of(
    event_ids: Sequence[str],
    observation_ids: Sequence[str],
    rule_id: str,
    ctx: Context,
    reports_by_event: dict[str, list[ObserverReport]],
) -> tuple[set[str], int]:
    """Independent sources of a finding (or an incident: ``rule_id`` empty) and its supporting records."""
    sources: set[str] = set()
    records = 0
    for eid in event_ids:
        e = ctx.event_by_id.get(eid)
        if e is None:
            continue
        contingents = {ctx.sensor_by_id[s].contingent for s in e.sensor_ids if s in ctx.sensor_by_id}
        sources |= {f"sensors:{c}" for c in contingents} or ({"sensors"} if e.sensor_ids else set())
        records += 1
        for r in reports_by_event.get(eid, []):
            sources.add(f"observers:{r.observer_nationality}")
            records += 1
    sightings = ctx.sighting_by_id
    for oid in observation_ids:
        if oid in sightings:
            sources.add(f"imagery:{sightings[oid].platform.value}")
            records += 1
        elif rule_id.startswith("freedom_of_movement"):
            sources.add("patrol")
            records += 1
        elif rule_id.startswith("monitoring_interference") and oid not in ctx.sensor_by_id:
            sources.add("telemetry")
            records += 1
    return sources, records


def status_for(n_sources: int, n_records: int) -> VerificationStatus:
    if n_sources >= 2:
        return VerificationStatus.VERIFIED
    if n_records >= 2 and n_sources == 1:
        return VerificationStatus.CORROBORATED
    return VerificationStatus.UNVERIFIED


def verify_incidents(ctx: Context, params: MatchParams = MatchParams()) -> list[Incident]:
    """The context's incidents with their automatic status, by the same sources as findings, and the
    matching observer reports added to their ``observation_ids``."""
    by_event = matching_reports(list(ctx.events), list(ctx.observer_reports), params)
    out = []
    for inc in ctx.incidents:
        sources, n = sources_of(inc.event_ids, (), "", ctx, by_event)
        extra = [r.id for eid in inc.event_ids for r in by_event.get(eid, [])]
        obs = tuple(dict.fromkeys([*inc.observation_ids, *extra]))
        out.append(evolve(inc, status=status_for(len(sources), n), observation_ids=obs))
    return out


def verify(violations: list[Violation], ctx: Context, params: MatchParams = MatchParams()) -> list[Violation]:
    """The findings with their automatic status and matching observer reports added as evidence."""
    by_event = matching_reports(list(ctx.events), list(ctx.observer_reports), params)
    out = []
    for v in violations:
        sources, n = sources_of(v.event_ids, v.observation_ids, v.rule_id, ctx, by_event)
        extra = [r.id for eid in v.event_ids for r in by_event.get(eid, [])]
        obs = tuple(dict.fromkeys([*v.observation_ids, *extra]))
        out.append(evolve(v, status=status_for(len(sources), n), observation_ids=obs))
    return out
