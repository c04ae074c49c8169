"""The short simulated scenario the end-to-end tests share: one Donetsk sector, from 00:00 Kyiv time.

Each test module names its own length, weapon mix and extras (outages, patrols, UAV); what they
share (the sector, the start, the activity level, the claims) is written here once.
"""

from __future__ import annotations

from typing import Any

#: 00:00 Kyiv summer time on 2 September 2026: reporting day 2026-09-02 (it opened at 19:30 the day before).
START = "2026-09-02T00:00:00+03:00"
#: The sector simulated: Donetsk south, on the default agreement.
SECTOR = "S3-DON-S"
#: Mortars and howitzers, no rocket artillery.
TUBE_MIX = {"mortar_120mm": 0.4, "howitzer_122mm": 0.3, "howitzer_152mm": 0.3}


def one_sector_day(
    name: str,
    hours: int,
    weapon_mix: dict[str, float] | None = None,
    *,
    rounds_per_day: int = 600,
    claims_per_party_per_day: int | None = 24,
    **extra: Any,
) -> dict[str, Any]:
    """A scenario document (as ``parse_scenario`` reads it) of ``hours`` in :data:`SECTOR` from :data:`START`.

    Parameters
    ----------
    name : str
        The scenario's name.
    hours : int
        Its duration.
    weapon_mix : dict, optional
        Share of each weapon; default :data:`TUBE_MIX`.
    rounds_per_day : int
        Rounds fired per day over the sector.
    claims_per_party_per_day : int or None
        Claims each party publishes per day; None leaves the scenario's default.
    **extra
        Further sections of the document (``network``, ``observers``, ``uav``...).
    """
    doc: dict[str, Any] = {
        "scenario": 1,
        "name": name,
        "start": START,
        "duration_h": hours,
        "sectors": [SECTOR],
        "activity": {
            "rounds_per_day": rounds_per_day,
            "weapon_mix": dict(TUBE_MIX if weapon_mix is None else weapon_mix),
        },
        **extra,
    }
    if claims_per_party_per_day is not None:
        doc["claims"] = {"per_party_per_day": claims_per_party_per_day}
    return doc
