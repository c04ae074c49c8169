"""Wording of the bulletin: labels of the codebook's values, numbers, times and places.

The words follow the OSCE Special Monitoring Mission's daily reports ("ceasefire violations,
including explosions", "Donetsk region", "restrictions of the Mission's freedom of movement").
Attribution is worded only as graded (:data:`LEVEL_LABELS`); nothing here adds blame.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from truceline.adjudicate.aggregates import NO_SECTOR, OUTSIDE
from truceline.agreement.families import FAMILIES
from truceline.core.enums import AttributionLevel
from truceline.geo.places import place_text
from truceline.service.redaction import POSITION_DECIMALS

__all__ = [
    "DISCLAIMER",
    "FAMILY_COLOURS",
    "FAMILY_SHORT",
    "KIND_LABELS",
    "LEVEL_LABELS",
    "WEAPON_LABELS",
    "coords",
    "count_phrase",
    "date_long",
    "join_and",
    "local_time",
    "number",
    "place",
    "redact_ids",
    "region_name",
    "weapon_phrase",
]

#: Printed under every map and in the footer.
DISCLAIMER = (
    "Boundaries and the line of contact are shown for monitoring purposes and imply no position on sovereignty "
    "or on the status of any territory."
)

#: Colour of each rule family on maps, plots and KML (the registry's, :mod:`truceline.agreement.families`).
FAMILY_COLOURS: dict[str, str] = {f.id: f.colour for f in FAMILIES}

#: Short column label of each rule family in the bulletin's tables (the registry's).
FAMILY_SHORT: dict[str, str] = {f.id: f.short for f in FAMILIES}

#: Plural label of each ceasefire-violation kind (OSCE wording).
KIND_LABELS: dict[str, tuple[str, str]] = {
    "explosion_impact": ("impact explosion", "impact explosions"),
    "explosion_outgoing": ("outgoing explosion", "outgoing explosions"),
    "explosion_airburst": ("airburst", "airbursts"),
    "explosion_undetermined": ("undetermined explosion", "undetermined explosions"),
    "projectile_in_flight": ("projectile in flight", "projectiles in flight"),
    "muzzle_flash": ("muzzle flash", "muzzle flashes"),
    "illumination_flare": ("illumination flare", "illumination flares"),
    "burst": ("burst", "bursts"),
    "shot": ("shot", "shots"),
    "drone_overflight": ("drone overflight", "drone overflights"),
    "drone_strike": ("drone strike", "drone strikes"),
    "missile_strike": ("missile strike", "missile strikes"),
    "unspecified": ("unspecified", "unspecified"),
}

#: Attribution grades as the bulletin words them.
LEVEL_LABELS: dict[str, str] = {
    AttributionLevel.UNATTRIBUTED.value: "Unattributed",
    AttributionLevel.DIRECTION_OF_FIRE.value: "Direction of fire",
    AttributionLevel.ORIGIN_AREA.value: "Origin area",
    AttributionLevel.PARTY.value: "Party",
}

#: Weapon classes as the bulletin words them.
WEAPON_LABELS: dict[str, str] = {
    "small_arms": "small arms",
    "light_weapons": "light weapons",
    "atgm": "anti-tank guided missile",
    "mortar_le_120mm": "mortar (up to 120 mm)",
    "artillery_lt_100mm": "artillery (under 100 mm)",
    "artillery_ge_100mm": "artillery (100 mm and above)",
    "mlrs": "MLRS",
    "heavy_mlrs": "heavy MLRS",
    "tactical_missile": "tactical missile",
    "tank": "tank",
    "armoured_combat_vehicle": "armoured combat vehicle",
    "air_defence": "air-defence system",
    "uav": "UAV",
    "unknown": "undetermined",
    "unspecified": "-",
}

_ID = re.compile(r"\b(?:ev|inc|vio|obr|sgt|fom|det|clm|ca|sst|wx|PTL|UAV-IMG|SAT-IMG|IMG)-[\w.:+-]*\w")


def kind_label(kind: str, n: int = 2) -> str:
    """Label of a kind, singular when ``n == 1``."""
    one, many = KIND_LABELS.get(kind, (kind.replace("_", " "), kind.replace("_", " ")))
    return one if n == 1 else many


def weapon_label(value: str | None) -> str:
    """Label of a weapon class (``-`` for none)."""
    return WEAPON_LABELS.get(value or "unspecified", (value or "").replace("_", " "))


def finding_weapon(v: Any) -> str:
    """A finding's weapon, with its rounds when it stands for a fire mission: ``MLRS, 30 rounds (17-41)``."""
    label = weapon_label(v.weapon_class.value if v.weapon_class else None)
    r = v.rounds
    if r.high <= 1:
        return label
    span = f" ({r.low}-{r.high})" if r.low != r.high else ""
    return f"{label}, {r.best} rounds{span}"


def number(value: object) -> float:
    """A rule parameter as a float (NaN when absent or not a number)."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else float("nan")


def join_and(items: list[str]) -> str:
    """``"a, b and c"``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


#: Plurals of the weapon labels that do not take an "s" at the end.
_WEAPON_PLURALS = {
    "mortar_le_120mm": "mortars (up to 120 mm)",
    "artillery_lt_100mm": "artillery pieces (under 100 mm)",
    "artillery_ge_100mm": "artillery pieces (100 mm and above)",
    "mlrs": "MLRS",
    "heavy_mlrs": "heavy MLRS",
    "unknown": "undetermined weapons",
}


def weapon_phrase(n: int, value: str) -> str:
    """``"1 tank"``, ``"3 tanks"``, ``"2 heavy MLRS"``, ``"4 artillery pieces (100 mm and above)"``."""
    label = weapon_label(value)
    if n == 1:
        return f"1 {'artillery piece' + label[len('artillery') :] if value.startswith('artillery') else label}"
    return f"{n:,} {_WEAPON_PLURALS.get(value, label + 's')}"


def count_phrase(n: int, one: str, many: str | None = None) -> str:
    """``"1 explosion"``, ``"1,204 explosions"``."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def region_name(oblast: str) -> str:
    """OSCE-style region name of an oblast layer name (``Donetsk Oblast`` -> ``Donetsk region``)."""
    if oblast == OUTSIDE:
        return "Outside the oblast layer"
    if oblast.endswith(" Oblast"):
        return oblast[: -len(" Oblast")] + " region"
    return oblast


def sector_name(sector_id: str, names: dict[str, str]) -> str:
    """``Sector 3 Donetsk south (S3-DON-S)``, or ``no sector``."""
    if sector_id == NO_SECTOR:
        return "No sector of responsibility"
    name = names.get(sector_id)
    return f"{name} ({sector_id})" if name else sector_id


def local_time(t: dt.datetime, tz: str, with_date: bool = True) -> str:
    """A time in the cut-off's zone, ``02 Sep 21:16``, or ``21:16``."""
    lt = t.astimezone(ZoneInfo(tz))
    return lt.strftime("%d %b %H:%M") if with_date else lt.strftime("%H:%M")


def date_long(d: dt.date | dt.datetime) -> str:
    """``2 September 2026``."""
    return f"{d.day} {d:%B %Y}"


def utc_iso(t: dt.datetime) -> str:
    """``2026-09-02T16:30:00Z``."""
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def coords(lon: float, lat: float, public: bool) -> str:
    """``48.5609 N, 37.8066 E`` (4 decimals, ~10 m), or rounded as the redaction policy rounds a public
    position (:data:`~truceline.service.redaction.POSITION_DECIMALS`, 0.01 degree, ~1 km) in a public bulletin."""
    if public:
        lon, lat = round(lon, POSITION_DECIMALS), round(lat, POSITION_DECIMALS)
    nd = POSITION_DECIMALS if public else 4
    return f"{abs(lat):.{nd}f}\u00a0{'N' if lat >= 0 else 'S'}, {abs(lon):.{nd}f}\u00a0{'E' if lon >= 0 else 'W'}"


def place(lon: float, lat: float, public: bool) -> str:
    """``3 km SW of Horlivka (Donetsk oblast); 48.2860 N, 37.9958 E``: the place in words
    (:func:`truceline.geo.places.describe`), then the coordinates (:func:`coords`). A public bulletin
    describes the rounded position, so the words are no finer than the coordinates printed."""
    if public:
        lon, lat = round(lon, POSITION_DECIMALS), round(lat, POSITION_DECIMALS)
    words = place_text(lon, lat)
    return f"{words}; {coords(lon, lat, public)}" if words else coords(lon, lat, public)


def redact_ids(text: str, ids: Iterable[str] = ()) -> str:
    """Replace record ids in a text by ``[ref]`` (a public bulletin omits evidence ids).

    Parameters
    ----------
    text : str
    ids : iterable of str
        Ids known to be cited (a finding's events, observations, incident): replaced wherever
        they occur; ids of the forms the mission's systems write (``ev-...``, ``obr-...``,
        ``UAV-IMG-...``) are replaced as well.
    """
    for rid in sorted(set(ids), key=len, reverse=True):
        if rid:
            text = text.replace(rid, "[ref]")
    return _ID.sub("[ref]", text)
