"""The agreement's rule families, declared once: id, labels, colour and the simulator's truth sources.

Every part of truceline that names the families reads this table, in its order (the order of the
scorer's families, of the bulletin's columns and of the dashboard's filter):

- adjudication registers one rule per family (:func:`truceline.adjudicate.base.register` refuses an
  id not declared here) and joins rule and declaration in :func:`truceline.adjudicate.rule_families`
  (title, version, default parameters), which the API serves at ``GET /api/v1/rules``;
- the simulator labels the truth of each family from the sources named in :attr:`Family.truth`
  (the rounds' labellers are registered against the ids in :mod:`truceline.sim.activity`);
- the scorer scores these families, the bulletin prints :attr:`Family.short` and draws
  :attr:`Family.colour`, the dashboard lists :attr:`Family.label`.

This module is plain data (below adjudication and the simulator, which may not import each other).
Adding a family: declare it here, register its rule in :mod:`truceline.adjudicate`, label its truth
in the simulator (a round labeller, or the source that makes its records).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FAMILIES", "FAMILY_IDS", "TRUTH_SOURCES", "Family", "family", "family_of"]

#: Where the simulator finds the ground truth of a family (the records its rule judges):
#: ``rounds`` (true launches and impacts, :func:`truceline.sim.activity.label_rounds`),
#: ``sightings`` (UAV and imagery sightings, :mod:`truceline.sim.sightings`), ``restrictions``
#: (patrols' freedom-of-movement restrictions, :mod:`truceline.sim.observers`) and
#: ``sensor_status`` (sensors jammed or destroyed, :mod:`truceline.sim.run`).
TRUTH_SOURCES = ("rounds", "sightings", "restrictions", "sensor_status")


@dataclass(frozen=True)
class Family:
    """One rule family of the agreement.

    Attributes
    ----------
    id : str
        The family's id, the part of a finding's ``rule_id`` before the first dot.
    label : str
        Its name as the dashboard and the API list it.
    short : str
        Its column label in the bulletin's tables.
    colour : str
        Its colour on the bulletin's maps and plots and in the KML export (``#rrggbb``).
    truth : tuple of str
        The simulator's sources of its ground truth (:data:`TRUTH_SOURCES`).
    places_asset : bool
        A finding's position is a monitoring asset's (a sensor's), which only the mission sees.
    """

    id: str
    label: str
    short: str
    colour: str
    truth: tuple[str, ...]
    places_asset: bool = False

    def __post_init__(self) -> None:
        unknown = [s for s in self.truth if s not in TRUTH_SOURCES]
        if not self.truth or unknown:
            raise ValueError(f"family {self.id!r}: truth sources {list(self.truth)}; known: {list(TRUTH_SOURCES)}")

    @property
    def fire(self) -> bool:
        """A family of fire: judged on located rounds (launches and impacts)."""
        return "rounds" in self.truth


#: The rule families, in the order every output lists them (colour-blind-safe palette).
FAMILIES: tuple[Family, ...] = (
    Family("fire_across_line", "Fire across the line", "Across line", "#d6392b", ("rounds",)),
    Family("buffer_zone", "Buffer zone", "Buffer zone", "#ff7f0e", ("rounds",)),
    Family("withdrawal_zone", "Withdrawal zone", "Withdrawal", "#1f77b4", ("rounds", "sightings")),
    Family("protected_site", "Protected site", "Protected site", "#9467bd", ("rounds",)),
    Family("ceasefire_window", "Ceasefire window", "Window", "#8c564b", ("rounds",)),
    Family("freedom_of_movement", "Freedom of movement", "Movement", "#2ca02c", ("restrictions",)),
    Family("monitoring_interference", "Monitoring interference", "Interference", "#17bdc2", ("sensor_status",),
           places_asset=True),
)  # fmt: skip

#: The families' ids, in order.
FAMILY_IDS: tuple[str, ...] = tuple(f.id for f in FAMILIES)

_BY_ID = {f.id: f for f in FAMILIES}


def family(family_id: str) -> Family:
    """The family of an id.

    Raises
    ------
    KeyError
        For an id no family has.
    """
    try:
        return _BY_ID[family_id]
    except KeyError:
        raise KeyError(f"unknown rule family {family_id!r}; declared: {list(FAMILY_IDS)}") from None


def family_of(rule_id: str) -> str:
    """The family id of a rule id (``buffer_zone.firing`` -> ``buffer_zone``)."""
    return rule_id.split(".", 1)[0]
