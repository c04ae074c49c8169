"""The rule framework: what a rule sees (:class:`Context`), what it is (:class:`Rule`), the registry.

A rule family is declared once in :mod:`truceline.agreement.families` (id, labels, colour, the
simulator's truth sources) and judged by one module of :mod:`truceline.adjudicate` that registers a
:class:`Rule` subclass with :func:`register` (which refuses an undeclared id).
:func:`rule_families` joins the two, in the declared order: the registry the bulletin, the API's
``/rules`` and the benchmarks read. Every rule has an id (its family), a version and frozen
parameters; every finding it makes stamps all three, and the line version applied, into its
``rule_parameters`` and provenance. Rules are pure: records in, :class:`~truceline.core.Violation`
records out.

Geometry is judged at each point's own time, under the line version in force then
(:func:`truceline.agreement.points.zones_at_times`), exactly as the simulator labels its truth.
"""

from __future__ import annotations

import datetime as dt
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

from truceline.agreement import Agreement, band_km_at
from truceline.agreement.families import FAMILIES, FAMILY_IDS, Family
from truceline.agreement.points import PointZones, zones_at_times
from truceline.core import (
    Area,
    Attribution,
    CountRange,
    Event,
    FreedomOfMovementRestriction,
    GeoUncertainty,
    Incident,
    ObserverReport,
    Position,
    Provenance,
    Sensor,
    SensorStatusReport,
    Sighting,
    Violation,
)
from truceline.core.enums import EventKind, ViolationKind, WeaponClass

FloatArray = NDArray[np.float64]

#: Observed kinds that are a firing (heard or seen at the launch) and those that are an arrival.
LAUNCH_KINDS = frozenset({ViolationKind.EXPLOSION_OUTGOING, ViolationKind.MUZZLE_FLASH, ViolationKind.SHOT})
IMPACT_KINDS = frozenset({ViolationKind.EXPLOSION_IMPACT, ViolationKind.EXPLOSION_AIRBURST})

#: Location sigma (m) assumed for an event without a numeric uncertainty.
DEFAULT_SIGMA_M = 500.0


@dataclass
class Context:
    """Everything the rules judge in one adjudication scope (e.g. one hour of the day).

    ``incidents`` are the fusion's incidents (a launch-impact pair, or one event alone); their
    events are looked up in ``events``. Observations come as records.
    """

    agreement: Agreement
    events: Sequence[Event] = ()
    incidents: Sequence[Incident] = ()
    sightings: Sequence[Sighting] = ()
    restrictions: Sequence[FreedomOfMovementRestriction] = ()
    status_reports: Sequence[SensorStatusReport] = ()
    observer_reports: Sequence[ObserverReport] = ()
    sensors: Sequence[Sensor] = ()
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @cached_property
    def event_by_id(self) -> dict[str, Event]:
        return {e.id: e for e in self.events}

    @cached_property
    def sensor_by_id(self) -> dict[str, Sensor]:
        return {s.id: s for s in self.sensors}

    @cached_property
    def sighting_by_id(self) -> dict[str, Sighting]:
        return {s.id: s for s in self.sightings}

    @cached_property
    def rounds(self) -> Rounds:
        """The incidents as launch / impact point tables, judged once for every rule."""
        return Rounds.of(self)

    def version_id(self, index: int) -> str:
        return self.agreement.versions[index].id if index >= 0 else "none"


def sigma_m(event: Event) -> float:
    """An isotropic 1-sigma location error of an event, m (the larger principal axis)."""
    return _sigma_of(event.location_uncertainty)


def _area_sigma_m(area: Area) -> float:
    """A fire mission's area judged as a point: its centre, with the larger axis of its ellipse (the
    battery's error, or the rounds' dispersion about the target) as the 1-sigma error."""
    return _sigma_of(area.uncertainty)


def _sigma_of(u: GeoUncertainty) -> float:
    if u.cov_en_m2 is not None:
        c = np.asarray(u.cov_en_m2, dtype=float).reshape(2, 2)
        return float(math.sqrt(max(np.linalg.eigvalsh(c)[-1], 0.0)))
    return float(u.sigma_m) if u.sigma_m is not None else DEFAULT_SIGMA_M


@dataclass
class Points:
    """Points to judge: position, time, 1-sigma error and their zones."""

    lon: FloatArray
    lat: FloatArray
    times: list[dt.datetime]
    sigma_km: FloatArray
    zones: PointZones

    @classmethod
    def of(cls, agreement: Agreement, lon: Any, lat: Any, times: list[dt.datetime], sigma_m: Any) -> Points:
        lon_a, lat_a = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        t64 = np.array([t.astimezone(dt.UTC).replace(tzinfo=None) for t in times], dtype="datetime64[us]")
        z = zones_at_times(agreement, lon_a, lat_a, t64)
        # The line's own error where the agreement gives a band between sources (one source's: the band / √2).
        line_km = band_km_at(agreement, lon_a, lat_a, list(times)) / np.sqrt(2.0) if lon_a.size else np.zeros(0)
        return cls(lon_a, lat_a, times, np.hypot(np.asarray(sigma_m, dtype=float) / 1000.0, line_km), z)

    def p_within(self, distance_km: FloatArray, limit_km: float | FloatArray) -> FloatArray:
        """P(true distance <= limit) for a point at ``distance_km`` (normal error along the distance)."""
        return np.asarray(ndtr((np.asarray(limit_km) - distance_km) / np.maximum(self.sigma_km, 1e-6)))

    def p_side(self) -> FloatArray:
        """P(the point lies on the side it was located on), from its distance to the line."""
        d = np.abs(np.nan_to_num(self.zones.signed_distance_km, nan=0.0))
        return np.asarray(ndtr(d / np.maximum(self.sigma_km, 1e-6)))


@dataclass
class Rounds:
    """Each incident's launch and impact, located and judged (NaN / -1 rows where absent)."""

    incidents: list[Incident]
    launch: list[Event | None]
    impact: list[Event | None]
    launch_pts: Points
    impact_pts: Points
    has_launch: NDArray[np.bool_]
    has_impact: NDArray[np.bool_]

    @classmethod
    def of(cls, ctx: Context) -> Rounds:
        ev = ctx.event_by_id
        incs = list(ctx.incidents)
        launch: list[Event | None] = []
        impact: list[Event | None] = []
        for inc in incs:
            lone = [ev[i] for i in inc.event_ids if i in ev] if not (inc.launch_event_id or inc.impact_event_id) else []
            lo = ev.get(inc.launch_event_id) if inc.launch_event_id else None
            im = ev.get(inc.impact_event_id) if inc.impact_event_id else None
            for e in lone:  # a lone event of undetermined kind is judged as an impact (where rounds land)
                if e.kind is EventKind.LAUNCH:
                    lo = lo or e
                else:
                    im = im or e
            launch.append(lo)
            impact.append(im)

        def pts(es: list[Event | None], areas: list[Area | None]) -> Points:
            ok = [e for e in es if e is not None]
            fill = ok[0] if ok else None
            where = [(a.position if a else e.position) if e else None for e, a in zip(es, areas, strict=True)]
            lon = [w.lon_deg if w else np.nan for w in where]
            lat = [w.lat_deg if w else np.nan for w in where]
            times = [(e or fill).origin_time if (e or fill) else ctx.created_at for e in es]  # type: ignore[union-attr]
            sig = [(_area_sigma_m(a) if a else sigma_m(e)) if e else np.nan for e, a in zip(es, areas, strict=True)]
            has = np.array([e is not None for e in es], dtype=bool)
            lon_f = np.where(has, lon, 0.0) if has.size else np.zeros(0)
            lat_f = np.where(has, lat, 0.0) if has.size else np.zeros(0)
            p = Points.of(ctx.agreement, lon_f, lat_f, times, np.where(has, sig, 1.0) if has.size else np.zeros(0))
            p.lon, p.lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
            _blank(p.zones, ~has)
            return p

        lp = pts(launch, [i.launch_area for i in incs])
        ip = pts(impact, [i.impact_area for i in incs])
        return cls(incs, launch, impact, lp, ip, np.array([e is not None for e in launch], dtype=bool),
                   np.array([e is not None for e in impact], dtype=bool))


def _blank(z: PointZones, rows: NDArray[np.bool_]) -> None:
    """Make absent points judge as nowhere (no side, no zone)."""
    z.side[rows] = -1
    z.signed_distance_km[rows] = np.nan
    z.distance_km[rows] = np.nan
    z.in_buffer[rows] = False
    for m in z.in_withdrawal.values():
        m[rows] = False
    z.site[rows] = -1
    z.sector[rows] = -1
    z.disengagement[rows] = -1


class Rule(ABC):
    """A registered rule family. Subclasses set ``id``, ``version``, ``Params`` and ``apply``."""

    id: ClassVar[str]
    version: ClassVar[str]
    title: ClassVar[str]

    @dataclass(frozen=True)
    class Params:
        """No parameters."""

    def __init__(self, params: Any = None) -> None:
        self.params: Any = params if params is not None else self.Params()

    @abstractmethod
    def apply(self, ctx: Context) -> list[Violation]:
        """The violations this rule finds in ``ctx``."""

    def parameters(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self.params).items()}

    def finding(
        self,
        ctx: Context,
        sub_id: str,
        subject: str,
        *,
        time: dt.datetime,
        lon: float,
        lat: float,
        sigma_m: float | None,
        confidence: float,
        line_version: str,
        incident: Incident | None = None,
        event_ids: Sequence[str] = (),
        observation_ids: Sequence[str] = (),
        attribution: Attribution | None = None,
        kind: ViolationKind | None = None,
        weapon_class: WeaponClass | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Violation:
        """A violation stamped with this rule's id, version, parameters and the line version applied."""
        rule_id = f"{self.id}.{sub_id}"
        params = {
            **self.parameters(),
            "agreement_id": ctx.agreement.id,
            "agreement_version": ctx.agreement.version,
            "line_version": line_version,
            **(extra or {}),
        }
        mission = incident is not None and incident.rounds != CountRange.one()
        if mission:  # a fire mission's finding cites every round located
            assert incident is not None
            event_ids = (*event_ids, *incident.event_ids)
        inputs = tuple(dict.fromkeys([*([incident.id] if incident else []), *event_ids, *observation_ids]))
        return Violation(
            id=f"vio-{rule_id}-{subject}",
            rule_id=rule_id,
            rule_version=self.version,
            rule_parameters=params,
            time=time,
            position=Position(lon_deg=round(float(lon), 7), lat_deg=round(float(lat), 7)),
            geo_uncertainty=GeoUncertainty.isotropic(float(sigma_m)) if sigma_m is not None else GeoUncertainty(),
            violation_kind=kind,
            weapon_class=weapon_class,
            incident_id=incident.id if incident else None,
            rounds=incident.rounds if incident is not None else CountRange.one(),
            event_ids=tuple(dict.fromkeys(event_ids)),
            observation_ids=tuple(dict.fromkeys(observation_ids)),
            attribution=attribution or Attribution(),
            confidence=float(min(max(confidence, 0.0), 1.0)),
            provenance=Provenance(
                algorithm=f"adjudicate.{self.id}",
                algorithm_version=self.version,
                parameters=params,
                inputs=inputs,
                created_at=ctx.created_at,
            ),
        )


#: The registered rule families, by id (in the order their modules register them; see
#: :func:`rule_families` for the declared order).
RULES: dict[str, type[Rule]] = {}


def register(cls: type[Rule]) -> type[Rule]:
    """Register the rule of a declared family (class decorator); ids are unique.

    Raises
    ------
    ValueError
        For an id not declared in :data:`truceline.agreement.families.FAMILIES`, or registered twice.
    """
    if cls.id not in FAMILY_IDS:
        raise ValueError(f"rule id {cls.id!r} is not a declared rule family (truceline.agreement.families)")
    if cls.id in RULES and RULES[cls.id] is not cls:
        raise ValueError(f"rule id {cls.id!r} registered twice")
    RULES[cls.id] = cls
    return cls


@dataclass(frozen=True)
class RuleFamily:
    """A rule family as registered: the agreement's declaration and the rule that judges it."""

    family: Family
    rule: type[Rule]

    @property
    def id(self) -> str:
        return self.family.id

    @property
    def title(self) -> str:
        """The provision the rule judges, as the bulletin names it."""
        return self.rule.title

    def parameters(self) -> dict[str, Any]:
        """The rule's default parameters."""
        return self.rule().parameters()

    def to_json(self) -> dict[str, Any]:
        """What ``GET /api/v1/rules`` gives of the family."""
        f = self.family
        return {
            "id": f.id,
            "label": f.label,
            "short_label": f.short,
            "title": self.title,
            "version": self.rule.version,
            "colour": f.colour,
            "parameters": self.parameters(),
        }


def rule_families() -> list[RuleFamily]:
    """Every declared rule family with its registered rule, in the declared order.

    Raises
    ------
    RuntimeError
        For a declared family no rule is registered for (import :mod:`truceline.adjudicate`).
    """
    missing = [f.id for f in FAMILIES if f.id not in RULES]
    if missing:
        raise RuntimeError(f"rule families declared but not registered: {missing}")
    return [RuleFamily(f, RULES[f.id]) for f in FAMILIES]
