"""Adjudication over files, without a store: a fusion result folder plus the observations beside it.

What ``truceline adjudicate`` runs, and what benchmarks use to judge the rules on a perfect fusion
result (the simulator's oracle): same rules, same records as ``truceline process``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from truceline.adjudicate import Context, adjudicate
from truceline.agreement import Agreement
from truceline.core import (
    Event,
    FreedomOfMovementRestriction,
    Incident,
    ObserverReport,
    Sensor,
    SensorStatusReport,
    Sighting,
)
from truceline.io.jsonl import read_typed, write_records


def _read(path: Path, cls: type) -> list[Any]:
    return read_typed(path, cls) if path.exists() else []


def adjudicate_folder(observations: str | Path, result: str | Path, agreement: Agreement) -> int:
    """Judge ``result/events.jsonl`` + ``incidents.jsonl`` with the observations of ``observations``
    (a simulation folder or its ``observations/``); write ``result/violations.jsonl``; return the count."""
    obs = Path(observations)
    obs = obs / "observations" if (obs / "observations").is_dir() else obs
    res = Path(result)
    ctx = Context(
        agreement=agreement,
        events=_read(res / "events.jsonl", Event),
        incidents=_read(res / "incidents.jsonl", Incident),
        sightings=_read(obs / "sightings.jsonl", Sighting),
        restrictions=_read(obs / "fom_restrictions.jsonl", FreedomOfMovementRestriction),
        status_reports=_read(obs / "sensor_status.jsonl", SensorStatusReport),
        observer_reports=_read(obs / "observer_reports.jsonl", ObserverReport),
        sensors=_read(obs / "sensors.jsonl", Sensor),
    )
    return write_records(res / "violations.jsonl", adjudicate(ctx))
