"""Scenario files: what the simulator builds, every parameter with a documented default.

A scenario is YAML; every section is optional and defaults to a steady, low-level day on the
default agreement's line. Errors name the field: ``network.spacing_km: must be > 0 (got -5)``.
See ``docs/scenarios.md`` for each parameter.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from truceline.core.codec import validation_problems
from truceline.core.enums import SensorHealth
from truceline.sim.weapons import CATALOGUE

Pos = Annotated[float, Field(gt=0)]
NonNeg = Annotated[float, Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=1)]
Hour = Annotated[float, Field(ge=0)]
PartyCode = Literal["UA", "RU"]
ClaimTruth = Literal["true", "exaggerated", "fabricated", "blind_spot", "false_flag"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Outage(_Section):
    """Sensors of a sector lose their function for a while (reportable when jammed or destroyed)."""

    sector: str
    start_h: Hour
    end_h: Hour
    health: Literal[SensorHealth.OUTAGE, SensorHealth.JAMMED, SensorHealth.DESTROYED, SensorHealth.DEGRADED]
    share: Share = 1.0
    party: Literal["UA", "RU"] | None = None

    @model_validator(mode="after")
    def _order(self) -> Outage:
        if self.end_h <= self.start_h:
            raise ValueError("end_h must be after start_h")
        return self


class Network(_Section):
    """The sensor network laid along the agreement's line."""

    layout: Literal["staggered_rows", "single_row", "arrays"] = "staggered_rows"
    spacing_km: Pos = 5.0
    offset_km: NonNeg = 8.0
    timing_sigma_ms: NonNeg = 50.0
    clock_offset_sigma_ms: NonNeg = 2.0
    clock_drift_sigma_ppm: NonNeg = 0.0
    clock_faults: Annotated[int, Field(ge=0)] = 0
    clock_fault_s: NonNeg = 1.0
    bearing_sigma_deg: Pos = 3.0
    outages: list[Outage] = Field(default_factory=list)


class Weather(_Section):
    """Temperature and wind per region and hour."""

    temperature_c: Annotated[float, Field(ge=-50, le=50)] = 12.0
    diurnal_amplitude_c: NonNeg = 5.0
    wind_speed_ms: Annotated[float, Field(ge=0, le=40)] = 4.0
    wind_from_deg: Annotated[float, Field(ge=0, lt=360)] = 270.0
    spatial_sigma_c: NonNeg = 1.0
    spatial_wind_sigma_ms: NonNeg = 1.0
    hourly_wind_sigma_ms: NonNeg = 0.5
    cell_km: Pos = 100.0


class Propagation(_Section):
    """Sound propagation, detection and false detections."""

    path_jitter_ms: NonNeg = 20.0
    path_jitter_fraction: NonNeg = 0.001
    threshold_db: float = 85.0
    detection_sigma_db: Pos = 5.0
    absorption_db_per_km: NonNeg = 0.01
    wind_noise_db_per_ms: NonNeg = 0.5
    upwind_loss_db_per_ms: NonNeg = 1.0
    max_range_km: Pos = 80.0
    false_per_sensor_hour: NonNeg = 1.0
    false_bursts_per_day: NonNeg = 20.0
    false_burst_size: Annotated[int, Field(ge=1)] = 30
    false_burst_span_s: Pos = 120.0


class Escalation(_Section):
    """A period when firing is ``factor`` times the base rate, optionally in some sectors only."""

    start_h: Hour
    end_h: Hour
    factor: Pos
    sectors: list[str] = Field(default_factory=list)
    salvo_share: Share | None = None

    @model_validator(mode="after")
    def _order(self) -> Escalation:
        if self.end_h <= self.start_h:
            raise ValueError("end_h must be after start_h")
        return self


class Activity(_Section):
    """Who fires what, where and when."""

    rounds_per_day: NonNeg = 800.0
    party_share: dict[PartyCode, NonNeg] = Field(default_factory=lambda: dict[PartyCode, float]({"UA": 0.5, "RU": 0.5}))
    weapon_mix: dict[str, NonNeg] = Field(
        default_factory=lambda: {
            "mortar_82mm": 0.15,
            "mortar_120mm": 0.25,
            "tank_125mm": 0.05,
            "howitzer_122mm": 0.2,
            "howitzer_152mm": 0.2,
            "howitzer_155mm": 0.05,
            "mlrs_122mm": 0.1,
        }
    )
    training_share: Share = 0.1
    sector_weights: dict[str, NonNeg] = Field(default_factory=dict)
    diurnal_peak_h: Annotated[float, Field(ge=0, lt=24)] = 22.0
    diurnal_depth: Share = 0.6
    aim_sigma_deg: NonNeg = 25.0
    escalations: list[Escalation] = Field(default_factory=list)

    @field_validator("party_share")
    @classmethod
    def _some_party(cls, share: dict[str, float]) -> dict[str, float]:
        if sum(share.values()) <= 0:
            raise ValueError("party shares must not all be 0")
        return share

    @field_validator("weapon_mix")
    @classmethod
    def _known(cls, mix: dict[str, float]) -> dict[str, float]:
        for key in mix:
            if key not in CATALOGUE:
                raise ValueError(f"unknown weapon {key!r}; known: {sorted(CATALOGUE)}")
        if sum(mix.values()) <= 0:
            raise ValueError("weapon shares must not all be 0")
        return mix


class Observers(_Section):
    """Patrols that hear and see, and the restrictions they meet."""

    patrols_per_day: NonNeg = 12.0
    patrol_hours: Pos = 6.0
    hearing_radius_km: Pos = 10.0
    direction_sigma_deg: NonNeg = 20.0
    distance_error: NonNeg = 0.3
    count_error: NonNeg = 0.3
    fom_restrictions_per_day: NonNeg = 1.0
    nationalities: list[str] = Field(default_factory=lambda: ["GBR", "FRA", "POL", "FIN"])


class Uav(_Section):
    """UAV flights sighting heavy weapons inside and outside their withdrawal zones."""

    sightings_per_day: NonNeg = 30.0
    in_zone_share: Share = 0.3
    position_sigma_m: NonNeg = 30.0


class Claims(_Section):
    """The parties' claims, from true to fabricated."""

    per_party_per_day: NonNeg = 6.0
    mix: dict[ClaimTruth, NonNeg] = Field(
        default_factory=lambda: dict[ClaimTruth, float](
            {"true": 0.5, "exaggerated": 0.25, "fabricated": 0.1, "blind_spot": 0.1, "false_flag": 0.05}
        )
    )


class LineMove(_Section):
    """The line moves at ``at_h``: ``party`` advances ``advance_km`` within ``sector``."""

    at_h: Hour
    sector: str
    advance_km: Pos
    party: Literal["UA", "RU"] = "RU"


class Scenario(_Section):
    """A whole scenario."""

    scenario: Literal[1] = 1
    name: str
    description: str = ""
    agreement: str = "default"
    start: AwareDatetime = dt.datetime(2026, 9, 2, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    duration_h: Annotated[float, Field(gt=0, le=24 * 7)] = 24.0
    seed: int = 1
    sectors: list[str] = Field(default_factory=list)
    front_km: tuple[NonNeg, NonNeg] | None = None
    network: Network = Network()
    weather: Weather = Weather()
    propagation: Propagation = Propagation()
    activity: Activity = Activity()
    observers: Observers = Observers()
    uav: Uav = Uav()
    claims: Claims = Claims()
    line_moves: list[LineMove] = Field(default_factory=list)

    @model_validator(mode="after")
    def _front(self) -> Scenario:
        if self.front_km is not None and self.front_km[1] <= self.front_km[0]:
            raise ValueError("front_km: the end must be after the start")
        for k, move in enumerate(self.line_moves):
            if move.at_h >= self.duration_h:
                raise ValueError(f"line_moves[{k}].at_h: {move.at_h} h is not before the end ({self.duration_h} h)")
        return self


class ScenarioError(ValueError):
    """A scenario file is invalid; ``problems`` lists (field, message)."""

    def __init__(self, path: str, problems: list[tuple[str, str]]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {f}: {m}" for f, m in problems)
        super().__init__(f"{path}: {len(problems)} problem(s)\n{lines}")


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file; every problem names its field."""
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(str(p), [("(file)", "scenario file not found")]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(str(p), [("(file)", f"not valid YAML: {exc}")]) from None
    return parse_scenario(raw, str(p))


def parse_scenario(raw: object, where: str = "<scenario>") -> Scenario:
    """Validate a scenario mapping."""
    if not isinstance(raw, dict):
        raise ScenarioError(where, [("(file)", "a scenario is a YAML mapping")])
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for fld, value, reason in validation_problems(exc):
            shown = "" if value.__class__.__name__ == "_Missing" else f" (got {value!r})"
            problems.append((fld or "(scenario)", f"{reason}{shown}"))
        raise ScenarioError(where, problems) from None
