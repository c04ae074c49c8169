"""Enumerations of the truceline codebook.

Every enumeration is a :class:`enum.StrEnum` whose values are the stable, lowercase
snake-case codes written to files, databases and the API (the exception is :class:`Party`,
whose values are the ISO 3166-1 alpha-2 country codes ``"UA"`` and ``"RU"``). Other
modules (geo, agreement, io, fusion, adjudicate) key on these values: never rename one.

See ``docs/codebook.md`` for the reference table of every value.
"""

from __future__ import annotations

import math
from enum import StrEnum

__all__ = [
    "AttributionLevel",
    "ClaimVerdict",
    "ClaimantKind",
    "DistanceBand",
    "EventKind",
    "GeoPrecision",
    "ObservationMode",
    "Party",
    "SensorHealth",
    "SensorKind",
    "SightingPlatform",
    "TimePrecision",
    "VerificationStatus",
    "ViolationKind",
    "WeaponClass",
]


class Party(StrEnum):
    """A party to the ceasefire agreement (values: ISO 3166-1 alpha-2 codes)."""

    UKRAINE = "UA"
    RUSSIA = "RU"

    @property
    def opponent(self) -> Party:
        """The other party of the two-party agreement."""
        return Party.RUSSIA if self is Party.UKRAINE else Party.UKRAINE


class WeaponClass(StrEnum):
    """Weapon categories of the agreement; withdrawal distances are keyed on these.

    The distances themselves (e.g. Minsk II: artillery >= 100 mm 25 km per side, MLRS 35 km,
    heavy MLRS and Tochka 70 km, tanks/mortars/smaller artillery 15 km) are agreement data,
    never constants in code.
    """

    #: Rifles, machine guns up to and including 12.7/14.5 mm.
    SMALL_ARMS = "small_arms"
    #: Grenade launchers (under-barrel, automatic AGS-17/30), recoilless guns, RPGs.
    LIGHT_WEAPONS = "light_weapons"
    #: Anti-tank guided missiles (e.g. Kornet, Stugna-P, Javelin).
    ATGM = "atgm"
    #: Mortars up to and including 120 mm (60, 82, 120 mm).
    MORTAR_LE_120MM = "mortar_le_120mm"
    #: Tube artillery and guns below 100 mm (e.g. 85 mm guns, ZU-23 used against ground).
    ARTILLERY_LT_100MM = "artillery_lt_100mm"
    #: Tube artillery and guns >= 100 mm (D-30, Msta, 2S1, 2S3, M777...), incl. mortars > 120 mm.
    ARTILLERY_GE_100MM = "artillery_ge_100mm"
    #: Multiple-launch rocket systems up to 122 mm (e.g. BM-21 Grad, RM-70).
    MLRS = "mlrs"
    #: Heavy MLRS: Uragan 220 mm, Smerch 300 mm, Tornado-S (and HIMARS/M270 class).
    HEAVY_MLRS = "heavy_mlrs"
    #: Tactical ballistic missiles: Tochka-U, Iskander.
    TACTICAL_MISSILE = "tactical_missile"
    #: Main battle tanks.
    TANK = "tank"
    #: Armoured combat vehicles (IFV, APC) with weapons.
    ARMOURED_COMBAT_VEHICLE = "armoured_combat_vehicle"
    #: Air-defence systems (MANPADS, SAM, anti-aircraft guns in AD role).
    AIR_DEFENCE = "air_defence"
    #: Unmanned aerial vehicles (reconnaissance, FPV, loitering munitions).
    UAV = "uav"
    #: Weapon not determined. The honest default.
    UNKNOWN = "unknown"


class ViolationKind(StrEnum):
    """Kinds of ceasefire violation (OSCE SMM daily-report taxonomy, extended)."""

    #: Explosion assessed as an impact (incoming round).
    EXPLOSION_IMPACT = "explosion_impact"
    #: Explosion assessed as outgoing (a firing).
    EXPLOSION_OUTGOING = "explosion_outgoing"
    #: Airburst explosion.
    EXPLOSION_AIRBURST = "explosion_airburst"
    #: Explosion, type undetermined.
    EXPLOSION_UNDETERMINED = "explosion_undetermined"
    #: Projectile seen in flight (e.g. tracer, rocket trail).
    PROJECTILE_IN_FLIGHT = "projectile_in_flight"
    #: Muzzle flash seen.
    MUZZLE_FLASH = "muzzle_flash"
    #: Illumination flare.
    ILLUMINATION_FLARE = "illumination_flare"
    #: Burst of (heavy-)machine-gun or small-arms fire.
    BURST = "burst"
    #: Single shot.
    SHOT = "shot"
    #: Drone overflight (of the buffer zone or a prohibited area).
    DRONE_OVERFLIGHT = "drone_overflight"
    #: Strike delivered by a drone (FPV, drop munition, loitering munition).
    DRONE_STRIKE = "drone_strike"
    #: Missile strike.
    MISSILE_STRIKE = "missile_strike"

    @property
    def is_explosion(self) -> bool:
        """True for the four ``explosion_*`` kinds."""
        return self.value.startswith("explosion_")


class VerificationStatus(StrEnum):
    """Verification status of an incident or finding.

    ``verified`` requires two independent sources (two sensors' solution, two observers of
    different nationality, or sensor + observer).
    """

    UNVERIFIED = "unverified"
    CORROBORATED = "corroborated"
    VERIFIED = "verified"
    INCONCLUSIVE = "inconclusive"
    REFUTED = "refuted"


_ATTRIBUTION_ORDER = ("unattributed", "direction_of_fire", "origin_area", "party")


class AttributionLevel(StrEnum):
    """Graded attribution, ORDERED: unattributed < direction_of_fire < origin_area < party.

    Comparisons (``<``, ``<=``, ``>``, ``>=``) use :attr:`rank`, not string order. A plain
    string operand is converted to a level first (an invalid one raises ``ValueError``).
    """

    #: No attribution (the default). "Undetermined" is honest.
    UNATTRIBUTED = "unattributed"
    #: The direction of fire is established (e.g. from a bearing or crater analysis).
    DIRECTION_OF_FIRE = "direction_of_fire"
    #: The origin area is established (e.g. an acoustic point-of-origin ellipse).
    ORIGIN_AREA = "origin_area"
    #: Attributed to a party (e.g. the origin ellipse lies inside one party's controlled area).
    PARTY = "party"

    @property
    def rank(self) -> int:
        """Position in the order, 0 (unattributed) to 3 (party)."""
        return _ATTRIBUTION_ORDER.index(self.value)

    @staticmethod
    def _rank_of(other: object) -> int | None:
        if isinstance(other, AttributionLevel):
            return other.rank
        if isinstance(other, str):
            return AttributionLevel(other).rank
        return None

    def __lt__(self, other: object) -> bool:
        r = self._rank_of(other)
        return NotImplemented if r is None else self.rank < r

    def __le__(self, other: object) -> bool:
        r = self._rank_of(other)
        return NotImplemented if r is None else self.rank <= r

    def __gt__(self, other: object) -> bool:
        r = self._rank_of(other)
        return NotImplemented if r is None else self.rank > r

    def __ge__(self, other: object) -> bool:
        r = self._rank_of(other)
        return NotImplemented if r is None else self.rank >= r


class EventKind(StrEnum):
    """Kind of a derived event: a firing (launch), an impact, or undetermined."""

    LAUNCH = "launch"
    IMPACT = "impact"
    UNDETERMINED = "undetermined"


class ObservationMode(StrEnum):
    """How observers perceived what they report."""

    HEARD = "heard"
    SAW = "saw"
    HEARD_AND_SAW = "heard_and_saw"


_DISTANCE_BOUNDS_KM: dict[str, tuple[float, float]] = {
    "lt_1km": (0.0, 1.0),
    "1_3km": (1.0, 3.0),
    "3_5km": (3.0, 5.0),
    "5_10km": (5.0, 10.0),
    "gt_10km": (10.0, math.inf),
    "unknown": (0.0, math.inf),
}


class DistanceBand(StrEnum):
    """Distance band of an observer report (observer to the assessed event)."""

    LT_1KM = "lt_1km"
    KM_1_3 = "1_3km"
    KM_3_5 = "3_5km"
    KM_5_10 = "5_10km"
    GT_10KM = "gt_10km"
    UNKNOWN = "unknown"

    def bounds_km(self) -> tuple[float, float]:
        """Return ``(min_km, max_km)``; open-ended bands have ``max_km = math.inf``.

        Returns
        -------
        tuple of float
            Lower and upper distance bound in kilometres.
        """
        return _DISTANCE_BOUNDS_KM[self.value]


class SensorKind(StrEnum):
    """Kind of a monitoring sensor."""

    ACOUSTIC = "acoustic"
    SEISMIC = "seismic"
    #: Small acoustic array: measures an arrival time and a bearing.
    ACOUSTIC_ARRAY = "acoustic_array"
    INFRASOUND = "infrasound"
    RADAR = "radar"
    CAMERA = "camera"


class SensorHealth(StrEnum):
    """Health of a sensor. Outage, jamming and damage are reportable."""

    OK = "ok"
    DEGRADED = "degraded"
    OUTAGE = "outage"
    JAMMED = "jammed"
    DESTROYED = "destroyed"


class SightingPlatform(StrEnum):
    """Platform of a weapon or position sighting."""

    UAV = "uav"
    SATELLITE = "satellite"
    GROUND = "ground"


class ClaimVerdict(StrEnum):
    """Verdict on a party's or the media's claim, linked to evidence for or against it."""

    PENDING = "pending"
    CORROBORATED = "corroborated"
    CONTRADICTED = "contradicted"
    UNVERIFIABLE = "unverifiable"
    INCONCLUSIVE = "inconclusive"


class ClaimantKind(StrEnum):
    """Who made a claim."""

    PARTY = "party"
    MEDIA = "media"
    NGO = "ngo"
    OTHER = "other"


_SECONDS_PER_UNIT = {
    "exact": 0.0,
    "minute": 60.0,
    "hour": 3600.0,
    "day": 86400.0,
    "week": 7 * 86400.0,
    "month": 30.436875 * 86400.0,
}


class TimePrecision(StrEnum):
    """Coarse precision of a reported time (like UCDP ``date_prec``), finest first."""

    EXACT = "exact"
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"

    @property
    def resolution_s(self) -> float:
        """Width in seconds of the unit the time is reported to (0 for ``exact``)."""
        return _SECONDS_PER_UNIT[self.value]

    @property
    def nominal_sigma_s(self) -> float:
        """Standard deviation in seconds of rounding to this unit: ``resolution_s / sqrt(12)``."""
        return self.resolution_s / math.sqrt(12.0)


class GeoPrecision(StrEnum):
    """Coarse precision of a reported location (like UCDP ``where_prec``), finest first."""

    #: Exact location (coordinates of the place itself).
    EXACT = "exact"
    #: Settlement (town, village) named.
    SETTLEMENT = "settlement"
    #: District (raion, hromada) named.
    DISTRICT = "district"
    #: Oblast (region) named.
    OBLAST = "oblast"
    #: Only the country is known.
    COUNTRY = "country"
