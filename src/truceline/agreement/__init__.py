"""The agreement as data: a YAML manifest plus GeoJSON layers, loaded, validated and versioned.

The shipped examples (package data, usable offline):

- ``default``: the line of contact derived from the newest DeepStateMap snapshot, a 7.5 km buffer
  each side, Minsk II withdrawal distances, protected sites and sectors of responsibility;
- ``minsk2015``: the Minsk-era (2015-2022) line, derived from DeepStateMap's ORDLO polygon.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from truceline.agreement.load import AgreementError, Issue, load_agreement, validate_agreement
from truceline.agreement.model import (
    Agreement,
    CeasefireWindow,
    LineBand,
    LineVersion,
    NamedArea,
    NoLineInForce,
    ProtectedSite,
    Transparency,
    band_km_at,
)

EXAMPLES = ("default", "minsk2015")

__all__ = [
    "EXAMPLES",
    "Agreement",
    "AgreementError",
    "CeasefireWindow",
    "Issue",
    "LineBand",
    "LineVersion",
    "NamedArea",
    "NoLineInForce",
    "ProtectedSite",
    "Transparency",
    "band_km_at",
    "default_agreement",
    "example_path",
    "load_agreement",
    "validate_agreement",
]


def example_path(name: str = "default") -> Path:
    """Directory of a shipped example agreement."""
    if name not in EXAMPLES:
        raise ValueError(f"unknown example agreement {name!r}; choose one of {EXAMPLES}")
    return Path(str(files("truceline.agreement").joinpath("examples", name)))


def default_agreement(name: str = "default") -> Agreement:
    """Load a shipped example agreement (``default`` or ``minsk2015``)."""
    return load_agreement(example_path(name))
