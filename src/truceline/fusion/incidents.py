"""Incidents from located events: single rounds (a launch, an impact, or the pair) and fire missions.

:func:`build_incidents` turns the missions of :mod:`truceline.fusion.missions` into records. A mission
of one round is the incident it always was (one event, or a launch and its impact paired by time of
flight). A fire mission (several rounds, or one located round of a ripple that was heard many times)
is one incident that cites every round located, counts the rounds as low / best / high, and gives
the launch area and the impact area with their ellipses.

A mission is blamed on a party only as a single round is: when its best-located launch is an
unambiguous launch, far enough from the line, and attributed; and never when another launch of it
was attributed to the other party (one mission, one side: a disagreement means a mixed mission).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from truceline.core import (
    Area,
    Attribution,
    CountRange,
    Event,
    GeoUncertainty,
    Incident,
    Position,
    Provenance,
    TimeWindow,
)
from truceline.core.enums import AttributionLevel, WeaponClass
from truceline.fusion.missions import Located, Mission, MissionParams, build_missions
from truceline.fusion.pairing import BALLISTICS, Pairs

FloatArray = NDArray[np.float64]
#: Grid (x, y, covariance in grid m²) -> (lon, lat, covariance east/north in m²).
ToGeo = Callable[[float, float, FloatArray], tuple[float, float, FloatArray]]
#: Grid (x, y, covariance in grid m², origin time s) -> (P(first party), signed distance to the line, km,
#: the blame margin there, km).
AreaSide = Callable[[float, float, FloatArray, float], tuple[float, float, float]]


@dataclass(frozen=True)
class MissionBlame:
    """What blame needs: ``blameable[i]`` (event ``i`` is a sure launch far enough from the line to carry its
    side), the side of a launch area (P of ``parties[0]``'s area, and the distance signed towards it), and
    the probability and margin an attribution needs."""

    blameable: NDArray[np.bool_]
    area_side: AreaSide
    probability: float
    parties: tuple[str, ...]


ALGORITHM = "fusion.missions"


def build_incidents(
    events: list[Event],
    located: Located,
    pairs: Pairs,
    blame: MissionBlame,
    to_geo: ToGeo,
    provenance: Provenance,
    params: MissionParams | None = None,
) -> list[Incident]:
    """One incident per mission (see :class:`MissionBlame` for what blame needs)."""
    out = []
    pair_of = dict(zip(pairs.launch.tolist(), pairs.impact.tolist(), strict=True))
    for m in build_missions(located, pairs, params):
        if _single_round(m, pair_of):
            out.append(_round_incident(events, m, pairs, blame.blameable, provenance))
        else:
            out.append(_mission_incident(events, located, m, blame, to_geo, provenance))
    return out


def _single_round(m: Mission, pair_of: dict[int, int]) -> bool:
    if m.rounds[1] > 1 or m.members.size > 2:
        return False
    if m.members.size == 2:
        return m.launch.size == 1 and m.impact.size == 1 and pair_of.get(int(m.launch[0])) == int(m.impact[0])
    return True


def _round_incident(
    events: list[Event], m: Mission, pairs: Pairs, blameable: NDArray[np.bool_], prov: Provenance
) -> Incident:
    if m.members.size == 2:
        li, ii = int(m.launch[0]), int(m.impact[0])
        launch, impact = events[li], events[ii]
        fam = int(pairs.ballistic[np.flatnonzero(pairs.launch == li)[0]])
        return Incident(
            id=f"inc-{launch.id}",
            event_ids=(launch.id, impact.id),
            launch_event_id=launch.id,
            impact_event_id=impact.id,
            weapon_class=BALLISTICS[fam].weapon_class,
            window=TimeWindow(start=launch.origin_time, end=impact.origin_time),
            attribution=fired_by(launch) if blameable[li] else Attribution(),
            provenance=prov.model_copy(update={"inputs": (launch.id, impact.id)}),
        )
    i = int(m.members[0])
    ev = events[i]
    is_launch = m.launch.size == 1
    return Incident(
        id=f"inc-{ev.id}",
        event_ids=(ev.id,),
        launch_event_id=ev.id if is_launch else None,
        window=TimeWindow(start=ev.origin_time, end=ev.origin_time),
        attribution=fired_by(ev) if is_launch and blameable[i] else Attribution(),
        provenance=prov.model_copy(update={"inputs": (ev.id,)}),
    )


def _mission_incident(
    events: list[Event],
    located: Located,
    m: Mission,
    blame: MissionBlame,
    to_geo: ToGeo,
    prov: Provenance,
) -> Incident:
    ids = tuple(events[i].id for i in m.members.tolist())
    launch = _best(located, m.launch)
    impact = _best(located, m.impact)
    times = [events[i].origin_time for i in m.members.tolist()]
    low, best, high = m.rounds
    wclass = BALLISTICS[m.ballistic].weapon_class if m.ballistic >= 0 else WeaponClass.UNKNOWN
    return Incident(
        id=f"inc-{events[int(m.members[0])].id}",
        event_ids=ids,
        launch_event_id=events[launch].id if launch is not None else None,
        impact_event_id=events[impact].id if impact is not None else None,
        rounds=CountRange(low=low, best=best, high=high),
        launch_area=_geo_area(located, m.launch_area, to_geo),
        impact_area=_geo_area(located, m.impact_area, to_geo),
        weapon_class=wclass,
        window=TimeWindow(start=min(times), end=max(times)),
        attribution=_mission_blame(events, located, m, launch, blame),
        provenance=prov.model_copy(
            update={
                "algorithm": ALGORITHM,
                "inputs": ids,
                "parameters": {**prov.parameters, "ripple": m.ripple},
            }
        ),
    )


def _best(located: Located, idx: NDArray[np.int64]) -> int | None:
    """The best-located event of ``idx`` (smallest largest axis), None if empty."""
    if idx.size == 0:
        return None
    sig = np.linalg.eigvalsh(located.cov[idx])[:, -1]
    return int(idx[int(np.argmin(sig))])


def _geo_area(located: Located, area: tuple[float, float, FloatArray] | None, to_geo: ToGeo) -> Area | None:
    if area is None:
        return None
    lon, lat, cov_en = to_geo(*area)
    cov_en = 0.5 * (cov_en + cov_en.T)
    w, v = np.linalg.eigh(cov_en)
    cov_en = (v * np.maximum(w, 1e-6)) @ v.T
    return Area(position=Position(lon_deg=lon, lat_deg=lat), uncertainty=GeoUncertainty.from_covariance(cov_en))


def _mission_blame(
    events: list[Event], located: Located, m: Mission, launch: int | None, blame: MissionBlame
) -> Attribution:
    """The best-located launch's side, if the launch area agrees: every attributed launch names that party,
    and the area (its centre, with its ellipse: the battery's error and its guns' spread) lies on that side
    with the probability an attribution needs, at least the blame margin from the line."""
    if launch is None or not blame.blameable[launch]:
        return Attribution()
    base = fired_by(events[launch])
    if base.party is None:
        return base
    others = {events[i].attribution.party for i in m.launch.tolist()} - {None}
    if others != {base.party}:
        return Attribution(
            evidence=(
                "not attributed: launches of this fire mission located on both sides "
                f"({', '.join(sorted(p.value for p in others if p))})",
            )
        )
    where = ""
    if m.launch_area is not None:
        x, y, cov = m.launch_area
        p_first, dist, margin = blame.area_side(x, y, cov, float(located.t0[m.launch].min()))
        first = base.party.value == blame.parties[0]
        p_party, inside = (p_first, dist) if first else (1.0 - p_first, -dist)
        if not (p_party >= blame.probability and inside >= margin):
            return Attribution(
                evidence=(
                    f"not attributed: the launch area of this fire mission ({m.launch.size} launches located) is "
                    f"{abs(dist):.2f} km from the line, P(side)={p_party:.4f} (needs {blame.probability} and "
                    f"{margin:g} km)",
                )
            )
        where = f"launch area {abs(dist):.2f} km inside, P(side)={p_party:.4f}; "
    return base.model_copy(
        update={
            "evidence": (
                f"fire mission of {m.rounds[1]} rounds ({m.launch.size} launches located); {where}{base.evidence[0]}",
            )
        }
    )


def fired_by(launch: Event) -> Attribution:
    """An incident's origin-area attribution: the side its launch was located on, if attributed."""
    a = launch.attribution
    if a.party is None:
        return Attribution()
    return Attribution(
        level=AttributionLevel.ORIGIN_AREA,
        party=a.party,
        probability=a.probability,
        evidence=(f"launch {launch.id}: {a.evidence[0]}",),
    )


def made_provenance(made: dt.datetime, version: str, params: dict[str, Any]) -> Provenance:
    """The provenance every incident of a run starts from (inputs filled per incident)."""
    return Provenance(algorithm="fusion.pairing.tof", algorithm_version=version, parameters=params, created_at=made)
