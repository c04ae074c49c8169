"""Derived records: located events and the incidents that link them, with provenance.

Events and incidents are what the mission derives (fusion); each stamps its
:class:`Provenance`: which observations, which algorithm, which version and parameters.
"""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import Field, model_validator

from truceline.core.attribution import Attribution
from truceline.core.base import FrozenMap as _FrozenMap
from truceline.core.base import (
    FrozenModel,
    JsonParams,
    NonEmptyStr,
    NonNegativeFloat,
    Probability,
    Record,
    RecordId,
    UtcDatetime,
)
from truceline.core.enums import EventKind, VerificationStatus, ViolationKind, WeaponClass
from truceline.core.errors import FieldProblem
from truceline.core.uncertainty import CountRange, GeoUncertainty, Position, TimeWindow

__all__ = ["Area", "Event", "Incident", "Provenance", "check_unique_ids"]


def check_unique_ids(field: str, ids: tuple[str, ...]) -> None:
    """Raise :class:`FieldProblem` naming ``field[i]`` at the first repeated id."""
    seen: set[str] = set()
    for i, rid in enumerate(ids):
        if rid in seen:
            raise FieldProblem(f"{field}[{i}]", rid, "duplicate id")
        seen.add(rid)


class Provenance(FrozenModel):
    """How a derived record was made (like ObsPy's processing history).

    Attributes
    ----------
    algorithm : str
        Algorithm or rule name, e.g. ``"fusion.locate.tdoa"``.
    algorithm_version : str
        Its version, e.g. ``"0.3.1"``.
    parameters : mapping of str to JSON scalar or list
        Parameters used (with units in their names, e.g. ``"sound_speed_m_s"``).
    inputs : tuple of str
        Ids of the records used.
    created_at : datetime
        When the record was derived (UTC).
    """

    algorithm: NonEmptyStr
    algorithm_version: NonEmptyStr
    parameters: JsonParams = Field(default_factory=_FrozenMap)
    inputs: tuple[RecordId, ...] = ()
    created_at: UtcDatetime


class Event(Record):
    """A located explosion or firing derived from detections and/or observations.

    Attributes
    ----------
    kind : EventKind
        ``launch``, ``impact`` or ``undetermined``.
    origin_time : datetime
        Origin time of the source (UTC).
    time_sigma_s : float
        Standard deviation of ``origin_time``, s.
    position : Position
        Located source position.
    location_uncertainty : GeoUncertainty
        Location uncertainty; must be numeric (covariance, or isotropic sigma).
    violation_kind : ViolationKind or None
        SMM kind, if classified.
    weapon_class : WeaponClass
        Assessed weapon class; default ``unknown``.
    count : CountRange
        Number of rounds represented; default exactly 1.
    detection_ids : tuple of str
        Detections associated to the event.
    sensor_ids : tuple of str
        Sensors (stations) whose detections were used.
    residual_rms_s : float or None
        RMS of the arrival-time residuals, s (None if not located from arrival times).
    quality : float
        Overall quality in [0, 1].
    attribution : Attribution
        Side-of-line attribution of the source position (e.g. ``origin_area`` with the
        probability that it lies in a party's controlled area); default unattributed.
    provenance : Provenance
        Algorithm, version, parameters and inputs.
    """

    RECORD_TYPE: ClassVar[str] = "event"

    kind: EventKind
    origin_time: UtcDatetime
    time_sigma_s: NonNegativeFloat
    position: Position
    location_uncertainty: GeoUncertainty
    violation_kind: ViolationKind | None = None
    weapon_class: WeaponClass = WeaponClass.UNKNOWN
    count: CountRange = CountRange.one()
    detection_ids: tuple[RecordId, ...] = ()
    sensor_ids: tuple[RecordId, ...] = ()
    residual_rms_s: NonNegativeFloat | None = None
    quality: Probability
    attribution: Attribution = Attribution()
    provenance: Provenance

    @model_validator(mode="after")
    def _checks(self) -> Self:
        if not self.location_uncertainty.has_numeric:
            raise FieldProblem(
                "location_uncertainty",
                self.location_uncertainty.precision.value,
                "a located event needs a numeric covariance or sigma_m",
            )
        check_unique_ids("detection_ids", self.detection_ids)
        check_unique_ids("sensor_ids", self.sensor_ids)
        return self


class Area(FrozenModel):
    """A place with its spread: the centre and an ellipse (as a covariance) that holds what it describes.

    Attributes
    ----------
    position : Position
        Centre.
    uncertainty : GeoUncertainty
        For a fire mission's launch area: the error of the battery's position (its guns' spread
        included); for its impact area: the dispersion of the rounds about the centre plus the
        location error of each. Must be numeric.
    """

    position: Position
    uncertainty: GeoUncertainty

    @model_validator(mode="after")
    def _numeric(self) -> Self:
        if not self.uncertainty.has_numeric:
            raise FieldProblem(
                "uncertainty", self.uncertainty.precision.value, "an area needs a numeric covariance or sigma_m"
            )
        return self


class Incident(Record):
    """Events and observations linked into one incident: a launch and its impact, or a fire mission.

    A **fire mission** is a volley or ripple of rounds fired from one place at one target within
    seconds to a minute (a battery's volley, an MLRS ripple of 40 rockets 0.5 s apart): one
    incident whose ``event_ids`` are every round located (launches and impacts), ``rounds`` the number
    of rounds fired as low / best / high (rounds heard but not told apart are counted, not located),
    ``launch_area`` the battery's position and ``impact_area`` the rounds' centre and dispersion.
    ``launch_event_id`` and ``impact_event_id`` then name the best-located launch and impact rounds.

    Attributes
    ----------
    event_ids : tuple of str
        Ids of the linked :class:`Event` records.
    observation_ids : tuple of str
        Ids of linked observations (observer reports, sightings, detections...).
    launch_event_id : str or None
        The launch among ``event_ids``, if paired.
    impact_event_id : str or None
        The impact among ``event_ids``, if paired.
    rounds : CountRange
        Rounds fired; default exactly 1 (a single round, or observations only).
    launch_area : Area or None
        A fire mission's launch position and its error; None for a single round (see its launch event).
    impact_area : Area or None
        A fire mission's impact centre and the dispersion ellipse of its rounds; None for a single round.
    weapon_class : WeaponClass
        Assessed weapon class; default ``unknown``.
    window : TimeWindow
        Time span of the incident (UTC).
    status : VerificationStatus
        Default ``unverified``.
    attribution : Attribution
        Default unattributed.
    provenance : Provenance
        How the incident was formed.
    """

    RECORD_TYPE: ClassVar[str] = "incident"

    event_ids: tuple[RecordId, ...] = ()
    observation_ids: tuple[RecordId, ...] = ()
    launch_event_id: RecordId | None = None
    impact_event_id: RecordId | None = None
    rounds: CountRange = CountRange.one()
    launch_area: Area | None = None
    impact_area: Area | None = None
    weapon_class: WeaponClass = WeaponClass.UNKNOWN
    window: TimeWindow
    status: VerificationStatus = VerificationStatus.UNVERIFIED
    attribution: Attribution = Attribution()
    provenance: Provenance

    @model_validator(mode="after")
    def _checks(self) -> Self:
        if not self.event_ids and not self.observation_ids:
            raise FieldProblem("event_ids", (), "an incident needs events or observations")
        check_unique_ids("event_ids", self.event_ids)
        check_unique_ids("observation_ids", self.observation_ids)
        for name in ("launch_event_id", "impact_event_id"):
            value = getattr(self, name)
            if value is not None and value not in self.event_ids:
                raise FieldProblem(name, value, "not one of event_ids")
        if self.rounds.high < 1 and self.event_ids:
            raise FieldProblem("rounds", self.rounds.high, "an incident with events has at least one round")
        if self.launch_event_id is not None and self.launch_event_id == self.impact_event_id:
            raise FieldProblem(
                "impact_event_id", self.impact_event_id, "same event as launch_event_id"
            )
        return self
