"""Rebuild the packaged oblast layer ``src/truceline/data/ua_oblasts.geojson`` from ../shared/data.

Run from the repository root: ``.venv/bin/python scripts/make_oblast_layer.py [--tolerance DEG]``.
The output is committed; this script documents exactly how it was made.

Steps
-----
1. Read the 27 first-level units of Ukraine (24 oblasts, the Autonomous Republic of Crimea and the
   cities of Kyiv and Sevastopol) from Minregion's 2020 layer, full detail, WGS84.
2. Clean them into an exact polygonal coverage (``shapely.coverage_clean``): the source has slivers
   of overlap and gap (largest ~2e-6 deg², a few hundred m²) where neighbours' edges do not match.
3. Simplify the coverage as a whole (``shapely.coverage_simplify``, Visvalingam-Whyatt): shared
   borders are simplified once, so neighbours stay edge-matched with no gaps or overlaps.
4. Round to 5 decimals (~1 m), check every polygon is valid and the coverage still is one, and
   write English, Ukrainian and ISO 3166-2 names. Crimea and Sevastopol stay as the source has
   them, inside Ukraine.

Needs shapely >= 2.2 (GEOS >= 3.14) for ``coverage_clean``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import shapely

from truceline.io.geojson import read_features, write_features

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "data" / "admin" / "ua_oblasts_minregion_2020.geojson"
OUTPUT = ROOT / "src" / "truceline" / "data" / "ua_oblasts.geojson"
ATTRIBUTION = (
    "© Мінрегіон (Minregion, Ministry for Communities and Territories Development of Ukraine), "
    "CC BY-SA; via github.com/justinelliotmeyers/Ukraine_2020; simplified by truceline"
)
LICENSE = "CC BY-SA (share-alike: this derived layer is distributed under the same terms)"
#: Decimal places kept in the output (1e-5 deg is about 1 m).
DECIMALS = 5

#: Source name (property ADMIN_1) -> (English name, ISO 3166-2 code). English names follow the
#: Ukrainian national transliteration (KMU 2010) with the usual "Oblast" suffix.
NAMES: dict[str, tuple[str, str]] = {
    "Автономна Республіка Крим": ("Autonomous Republic of Crimea", "UA-43"),
    "Вінницька область": ("Vinnytsia Oblast", "UA-05"),
    "Волинська область": ("Volyn Oblast", "UA-07"),
    "Дніпропетровська область": ("Dnipropetrovsk Oblast", "UA-12"),
    "Донецька область": ("Donetsk Oblast", "UA-14"),
    "Житомирська область": ("Zhytomyr Oblast", "UA-18"),
    "Закарпатська область": ("Zakarpattia Oblast", "UA-21"),
    "Запорізька область": ("Zaporizhzhia Oblast", "UA-23"),
    "Івано-Франківська область": ("Ivano-Frankivsk Oblast", "UA-26"),
    "Київська область": ("Kyiv Oblast", "UA-32"),
    "Кіровоградська область": ("Kirovohrad Oblast", "UA-35"),
    "Луганська область": ("Luhansk Oblast", "UA-09"),
    "Львівська область": ("Lviv Oblast", "UA-46"),
    "Миколаївська область": ("Mykolaiv Oblast", "UA-48"),
    "Одеська область": ("Odesa Oblast", "UA-51"),
    "Полтавська область": ("Poltava Oblast", "UA-53"),
    "Рівненська область": ("Rivne Oblast", "UA-56"),
    "Сумська область": ("Sumy Oblast", "UA-59"),
    "Тернопільська область": ("Ternopil Oblast", "UA-61"),
    "Харківська область": ("Kharkiv Oblast", "UA-63"),
    "Херсонська область": ("Kherson Oblast", "UA-65"),
    "Хмельницька область": ("Khmelnytskyi Oblast", "UA-68"),
    "Черкаська область": ("Cherkasy Oblast", "UA-71"),
    "Чернівецька область": ("Chernivtsi Oblast", "UA-77"),
    "Чернігівська область": ("Chernihiv Oblast", "UA-74"),
    "Місто Київ": ("Kyiv City", "UA-30"),
    "Місто Севастополь": ("Sevastopol City", "UA-40"),
}


def build(tolerance_deg: float) -> tuple[list[shapely.Geometry], list[dict[str, str]]]:
    """Clean, simplify and round the source layer; return geometries and properties (sorted by ISO code)."""
    feats = read_features(SOURCE)
    names = [str(f.properties.get("ADMIN_1", "")) for f in feats]
    unknown = sorted(set(names) - set(NAMES))
    missing = sorted(set(NAMES) - set(names))
    if unknown or missing or len(names) != len(NAMES):
        sys.exit(f"{SOURCE}: unexpected ADMIN_1 names; unknown {unknown}, missing {missing}")
    geoms = np.array([f.geometry for f in feats], dtype=object)
    area_before = shapely.area(geoms)

    cleaned = shapely.coverage_clean(geoms, gap_width=1e-3)
    simplified = shapely.coverage_simplify(cleaned, tolerance_deg, simplify_boundary=True)
    rounded = shapely.set_precision(simplified, 10.0**-DECIMALS)

    bad = [names[i] for i in np.flatnonzero(~shapely.is_valid(rounded) | shapely.is_empty(rounded))]
    if bad:
        sys.exit(f"invalid or empty after simplification: {bad}")
    if not shapely.coverage_is_valid(rounded):
        sys.exit("the simplified layer is no longer a valid coverage (overlaps or unmatched edges)")
    change = np.abs(shapely.area(rounded) / area_before - 1.0)
    if change.max() > 0.02:
        worst = names[int(np.argmax(change))]
        sys.exit(f"simplification changed the area of {worst} by {change.max():.1%}; lower the tolerance")

    props = [{"name": NAMES[n][0], "name_uk": n, "iso_3166_2": NAMES[n][1]} for n in names]
    order = sorted(range(len(names)), key=lambda i: props[i]["iso_3166_2"])
    return [rounded[i] for i in order], [props[i] for i in order]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tolerance", type=float, default=0.005, help="coverage_simplify tolerance, degrees")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    geoms, props = build(args.tolerance)
    write_features(
        args.output,
        zip(geoms, props, strict=True),
        precision=DECIMALS,
        name="ua_oblasts",
        attribution=ATTRIBUTION,
        license=LICENSE,
        source=SOURCE.name,
        simplification=f"shapely.coverage_clean + coverage_simplify, tolerance {args.tolerance} deg; "
        f"coordinates rounded to {DECIMALS} decimals",
    )
    size = args.output.stat().st_size
    n_coords = int(shapely.get_num_coordinates(np.array(geoms, dtype=object)).sum())
    print(f"wrote {args.output} ({size / 1024:.0f} KiB, {len(geoms)} features, {n_coords} coordinates)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
