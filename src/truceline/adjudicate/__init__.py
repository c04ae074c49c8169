"""Adjudication: agreement rules (one registered module per family), claims verification, coverage.

The rule families are declared once, in :mod:`truceline.agreement.families`; importing this
package registers the rule of each (one module per family: :mod:`~truceline.adjudicate.fire_across_line`,
:mod:`~truceline.adjudicate.buffer_zone`, :mod:`~truceline.adjudicate.withdrawal_zone`,
:mod:`~truceline.adjudicate.protected_site`, :mod:`~truceline.adjudicate.ceasefire_window`, and
:mod:`~truceline.adjudicate.monitoring` for the monitors' own reports). :func:`rule_families` is the
registry in the declared order: each family's labels, colour, rule title, version and default
parameters.
"""

from truceline.adjudicate import (  # noqa: F401  (imported to register the families)
    buffer_zone,
    ceasefire_window,
    fire_across_line,
    monitoring,
    protected_site,
    withdrawal_zone,
)
from truceline.adjudicate.base import RULES, Context, Rule, RuleFamily, register, rule_families
from truceline.adjudicate.engine import adjudicate, make_rules

__all__ = ["RULES", "Context", "Rule", "RuleFamily", "adjudicate", "make_rules", "register", "rule_families"]
