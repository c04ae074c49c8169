"""Results out of the store, in the result-folder layout ``truceline score`` reads (docs/formats.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from truceline.core import Record, evolve
from truceline.io.jsonl import write_records
from truceline.store.base import Derived, Store

#: Derived kind -> file name.
FILES = {
    "event": "events.jsonl",
    "incident": "incidents.jsonl",
    "violation": "violations.jsonl",
    "claim_assessment": "claim_verdicts.jsonl",
}


def current(d: Derived) -> Record:
    """The record with its current (reviewed) verification status."""
    if d.status is not None and getattr(d.record, "status", None) is not None and d.record.status != d.status:  # type: ignore[attr-defined]
        return evolve(d.record, status=d.status)
    return d.record


def export_results(
    store: Store, out: str | Path, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> dict[str, int]:
    """Write the current derived records to ``out``; return the count per file."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return {
        name: write_records(out / name, [current(d) for d in store.derived(kind, since, until)])
        for kind, name in FILES.items()
    }
