"""The rule families of the JSON API (``GET /api/v1/rules``): the registry, readable by every role.

The registry is :func:`truceline.adjudicate.rule_families` (families declared in
:mod:`truceline.agreement.families`, each with its registered rule); the dashboard reads its
labels and colours from here.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from truceline.adjudicate import rule_families
from truceline.api.auth import allow
from truceline.service.tokens import Principal

__all__ = ["router"]

router = APIRouter(prefix="/api/v1")

# Readable by the same roles as the agreement's layers: every role, the public included.
RulesWho = Annotated[Principal, Depends(allow("layers"))]


@router.get("/rules", tags=["agreement"], summary="The rule families, in order: labels, colour, rule, parameters")
def rules(who: RulesWho) -> list[dict[str, Any]]:
    return [f.to_json() for f in rule_families()]
