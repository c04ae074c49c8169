"""The Markdown form of a :class:`~truceline.scoring.score.Scorecard`: headline, then one table per section.

Layout in ``docs/scoring.md``; the JSON form is ``Scorecard.to_dict()``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from truceline.scoring.missions import MissionScore
from truceline.scoring.sections import (
    ATTR_COLS,
    VERDICT_COLS,
    ClaimScore,
    EventScore,
    Gates,
    IncidentScore,
    SideScore,
    ViolationScore,
    _digits,
)

__all__ = ["CardSections", "markdown"]


class CardSections(Protocol):
    """What the Markdown form reads of a scorecard (:class:`~truceline.scoring.score.Scorecard` has it)."""

    @property
    def gates(self) -> Gates: ...
    @property
    def events(self) -> EventScore: ...
    @property
    def side_of_line(self) -> SideScore: ...
    @property
    def incidents(self) -> IncidentScore: ...
    @property
    def violations(self) -> ViolationScore: ...
    @property
    def missions(self) -> MissionScore: ...
    @property
    def claims(self) -> ClaimScore: ...
    @property
    def notes(self) -> tuple[str, ...]: ...


def _md_num(value: float | int | None, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return "—"
    return f"{value:.{digits}f}"


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def _md_matrix(corner: str, matrix: Mapping[str, Mapping[str, int]], cols: Sequence[str]) -> list[str]:
    rows = [[r, *(str(matrix[r][c]) for c in cols), str(sum(matrix[r].values()))] for r in matrix]
    return _md_table([corner, *cols, "total"], rows)


def _md_metrics(obj: Any, names: Sequence[tuple[str, str]]) -> list[str]:
    rows = []
    for name, label in names:
        value = getattr(obj, name)
        digits = _digits(name)
        rows.append([label, _md_num(value, digits)])
    return _md_table(["metric", "value"], rows)


def markdown(card: CardSections) -> str:
    """The scorecard as Markdown: the headline, then events, side of line, incidents, violations, claims."""
    out = _headline(card)
    out += _events_md(card.events)
    out += _side_md(card.side_of_line)
    out += _incidents_md(card.incidents)
    out += card.missions.markdown_lines()
    out += _violations_md(card.violations)
    out += _claims_md(card.claims)
    return "\n".join(out).rstrip() + "\n"


def _headline(card: CardSections) -> list[str]:
    """Title, gates, the false-flag line, the headline figures and the notes."""
    g = card.gates
    ev, side, inc, vio, cl = card.events, card.side_of_line, card.incidents, card.violations, card.claims
    out: list[str] = ["# Scorecard", ""]
    out.append(
        f"Gates: events ±{g.event_time_s:g} s and {g.event_distance_km:g} km; "
        f"violations ±{g.violation_time_s:g} s and {g.violation_distance_km:g} km."
    )
    out.append("")
    if not cl.has_truth:
        out.append("**False-flag claims corroborated: — (no claim truth)**")
    else:
        mark = "**FAIL**" if cl.false_flags_corroborated else "ok"
        out.append(f"**False-flag claims corroborated: {cl.false_flags_corroborated}** (must be 0: {mark})")
    out.append("")
    out += _md_table(
        ["headline", "value"],
        [
            ["event F1 (detectable)", _md_num(ev.f1)],
            ["wrong-party rate (events)", _md_num(side.wrong_party_rate)],
            ["correct side > 2 km from the line", _md_num(side.side_correct_beyond_2km)],
            ["wrong-blame rate (incidents)", _md_num(inc.wrong_blame_rate)],
            ["violation F1 (all families)", _md_num(vio.overall.f1)],
            ["claim verdict accuracy", _md_num(cl.accuracy)],
        ],
    )
    out.append("")
    if card.notes:
        out += ["Notes: " + "; ".join(card.notes) + ".", ""]
    return out


def _events_md(ev: EventScore) -> list[str]:
    out = ["## Events", ""]
    if not ev.has_results:
        out += ["_No result events (events.jsonl absent)._", ""]
    out += _md_metrics(
        ev,
        [
            ("n_truth", "truth events"),
            ("n_truth_detectable", "truth events detectable (≥ 3 sensors)"),
            ("n_result", "result events"),
            ("matched", "matched"),
            ("matched_detectable", "matched detectable"),
            ("precision", "precision"),
            ("recall", "recall (all)"),
            ("recall_detectable", "recall (detectable)"),
            ("f1", "F1 (detectable)"),
            ("f1_all", "F1 (all)"),
            ("location_error_median_m", "location error median (m)"),
            ("location_error_p90_m", "location error p90 (m)"),
            ("time_error_median_s", "origin-time error median (s)"),
            ("time_error_p90_s", "origin-time error p90 (s)"),
            ("ellipse_coverage", "95% ellipse coverage"),
            ("association_purity", f"association purity ({ev.n_purity_events} events)"),
        ],
    )
    out.append("")
    return out


def _side_md(side: SideScore) -> list[str]:
    out = ["## Side-of-line attribution (matched events)", ""]
    out += _md_matrix("truth side \\ result", side.confusion, ATTR_COLS)
    out.append("")
    out += _md_metrics(
        side,
        [
            ("n_attributed", "attributed events"),
            ("n_wrong_party", "wrong party"),
            ("wrong_party_rate", "wrong-party rate"),
            ("n_beyond_2km", "events > 2 km from the line"),
            ("side_correct_beyond_2km", "correct side > 2 km"),
        ],
    )
    out.append("")
    return out


def _incidents_md(inc: IncidentScore) -> list[str]:
    out = ["## Incidents", ""]
    if not inc.has_truth:
        return [*out, "_No incident truth (incidents.jsonl absent)._", ""]
    if not inc.has_results:
        out += ["_No result incidents (incidents.jsonl absent)._", ""]
    out += _md_metrics(
        inc,
        [
            ("n_truth_paired", "truth launch-impact pairs"),
            ("n_result_paired", "result launch-impact pairs"),
            ("correct_pairs", "correct pairs"),
            ("pairing_precision", "pairing precision"),
            ("pairing_recall", "pairing recall"),
            ("pairing_f1", "pairing F1"),
            ("n_linked", "result incidents linked to one truth incident"),
            ("n_blamed", "linked incidents blaming a party"),
            ("n_wrong_blame", "wrong blame"),
            ("wrong_blame_rate", "wrong-blame rate"),
            ("n_blamed_unlinked", "blame on unlinked incidents"),
        ],
    )
    out.append("")
    out += _md_matrix("truth firing party \\ blamed", inc.attribution_confusion, ATTR_COLS)
    out.append("")
    return out


def _violations_md(vio: ViolationScore) -> list[str]:
    out = ["## Violations", ""]
    if not vio.has_truth:
        out += ["_No violation truth (violations.jsonl absent)._", ""]
    if not vio.has_results:
        out += ["_No result violations (violations.jsonl absent)._", ""]
    rows = [
        [
            f.family,
            str(f.n_truth),
            str(f.n_result),
            str(f.matched),
            _md_num(f.precision),
            _md_num(f.recall),
            _md_num(f.f1),
            _md_num(f.recall_detectable),
            str(f.wrong_party),
        ]
        for f in (*vio.families, vio.overall)
    ]
    out += _md_table(
        ["family", "truth", "result", "matched", "precision", "recall", "F1", "recall (detectable)", "wrong party"],
        rows,
    )
    out.append("")
    return out


def _claims_md(cl: ClaimScore) -> list[str]:
    out = ["## Claims", ""]
    if not cl.has_truth:
        return [*out, "_No claim truth (claims.jsonl absent)._", ""]
    if not cl.has_results:
        out += ["_No result verdicts (claim_verdicts.jsonl absent)._", ""]
    ff = str(cl.false_flags_corroborated)
    if cl.false_flags_corroborated:
        ff = f"**{ff} — FAIL** ({', '.join(cl.false_flag_corroborated_ids)})"
    out += _md_table(
        ["metric", "value"],
        [
            ["**false flags corroborated (must be 0)**", ff],
            ["claims", str(cl.n_truth)],
            ["assessed", str(cl.n_assessed)],
            ["verdicts for unknown claims", str(cl.n_unknown_claims)],
            ["correct verdicts", str(cl.n_correct)],
            ["accuracy (all claims)", _md_num(cl.accuracy)],
            ["accuracy (assessed claims)", _md_num(cl.accuracy_assessed)],
        ],
    )
    out.append("")
    out += _md_matrix("expected \\ verdict", cl.confusion, VERDICT_COLS)
    out.append("")
    out += _md_matrix("truth \\ verdict", cl.by_truth, VERDICT_COLS)
    out.append("")
    return out
