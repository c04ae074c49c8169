"""Observation records: what the mission's sensors, observers and drones recorded.

Observations are raw: they are never edited, only superseded by derived events and findings
that cite them by id.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Final, Self

from pydantic import Field, model_validator

from truceline.core.base import (
    Bearing,
    CountryCode,
    FiniteFloat,
    NonEmptyStr,
    NonNegativeFloat,
    PositiveFloat,
    Probability,
    Record,
    RecordId,
    Text,
    UtcDatetime,
)
from truceline.core.base import FrozenMap as _FrozenMap
from truceline.core.enums import (
    DistanceBand,
    ObservationMode,
    Party,
    SensorHealth,
    SensorKind,
    SightingPlatform,
    TimePrecision,
    ViolationKind,
    WeaponClass,
)
from truceline.core.errors import FieldProblem
from truceline.core.uncertainty import CountRange, GeoUncertainty, Position, TimeUncertainty

__all__ = [
    "DEFAULT_DETECTION_TIME_SIGMA_S",
    "DEFAULT_OBSERVER_DIRECTION_SIGMA_DEG",
    "ClassScores",
    "Detection",
    "FreedomOfMovementRestriction",
    "ObserverReport",
    "Sensor",
    "SensorStatusReport",
    "Sighting",
    "WeatherReport",
]

DEFAULT_DETECTION_TIME_SIGMA_S: Final = 0.05
"""Default arrival-time sigma of a detection, s (the design's 50 ms timing noise)."""

DEFAULT_OBSERVER_DIRECTION_SIGMA_DEG: Final = 22.5
"""Default sigma of an observer's direction, deg (half a sector of an 8-point compass)."""

ClassScores = _FrozenMap[str, Probability]
"""Immutable mapping of class label (e.g. ``"impact"``, ``"launch"``) to score in [0, 1]."""


class Sensor(Record):
    """A monitoring sensor deployed by the mission.

    Attributes
    ----------
    id : str
        Sensor id, e.g. ``"UK-AC-017"``.
    kind : SensorKind
        Acoustic, seismic, acoustic array (measures a bearing), infrasound, radar, camera.
    position : Position
        Where it stands (WGS 84).
    elevation_m : float
        Height above the WGS 84 ellipsoid, m.
    clock_sigma_ms : float
        Standard deviation of the sensor clock, ms (GPS-disciplined: 1-10 ms). Default 10.
    has_bearing : bool
        True if the sensor measures a bearing (required for ``acoustic_array``).
    bearing_sigma_deg : float or None
        Bearing standard deviation, deg; required if and only if ``has_bearing``.
    contingent : str
        Operating contingent or operator, e.g. ``"UK"``, ``"FR"``.
    installed_at : datetime
        Installation time (UTC).
    """

    RECORD_TYPE: ClassVar[str] = "sensor"

    kind: SensorKind
    position: Position
    elevation_m: FiniteFloat
    clock_sigma_ms: NonNegativeFloat = 10.0
    has_bearing: Annotated[bool, Field(strict=True)] = False  # true or false, never 1 or "yes"
    bearing_sigma_deg: PositiveFloat | None = None
    contingent: NonEmptyStr
    installed_at: UtcDatetime

    @model_validator(mode="after")
    def _bearing_consistent(self) -> Self:
        if self.kind is SensorKind.ACOUSTIC_ARRAY and not self.has_bearing:
            raise FieldProblem(
                "has_bearing", self.has_bearing, "an acoustic_array sensor measures a bearing"
            )
        if self.has_bearing and self.bearing_sigma_deg is None:
            raise FieldProblem("bearing_sigma_deg", None, "required when has_bearing is true")
        if not self.has_bearing and self.bearing_sigma_deg is not None:
            raise FieldProblem(
                "bearing_sigma_deg", self.bearing_sigma_deg, "given but has_bearing is false"
            )
        return self


class SensorStatusReport(Record):
    """A sensor's health at a time. Outages, jamming and damage are reportable incidents.

    Attributes
    ----------
    sensor_id : str
        Id of the :class:`Sensor`.
    time : datetime
        Time the status was observed (UTC).
    health : SensorHealth
        ``ok``, ``degraded``, ``outage``, ``jammed``, ``destroyed``.
    reason : str
        What happened; required unless ``health`` is ``ok`` (e.g. "GNSS jamming, 1.5 GHz").
    """

    RECORD_TYPE: ClassVar[str] = "sensor_status_report"

    sensor_id: RecordId
    time: UtcDatetime
    health: SensorHealth
    reason: Text = ""

    @model_validator(mode="after")
    def _reason_when_not_ok(self) -> Self:
        if self.health is not SensorHealth.OK and not self.reason.strip():
            raise FieldProblem("reason", self.reason, f"required when health is {self.health}")
        return self


class Detection(Record):
    """One arrival of a signal at one sensor (the raw input of fusion).

    Attributes
    ----------
    sensor_id : str
        Id of the :class:`Sensor`.
    arrival_time : datetime
        Arrival (onset) time, UTC, microsecond resolution.
    time_sigma_s : float
        Standard deviation of the arrival time, s (default 0.05).
    bearing_deg : float or None
        Back-azimuth to the source, deg clockwise from true north, in [0, 360).
    bearing_sigma_deg : float or None
        Bearing standard deviation, deg; required if and only if ``bearing_deg`` is given.
    amplitude_pa : float or None
        Peak acoustic overpressure, Pa (acoustic/infrasound sensors), >= 0.
    class_scores : mapping of str to float
        Classifier score per label in [0, 1], e.g. ``{"impact": 0.8, "launch": 0.1}``.
    """

    RECORD_TYPE: ClassVar[str] = "detection"

    sensor_id: RecordId
    arrival_time: UtcDatetime
    time_sigma_s: NonNegativeFloat = DEFAULT_DETECTION_TIME_SIGMA_S
    bearing_deg: Bearing | None = None
    bearing_sigma_deg: PositiveFloat | None = None
    amplitude_pa: NonNegativeFloat | None = None
    class_scores: ClassScores = Field(default_factory=_FrozenMap)

    @model_validator(mode="after")
    def _bearing_with_sigma(self) -> Self:
        if self.bearing_deg is not None and self.bearing_sigma_deg is None:
            raise FieldProblem("bearing_sigma_deg", None, "required when bearing_deg is given")
        if self.bearing_deg is None and self.bearing_sigma_deg is not None:
            raise FieldProblem(
                "bearing_sigma_deg", self.bearing_sigma_deg, "given without bearing_deg"
            )
        return self


class ObserverReport(Record):
    """A patrol's report of a ceasefire violation in the SMM taxonomy.

    Attributes
    ----------
    patrol_id : str
        Id of the patrol.
    observer_nationality : str
        ISO 3166-1 alpha-2/alpha-3 code of the reporting observer (independence of sources).
    observer_position : Position
        Where the observers were.
    time : datetime
        Time of the observed violation (UTC).
    time_uncertainty : TimeUncertainty
        Default: reported to the minute, no numeric sigma.
    mode : ObservationMode
        Heard, saw, heard and saw.
    kind : ViolationKind
        What was observed.
    direction_deg : float or None
        Direction from the observers to the event, deg clockwise from north, in [0, 360).
    direction_sigma_deg : float or None
        Its sigma, deg; defaults to 22.5 when a direction is given, forbidden otherwise.
    distance_band : DistanceBand
        Assessed distance, default ``unknown``.
    count : CountRange
        Number of violations (e.g. explosions) in the report. Default exactly 1.
    assessed_weapon : WeaponClass
        Default ``unknown``.
    notes : str
        Free text.
    """

    RECORD_TYPE: ClassVar[str] = "observer_report"

    patrol_id: RecordId
    observer_nationality: CountryCode
    observer_position: Position
    time: UtcDatetime
    time_uncertainty: TimeUncertainty = TimeUncertainty(precision=TimePrecision.MINUTE)
    mode: ObservationMode
    kind: ViolationKind
    direction_deg: Bearing | None = None
    direction_sigma_deg: PositiveFloat | None = None
    distance_band: DistanceBand = DistanceBand.UNKNOWN
    count: CountRange = CountRange.one()
    assessed_weapon: WeaponClass = WeaponClass.UNKNOWN
    notes: Text = ""

    @model_validator(mode="before")
    @classmethod
    def _default_direction_sigma(cls, data: Any) -> Any:
        if (
            isinstance(data, dict)
            and data.get("direction_deg") is not None
            and "direction_sigma_deg" not in data
        ):
            return {**data, "direction_sigma_deg": DEFAULT_OBSERVER_DIRECTION_SIGMA_DEG}
        return data

    @model_validator(mode="after")
    def _sigma_needs_direction(self) -> Self:
        if self.direction_deg is None and self.direction_sigma_deg is not None:
            raise FieldProblem(
                "direction_sigma_deg", self.direction_sigma_deg, "given without direction_deg"
            )
        if self.direction_deg is not None and self.direction_sigma_deg is None:
            raise FieldProblem("direction_sigma_deg", None, "required when direction_deg is given")
        return self


class Sighting(Record):
    """A sighting of a weapon or firing position (UAV, satellite or ground imagery).

    Attributes
    ----------
    platform : SightingPlatform
        ``uav``, ``satellite``, ``ground``.
    position : Position
        Where the weapon or position was seen.
    geo_uncertainty : GeoUncertainty
        Location uncertainty; default ``exact`` precision with no numeric sigma.
    time : datetime
        Time of the imagery (UTC).
    weapon_class : WeaponClass
        What was seen.
    count : CountRange
        How many; default exactly 1.
    party_assessed : Party or None
        Party the weapon is assessed to belong to, if any (an assessment, not attribution).
    imagery_ref : str or None
        Reference of the imagery in the mission archive.
    notes : str
        Free text.
    """

    RECORD_TYPE: ClassVar[str] = "sighting"

    platform: SightingPlatform
    position: Position
    geo_uncertainty: GeoUncertainty = GeoUncertainty()
    time: UtcDatetime
    weapon_class: WeaponClass
    count: CountRange = CountRange.one()
    party_assessed: Party | None = None
    imagery_ref: NonEmptyStr | None = None
    notes: Text = ""


class FreedomOfMovementRestriction(Record):
    """A restriction of the monitors' freedom of movement (denied access, checkpoint, ...).

    Attributes
    ----------
    patrol_id : str
        Id of the restricted patrol.
    time : datetime
        When (UTC).
    position : Position
        Where.
    restricting_party : Party or None
        Party whose personnel restricted the patrol, if established.
    description : str
        What happened.
    """

    RECORD_TYPE: ClassVar[str] = "freedom_of_movement_restriction"

    patrol_id: RecordId
    time: UtcDatetime
    position: Position
    restricting_party: Party | None = None
    description: NonEmptyStr


class WeatherReport(Record):
    """Weather over a region for a period: an input of location (sound speed and wind).

    Attributes
    ----------
    time : datetime
        Start of the period the report is valid for (UTC).
    valid_for_s : float
        Length of that period, s (default one hour).
    position : Position
        Centre of the region.
    region_radius_km : float
        Radius of the region the values represent, km.
    temperature_c : float
        Near-surface air temperature, °C, in [-60, 60].
    wind_u_ms, wind_v_ms : float
        Wind vector, m/s: east and north components of the air's motion (where it blows *to*).
    """

    RECORD_TYPE: ClassVar[str] = "weather_report"

    time: UtcDatetime
    valid_for_s: PositiveFloat = 3600.0
    position: Position
    region_radius_km: PositiveFloat = 50.0
    temperature_c: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-60.0, le=60.0)]
    wind_u_ms: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-60.0, le=60.0)]
    wind_v_ms: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-60.0, le=60.0)]
