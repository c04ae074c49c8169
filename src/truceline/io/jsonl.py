"""JSON Lines: one codebook record (or plain object) per line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from truceline.core import Record, to_json_dict

R = TypeVar("R", bound=Record)


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


def read_typed(path: str | Path, cls: type[R]) -> list[R]:
    """Every line of ``path`` parsed as a ``cls`` record, strictly.

    Raises
    ------
    ValueError
        ``FILE:LINE: ...`` at the first line that is not valid JSON or not a valid record.
    """
    from truceline.core import RecordError, parse_record

    out: list[R] = []
    for lineno, obj in read_objects(path):
        try:
            out.append(parse_record(cls, obj))
        except RecordError as exc:
            raise ValueError(f"{path}:{lineno}: {exc}") from None
    return out
