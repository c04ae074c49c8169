"""The named bundles the compiled association takes: every field documented with its shape or unit."""

from __future__ import annotations

import re

import numpy as np
import pytest

from truceline.fusion import bundles
from truceline.fusion.tables import build_tables

BUNDLES = [bundles.Sensors, bundles.Weather, bundles.Tables, bundles.Detections, bundles.Arrivals, bundles.Events,
           bundles.Entries]  # fmt: skip


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda b: b.__name__)
def test_every_field_is_documented_with_a_type_line(bundle: type) -> None:
    doc = bundle.__doc__ or ""
    assert "Attributes\n    ----------" in doc
    attrs = doc.split("----------", 1)[1]
    # "name : type" or "a, b : type", each followed by an indented description line
    documented = {
        n.strip() for m in re.finditer(r"^    ([\w, ]+) : (.+)\n        \S", attrs, flags=re.M) for n in m[1].split(",")
    }
    assert documented == set(bundle._fields)


def test_the_tables_bundle_is_what_build_tables_returns() -> None:
    sx, sy = np.array([0.0, 5000.0, 10_000.0, 0.0]), np.array([0.0, 0.0, 0.0, 5000.0])
    tab = build_tables(sx, sy, grid_m=2000.0, region_radius_m=6000.0, gather_radius_m=8000.0)
    assert isinstance(tab, bundles.Tables) and tab.n_candidates == tab.cand_x.size > 0
    assert tab.sb_ptr.size == sx.size * tab.n_bins + 1 and tab.sb_ptr[-1] == tab.cand_x.size
