"""Ground truth tables of a simulation (read by the scorer, never by fusion or adjudication)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from truceline.agreement.families import FAMILY_IDS

FloatArray = NDArray[np.float64]

#: Rule families the truth labels (``rule_id.split(".")[0]`` of a Violation): the ids of the
#: families declared in :mod:`truceline.agreement.families`, in their order.
FAMILIES: tuple[str, ...] = FAMILY_IDS


@dataclass
class TruthEvents:
    """Every true acoustic event (a launch or an impact), one entry per event.

    Attributes
    ----------
    id, incident_id : arrays of str
    kind : array of str
        ``"launch"`` or ``"impact"``.
    t_s : array
        Simulation time (s after the scenario start) of the event.
    x, y : arrays
        Projected metres (the world's projection).
    lon, lat : arrays
        Degrees.
    party : array of str
        Party that fired.
    weapon, weapon_class : arrays of str
        Catalogue id and agreement class.
    side : array of object
        Party controlling the event's position (None: neither).
    signed_distance_km : array
        Signed distance to the line in force (+ first party's side), NaN where no side.
    n_sensors : array of int
        Distinct sensors that detected it.
    """

    id: NDArray[np.str_]
    incident_id: NDArray[np.str_]
    kind: NDArray[np.str_]
    t_s: FloatArray
    x: FloatArray
    y: FloatArray
    lon: FloatArray
    lat: FloatArray
    party: NDArray[np.str_]
    weapon: NDArray[np.str_]
    weapon_class: NDArray[np.str_]
    side: NDArray[np.object_]
    signed_distance_km: FloatArray
    n_sensors: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return int(self.t_s.size)

    @property
    def detectable(self) -> NDArray[np.bool_]:
        """Heard by at least three sensors (enough for a location)."""
        return self.n_sensors >= 3


@dataclass
class TruthViolation:
    """One true violation."""

    id: str
    family: str
    party: str | None
    t_s: float
    lon: float
    lat: float
    incident_id: str | None = None
    source_ids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"unknown rule family {self.family!r}")

    def to_json(self, time_iso: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "family": self.family,
            "party": self.party,
            "time": time_iso,
            "lon": round(float(self.lon), 7),
            "lat": round(float(self.lat), 7),
            "incident_id": self.incident_id,
            "source_ids": list(self.source_ids),
        }


@dataclass
class TruthClaim:
    """What is really behind one claim, and the verdict a correct system reaches."""

    claim_id: str
    truth: str  # true | exaggerated | fabricated | blind_spot | false_flag
    expected_verdict: str
    accused_party: str | None
    actual_party: str | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)
