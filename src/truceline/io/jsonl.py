"""JSON Lines: one codebook record (or plain object) per line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from truceline.core import Record, to_json_dict


def dumps(obj: Mapping[str, Any]) -> str:
    """Compact, stable JSON for one line."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def write_records(path: str | Path, records: Iterable[Record | Mapping[str, Any]]) -> int:
    """Write records (codebook records or JSON-safe mappings), one per line; return the count."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with p.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(dumps(to_json_dict(r) if isinstance(r, Record) else r))
            fh.write("\n")
            n += 1
    return n


def read_objects(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, object)`` for each non-blank line.

    Raises
    ------
    ValueError
        Naming the file and line of a line that is not a JSON object.
    """
    p = Path(path)
    with p.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{p}:{lineno}: not valid JSON ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise ValueError(f"{p}:{lineno}: not a JSON object")
            yield lineno, obj
