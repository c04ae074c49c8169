"""The weapons catalogue: ranges, times of flight and source levels of the systems on the line.

Source levels are peak sound pressure levels at 1 m in dB re 20 µPa, order-of-magnitude values
for low-frequency (< 20 Hz weighted) blast and muzzle waves; the detection model subtracts
spherical spreading and absorption from them. Times of flight are ``range / horizontal_speed``,
the horizontal speed averaging a ballistic trajectory's slowing by drag (high-angle mortar fire
is slow over the ground; a tank's direct fire is fast).
"""

from __future__ import annotations

from dataclasses import dataclass

from truceline.core.enums import WeaponClass


@dataclass(frozen=True)
class Weapon:
    """One weapon system.

    Attributes
    ----------
    id : str
        Catalogue key, e.g. ``"howitzer_152mm"``.
    weapon_class : WeaponClass
        Agreement category (withdrawal distances are keyed on it).
    min_range_km, max_range_km : float
        Usable range.
    speed_ms : float
        Mean horizontal speed of the projectile, m/s (time of flight = range / speed).
    launch_db, impact_db : float
        Source levels at 1 m, dB re 20 µPa.
    rounds : (int, int)
        Rounds per fire mission (inclusive range).
    interval_s : float
        Time between rounds of one mission (an MLRS ripples 40 rockets in ~20 s: 0.5 s).
    parties : tuple of str
        Parties that field it.
    """

    id: str
    weapon_class: WeaponClass
    min_range_km: float
    max_range_km: float
    speed_ms: float
    launch_db: float
    impact_db: float
    rounds: tuple[int, int]
    interval_s: float
    parties: tuple[str, ...] = ("UA", "RU")

    def time_of_flight_s(self, range_km: float) -> float:
        """Time of flight for a range, seconds."""
        return range_km * 1000.0 / self.speed_ms


CATALOGUE: dict[str, Weapon] = {
    w.id: w
    for w in (
        Weapon("mortar_82mm", WeaponClass.MORTAR_LE_120MM, 0.2, 4.0, 120.0, 162.0, 168.0, (1, 6), 4.0),
        Weapon("mortar_120mm", WeaponClass.MORTAR_LE_120MM, 0.5, 7.0, 150.0, 170.0, 176.0, (1, 8), 6.0),
        Weapon("tank_125mm", WeaponClass.TANK, 1.0, 5.0, 1200.0, 186.0, 174.0, (1, 3), 8.0),
        Weapon("howitzer_122mm", WeaponClass.ARTILLERY_GE_100MM, 4.0, 15.0, 330.0, 182.0, 178.0, (1, 6), 10.0),
        Weapon("howitzer_152mm", WeaponClass.ARTILLERY_GE_100MM, 5.0, 24.0, 380.0, 187.0, 182.0, (1, 6), 12.0),
        Weapon("howitzer_155mm", WeaponClass.ARTILLERY_GE_100MM, 5.0, 30.0, 400.0, 187.0, 182.0, (1, 4), 12.0, ("UA",)),
        Weapon("mlrs_122mm", WeaponClass.MLRS, 5.0, 20.0, 450.0, 176.0, 180.0, (10, 40), 0.5),
    )
}


def weapon(weapon_id: str) -> Weapon:
    """The catalogue entry, or a KeyError naming the known ids."""
    try:
        return CATALOGUE[weapon_id]
    except KeyError:
        raise KeyError(f"unknown weapon {weapon_id!r}; known: {sorted(CATALOGUE)}") from None
