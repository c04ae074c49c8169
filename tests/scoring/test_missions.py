"""Fire missions scored as missions: found, split, mixed, phantoms, counts held, one mission's launch and impact."""

from __future__ import annotations

import datetime as dt

from truceline.core import Attribution, CountRange, Event, GeoUncertainty, Incident, Position, Provenance, TimeWindow
from truceline.core.enums import AttributionLevel, EventKind, Party
from truceline.scoring.inputs import ResultSet, TruthEvent, TruthIncident, TruthSet
from truceline.scoring.score import score

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
PROV = Provenance(algorithm="test", algorithm_version="1", created_at=T0)


def _truth() -> TruthSet:
    """Mission M1: 3 rounds (UA, launch 34.90 E, impact 35.10 E); M2: one round (RU); M3: 2 rounds, never heard."""
    events, incidents = [], []
    rounds = [("M1", "UA", 34.90, 35.10, k * 0.5) for k in range(3)] + [("M2", "RU", 35.20, 34.85, 200.0)]
    rounds += [("M3", "RU", 35.30, 34.70, 400.0 + k) for k in range(2)]
    for n, (mission, party, lon_l, lon_i, t) in enumerate(rounds):
        rid = f"r{n}"
        heard = mission != "M3"
        for kind, lon, dt_s in (("launch", lon_l, 0.0), ("impact", lon_i, 40.0)):
            events.append(
                TruthEvent(
                    f"{rid}-{kind}",
                    rid,
                    kind,
                    T0 + dt.timedelta(seconds=t + dt_s),
                    lon,
                    48.0,
                    party,
                    "mlrs_122mm",
                    "mlrs",
                    None,
                    None,
                    None,
                    8 if heard else 1,
                    heard,
                )
            )
        incidents.append(TruthIncident(rid, party, "mlrs_122mm", "mlrs", f"{rid}-launch", f"{rid}-impact", mission, ()))
    return TruthSet(events=tuple(events), incidents=tuple(incidents))


def _event(eid: str, kind: str, t: float, lon: float) -> Event:
    return Event(
        id=eid, kind=EventKind(kind), origin_time=T0 + dt.timedelta(seconds=t), time_sigma_s=0.05,
        position=Position(lon_deg=lon, lat_deg=48.0), location_uncertainty=GeoUncertainty.isotropic(50.0),
        quality=0.9, provenance=PROV,
    )  # fmt: skip


def _incident(iid: str, events: list[Event], rounds: tuple[int, int, int], party: str | None = None) -> Incident:
    launch = next((e.id for e in events if e.kind is EventKind.LAUNCH), None)
    impact = next((e.id for e in events if e.kind is EventKind.IMPACT), None)
    att = Attribution() if party is None else Attribution(level=AttributionLevel.ORIGIN_AREA, party=Party(party),
                                                          probability=0.99, evidence=("test",))  # fmt: skip
    times = [e.origin_time for e in events]
    return Incident(
        id=iid, event_ids=tuple(e.id for e in events), launch_event_id=launch, impact_event_id=impact,
        rounds=CountRange(low=rounds[0], best=rounds[1], high=rounds[2]),
        window=TimeWindow(start=min(times), end=max(times)),
        attribution=att, provenance=PROV,
    )  # fmt: skip


def test_one_incident_per_mission_found_counted_and_blamed():
    m1 = [
        _event("e-l0", "launch", 0.0, 34.90),
        _event("e-l2", "launch", 1.0, 34.90),
        _event("e-i1", "impact", 40.5, 35.10),
    ]
    m2 = [_event("e-l3", "launch", 200.0, 35.20), _event("e-i3", "impact", 240.0, 34.85)]
    phantom = [_event("e-x", "impact", 900.0, 35.5)]
    incidents = [
        _incident("inc-m1", m1, (2, 3, 5), "UA"),
        _incident("inc-m2", m2, (1, 1, 1), "UA"),
        _incident("inc-x", phantom, (1, 1, 1)),
    ]
    card = score(_truth(), ResultSet(events=tuple(m1 + m2 + phantom), incidents=tuple(incidents)))
    every, multi = card.missions.all.to_dict(), card.missions.multi.to_dict()
    assert (every["n_truth"], every["n_truth_detectable"], every["n_result"]) == (3, 2, 3)
    assert (every["hits"], every["found"], every["phantoms"], every["split"], every["mixed"]) == (2, 2, 1, 0, 0)
    assert every["precision"] == 0.6667 and every["recall"] == 1.0
    assert (every["counted"], every["count_held"]) == (2, 2)  # 2 <= 3 <= 5 and 1 <= 1 <= 1
    assert (every["n_paired"], every["paired_one_mission"]) == (2, 2)
    assert (every["n_blamed"], every["wrong_party"], every["blamed_phantoms"]) == (2, 1, 0)  # M2 was RU's
    # Two rounds and more: M1 (found) and M3 (never heard); the one-round phantom does not count.
    assert (multi["n_truth"], multi["n_truth_detectable"], multi["n_result"], multi["hits"]) == (2, 1, 1, 1)
    assert "## Fire missions" in card.to_markdown()


def test_a_split_mission_counts_once_and_a_count_that_misses_is_shown():
    parts = [[_event("e-l0", "launch", 0.0, 34.90)], [_event("e-l1", "launch", 0.5, 34.90)]]
    incidents = [_incident("inc-a", parts[0], (1, 1, 1)), _incident("inc-b", parts[1], (1, 1, 1))]
    card = score(_truth(), ResultSet(events=tuple(e for p in parts for e in p), incidents=tuple(incidents)))
    every = card.missions.all.to_dict()
    assert (every["n_result"], every["hits"], every["split"]) == (2, 1, 1)
    assert every["precision"] == 0.5
    assert every["counted"] == 0  # a split mission's parts are not judged on the count


def test_an_incident_mixing_two_missions_is_counted_mixed():
    mixed = [_event("e-l0", "launch", 0.0, 34.90), _event("e-l3", "launch", 200.0, 35.20)]
    card = score(_truth(), ResultSet(events=tuple(mixed), incidents=(_incident("inc-mix", mixed, (2, 2, 2)),)))
    assert card.missions.all.to_dict()["mixed"] == 1
