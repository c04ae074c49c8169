"""Claims checked against the mission's own evidence and its coverage, never merged into findings.

A claim says: ``accused_party`` fired at ``place`` during ``period`` (``kind``, ``weapon_class``,
``count`` in the claimant's units). The verdict, with the evidence it rests on:

``corroborated``
    Located impacts near the place in the period, from incidents whose launch the mission
    attributes to the accused party (origin area or better). Nothing else corroborates *against
    a party*: an impact whose origin is not established corroborates only a claim that blames
    nobody. So a false-flag claim (the claimant's own fire) can never be corroborated against
    the party it accuses.
``contradicted``
    Either the fire near the place came from elsewhere (every impact found there was launched
    from another party's area, the typical false flag), or nothing was found although coverage
    was good (P(detect) >= ``covered``) throughout the period.
``unverifiable``
    Nothing found, and the network could not have heard it (P(detect) <= ``blind``).
``inconclusive``
    Impacts found whose origin is not established, coverage in between, or a claim without a
    place to check.
``pending``
    The claim's period is not yet processed.

Coverage comes from a callable ``coverage(claim) -> P(detect)`` (the service wires it to the
coverage map of the sensor network and its health over the claim's period).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial

import numpy as np
from pyproj import Geod

from truceline.adjudicate.base import LAUNCH_KINDS
from truceline.core import Claim, ClaimAssessment, Event, Incident, Provenance
from truceline.core.enums import AttributionLevel, ClaimVerdict, EventKind, Party

GEOD = Geod(ellps="WGS84")
ALGORITHM = "adjudicate.claims"
VERSION = "1.0.0"


@dataclass(frozen=True)
class ClaimParams:
    """Thresholds of the verdicts.

    ``radius_sigmas`` x the place's sigma (at least ``min_radius_km``) is the search radius;
    ``slack_s`` widens the claimed period; ``covered`` / ``blind`` are the detection
    probabilities above / below which silence can contradict / cannot judge a claim.
    Silence contradicts only when, in addition, missing *every* claimed round is unlikely:
    ``(1 - P(detect) x locate_efficiency) ** count.low <= miss_probability``, where
    ``locate_efficiency`` is a deliberately low share of detectable rounds that fusion locates
    (the catalogue measures 0.6-0.9; salvos are where it misses). A claim of one round is
    therefore never contradicted by silence alone.
    """

    radius_sigmas: float = 2.0
    min_radius_km: float = 3.0
    slack_s: float = 120.0
    covered: float = 0.9
    blind: float = 0.2
    locate_efficiency: float = 0.5
    miss_probability: float = 0.05


def _radius_km(c: Claim, p: ClaimParams) -> float:
    sigma = c.place_uncertainty.sigma_m
    return max(p.min_radius_km, p.radius_sigmas * (sigma or 2500.0) / 1000.0)


def assess_claims(
    claims: Sequence[Claim],
    events: Sequence[Event],
    incidents: Sequence[Incident],
    coverage: Callable[[Claim], float],
    processed_until: dt.datetime | None,
    params: ClaimParams = ClaimParams(),
    created_at: dt.datetime | None = None,
) -> list[ClaimAssessment]:
    """One verdict per claim (see the module docstring)."""
    made = created_at or dt.datetime.now(dt.UTC)
    inc_of: dict[str, Incident] = {}
    for inc in incidents:
        for eid in (*inc.event_ids, inc.launch_event_id, inc.impact_event_id):
            if eid:
                inc_of[eid] = inc
    ev_t = np.array([e.origin_time.timestamp() for e in events])
    order = np.argsort(ev_t, kind="stable")
    ev_sorted = [events[int(i)] for i in order]
    t_sorted = ev_t[order] if ev_t.size else ev_t
    out = []
    for c in claims:
        out.append(_assess(c, ev_sorted, t_sorted, inc_of, coverage, processed_until, params, made))
    return out


def _assess(
    c: Claim,
    events: list[Event],
    t: np.ndarray,
    inc_of: dict[str, Incident],
    coverage: Callable[[Claim], float],
    processed_until: dt.datetime | None,
    p: ClaimParams,
    made: dt.datetime,
) -> ClaimAssessment:
    prov = Provenance(
        algorithm=ALGORITHM, algorithm_version=VERSION, parameters=asdict(p), inputs=(c.id,), created_at=made
    )
    say = partial(_verdict, c, prov)
    if processed_until is None or c.period.end + dt.timedelta(seconds=p.slack_s) > processed_until:
        return say(ClaimVerdict.PENDING, "The claimed period has not been processed yet.")
    if c.place is None:
        return say(ClaimVerdict.INCONCLUSIVE, "The claim gives no place the mission can check.")
    r_km = _radius_km(c, p)
    want_launch = c.kind in LAUNCH_KINDS
    where = f"within {r_km:.1f} km of the claimed place in the claimed period"
    cand = _nearby(c, events, t, p, r_km, want_launch)
    found = _from_evidence(c, cand, inc_of, want_launch, where, say)
    if found is not None:
        return found
    return _from_silence(c, coverage, p, where, say)


def _verdict(
    c: Claim,
    prov: Provenance,
    v: ClaimVerdict,
    why: str,
    evidence: Sequence[str] = (),
    cov: float | None = None,
) -> ClaimAssessment:
    """The assessment of claim ``c`` (evidence ids deduplicated, coverage clipped to [0, 1])."""
    return ClaimAssessment(
        id=f"ca-{c.id}",
        claim_id=c.id,
        verdict=v,
        evidence_ids=tuple(dict.fromkeys(evidence)),
        coverage_probability=None if cov is None else round(float(min(max(cov, 0.0), 1.0)), 4),
        rationale=why,
        provenance=prov,
    )


def _nearby(
    c: Claim, events: list[Event], t: np.ndarray, p: ClaimParams, r_km: float, want_launch: bool
) -> list[Event]:
    """Events of the claimed kind (launch or impact) within the radius of the place, in the period."""
    assert c.place is not None
    t0, t1 = c.period.start.timestamp() - p.slack_s, c.period.end.timestamp() + p.slack_s
    lo, hi = np.searchsorted(t, t0), np.searchsorted(t, t1, side="right")
    cand = events[lo:hi]
    cand = [e for e in cand if (e.kind is not EventKind.LAUNCH) != want_launch or e.kind is EventKind.UNDETERMINED]
    if cand:
        _, _, d = GEOD.inv(
            np.full(len(cand), c.place.lon_deg),
            np.full(len(cand), c.place.lat_deg),
            [e.position.lon_deg for e in cand],
            [e.position.lat_deg for e in cand],
        )
        cand = [e for e, dm in zip(cand, np.atleast_1d(d), strict=True) if dm <= r_km * 1000.0]
    return cand


_Found = list[tuple[Event, Incident | None]]


def _by_shooter(
    cand: list[Event], inc_of: dict[str, Incident], accused: Party | None, want_launch: bool
) -> tuple[_Found, _Found, _Found]:
    """The events found, split by who fired them: the accused, another party, not established."""
    by_accused: _Found = []
    by_other: _Found = []
    unknown: _Found = []
    for e in cand:
        inc = inc_of.get(e.id)
        # Who fired comes only from an incident's attribution (fusion blames a party only for a sure
        # launch far enough from the line), and for a claimed firing only when this event IS that
        # incident's launch. An event's own side attribution says where it was located, not who
        # fired: an impact (or an undetermined event) taken for a launch would blame the victim.
        att = None
        if inc is not None and e.kind is not EventKind.UNDETERMINED:
            is_launch = e.kind is EventKind.LAUNCH and inc.launch_event_id in (None, e.id)
            if not want_launch or is_launch:
                att = inc.attribution
        party = att.party if att is not None and att.level is not AttributionLevel.UNATTRIBUTED else None
        if party is None:
            unknown.append((e, inc))
        elif accused is None or party == accused:
            by_accused.append((e, inc))
        else:
            by_other.append((e, inc))
    return by_accused, by_other, unknown


def _from_evidence(
    c: Claim,
    cand: list[Event],
    inc_of: dict[str, Incident],
    want_launch: bool,
    where: str,
    say: Callable[..., ClaimAssessment],
) -> ClaimAssessment | None:
    """The verdict from the events found near the place (None when none was found)."""
    accused = c.accused_party
    by_accused, by_other, unknown = _by_shooter(cand, inc_of, accused, want_launch)
    if by_accused:
        ids = [x for e, inc in by_accused for x in ((inc.id,) if inc else ()) + (e.id,)]
        who = f"launched from {accused.value}'s area" if accused else "located"
        n = len(by_accused)
        return say(
            ClaimVerdict.CORROBORATED,
            f"{n} located {'firing' if want_launch else 'impact'}(s) {where}, {who}"
            f" (the claim counts {c.count.best}).",
            ids,
        )
    if by_other and not unknown:
        ids = [x for e, inc in by_other for x in ((inc.id,) if inc else ()) + (e.id,)]
        others = sorted({inc.attribution.party.value for e, inc in by_other if inc and inc.attribution.party})
        return say(
            ClaimVerdict.CONTRADICTED,
            f"{len(by_other)} located event(s) {where}, but fired from {', '.join(others)}'s area, "
            f"not by {accused.value if accused else 'the accused'}; none attributable to the accused.",
            ids,
        )
    if unknown:
        ids = [x for e, inc in unknown for x in ((inc.id,) if inc else ()) + (e.id,)]
        return say(
            ClaimVerdict.INCONCLUSIVE,
            f"{len(unknown)} located event(s) {where}, but where they were fired from is not established.",
            ids,
        )
    return None


def _from_silence(
    c: Claim, coverage: Callable[[Claim], float], p: ClaimParams, where: str, say: Callable[..., ClaimAssessment]
) -> ClaimAssessment:
    """The verdict when nothing was found near the place: it depends on the coverage there."""
    cov = float(coverage(c))
    n = max(int(c.count.low), 1)
    p_miss = (1.0 - cov * p.locate_efficiency) ** n
    if cov >= p.covered and p_miss <= p.miss_probability:
        return say(
            ClaimVerdict.CONTRADICTED,
            f"No located event {where}, although the network would have detected it (P = {cov:.2f} per round; "
            f"P(missing all {n} claimed) = {p_miss:.3f}).",
            cov=cov,
        )
    if cov <= p.blind:
        return say(
            ClaimVerdict.UNVERIFIABLE,
            f"No located event {where}; the network could not have detected it there (P = {cov:.2f}).",
            cov=cov,
        )
    why = "coverage there is partial" if cov < p.covered else f"{n} round(s) could have been missed"
    return say(ClaimVerdict.INCONCLUSIVE, f"No located event {where}; {why} (P = {cov:.2f}).", cov=cov)
