"""The truceline codebook: immutable typed records and enums, units in names, no I/O.

Four kinds of record are kept apart, always:

1. observations (:class:`Sensor`, :class:`SensorStatusReport`, :class:`Detection`,
   :class:`ObserverReport`, :class:`Sighting`, :class:`FreedomOfMovementRestriction`);
2. claims (:class:`Claim`), never merged into facts;
3. derived events and incidents (:class:`Event`, :class:`Incident`), with :class:`Provenance`;
4. findings (:class:`Violation`), with graded :class:`Attribution`.

Build records from untrusted input with :func:`parse_record` / :func:`from_json_dict`
(errors are :class:`RecordError` naming the field; :class:`InputLimits` the bounds an ingest
adds); write them with :func:`to_json_dict`.
:class:`NoiseModel` is the noise and detection model of an arrival that fusion and coverage share.
See ``docs/codebook.md`` for the full reference.
"""

from truceline.core.attribution import Attribution
from truceline.core.base import FrozenMap, FrozenModel, Record, parse_utc
from truceline.core.claims import Claim, ClaimAssessment
from truceline.core.codec import (
    RECORD_TYPES,
    evolve,
    from_json_dict,
    parse_record,
    record_type,
    record_type_name,
    register_record_type,
    to_json_dict,
    validation_problems,
)
from truceline.core.enums import (
    AttributionLevel,
    ClaimantKind,
    ClaimVerdict,
    DistanceBand,
    EventKind,
    GeoPrecision,
    ObservationMode,
    Party,
    SensorHealth,
    SensorKind,
    SightingPlatform,
    TimePrecision,
    VerificationStatus,
    ViolationKind,
    WeaponClass,
)
from truceline.core.errors import MISSING, FieldProblem, RecordError
from truceline.core.events import Area, Event, Incident, Provenance
from truceline.core.findings import Violation
from truceline.core.ids import ID_PATTERN, canonical_json, is_valid_id, make_id
from truceline.core.limits import MISSION_START, InputLimits, text_reason
from truceline.core.noise import DEFAULT_NOISE, NoiseModel
from truceline.core.observations import (
    Detection,
    FreedomOfMovementRestriction,
    ObserverReport,
    Sensor,
    SensorStatusReport,
    Sighting,
    WeatherReport,
)
from truceline.core.uncertainty import (
    CountRange,
    GeoUncertainty,
    Position,
    TimeUncertainty,
    TimeWindow,
    chi2_2dof_scale,
)

__all__ = [
    "DEFAULT_NOISE",
    "ID_PATTERN",
    "MISSING",
    "MISSION_START",
    "RECORD_TYPES",
    "Area",
    "Attribution",
    "AttributionLevel",
    "Claim",
    "ClaimAssessment",
    "ClaimVerdict",
    "ClaimantKind",
    "CountRange",
    "Detection",
    "DistanceBand",
    "Event",
    "EventKind",
    "FieldProblem",
    "FreedomOfMovementRestriction",
    "FrozenMap",
    "FrozenModel",
    "GeoPrecision",
    "GeoUncertainty",
    "Incident",
    "InputLimits",
    "NoiseModel",
    "ObservationMode",
    "ObserverReport",
    "Party",
    "Position",
    "Provenance",
    "Record",
    "RecordError",
    "Sensor",
    "SensorHealth",
    "SensorKind",
    "SensorStatusReport",
    "Sighting",
    "SightingPlatform",
    "TimePrecision",
    "TimeUncertainty",
    "TimeWindow",
    "VerificationStatus",
    "Violation",
    "ViolationKind",
    "WeaponClass",
    "WeatherReport",
    "canonical_json",
    "chi2_2dof_scale",
    "evolve",
    "from_json_dict",
    "is_valid_id",
    "make_id",
    "parse_record",
    "parse_utc",
    "record_type",
    "record_type_name",
    "register_record_type",
    "text_reason",
    "to_json_dict",
    "validation_problems",
]
