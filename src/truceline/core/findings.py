"""Findings: violations of the agreement, judged by a rule, graded and verified."""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import Field, model_validator

from truceline.core.attribution import Attribution
from truceline.core.base import (
    FrozenMap,
    JsonParams,
    NonEmptyStr,
    Probability,
    Record,
    RecordId,
    UtcDatetime,
)
from truceline.core.enums import VerificationStatus, ViolationKind, WeaponClass
from truceline.core.errors import FieldProblem
from truceline.core.events import Provenance, check_unique_ids
from truceline.core.uncertainty import CountRange, GeoUncertainty, Position, TimeUncertainty

__all__ = ["Violation"]


class Violation(Record):
    """A violation of the agreement found by a rule (a finding).

    Attributes
    ----------
    rule_id : str
        Id of the rule that fired, e.g. ``"withdrawal.heavy_weapon_in_zone"``.
    rule_version : str
        Version of the rule.
    rule_parameters : mapping of str to JSON scalar or list
        Parameters the rule used (agreement version, distances in km...).
    time : datetime
        Time of the violation (UTC).
    time_uncertainty : TimeUncertainty
        Default ``exact`` with no numeric sigma.
    position : Position
        Place of the violation.
    geo_uncertainty : GeoUncertainty
        Its uncertainty; default ``exact`` with no numeric sigma.
    violation_kind : ViolationKind or None
        SMM kind, where it applies.
    weapon_class : WeaponClass or None
        Weapon class, where it applies (withdrawal rules are keyed on it).
    incident_id : str or None
        The incident judged, if any.
    rounds : CountRange
        Rounds the finding stands for (low / best / high): a fire mission across the line is one
        finding with its count; default exactly 1.
    event_ids : tuple of str
        Events cited.
    observation_ids : tuple of str
        Observations cited (reports, sightings, restrictions, sensor status reports...).
    attribution : Attribution
        Graded attribution; default unattributed.
    confidence : float
        Confidence in [0, 1] that the violation occurred as stated.
    status : VerificationStatus
        Default ``unverified``.
    provenance : Provenance
        Rule, version, parameters and inputs.
    """

    RECORD_TYPE: ClassVar[str] = "violation"

    rule_id: RecordId
    rule_version: NonEmptyStr
    rule_parameters: JsonParams = Field(default_factory=FrozenMap)
    time: UtcDatetime
    time_uncertainty: TimeUncertainty = TimeUncertainty()
    position: Position
    geo_uncertainty: GeoUncertainty = GeoUncertainty()
    violation_kind: ViolationKind | None = None
    weapon_class: WeaponClass | None = None
    incident_id: RecordId | None = None
    rounds: CountRange = CountRange.one()
    event_ids: tuple[RecordId, ...] = ()
    observation_ids: tuple[RecordId, ...] = ()
    attribution: Attribution = Attribution()
    confidence: Probability
    status: VerificationStatus = VerificationStatus.UNVERIFIED
    provenance: Provenance

    @model_validator(mode="after")
    def _cites_evidence(self) -> Self:
        if self.incident_id is None and not self.event_ids and not self.observation_ids:
            raise FieldProblem(
                "incident_id", None, "a finding must cite an incident, events or observations"
            )
        check_unique_ids("event_ids", self.event_ids)
        check_unique_ids("observation_ids", self.observation_ids)
        return self
