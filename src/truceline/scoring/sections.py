"""What a scorecard holds: the matching :class:`Gates` and one frozen dataclass per section.

Each section's ``to_dict`` gives its JSON-safe form (rates to 4 decimals, metres to 0.1, seconds to
1 ms; NaN -> None). The values are computed by :mod:`truceline.scoring.metrics` and gathered in
:class:`truceline.scoring.score.Scorecard`; definitions in ``docs/scoring.md``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from truceline.core import ClaimVerdict

__all__ = [
    "ATTR_COLS",
    "DEFAULT_GATES",
    "SIDE_ROWS",
    "VERDICT_COLS",
    "ClaimScore",
    "EventScore",
    "Gates",
    "IncidentScore",
    "SideScore",
    "ViolationFamilyScore",
    "ViolationScore",
]

SIDE_ROWS = ("UA", "RU", "none")
ATTR_COLS = ("UA", "RU", "unattributed")
VERDICT_COLS = (*(v.value for v in ClaimVerdict if v is not ClaimVerdict.PENDING), "pending", "missing")


# --------------------------------------------------------------------------- gates


@dataclass(frozen=True)
class Gates:
    """Matching gates: a pair matches only within both the time and the distance gate.

    Attributes
    ----------
    event_time_s, event_distance_km : float
        Gates of event matching (origin time, geodesic distance).
    violation_time_s, violation_distance_km : float
        Gates of violation matching (per rule family).
    """

    event_time_s: float = 2.0
    event_distance_km: float = 2.0
    violation_time_s: float = 120.0
    violation_distance_km: float = 3.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0
            if not ok:
                raise ValueError(f"Gates.{f.name} must be a positive finite number, got {value!r}")

    def to_dict(self) -> dict[str, float]:
        return {f.name: float(getattr(self, f.name)) for f in dataclasses.fields(self)}


DEFAULT_GATES = Gates()


# --------------------------------------------------------------------------- dict form


def _fmt(value: float | None, digits: int) -> float | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return round(float(value), digits)


def _digits(name: str) -> int:
    if name.endswith("_m"):
        return 1
    if name.endswith("_s"):
        return 3
    return 4


def _section_dict(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, bool) or value is None:
            out[f.name] = value
        elif isinstance(value, float):
            out[f.name] = _fmt(value, _digits(f.name))
        elif isinstance(value, int | str):
            out[f.name] = value
        elif isinstance(value, Mapping):
            out[f.name] = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in value.items()}
        elif isinstance(value, tuple):
            out[f.name] = [v.to_dict() if hasattr(v, "to_dict") else v for v in value]
        elif hasattr(value, "to_dict"):
            out[f.name] = value.to_dict()
        else:  # pragma: no cover - every field type is handled above
            raise TypeError(f"cannot serialise {f.name}: {type(value).__name__}")
    return out


# --------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class EventScore:
    """Event detection and location (see ``docs/scoring.md`` for each definition)."""

    has_results: bool
    n_truth: int
    n_truth_detectable: int
    n_result: int
    matched: int
    matched_detectable: int
    precision: float
    recall: float
    recall_detectable: float
    f1: float
    f1_all: float
    location_error_median_m: float
    location_error_p90_m: float
    time_error_median_s: float
    time_error_p90_s: float
    ellipse_coverage: float
    has_detections: bool
    n_purity_events: int
    association_purity: float

    def to_dict(self) -> dict[str, Any]:
        return _section_dict(self)


@dataclass(frozen=True)
class SideScore:
    """Side-of-line attribution of matched events."""

    confusion: Mapping[str, Mapping[str, int]]
    """``confusion[truth side][result party]``; rows UA, RU, none; columns UA, RU, unattributed."""
    n_matched: int
    n_attributed: int
    n_wrong_party: int
    wrong_party_rate: float
    n_beyond_2km: int
    n_correct_beyond_2km: int
    side_correct_beyond_2km: float

    def to_dict(self) -> dict[str, Any]:
        return _section_dict(self)


@dataclass(frozen=True)
class IncidentScore:
    """Launch-impact pairing and incident attribution."""

    has_truth: bool
    has_results: bool
    n_truth: int
    n_truth_paired: int
    n_result: int
    n_result_paired: int
    correct_pairs: int
    pairing_precision: float
    pairing_recall: float
    pairing_f1: float
    n_linked: int
    attribution_confusion: Mapping[str, Mapping[str, int]]
    """``[truth firing party][blamed party]`` over linked result incidents."""
    n_blamed: int
    n_wrong_blame: int
    wrong_blame_rate: float
    n_blamed_unlinked: int

    def to_dict(self) -> dict[str, Any]:
        return _section_dict(self)


@dataclass(frozen=True)
class ViolationFamilyScore:
    """Violation matching of one rule family (or ``all``)."""

    family: str
    n_truth: int
    n_result: int
    matched: int
    precision: float
    recall: float
    f1: float
    n_attributed: int
    wrong_party: int
    n_truth_detectable: int = 0
    """Truth violations whose every true event was detectable (>= 3 sensors)."""
    matched_detectable: int = 0
    recall_detectable: float = float("nan")
    f1_detectable: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        return _section_dict(self)


@dataclass(frozen=True)
class ViolationScore:
    """Violations per rule family and overall."""

    has_truth: bool
    has_results: bool
    families: tuple[ViolationFamilyScore, ...]
    overall: ViolationFamilyScore

    def to_dict(self) -> dict[str, Any]:
        return {
            "has_truth": self.has_truth,
            "has_results": self.has_results,
            "families": {f.family: f.to_dict() for f in self.families},
            "overall": self.overall.to_dict(),
        }


@dataclass(frozen=True)
class ClaimScore:
    """Claim verdicts against the expected verdicts."""

    has_truth: bool
    has_results: bool
    n_truth: int
    n_result: int
    n_assessed: int
    n_unknown_claims: int
    n_correct: int
    accuracy: float
    accuracy_assessed: float
    confusion: Mapping[str, Mapping[str, int]]
    """``confusion[expected verdict][result verdict or "missing"]``."""
    by_truth: Mapping[str, Mapping[str, int]]
    """``by_truth[truth category][result verdict or "missing"]``."""
    false_flags_corroborated: int
    false_flag_corroborated_ids: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return _section_dict(self)
