"""Adjudication: agreement rules (one registered module per family), claims verification, coverage.

Importing this package registers the rule families:

==========================  ==========================================================
``fire_across_line``        launch in one party's area, impact in the other's
``buffer_zone``             firing or impact in the buffer zone or a disengagement area
``withdrawal_zone``         heavy weapons (fired or sighted) inside their withdrawal zone
``protected_site``          strikes within a protected site's radius
``ceasefire_window``        fire during a local ceasefire window in its area
``freedom_of_movement``     restrictions of the monitors' movement
``monitoring_interference`` sensors jammed or destroyed
==========================  ==========================================================
"""

from truceline.adjudicate import (  # noqa: F401  (imported to register the families)
    buffer_zone,
    ceasefire_window,
    fire_across_line,
    monitoring,
    protected_site,
    withdrawal_zone,
)
from truceline.adjudicate.base import RULES, Context, Rule, register
from truceline.adjudicate.engine import adjudicate, make_rules

__all__ = ["RULES", "Context", "Rule", "adjudicate", "make_rules", "register"]
