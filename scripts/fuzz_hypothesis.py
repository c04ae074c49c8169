"""The Hypothesis half of ``scripts/fuzz.py``: inputs whose damaged field holds any JSON value at all.

The mutation half of the campaign puts values known to be wrong in each field; here Hypothesis
draws the value (any JSON: nulls, booleans, integers of any size, floats including NaN and
infinities, any text including lone surrogates and control characters, lists and objects nested a
few deep) for a field chosen at random, or a whole line of arbitrary text. Nothing here says
whether the result is valid: the oracle of ``fuzz.py`` (the record parser under the same limits)
decides, and the campaign counts crashes, silent acceptances and good records lost as for the rest.
"""

from __future__ import annotations

import json
import random
from types import ModuleType
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from truceline.io.records import RecordKind

GOOD = 4

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)


def _case(fz: ModuleType, kind: str, encoding: str, n: int, pick: float, value: Any, line: str) -> Any:
    """One input of ``fz`` (the campaign module, ``scripts/fuzz.py``): good records and one drawn."""
    goods = [fz.good_record(kind, f"h{n}", j) for j in range(GOOD)]
    victim = fz.good_record(kind, f"h{n}", GOOD)
    if encoding == "csv":
        cells = fz.det_row(victim)
        col = int(pick * len(fz.DET_COLUMNS))
        cells[col] = line
        lines = [fz.csv_line(fz.det_row(o)) for o in goods]
        text, what = fz.csv_line(cells), f"hypothesis {fz.DET_COLUMNS[col]}={line[:40]!r}"
    else:
        paths = [p for p, _ in fz.leaves(victim) if p]
        path = paths[int(pick * len(paths))]
        mutated = json.loads(json.dumps(victim))
        fz.set_at(mutated, path, value)
        lines = [json.dumps(o) for o in goods]
        text = json.dumps(mutated, allow_nan=True)
        if encoding == "json":
            text = text.replace("\n", " ")
        what = f"hypothesis {'.'.join(map(str, path))}={str(value)[:40]!r}"
    at = n % (GOOD + 1)
    lines.insert(at, text)
    return fz.Case(kind, encoding, lines, [o["id"] for o in goods], at, False, mutation=what)


def hypothesis_cases(fz: ModuleType, n: int, encoding: str, path: str, seed_value: int) -> list[Any]:
    """``n`` cases of one encoding drawn by Hypothesis (seeded by ``seed_value``: reproducible)."""
    kinds = [k.value for k in RecordKind if not (path == "files" and encoding == "json" and k is RecordKind.DETECTION)]
    out: list[Any] = []

    @seed(seed_value)
    @settings(max_examples=n, database=None, derandomize=False, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(kind=st.sampled_from(kinds), pick=st.floats(0, 1, exclude_max=True), value=JSON_VALUES,
           line=st.text(max_size=60))  # fmt: skip
    def draw(kind: str, pick: float, value: Any, line: str) -> None:
        k = "detection" if encoding == "csv" else kind
        out.append(_case(fz, k, encoding, len(out), pick, value, line))

    draw()
    random.Random(seed_value).shuffle(out)
    return out[:n]
