"""Detections in bulk for the PostGIS store: written with ``COPY`` (binary), read back as columns.

A batch goes into a temporary table with one binary ``COPY``, is compared with the stored rows of the
same ids in one join (a repeat or a conflict, as the SQLite store tells them apart) and the new rows
are inserted with one ``INSERT ... SELECT``. A time range is read back in one statement whose
aggregates return each column whole (ids as arrays, numbers as the bytes of their binary form), turned
into NumPy arrays without a Python object per value, then put in arrival order (and id order within a
microsecond, code point order as in SQLite) by NumPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import psycopg

from truceline.io.detections import COLUMNS, DetectionTable

__all__ = ["DET_COLS", "FLOAT_COLS", "compare_incoming", "copy_incoming", "insert_incoming", "read_detections"]

#: Stored detection columns: the bulk reader's, less the source line, under the codebook's names.
DET_COLS = ("id", "sensor_id", *COLUMNS[2:-1])
#: The float columns (NaN stored as NULL, as the SQLite store does).
FLOAT_COLS = DET_COLS[3:]

_INCOMING = (
    'CREATE TEMP TABLE IF NOT EXISTS truceline_incoming (id text COLLATE "C", sensor_id text COLLATE "C", '
    "t_us bigint, " + ", ".join(f"{c} float8" for c in FLOAT_COLS) + ", k integer) ON COMMIT DELETE ROWS"
)


def copy_incoming(cur: psycopg.Cursor[Any], table: DetectionTable) -> None:
    """Write ``table`` into the session's temporary table ``truceline_incoming`` (emptied first) with a
    binary ``COPY``; ``k`` is each row's index in ``table``. Inside a transaction (the rows go at commit)."""
    cur.execute(_INCOMING)
    cur.execute("TRUNCATE truceline_incoming")
    cols = [table.ids.tolist(), table.sensor_ids.tolist(), table.t_us.astype(np.int64).tolist()]
    cols += [np.asarray(getattr(table, c), dtype=np.float64).tolist() for c in FLOAT_COLS]
    with cur.copy(f"COPY truceline_incoming ({', '.join(DET_COLS)}, k) FROM STDIN (FORMAT BINARY)") as cp:
        cp.set_types(["text", "text", "int8", *["float8"] * len(FLOAT_COLS), "int4"])
        for row in zip(*cols, range(len(table)), strict=True):
            cp.write_row(row)


def compare_incoming(cur: psycopg.Cursor[Any]) -> list[tuple[int, bool]]:
    """``(k, identical)`` of the incoming rows whose id is stored: identical when every column is (NaN
    and NULL the same)."""
    same = " AND ".join(
        f"d.{c} IS NOT DISTINCT FROM " + (f"NULLIF(i.{c}, 'NaN')" if c in FLOAT_COLS else f"i.{c}")
        for c in DET_COLS[1:]
    )
    rows = cur.execute(f"SELECT i.k, ({same}) FROM truceline_incoming i JOIN detections d ON d.id = i.id").fetchall()
    return [(int(k), bool(identical)) for k, identical in rows]


def insert_incoming(cur: psycopg.Cursor[Any], seq: int, source: str) -> int:
    """Insert the incoming rows whose id is not stored yet under sequence number ``seq``; the count."""
    values = ", ".join(f"NULLIF(i.{c}, 'NaN')" if c in FLOAT_COLS else f"i.{c}" for c in DET_COLS)
    cur.execute(
        f"INSERT INTO detections ({', '.join(DET_COLS)}, seq, source) SELECT {values}, %s, %s "
        "FROM truceline_incoming i WHERE NOT EXISTS (SELECT 1 FROM detections d WHERE d.id = i.id) "
        "ORDER BY i.t_us, i.id",  # in time order: the time index (and the table) grow at their end
        (seq, source),
    )
    return int(cur.rowcount)


def _floats(buf: bytes | None) -> np.ndarray:
    return np.frombuffer(buf or b"", dtype=">f8").astype(np.float64)


def read_detections(conn: psycopg.Connection[Any], where: str, params: tuple[Any, ...]) -> DetectionTable:
    """The detections ``WHERE where`` (over ``detections``), in arrival order then id order.

    One statement: ids and sensor ids as ``text[]``, the numbers as the concatenated big-endian bytes of
    each value (NULL as NaN); every aggregate of one statement sees the rows in the same order, so the
    columns line up, and NumPy sorts them.
    """
    nums = ", ".join(f"string_agg(float8send(COALESCE({c}, 'NaN')), ''::bytea)" for c in FLOAT_COLS)
    q = (
        f"SELECT array_agg(id), array_agg(sensor_id), string_agg(int8send(t_us), ''::bytea), {nums} "
        f"FROM detections WHERE {where}"
    )
    with conn.cursor(binary=True) as cur:
        row = cur.execute(q, params).fetchone()
    assert row is not None
    ids = np.array(row[0] or [], dtype=str)
    sensors = np.array(row[1] or [], dtype=str)
    t_us = np.frombuffer(row[2] or b"", dtype=">i8").astype(np.int64)
    floats = [_floats(b) for b in row[3:]]
    order = np.lexsort((ids, t_us)) if ids.size else np.zeros(0, dtype=np.int64)
    n = int(ids.size)
    return DetectionTable(
        ids=ids[order] if n else np.zeros(0, dtype=str),
        sensor_ids=sensors[order] if n else np.zeros(0, dtype=str),
        t_us=t_us[order],
        time_sigma_s=floats[0][order],
        bearing_deg=floats[1][order],
        bearing_sigma_deg=floats[2][order],
        amplitude_pa=floats[3][order],
        launch_score=floats[4][order],
        impact_score=floats[5][order],
        line=np.zeros(n, dtype=np.int64),
    )
