"""A result set made from the ground truth itself: the scorer's reference and a test fixture.

``write_oracle(truth_dir, out_dir)`` writes ``events.jsonl``, ``incidents.jsonl``,
``violations.jsonl`` and ``claim_verdicts.jsonl`` as a perfect system would: every detectable true
event located exactly (with a stated isotropic uncertainty), attributed to the side it lies on,
paired into its incident, every true violation found, every claim given its expected verdict.
Optional degradations (a shift, swapped sides) let tests and benchmarks check that the scorer
punishes what it should. It is never an input of fusion or adjudication.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np

from truceline.core import (
    Attribution,
    ClaimAssessment,
    Event,
    GeoUncertainty,
    Incident,
    Position,
    Provenance,
    TimeWindow,
    Violation,
)
from truceline.core.enums import AttributionLevel, ClaimVerdict, EventKind, Party, WeaponClass
from truceline.io.jsonl import read_objects, write_records

ALGORITHM = "sim.oracle"
VERSION = "1"
M_PER_DEG = 111_320.0


def _truth(truth_dir: Path, name: str) -> list[dict[str, Any]]:
    """Rows of a truth file; ``events.jsonl`` must exist (a mistyped folder is an error)."""
    root = truth_dir / "truth" if (truth_dir / "truth").is_dir() else truth_dir
    path = root / name
    if not path.exists():
        if name == "events.jsonl":
            raise FileNotFoundError(f"{path}: no ground truth here")
        return []
    return [obj for _, obj in read_objects(path)]


def write_oracle(
    truth_dir: str | Path,
    out_dir: str | Path,
    sigma_m: float = 50.0,
    shift_east_m: float = 0.0,
    swap_sides: int = 0,
) -> dict[str, int]:
    """Write the oracle result; return the number of records per file.

    Parameters
    ----------
    sigma_m : float
        Stated isotropic location uncertainty of every event.
    shift_east_m : float
        Move every located event this far east (a biased system).
    swap_sides : int
        Attribute the first ``swap_sides`` attributed events to the wrong side.
    """
    truth_dir, out = Path(truth_dir), Path(out_dir)
    truth_events = _truth(truth_dir, "events.jsonl")
    # Stamped with the last true event's time, so the same truth always gives the same files.
    made = max(
        (dt.datetime.fromisoformat(e["time"]) for e in truth_events), default=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    )
    prov = Provenance(algorithm=ALGORITHM, algorithm_version=VERSION, created_at=made)
    events = _events(truth_events, prov, sigma_m, shift_east_m, swap_sides)
    incidents = _incidents(_truth(truth_dir, "incidents.jsonl"), events, prov)
    violations = [_violation(v, prov) for v in _truth(truth_dir, "violations.jsonl")]
    verdicts = [
        ClaimAssessment(
            id=f"cla-{c['claim_id']}",
            claim_id=c["claim_id"],
            verdict=ClaimVerdict(c["expected_verdict"]),
            rationale=f"oracle: the claim is {c['truth']}",
            provenance=prov,
        )
        for c in _truth(truth_dir, "claims.jsonl")
    ]
    return {
        "events": write_records(out / "events.jsonl", events),
        "incidents": write_records(out / "incidents.jsonl", incidents),
        "violations": write_records(out / "violations.jsonl", violations),
        "claim_verdicts": write_records(out / "claim_verdicts.jsonl", verdicts),
    }


def _events(
    truth_events: list[dict[str, Any]], prov: Provenance, sigma_m: float, shift_east_m: float, swap_sides: int
) -> list[Event]:
    """Every detectable true event, located (shifted east if asked) and attributed to its side (or swapped)."""
    events: list[Event] = []
    swapped = 0
    for e in truth_events:
        if not e["detectable"]:
            continue
        side = e["side"]
        if side is not None and swapped < swap_sides:
            side = Party(side).opponent.value
            swapped += 1
        attribution = (
            Attribution(
                level=AttributionLevel.ORIGIN_AREA,
                party=Party(side),
                probability=1.0,
                evidence=(f"oracle: true position of {e['id']}",),
            )
            if side is not None
            else Attribution()
        )
        lon = e["lon"] + shift_east_m / (M_PER_DEG * np.cos(np.radians(e["lat"])))
        events.append(
            Event(
                id=f"ev-{e['id']}",
                kind=EventKind(e["kind"]),
                origin_time=dt.datetime.fromisoformat(e["time"]),
                time_sigma_s=0.01,
                position=Position(lon_deg=float(lon), lat_deg=float(e["lat"])),
                location_uncertainty=GeoUncertainty(sigma_m=sigma_m),
                weapon_class=WeaponClass(e["weapon_class"]),
                quality=1.0,
                attribution=attribution,
                provenance=prov,
            )
        )
    return events


def _incidents(truth_incidents: list[dict[str, Any]], events: list[Event], prov: Provenance) -> list[Incident]:
    """Every true incident whose launch and impact were both located, blamed on the party that fired."""
    have = {ev.id for ev in events}
    times = {ev.id: ev.origin_time for ev in events}
    incidents = []
    for i in truth_incidents:
        launch, impact = f"ev-{i['launch_event_id']}", f"ev-{i['impact_event_id']}"
        if launch not in have or impact not in have:
            continue
        incidents.append(
            Incident(
                id=f"inc-{i['id']}",
                event_ids=(launch, impact),
                launch_event_id=launch,
                impact_event_id=impact,
                weapon_class=WeaponClass(i["weapon_class"]),
                window=TimeWindow(start=times[launch], end=times[impact]),
                attribution=Attribution(
                    level=AttributionLevel.PARTY,
                    party=Party(i["party"]),
                    evidence=(f"oracle: {i['id']} was fired by {i['party']}",),
                ),
                provenance=prov,
            )
        )
    return incidents


def _violation(v: dict[str, Any], prov: Provenance) -> Violation:
    """A true violation as found, attributed to its party at the grade 'party'."""
    return Violation(
        id=f"vio-{v['id']}",
        rule_id=f"{v['family']}.oracle",
        rule_version=VERSION,
        time=dt.datetime.fromisoformat(v["time"]),
        position=Position(lon_deg=v["lon"], lat_deg=v["lat"]),
        observation_ids=tuple(v["source_ids"]) or (v["id"],),
        attribution=(
            Attribution(level=AttributionLevel.PARTY, party=Party(v["party"]), evidence=("oracle",))
            if v["party"]
            else Attribution()
        ),
        confidence=1.0,
        provenance=prov,
    )
