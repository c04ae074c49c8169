"""Run the registered rules over a scope and give every finding its automatic verification status."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from truceline.adjudicate.base import RULES, Context, Rule, rule_families
from truceline.adjudicate.verification import MatchParams, verify
from truceline.core import Violation


def make_rules(params: Mapping[str, Any] | None = None, only: Iterable[str] | None = None) -> list[Rule]:
    """Instances of the registered rules (all, in the families' declared order, or ``only`` those
    ids), with optional ``Params`` by id.

    Raises
    ------
    ValueError
        Naming an unknown rule id.
    """
    params = dict(params or {})
    ids = list(only) if only is not None else [f.id for f in rule_families()]
    unknown = sorted((set(ids) | set(params)) - set(RULES))
    if unknown:
        raise ValueError(f"unknown rule {unknown[0]!r}; registered: {sorted(RULES)}")
    return [RULES[i](params.get(i)) for i in ids]


def adjudicate(ctx: Context, rules: list[Rule] | None = None, match: MatchParams | None = None) -> list[Violation]:
    """Every finding of ``rules`` (default: all registered) in ``ctx``, verified, sorted by time and id."""
    found: list[Violation] = []
    for rule in rules if rules is not None else make_rules():
        found += rule.apply(ctx)
    ids = [v.id for v in found]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise RuntimeError(f"two findings share the id {dup!r} (a rule must name each subject once)")
    return sorted(verify(found, ctx, match or MatchParams()), key=lambda v: (v.time, v.id))
