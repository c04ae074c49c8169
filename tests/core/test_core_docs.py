"""docs/codebook.md documents every record field and every enum value (so it cannot rot)."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path

import pytest

import truceline.core as core

DOC = Path(__file__).resolve().parents[2] / "docs" / "codebook.md"

MODELS = [
    *core.RECORD_TYPES.values(),
    core.Position,
    core.TimeUncertainty,
    core.GeoUncertainty,
    core.CountRange,
    core.TimeWindow,
    core.Attribution,
    core.Provenance,
]
ENUMS = [obj for obj in vars(core).values() if isinstance(obj, type) and issubclass(obj, Enum)]


def _section(title: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"^### {re.escape(title)}\n(.*?)(?=^#{{2,3}} |\Z)", text, re.M | re.S)
    assert match, f"docs/codebook.md has no section '### {title}'"
    return match.group(1)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_field_documented(model: type[core.FrozenModel]) -> None:
    section = _section(model.__name__)
    documented = set(re.findall(r"^\| `([a-z_0-9]+)` \|", section, re.M))
    assert documented == set(model.model_fields)


@pytest.mark.parametrize("enum", ENUMS, ids=lambda e: e.__name__)
def test_every_enum_value_documented(enum: type[Enum]) -> None:
    section = _section(enum.__name__)
    for member in enum:
        assert f"`{member.value}`" in section, member
