"""The gazetteer: "3 km SW of Horlivka (Donetsk oblast)" from the packaged GeoNames table."""

from __future__ import annotations

import csv
import io
import math
from importlib.resources import files

import numpy as np
import pytest
from pyproj import Geod

from truceline.geo import places
from truceline.geo.places import IN_KM, TIERS, Gazetteer, Tier, compass, describe, gazetteer, oblast_label
from truceline.service.redaction import EXACT, ROUNDED, WITHHELD, shown, shown_place

GEOD = Geod(ellps="WGS84")
HORLIVKA = (38.01709, 48.29986)
KRAMATORSK = (37.56779, 48.73106)


def _from(centre: tuple[float, float], azimuth: float, km: float) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(centre[0], centre[1], azimuth, km * 1000.0)
    return float(lon), float(lat)


def _rows(*places_: tuple[int, str, float, float, int]) -> list[dict[str, str]]:
    return [
        {"id": str(i), "name": n, "name_uk": "", "lat": str(la), "lon": str(lo), "population": str(p),
         "oblast": "Donetsk Oblast"}
        for i, n, lo, la, p in places_
    ]  # fmt: skip


# ---------------------------------------------------------------------------------- the table
def test_the_packaged_table_is_read_once_and_is_complete() -> None:
    g = gazetteer()
    assert gazetteer() is g and len(g) > 5000
    text = files("truceline").joinpath("data", places.PLACES_FILE).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["id", "name", "name_uk", "lat", "lon", "population", "oblast"]
    assert [int(r["id"]) for r in rows] == sorted(int(r["id"]) for r in rows)  # deterministic order
    oblasts = {r["oblast"] for r in rows}
    assert {"Donetsk Oblast", "Luhansk Oblast", "Kyiv City", "Autonomous Republic of Crimea"} <= oblasts
    by_name = {r["name"]: r for r in rows}
    assert by_name["Horlivka"]["name_uk"] == "Горлівка" and by_name["Luhansk"]["name_uk"] == "Луганськ"
    assert "Tsentralno-Miskyi" not in by_name and "Sotsmisto" not in by_name  # city districts are left out


def test_compass_points_and_oblast_labels() -> None:
    assert list(compass([0, 44, 46, 180, 225, 337.4, 337.6, 359.9, -45])) == [
        "N", "NE", "NE", "S", "SW", "NW", "N", "N", "NW"]  # fmt: skip
    assert list(compass([22.5, 11.3, 348.7, 348.8], points=16)) == ["NNE", "NNE", "NNW", "N"]
    with pytest.raises(ValueError, match="8 or 16"):
        compass(0.0, points=4)
    assert oblast_label("Donetsk Oblast") == "Donetsk oblast" and oblast_label("Kyiv City") == "Kyiv city"
    assert oblast_label("Autonomous Republic of Crimea") == "Autonomous Republic of Crimea"


# ---------------------------------------------------------------------------------- known towns
def test_two_km_south_west_of_horlivka() -> None:
    p = describe(*_from(HORLIVKA, 225.0, 2.0))
    assert p is not None
    assert p.text == "2 km SW of Horlivka (Donetsk oblast)"
    assert (p.name, p.name_uk, p.oblast, p.direction) == ("Horlivka", "Горлівка", "Donetsk Oblast", "SW")
    assert p.distance_km == pytest.approx(2.0, abs=0.05) and p.bearing_deg == 225.0
    assert p.as_json() == {"place_id": 707753, "name": "Horlivka", "name_uk": "Горлівка", "oblast": "Donetsk Oblast",
                           "distance_km": p.distance_km, "bearing_deg": 225.0, "direction": "SW"}  # fmt: skip


def test_a_point_in_kramatorsk_is_in_it() -> None:
    p = describe(*_from(KRAMATORSK, 100.0, 0.4))
    assert p is not None and p.inside and p.text == "in Kramatorsk (Donetsk oblast)"


def test_distances_are_geodesic_and_rounded_half_up() -> None:
    for km, words in ((2.4, "2 km"), (2.6, "3 km"), (3.0, "3 km")):
        p = describe(*_from(HORLIVKA, 180.0, km))
        assert p is not None and p.text == f"{words} S of Horlivka (Donetsk oblast)"
        assert p.distance_km == pytest.approx(km, abs=0.051)  # geodesic: well under 1 % off


def test_a_point_in_russia_says_its_true_distance() -> None:
    p = describe(40.0, 48.5)  # east of the border, ~50 km from Luhansk
    assert p is not None and p.name == "Luhansk" and p.direction == "E"
    _, _, d = GEOD.inv(39.30553, 48.56814, 40.0, 48.5)
    assert p.distance_km == pytest.approx(d / 1000.0, abs=0.05) and p.distance_km > 45
    assert p.text == f"{round(d / 1000.0)} km E of Luhansk (Luhansk oblast)"


# ---------------------------------------------------------------------------------- the tier rule
def test_the_tier_rule() -> None:
    assert [(t.min_population, t.max_km) for t in TIERS] == [(0, IN_KM), (1_000, 5.0), (10_000, 25.0), (0, 10.0),
                                                             (50_000, math.inf)]  # fmt: skip
    g = Gazetteer(_rows(
        (1, "Tiny", 37.0, 48.0, 600),  # a hamlet
        (2, "Village", 37.10, 48.0, 1_500),
        (3, "Town", 37.30, 48.0, 20_000),
        (4, "City", 38.0, 48.0, 200_000),
    ))  # fmt: skip

    def text(lon: float, lat: float) -> str:
        got = g.describe_many(lon, lat)[0]
        assert got is not None
        return got.text.removesuffix(" (Donetsk oblast)")

    assert text(*_from((37.0, 48.0), 0, 0.5)) == "in Tiny"  # any place within 1 km
    assert text(*_from((37.0, 48.0), 0, 2.0)) == "22 km W of Town"  # Tiny is no reference at 2 km, Village at 7
    assert text(*_from((37.10, 48.0), 0, 4.0)) == "4 km N of Village"  # 1,000+ within 5 km
    assert text(*_from((37.30, 48.0), 0, 6.0)) == "6 km N of Town"  # then 10,000+ within 25 km
    assert text(*_from((37.0, 48.0), 270, 8.0)) == "8 km W of Tiny"  # then any place within 10 km
    assert text(*_from((37.30, 48.0), 0, 30.0)).endswith("of City")  # then 50,000+ at any distance
    far = g.describe_many(*_from((38.0, 48.0), 90, 300.0))[0]
    assert far is not None and far.name == "City" and far.distance_km == pytest.approx(300.0, abs=0.1)


def test_a_gazetteer_without_cities_describes_nothing_beyond_its_tiers() -> None:
    g = Gazetteer(_rows((1, "Village", 37.0, 48.0, 1_500)), tiers=(Tier(1_000, 5.0),))
    near, far = g.describe_many([37.0, 37.0], [48.01, 48.2])
    assert near is not None and near.name == "Village" and far is None
    with pytest.raises(ValueError, match="at least one place"):
        Gazetteer([])


def test_vectorized_equals_scalar_and_nan_is_none() -> None:
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(34.0, 40.5, 300), rng.uniform(46.0, 50.5, 300)
    many = describe(lon, lat)
    assert many == [describe(float(x), float(y)) for x, y in zip(lon, lat, strict=True)]
    assert describe(float("nan"), 48.0) is None and describe([], []) == []
    assert describe([37.0, float("nan")], [48.0, 48.0])[1] is None
    assert places.place_text(None, None) == "" and places.place_text(*KRAMATORSK).startswith("in Kramatorsk")


def test_the_16_point_compass() -> None:
    text = files("truceline").joinpath("data", places.PLACES_FILE).read_text(encoding="utf-8")
    g = Gazetteer(list(csv.DictReader(io.StringIO(text))), points=16)
    p = g.describe_many(*_from(HORLIVKA, 247.5, 2.0))[0]
    assert p is not None and p.text == "2 km WSW of Horlivka (Donetsk oblast)"


# ---------------------------------------------------------------------------------- redaction
def test_the_place_of_a_position_is_that_of_the_position_as_given() -> None:
    lon, lat = _from(HORLIVKA, 225.0, 2.0)
    exact, rounded = shown_place(EXACT, lon, lat), shown_place(ROUNDED, lon, lat)
    assert exact == describe(lon, lat)
    point = shown(ROUNDED, lon, lat)
    assert point is not None and rounded == describe(*point)  # from the rounded point, not the stored one
    assert shown_place(WITHHELD, lon, lat) is None  # a withheld position has no place


def test_a_rounded_place_is_no_finer_than_the_rounded_position() -> None:
    """Every exact position in a 0.01-degree cell gets the same public place: the words tell nothing the
    rounded coordinates do not."""
    rng = np.random.default_rng(3)
    centre = (37.99, 48.29)
    lon = centre[0] + rng.uniform(-0.00499, 0.00499, 50)
    lat = centre[1] + rng.uniform(-0.00499, 0.00499, 50)
    got = {shown_place(ROUNDED, float(x), float(y)) for x, y in zip(lon, lat, strict=True)}
    assert len(got) == 1 and got == {describe(*centre)}
