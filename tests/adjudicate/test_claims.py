"""Claim verdicts: corroborated only against the party the evidence names; silence judged by coverage."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.adjudicate.test_rules import T0, east, origin, pair
from truceline.adjudicate.claims import assess_claims
from truceline.core import Claim, CountRange, Position, TimeWindow
from truceline.core.enums import ClaimantKind, ClaimVerdict, EventKind, Party, ViolationKind


def claim(
    cid: str, accused: Party | None, where: tuple[float, float] | None, minutes: float = 30, rounds: int = 6
) -> Claim:
    return Claim(
        id=cid,
        claimant_kind=ClaimantKind.PARTY,
        claimant="UA-MOD" if accused is Party.RUSSIA else "RU-MOD",
        accused_party=accused,
        published_at=T0 + dt.timedelta(hours=2),
        period=TimeWindow(start=T0 - dt.timedelta(minutes=minutes), end=T0 + dt.timedelta(minutes=minutes)),
        place=None if where is None else Position(lon_deg=where[0], lat_deg=where[1]),
        text="shelling reported",
        count=CountRange.exact(rounds),
    )


DONE = T0 + dt.timedelta(hours=3)


def verdicts(claims: list[Claim], cases: list, cov: float = 0.0, until: dt.datetime | None = DONE) -> dict[str, str]:
    events = [e for evs, _ in cases for e in evs]
    incidents = [inc for _, inc in cases]
    out = assess_claims(claims, events, incidents, lambda c: cov, until, created_at=T0)
    return {a.claim_id: a.verdict.value for a in out}


def test_true_claim_is_corroborated_by_an_impact_launched_from_the_accused_area() -> None:
    case = pair("i1", east(15.0), east(-6.0), party="RU")  # RU fire lands on UA's side
    assert verdicts([claim("c", Party.RUSSIA, east(-7.0))], [case]) == {"c": "corroborated"}


def test_false_flag_is_never_corroborated_against_the_accused() -> None:
    own = pair("i1", east(-15.0), east(-6.0), party="UA")  # UA's own fire on its own side, blamed on RU
    assert verdicts([claim("c", Party.RUSSIA, east(-7.0))], [own]) == {"c": "contradicted"}
    unknown = pair("i2", None, east(-6.0))  # an impact whose origin is not established
    assert verdicts([claim("c", Party.RUSSIA, east(-7.0))], [unknown]) == {"c": "inconclusive"}
    # Own fire and an unexplained impact together: not enough to contradict, never enough to corroborate.
    assert verdicts([claim("c", Party.RUSSIA, east(-7.0))], [own, unknown]) == {"c": "inconclusive"}


@pytest.mark.parametrize(("cov", "expected"), [(0.97, "contradicted"), (0.05, "unverifiable"), (0.5, "inconclusive")])
def test_silence_is_judged_by_coverage(cov: float, expected: str) -> None:
    far = pair("i1", east(15.0), east(-6.0, lat=47.5), party="RU")  # 78 km south: not near the claim
    assert verdicts([claim("c", Party.RUSSIA, east(-7.0))], [far], cov=cov) == {"c": expected}


def test_pending_and_unplaced_claims() -> None:
    c = claim("c", Party.RUSSIA, east(-7.0))
    assert verdicts([c], [], until=T0) == {"c": ClaimVerdict.PENDING.value}
    assert verdicts([claim("n", Party.RUSSIA, None)], []) == {"n": "inconclusive"}


def test_silence_never_contradicts_a_claim_of_one_round() -> None:
    assert verdicts([claim("c", Party.RUSSIA, east(-7.0), rounds=1)], [], cov=0.999) == {"c": "inconclusive"}
    assert verdicts([claim("c", Party.RUSSIA, east(-7.0), rounds=2)], [], cov=0.999) == {"c": "inconclusive"}
    assert verdicts([claim("c", Party.RUSSIA, east(-7.0), rounds=5)], [], cov=0.999) == {"c": "contradicted"}


def test_a_claimed_firing_is_never_corroborated_by_where_an_event_was_located() -> None:
    """UA's round lands 7 km inside RU's area; fusion cannot tell launch from impact. The event lies in
    RU's area (its side attribution says so) but nobody is blamed for firing it: a UA claim that "RU
    fired from there" must not be corroborated."""
    evs, inc = pair("i1", None, east(7.0))
    ev = evs[0].model_copy(update={"kind": EventKind.UNDETERMINED, "attribution": origin("RU", "i1-I")})
    c = claim("c", Party.RUSSIA, east(7.0)).model_copy(update={"kind": ViolationKind.EXPLOSION_OUTGOING})
    out = assess_claims([c], [ev], [inc], lambda _: 0.0, DONE, created_at=T0)
    assert out[0].verdict.value == "inconclusive"
    # A launch event that is not its incident's (attributed) launch blames nobody either.
    lev = ev.model_copy(update={"kind": EventKind.LAUNCH})
    out = assess_claims([c], [lev], [inc], lambda _: 0.0, DONE, created_at=T0)
    assert out[0].verdict.value == "inconclusive"
