"""Scorecard of a result set (any fusion / adjudication output) against a simulator's ground truth.

IDC-style: result events are matched one-to-one to true events within a time and a distance
gate (optimally, :mod:`truceline.scoring.matching`), then every section is scored on those matches:

1. events: precision, recall (of all and of detectable events), F1, location and origin-time
   error, 95% ellipse coverage, association purity;
2. side-of-line attribution of matched events: confusion, wrong-party rate, correct side beyond
   2 km from the line;
3. incidents: launch-impact pairing, incident attribution and wrong blame; fire missions found,
   whole, counted and blamed (:mod:`truceline.scoring.missions`);
4. violations per rule family: precision, recall, F1, wrong party;
5. claims: verdict accuracy, confusion, false flags corroborated (must be 0).

Entry point: :func:`score_dirs`. Formats and exact definitions: ``docs/scoring.md``.
Bad input raises :class:`ScoreInputError` naming file, line and field; nothing is skipped.

This module is the public face of the scorer; the work is done in
:mod:`~truceline.scoring.inputs` (reading truth and result folders),
:mod:`~truceline.scoring.sections` (gates and section dataclasses),
:mod:`~truceline.scoring.metrics` (computing the sections) and
:mod:`~truceline.scoring.markdown` (the Markdown form). Every name listed in ``__all__`` is
importable from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from truceline.scoring.inputs import (
    ResultSet,
    ScoreInputError,
    TruthClaim,
    TruthEvent,
    TruthIncident,
    TruthSet,
    TruthViolation,
    read_results,
    read_truth,
)
from truceline.scoring.markdown import markdown as _markdown
from truceline.scoring.metrics import (
    ELLIPSE_CHI2_95,
    FAMILIES,
    _match_events,
    _score_claims,
    _score_events,
    _score_incidents,
    _score_violations,
    _us,
)
from truceline.scoring.missions import MissionScore, score_missions
from truceline.scoring.sections import (
    DEFAULT_GATES,
    ClaimScore,
    EventScore,
    Gates,
    IncidentScore,
    SideScore,
    ViolationFamilyScore,
    ViolationScore,
)

__all__ = [
    "DEFAULT_GATES",
    "ELLIPSE_CHI2_95",
    "FAMILIES",
    "ClaimScore",
    "EventScore",
    "Gates",
    "IncidentScore",
    "MissionScore",
    "ResultSet",
    "ScoreInputError",
    "Scorecard",
    "SideScore",
    "TruthClaim",
    "TruthEvent",
    "TruthIncident",
    "TruthSet",
    "TruthViolation",
    "ViolationFamilyScore",
    "ViolationScore",
    "read_results",
    "read_truth",
    "score",
    "score_dirs",
]


@dataclass(frozen=True)
class Scorecard:
    """The full scorecard; :meth:`to_dict` for JSON, :meth:`to_markdown` for people."""

    gates: Gates
    events: EventScore
    side_of_line: SideScore
    incidents: IncidentScore
    violations: ViolationScore
    claims: ClaimScore
    missions: MissionScore = field(default=MissionScore(has_truth=False, all=None, multi=None))
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict with stable keys; rates to 4 decimals, metres to 0.1, seconds to 1 ms; NaN -> None."""
        return {
            "gates": self.gates.to_dict(),
            "events": self.events.to_dict(),
            "side_of_line": self.side_of_line.to_dict(),
            "incidents": self.incidents.to_dict(),
            "missions": self.missions.to_dict(),
            "violations": self.violations.to_dict(),
            "claims": self.claims.to_dict(),
            "notes": list(self.notes),
        }

    def to_markdown(self) -> str:
        """Markdown scorecard: one table per section."""
        return _markdown(self)


# --------------------------------------------------------------------------- scoring


def score(truth: TruthSet, result: ResultSet, gates: Gates = DEFAULT_GATES) -> Scorecard:
    """Score a result set against the ground truth (both already read).

    Parameters
    ----------
    truth : TruthSet
        From :func:`read_truth`.
    result : ResultSet
        From :func:`read_results`, or built in memory from fusion / adjudication output.
    gates : Gates
        Matching gates.

    Returns
    -------
    Scorecard
    """
    times = [e.time for e in truth.events] or [e.origin_time for e in (result.events or ())]
    ref_us = int(_us(times).min()) if times else 0
    events = result.events or ()
    m = _match_events(truth, events, gates, ref_us)
    event_score, side_score = _score_events(truth, result.events, m)
    notes: list[str] = []
    for label, present in (
        ("result events.jsonl", result.events is not None),
        ("truth incidents.jsonl", truth.incidents is not None),
        ("result incidents.jsonl", result.incidents is not None),
        ("truth violations.jsonl", truth.violations is not None),
        ("result violations.jsonl", result.violations is not None),
        ("truth claims.jsonl", truth.claims is not None),
        ("result claim_verdicts.jsonl", result.claim_verdicts is not None),
        ("truth detections.csv", truth.detections is not None),
    ):
        if not present:
            notes.append(f"{label} absent")
    return Scorecard(
        gates=gates,
        events=event_score,
        side_of_line=side_score,
        incidents=_score_incidents(truth, result, m),
        violations=_score_violations(truth, result, gates, ref_us),
        claims=_score_claims(truth, result),
        missions=score_missions(truth, result, m),
        notes=tuple(notes),
    )


def score_dirs(truth_dir: Path, result_dir: Path, gates: Gates = DEFAULT_GATES) -> Scorecard:
    """Read a ground-truth folder and a result folder and score the result.

    Parameters
    ----------
    truth_dir : Path
        Folder holding ``events.jsonl`` (and optionally ``incidents.jsonl``, ``violations.jsonl``,
        ``claims.jsonl``, ``detections.csv``), or its parent holding them under ``truth/``.
    result_dir : Path
        Folder holding any of ``events.jsonl``, ``incidents.jsonl``, ``violations.jsonl``,
        ``claim_verdicts.jsonl`` (core records, one JSON object a line).
    gates : Gates
        Matching gates.

    Raises
    ------
    ScoreInputError
        A missing truth folder or truth events file, a missing result folder, or a bad line
        (naming file, line and field).
    """
    truth = read_truth(Path(truth_dir))
    result = read_results(Path(result_dir))
    return score(truth, result, gates)
