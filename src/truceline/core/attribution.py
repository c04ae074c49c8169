"""Graded attribution: who is responsible, to what level, on what evidence.

Wrong blame is the worst error the system can make; ``unattributed`` is the default and an
honest answer. Every level above ``unattributed`` must cite its evidence.
"""

from __future__ import annotations

from typing import Self

from pydantic import model_validator

from truceline.core.base import FrozenModel, NonEmptyStr, Probability
from truceline.core.enums import AttributionLevel, Party
from truceline.core.errors import FieldProblem

__all__ = ["Attribution"]


class Attribution(FrozenModel):
    """Attribution of an incident or finding.

    Attributes
    ----------
    level : AttributionLevel
        ``unattributed`` < ``direction_of_fire`` < ``origin_area`` < ``party``.
    party : Party or None
        The party held responsible. Required at level ``party``; forbidden when
        ``unattributed``; optional in between (e.g. the origin area lies on one side).
    probability : float or None
        Probability in [0, 1] that ``party`` is the one responsible (e.g. the probability
        that the point of origin lies in its controlled area). Requires ``party``.
    evidence : tuple of str
        Evidence references (record ids, or short statements citing them). Required for
        every level above ``unattributed``.
    """

    level: AttributionLevel = AttributionLevel.UNATTRIBUTED
    party: Party | None = None
    probability: Probability | None = None
    evidence: tuple[NonEmptyStr, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.level is AttributionLevel.PARTY and self.party is None:
            raise FieldProblem("party", None, "required when level is 'party'")
        if self.level is AttributionLevel.UNATTRIBUTED and self.party is not None:
            raise FieldProblem("party", self.party.value, "must be empty when unattributed")
        if self.probability is not None and self.party is None:
            raise FieldProblem("probability", self.probability, "given without a party")
        if self.level is not AttributionLevel.UNATTRIBUTED and not self.evidence:
            raise FieldProblem("evidence", (), f"level {self.level.value!r} must cite its evidence")
        return self

    @property
    def is_attributed(self) -> bool:
        """True if a party is held responsible (level ``party``)."""
        return self.level is AttributionLevel.PARTY
