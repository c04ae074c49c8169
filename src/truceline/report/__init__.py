"""The daily bulletin: summary, regions and sectors, findings, attribution, withdrawal, claims, movement,
sensors, notable incidents, maps and trend; HTML and PDF, and the day's findings as GeoJSON, CSV,
GeoParquet and KML, with a manifest of SHA-256 digests.

``truceline report --date 2026-09-02`` (see :mod:`truceline.cli.report`) or :func:`build_bulletin`.
"""

from truceline.report.build import OUTPUT_FILES, BulletinOptions, BulletinResult, build_bulletin, bulletin_id
from truceline.report.data import DayData, load_day, parse_day

__all__ = [
    "OUTPUT_FILES",
    "BulletinOptions",
    "BulletinResult",
    "DayData",
    "build_bulletin",
    "bulletin_id",
    "load_day",
    "parse_day",
]
