"""Writing a simulation: observations in the project's input formats, and the ground truth apart."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from truceline.io.jsonl import dumps

FloatArray = NDArray[np.float64]

#: Columns of ``detections.csv`` (see docs/formats.md).
DETECTION_COLUMNS = (
    "id",
    "sensor_id",
    "arrival_time",
    "time_sigma_s",
    "bearing_deg",
    "bearing_sigma_deg",
    "amplitude_pa",
    "class_scores.launch",
    "class_scores.impact",
)


def iso_times(start: dt.datetime, t_s: FloatArray) -> NDArray[np.str_]:
    """ISO 8601 UTC strings with microseconds for simulation times (vectorized)."""
    base = np.datetime64(start.astimezone(dt.UTC).replace(tzinfo=None), "us")
    stamps = base + np.round(np.asarray(t_s) * 1e6).astype("timedelta64[us]")
    return np.char.add(np.datetime_as_string(stamps, unit="us"), "+00:00")


def _fmt(values: FloatArray, decimals: int) -> list[str]:
    """Fixed-decimal strings, empty for NaN."""
    out = np.char.mod(f"%.{decimals}f", np.nan_to_num(values)).tolist()
    for i in np.flatnonzero(np.isnan(values)):
        out[i] = ""
    return out


def write_detections(
    path: Path,
    fmt: str,
    ids: list[str],
    sensor_ids: list[str],
    times: NDArray[np.str_],
    time_sigma_s: float,
    bearing: FloatArray,
    bearing_sigma_deg: float | None,
    amplitude_pa: FloatArray,
    launch_score: FloatArray,
) -> Path:
    """Write detections as CSV (``fmt="csv"``) or JSON Lines, vectorized (a day holds ~1M)."""
    n = len(ids)
    has_b = ~np.isnan(bearing)
    bs = "" if bearing_sigma_deg is None else f"{bearing_sigma_deg:g}"
    cols = {
        "id": ids,
        "sensor_id": sensor_ids,
        "arrival_time": times.tolist(),
        "time_sigma_s": [f"{time_sigma_s:g}"] * n,
        "bearing_deg": _fmt(bearing, 2),
        "bearing_sigma_deg": [bs if b else "" for b in has_b],
        "amplitude_pa": _fmt(amplitude_pa, 6),
        "class_scores.launch": _fmt(launch_score, 3),
        "class_scores.impact": _fmt(1.0 - launch_score, 3),
    }
    if fmt == "csv":
        out = path.with_suffix(".csv")
        rows = zip(*(cols[c] for c in DETECTION_COLUMNS), strict=True)
        with out.open("w", encoding="utf-8") as fh:
            fh.write(",".join(DETECTION_COLUMNS) + "\n")
            fh.writelines(",".join(r) + "\n" for r in rows)
        return out
    out = path.with_suffix(".jsonl")
    with out.open("w", encoding="utf-8") as fh:
        for i in range(n):
            rec: dict[str, object] = {
                "id": ids[i],
                "sensor_id": sensor_ids[i],
                "arrival_time": cols["arrival_time"][i],
                "time_sigma_s": time_sigma_s,
                "amplitude_pa": float(cols["amplitude_pa"][i]),
                "class_scores": {
                    "launch": float(cols["class_scores.launch"][i]),
                    "impact": float(cols["class_scores.impact"][i]),
                },
            }
            if has_b[i]:
                rec["bearing_deg"] = float(cols["bearing_deg"][i]) % 360.0
                rec["bearing_sigma_deg"] = bearing_sigma_deg
            fh.write(dumps(rec) + "\n")
    return out


def write_json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
