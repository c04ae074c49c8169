"""Claims: what a party, the media or an NGO asserts.

A claim is NEVER merged with the mission's findings. Each claim keeps its own record and gets
a verdict (see :class:`truceline.core.enums.ClaimVerdict`) linked to the evidence for or
against it; claims are checked against coverage, not counted as facts.
"""

from __future__ import annotations

from typing import ClassVar

from truceline.core.base import HttpUrl, NonEmptyStr, Probability, Record, RecordId, UtcDatetime
from truceline.core.enums import ClaimantKind, ClaimVerdict, GeoPrecision, Party, ViolationKind, WeaponClass
from truceline.core.events import Provenance
from truceline.core.uncertainty import CountRange, GeoUncertainty, Position, TimeWindow

__all__ = ["Claim", "ClaimAssessment"]


class Claim(Record):
    """An assertion by a claimant about violations in a period.

    Attributes
    ----------
    claimant_kind : ClaimantKind
        ``party``, ``media``, ``ngo``, ``other``.
    claimant : str
        Who, as a free id string, e.g. ``"UA-MOD"``, ``"RU-MOD"``, ``"reuters"``.
    accused_party : Party or None
        Party the claim blames, if any.
    published_at : datetime
        When the claim was published (UTC).
    period : TimeWindow
        The period the claim is about.
    place : Position or None
        Claimed place, if given as (or geocoded to) a point.
    place_uncertainty : GeoUncertainty
        Uncertainty of ``place``; default ``settlement`` precision.
    area : str or None
        Claimed area as text (e.g. "Zaporizhzhia direction"), if not a point.
    kind : ViolationKind or None
        Claimed kind of violation, if stated.
    weapon_class : WeaponClass or None
        Claimed weapon class, if stated.
    count : CountRange
        Claimed number of violations, in the claimant's own units; default exactly 1.
    text : str
        The claim's text (verbatim or summarised).
    source_url : str or None
        http(s) URL of the publication.
    """

    RECORD_TYPE: ClassVar[str] = "claim"

    claimant_kind: ClaimantKind
    claimant: NonEmptyStr
    accused_party: Party | None = None
    published_at: UtcDatetime
    period: TimeWindow
    place: Position | None = None
    place_uncertainty: GeoUncertainty = GeoUncertainty(precision=GeoPrecision.SETTLEMENT)
    area: NonEmptyStr | None = None
    kind: ViolationKind | None = None
    weapon_class: WeaponClass | None = None
    count: CountRange = CountRange.one()
    text: NonEmptyStr
    source_url: HttpUrl | None = None


class ClaimAssessment(Record):
    """The mission's verdict on one claim, with the evidence it rests on.

    Kept apart from the claim itself (claims are never merged into findings).

    Attributes
    ----------
    claim_id : str
        The claim judged.
    verdict : ClaimVerdict
        ``corroborated`` (matching evidence), ``contradicted`` (good coverage, no matching
        evidence), ``unverifiable`` (no coverage), ``inconclusive`` or ``pending``.
    evidence_ids : tuple of str
        Events, incidents, violations or observations for or against the claim.
    coverage_probability : float or None
        Probability that the mission's sensors would have detected what is claimed.
    rationale : str
        One or two sentences a liaison officer can check.
    provenance : Provenance
        How the verdict was reached.
    """

    RECORD_TYPE: ClassVar[str] = "claim_assessment"

    claim_id: RecordId
    verdict: ClaimVerdict
    evidence_ids: tuple[RecordId, ...] = ()
    coverage_probability: Probability | None = None
    rationale: NonEmptyStr
    provenance: Provenance
