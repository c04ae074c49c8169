"""Enumerations: exact values, ordering of attribution levels, distance bands."""

from __future__ import annotations

import itertools
import math
import re

import pytest

import truceline.core as core
from truceline.core import (
    AttributionLevel,
    DistanceBand,
    Party,
    TimePrecision,
    ViolationKind,
    WeaponClass,
)

SNAKE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")

ALL_ENUMS = [
    core.WeaponClass,
    core.ViolationKind,
    core.VerificationStatus,
    core.AttributionLevel,
    core.EventKind,
    core.ObservationMode,
    core.DistanceBand,
    core.SensorKind,
    core.SensorHealth,
    core.ClaimVerdict,
    core.ClaimantKind,
    core.TimePrecision,
    core.GeoPrecision,
    core.SightingPlatform,
]


def test_party_values() -> None:
    assert Party.UKRAINE == "UA"
    assert Party.RUSSIA == "RU"
    assert Party("UA") is Party.UKRAINE
    assert Party.UKRAINE.opponent is Party.RUSSIA
    assert Party.RUSSIA.opponent is Party.UKRAINE


def test_weapon_class_values_exact() -> None:
    assert [w.value for w in WeaponClass] == [
        "small_arms",
        "light_weapons",
        "atgm",
        "mortar_le_120mm",
        "artillery_lt_100mm",
        "artillery_ge_100mm",
        "mlrs",
        "heavy_mlrs",
        "tactical_missile",
        "tank",
        "armoured_combat_vehicle",
        "air_defence",
        "uav",
        "unknown",
    ]


def test_violation_kind_values_exact() -> None:
    assert {v.value for v in ViolationKind} == {
        "explosion_impact",
        "explosion_outgoing",
        "explosion_airburst",
        "explosion_undetermined",
        "projectile_in_flight",
        "muzzle_flash",
        "illumination_flare",
        "burst",
        "shot",
        "drone_overflight",
        "drone_strike",
        "missile_strike",
    }
    assert ViolationKind.EXPLOSION_AIRBURST.is_explosion
    assert not ViolationKind.SHOT.is_explosion


@pytest.mark.parametrize(
    ("enum", "values"),
    [
        (
            core.VerificationStatus,
            ["unverified", "corroborated", "verified", "inconclusive", "refuted"],
        ),
        (core.EventKind, ["launch", "impact", "undetermined"]),
        (core.ObservationMode, ["heard", "saw", "heard_and_saw"]),
        (
            core.SensorKind,
            ["acoustic", "seismic", "acoustic_array", "infrasound", "radar", "camera"],
        ),
        (core.SensorHealth, ["ok", "degraded", "outage", "jammed", "destroyed"]),
        (
            core.ClaimVerdict,
            ["pending", "corroborated", "contradicted", "unverifiable", "inconclusive"],
        ),
        (core.ClaimantKind, ["party", "media", "ngo", "other"]),
        (core.TimePrecision, ["exact", "minute", "hour", "day", "week", "month"]),
        (core.GeoPrecision, ["exact", "settlement", "district", "oblast", "country"]),
        (core.DistanceBand, ["lt_1km", "1_3km", "3_5km", "5_10km", "gt_10km", "unknown"]),
    ],
)
def test_enum_values_exact(enum: type, values: list[str]) -> None:
    assert [m.value for m in enum] == values  # type: ignore[attr-defined]


@pytest.mark.parametrize("enum", ALL_ENUMS)
def test_values_are_lowercase_snake(enum: type) -> None:
    for member in enum:  # type: ignore[attr-defined]
        assert SNAKE.fullmatch(member.value), member
        assert member.name.isidentifier()


def test_attribution_level_ordering() -> None:
    levels = [
        AttributionLevel.UNATTRIBUTED,
        AttributionLevel.DIRECTION_OF_FIRE,
        AttributionLevel.ORIGIN_AREA,
        AttributionLevel.PARTY,
    ]
    assert [lvl.rank for lvl in levels] == [0, 1, 2, 3]
    for lower, higher in itertools.pairwise(levels):
        assert lower < higher
        assert lower <= higher
        assert higher > lower
        assert higher >= lower
        assert not higher < lower
    # string order would put "party" < "unattributed": the rank must win
    assert AttributionLevel.UNATTRIBUTED < AttributionLevel.PARTY
    assert sorted(reversed(levels)) == levels
    assert max(levels) is AttributionLevel.PARTY
    assert AttributionLevel.ORIGIN_AREA >= AttributionLevel.ORIGIN_AREA


def test_attribution_level_compares_with_valid_strings_only() -> None:
    assert AttributionLevel.PARTY > "origin_area"
    assert AttributionLevel.UNATTRIBUTED < "direction_of_fire"
    with pytest.raises(ValueError):
        _ = AttributionLevel.PARTY > "nonsense"
    with pytest.raises(TypeError):
        _ = AttributionLevel.PARTY > 3


def test_attribution_level_still_hashable_and_equal_to_value() -> None:
    levels: dict[str, int] = {AttributionLevel.PARTY: 1}
    assert levels["party"] == 1
    assert AttributionLevel.PARTY == "party"


@pytest.mark.parametrize(
    ("band", "bounds"),
    [
        (DistanceBand.LT_1KM, (0.0, 1.0)),
        (DistanceBand.KM_1_3, (1.0, 3.0)),
        (DistanceBand.KM_3_5, (3.0, 5.0)),
        (DistanceBand.KM_5_10, (5.0, 10.0)),
        (DistanceBand.GT_10KM, (10.0, math.inf)),
        (DistanceBand.UNKNOWN, (0.0, math.inf)),
    ],
)
def test_distance_band_bounds(band: DistanceBand, bounds: tuple[float, float]) -> None:
    assert band.bounds_km() == bounds
    low, high = band.bounds_km()
    assert 0.0 <= low < high


def test_distance_band_parses_from_value() -> None:
    assert DistanceBand("1_3km") is DistanceBand.KM_1_3


def test_time_precision_nominal_sigma() -> None:
    assert TimePrecision.EXACT.nominal_sigma_s == 0.0
    assert TimePrecision.MINUTE.nominal_sigma_s == pytest.approx(60.0 / math.sqrt(12.0))
    assert TimePrecision.DAY.resolution_s == 86400.0
    sigmas = [p.nominal_sigma_s for p in TimePrecision]
    assert sigmas == sorted(sigmas)
