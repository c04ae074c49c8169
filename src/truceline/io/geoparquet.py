"""GeoParquet 1.0 (``.parquet``): rows of points as an Arrow table with a WKB geometry column.

Written with pyarrow: the geometry as WKB points (shapely) in the column ``geometry`` and the
GeoParquet ``geo`` metadata (encoding, geometry types, CRS as PROJJSON, bbox) written by hand, so
no GeoPandas is needed. Positions are WGS84 longitude/latitude (OGC:CRS84 axis order). Registered
as ``geoparquet`` in :mod:`truceline.io.formats`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from pyproj import CRS

from truceline.io.streams import Source, Target, path_of, source_name

__all__ = ["GEOMETRY", "read_geoparquet", "write_geoparquet"]

GEOMETRY = "geometry"
"""The name of the geometry column (GeoParquet's primary column)."""


def _crs84_projjson() -> dict[str, Any]:
    doc: dict[str, Any] = CRS.from_string("OGC:CRS84").to_json_dict()
    return doc


def _geo_metadata(lon: np.ndarray, lat: np.ndarray) -> dict[str, Any]:
    bbox = [float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())] if lon.size else []
    return {
        "version": "1.0.0",
        "primary_column": GEOMETRY,
        "columns": {
            GEOMETRY: {
                "encoding": "WKB",
                "geometry_types": ["Point"],
                "crs": _crs84_projjson(),
                "edges": "planar",
                **({"bbox": bbox} if bbox else {}),
            }
        },
    }


def write_geoparquet(
    path: Target,
    rows: Sequence[Mapping[str, Any]],
    columns: Mapping[str, pa.DataType] | None = None,
    lon: str = "lon",
    lat: str = "lat",
    compression: str = "zstd",
) -> int:
    """Write rows with longitude/latitude columns as GeoParquet 1.0 points; return the number of rows.

    Parameters
    ----------
    path : str, PathLike or binary stream
        The file (its folder is made) or an open binary stream.
    rows : sequence of mapping
        One mapping per row, with the ``lon`` and ``lat`` columns (WGS84 degrees).
    columns : mapping of str to pyarrow.DataType, optional
        The columns written, in order, with their Arrow types (default: the keys of the first
        row, types inferred). ``lon`` and ``lat`` stay columns too; the geometry comes last.
    lon, lat : str
        The columns of the position.
    compression : str
        Parquet compression (``"zstd"``).
    """
    cols: Mapping[str, pa.DataType | None] = (
        columns if columns is not None else dict.fromkeys(rows[0] if rows else (), None)
    )
    x = np.array([r[lon] for r in rows], dtype=np.float64)
    y = np.array([r[lat] for r in rows], dtype=np.float64)
    wkb = shapely.to_wkb(shapely.points(x, y), output_dimension=2) if rows else np.empty(0, dtype=object)
    arrays = [pa.array([r[k] for r in rows], type=t) for k, t in cols.items()]
    table = pa.Table.from_arrays([*arrays, pa.array(list(wkb), type=pa.binary())], names=[*cols, GEOMETRY])
    meta = dict(table.schema.metadata or {})
    meta[b"geo"] = json.dumps(_geo_metadata(x, y)).encode("utf-8")
    p = path_of(path)
    if p is not None:
        p.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table.replace_schema_metadata(meta), p if p is not None else path, compression=compression)
    return len(rows)


def read_geoparquet(path: Source, lon: str = "lon", lat: str = "lat", name: str | None = None) -> list[dict[str, Any]]:
    """The rows of a GeoParquet file of points: every column but the geometry, and ``lon``/``lat``.

    ``lon`` and ``lat`` are taken from the point geometry when the file has no such columns.

    Raises
    ------
    ValueError
        ``FILE: ...`` when the file has no GeoParquet ``geo`` metadata, or a geometry is not a point.
    """
    where = source_name(path, name)
    p = path_of(path)
    table = pq.read_table(p if p is not None else path)
    raw = (table.schema.metadata or {}).get(b"geo")
    if raw is None:
        raise ValueError(f"{where}: not GeoParquet (no 'geo' metadata)")
    column = json.loads(raw).get("primary_column", GEOMETRY)
    geoms = shapely.from_wkb(np.asarray(table.column(column).to_pylist(), dtype=object))
    rows = table.drop_columns([column]).to_pylist()
    for i, (row, g) in enumerate(zip(rows, geoms, strict=True)):
        if shapely.get_type_id(g) != 0:
            raise ValueError(f"{where}: row {i}: {column}: not a point")
        row.setdefault(lon, shapely.get_x(g))
        row.setdefault(lat, shapely.get_y(g))
    return rows
