"""The functions computing each scorecard section from a truth and a result set.

Result events are matched one-to-one to true events within the event gates
(:mod:`truceline.scoring.matching`); events and side-of-line attribution are scored on those matches,
incidents through them, violations by their own matching per rule family, and claims by id.
Used by :func:`truceline.scoring.score.score`; exact definitions in ``docs/scoring.md``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from truceline.agreement.families import FAMILY_IDS
from truceline.core import ClaimVerdict, Event, EventKind, chi2_2dof_scale
from truceline.scoring.inputs import (
    CLAIM_TRUTHS,
    EXPECTED_VERDICTS,
    PARTIES,
    TRUTH_KINDS,
    ResultSet,
    TruthIncident,
    TruthSet,
)
from truceline.scoring.matching import ANY_KIND, Matching, match_points
from truceline.scoring.sections import (
    ATTR_COLS,
    SIDE_ROWS,
    VERDICT_COLS,
    ClaimScore,
    EventScore,
    Gates,
    IncidentScore,
    SideScore,
    ViolationFamilyScore,
    ViolationScore,
)

__all__ = ["ELLIPSE_CHI2_95", "FAMILIES"]

#: The rule families scored, in the scorecard's order: the declared families
#: (:mod:`truceline.agreement.families`); a family met only in the data follows, sorted.
FAMILIES: tuple[str, ...] = FAMILY_IDS


#: Squared Mahalanobis radius of the 95% ellipse of a 2-D Gaussian: ``-2 ln(0.05)`` = 5.9915.
ELLIPSE_CHI2_95 = chi2_2dof_scale(0.95) ** 2

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)
_NAN = math.nan


# --------------------------------------------------------------------------- helpers


def _ratio(num: float, den: float) -> float:
    return num / den if den else _NAN


def _f1(precision: float, recall: float) -> float:
    if math.isnan(precision) or math.isnan(recall):
        return _NAN
    s = precision + recall
    return 2.0 * precision * recall / s if s else 0.0


def _quantile(values: NDArray[np.float64], q: float) -> float:
    return float(np.quantile(values, q)) if values.size else _NAN


def _us(times: Sequence[dt.datetime]) -> NDArray[np.int64]:
    return np.fromiter(((t - _EPOCH) // _US for t in times), dtype=np.int64, count=len(times))


def _party_of(attribution: Any) -> str:
    """Column label of an attribution: its party, or ``unattributed`` (level unattributed / no party)."""
    party = attribution.party
    return "unattributed" if party is None else str(party.value)


def _empty_matrix(rows: Sequence[str], cols: Sequence[str]) -> dict[str, dict[str, int]]:
    return {r: dict.fromkeys(cols, 0) for r in rows}


# --------------------------------------------------------------------------- scoring


_KIND_CODE = {EventKind.LAUNCH: 0, EventKind.IMPACT: 1, EventKind.UNDETERMINED: ANY_KIND}


def _match_events(truth: TruthSet, events: Sequence[Event], gates: Gates, ref_us: int) -> Matching:
    t_us = _us([e.time for e in truth.events])
    r_us = _us([e.origin_time for e in events])
    return match_points(
        (r_us - ref_us) / 1e6,
        [e.position.lon_deg for e in events],
        [e.position.lat_deg for e in events],
        (t_us - ref_us) / 1e6,
        [e.lon for e in truth.events],
        [e.lat for e in truth.events],
        time_gate_s=gates.event_time_s,
        distance_gate_m=gates.event_distance_km * 1000.0,
        result_kind=[_KIND_CODE[e.kind] for e in events],
        truth_kind=[TRUTH_KINDS.index(e.kind) for e in truth.events],
    )


def _ellipse_inside(events: Sequence[Event], m: Matching) -> NDArray[np.bool_]:
    """True where the truth lies inside the result's 95% ellipse (local east/north metres)."""
    if len(m) == 0:
        return np.zeros(0, dtype=bool)
    cov = np.array([events[i].location_uncertainty.covariance_en_m2() for i in m.result_index]).reshape(-1, 2, 2)
    east, north = m.offset_en_m()
    c_ee, c_en, c_nn = cov[:, 0, 0], cov[:, 0, 1], cov[:, 1, 1]
    det = c_ee * c_nn - c_en * c_en
    scale = np.maximum(c_ee + c_nn, 1e-300)
    regular = det > 1e-12 * scale * scale
    with np.errstate(divide="ignore", invalid="ignore"):
        d2 = np.where(regular, (c_nn * east**2 - 2.0 * c_en * east * north + c_ee * north**2) / det, np.inf)
    # A degenerate (zero-area) ellipse contains only its centre, to within a millimetre.
    d2 = np.where(~regular & (m.distance_m <= 1e-3), 0.0, d2)
    return np.asarray(d2 <= ELLIPSE_CHI2_95, dtype=bool)


def _score_events(truth: TruthSet, events: Sequence[Event] | None, m: Matching) -> tuple[EventScore, SideScore]:
    tev = truth.events
    n_truth = len(tev)
    detectable = np.array([e.detectable for e in tev], dtype=bool)
    n_det = int(detectable.sum())
    res = events or ()
    n_result = len(res)
    matched = len(m)
    matched_det = int(detectable[m.truth_index].sum()) if matched else 0
    precision = _ratio(matched, n_result)
    recall = _ratio(matched, n_truth)
    recall_det = _ratio(matched_det, n_det)
    inside = _ellipse_inside(res, m)

    purity = _NAN
    n_purity = 0
    if truth.detections is not None and matched:
        shares: list[float] = []
        for ri, ti in zip(m.result_index, m.truth_index, strict=True):
            ids = res[ri].detection_ids
            if not ids:
                continue
            true_id = tev[ti].id
            shares.append(sum(1 for d in ids if truth.detections.get(d) == true_id) / len(ids))
        n_purity = len(shares)
        purity = float(np.mean(shares)) if shares else _NAN

    event_score = EventScore(
        has_results=events is not None,
        n_truth=n_truth,
        n_truth_detectable=n_det,
        n_result=n_result,
        matched=matched,
        matched_detectable=matched_det,
        precision=precision,
        recall=recall,
        recall_detectable=recall_det,
        f1=_f1(precision, recall_det),
        f1_all=_f1(precision, recall),
        location_error_median_m=_quantile(m.distance_m, 0.5),
        location_error_p90_m=_quantile(m.distance_m, 0.9),
        time_error_median_s=_quantile(np.abs(m.dt_s), 0.5),
        time_error_p90_s=_quantile(np.abs(m.dt_s), 0.9),
        ellipse_coverage=_ratio(int(inside.sum()), matched),
        has_detections=truth.detections is not None,
        n_purity_events=n_purity,
        association_purity=purity,
    )

    confusion = _empty_matrix(SIDE_ROWS, ATTR_COLS)
    n_attr = n_wrong = n_beyond = n_beyond_ok = 0
    for ri, ti in zip(m.result_index, m.truth_index, strict=True):
        t = tev[ti]
        col = _party_of(res[ri].attribution)
        confusion[t.side or "none"][col] += 1
        if col != "unattributed":
            n_attr += 1
            n_wrong += col != t.side
        if t.signed_distance_km is not None and abs(t.signed_distance_km) > 2.0:
            n_beyond += 1
            n_beyond_ok += col == t.side
    side_score = SideScore(
        confusion=confusion,
        n_matched=matched,
        n_attributed=n_attr,
        n_wrong_party=n_wrong,
        wrong_party_rate=_ratio(n_wrong, n_attr),
        n_beyond_2km=n_beyond,
        n_correct_beyond_2km=n_beyond_ok,
        side_correct_beyond_2km=_ratio(n_beyond_ok, n_beyond),
    )
    return event_score, side_score


def _score_incidents(truth: TruthSet, result: ResultSet, m: Matching) -> IncidentScore:
    confusion = _empty_matrix(PARTIES, ATTR_COLS)
    t_incidents = truth.incidents or ()
    r_incidents = result.incidents or ()
    truth_paired: dict[tuple[str, str], TruthIncident] = {
        (i.launch_event_id, i.impact_event_id): i for i in t_incidents if i.launch_event_id and i.impact_event_id
    }
    # truth event id -> truth incident, via the incidents' launch/impact ids
    event_incident: dict[str, TruthIncident] = {}
    for t_inc in t_incidents:
        for eid in (t_inc.launch_event_id, t_inc.impact_event_id):
            if eid is not None:
                event_incident[eid] = t_inc
    events = result.events or ()
    r2t = {events[ri].id: truth.events[ti].id for ri, ti in zip(m.result_index, m.truth_index, strict=True)}

    n_result_paired = correct = n_linked = n_blamed = n_wrong = n_unlinked_blamed = 0
    claimed: set[str] = set()
    for inc in r_incidents:
        if inc.launch_event_id is not None and inc.impact_event_id is not None:
            n_result_paired += 1
            t_launch, t_impact = r2t.get(inc.launch_event_id), r2t.get(inc.impact_event_id)
            hit = truth_paired.get((t_launch, t_impact)) if t_launch and t_impact else None
            if hit is not None and hit.id not in claimed:
                claimed.add(hit.id)
                correct += 1
        linked = {  # by fire mission where the truth has them (a mission's rounds are one incident)
            (event_incident[r2t[e]].salvo_id or event_incident[r2t[e]].id): event_incident[r2t[e]]
            for e in (*inc.event_ids, inc.launch_event_id, inc.impact_event_id)
            if e is not None and e in r2t and r2t[e] in event_incident
        }
        blamed = _party_of(inc.attribution)
        if len(linked) == 1:
            linked_party = next(iter(linked.values())).party
            n_linked += 1
            confusion[linked_party][blamed] += 1
            if blamed != "unattributed":
                n_blamed += 1
                n_wrong += blamed != linked_party
        elif blamed != "unattributed":
            n_unlinked_blamed += 1

    has_truth = truth.incidents is not None
    precision = _ratio(correct, n_result_paired)
    recall = _ratio(correct, len(truth_paired)) if has_truth else _NAN
    return IncidentScore(
        has_truth=has_truth,
        has_results=result.incidents is not None,
        n_truth=len(t_incidents),
        n_truth_paired=len(truth_paired),
        n_result=len(r_incidents),
        n_result_paired=n_result_paired,
        correct_pairs=correct,
        pairing_precision=precision if has_truth else _NAN,
        pairing_recall=recall,
        pairing_f1=_f1(precision, recall) if has_truth else _NAN,
        n_linked=n_linked,
        attribution_confusion=confusion,
        n_blamed=n_blamed,
        n_wrong_blame=n_wrong,
        wrong_blame_rate=_ratio(n_wrong, n_blamed),
        n_blamed_unlinked=n_unlinked_blamed if has_truth else 0,
    )


def _family_score(
    family: str, n_truth: int, n_result: int, matched: int, n_attr: int, wrong: int, n_det: int, matched_det: int
) -> ViolationFamilyScore:
    precision = _ratio(matched, n_result)
    recall = _ratio(matched, n_truth)
    recall_det = _ratio(matched_det, n_det)
    return ViolationFamilyScore(
        family=family,
        n_truth=n_truth,
        n_result=n_result,
        matched=matched,
        precision=precision,
        recall=recall,
        f1=_f1(precision, recall),
        n_attributed=n_attr,
        wrong_party=wrong,
        n_truth_detectable=n_det,
        matched_detectable=matched_det,
        recall_detectable=recall_det,
        f1_detectable=_f1(precision, recall_det),
    )


def _score_violations(truth: TruthSet, result: ResultSet, gates: Gates, ref_us: int) -> ViolationScore:
    tv = truth.violations or ()
    # Per round: a finding that stands for a fire mission counts as its best count of rounds (the truth
    # has one violation per round), each copy matched on its own.
    rv = tuple(v for v in result.violations or () for _ in range(max(1, v.rounds.best)))
    r_family = [v.rule_id.split(".")[0] for v in rv]
    extra = sorted(({v.family for v in tv} | set(r_family)) - set(FAMILIES))
    families = [*FAMILIES, *extra]
    code = {f: i for i, f in enumerate(families)}
    m = match_points(
        (_us([v.time for v in rv]) - ref_us) / 1e6,
        [v.position.lon_deg for v in rv],
        [v.position.lat_deg for v in rv],
        (_us([v.time for v in tv]) - ref_us) / 1e6,
        [v.lon for v in tv],
        [v.lat for v in tv],
        time_gate_s=gates.violation_time_s,
        distance_gate_m=gates.violation_distance_km * 1000.0,
        result_kind=[code[f] for f in r_family],
        truth_kind=[code[v.family] for v in tv],
    )
    # truth, result, matched, attributed, wrong, truth detectable, matched detectable
    per: dict[str, list[int]] = {f: [0] * 7 for f in families}
    detectable = {e.id: e.detectable for e in truth.events}
    # A violation is detectable when every true event it rests on is (other sources always are).
    t_det = [all(detectable.get(s, True) for s in v.source_ids) for v in tv]
    for v, d in zip(tv, t_det, strict=True):
        per[v.family][0] += 1
        per[v.family][5] += d
    for f in r_family:
        per[f][1] += 1
    for ri, ti in zip(m.result_index, m.truth_index, strict=True):
        counts = per[tv[ti].family]
        counts[2] += 1
        counts[6] += t_det[ti]
        blamed = rv[ri].attribution.party
        if blamed is not None:
            counts[3] += 1
            counts[4] += blamed.value != tv[ti].party
    scores = tuple(_family_score(f, *per[f]) for f in families)
    totals = [sum(per[f][k] for f in families) for k in range(7)]
    return ViolationScore(
        has_truth=truth.violations is not None,
        has_results=result.violations is not None,
        families=scores,
        overall=_family_score("all", *totals),
    )


def _score_claims(truth: TruthSet, result: ResultSet) -> ClaimScore:
    claims = truth.claims or ()
    verdicts = {a.claim_id: a.verdict.value for a in (result.claim_verdicts or ())}
    confusion = _empty_matrix(EXPECTED_VERDICTS, VERDICT_COLS)
    by_truth = _empty_matrix(CLAIM_TRUTHS, VERDICT_COLS)
    n_assessed = correct = 0
    ff_ids: list[str] = []
    for c in claims:
        got = verdicts.get(c.claim_id, "missing")
        confusion[c.expected_verdict][got] += 1
        by_truth[c.truth][got] += 1
        if got != "missing":
            n_assessed += 1
        correct += got == c.expected_verdict
        if c.truth == "false_flag" and got == ClaimVerdict.CORROBORATED.value:
            ff_ids.append(c.claim_id)
    known = {c.claim_id for c in claims}
    has_results = result.claim_verdicts is not None
    return ClaimScore(
        has_truth=truth.claims is not None,
        has_results=has_results,
        n_truth=len(claims),
        n_result=len(verdicts),
        n_assessed=n_assessed,
        n_unknown_claims=sum(1 for cid in verdicts if cid not in known),
        n_correct=correct,
        accuracy=_ratio(correct, len(claims)) if has_results else _NAN,
        accuracy_assessed=_ratio(correct, n_assessed),
        confusion=confusion,
        by_truth=by_truth,
        false_flags_corroborated=len(ff_ids),
        false_flag_corroborated_ids=tuple(ff_ids),
    )
