"""Request bodies of the API (pydantic): what review and token calls accept, nothing more."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["MergeBody", "ReviewBody", "SessionBody", "SplitBody", "TokenBody"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReviewBody(_Body):
    """A review action's reason (``annotate`` takes ``text``, or ``reason`` as the note)."""

    reason: str | None = Field(None, min_length=1, description="Why: the sources checked, the judgement.")
    text: str | None = Field(None, min_length=1, description="The note (annotate only).")


class MergeBody(_Body):
    """Merge incidents into a new one (the old ones are superseded, never deleted)."""

    ids: list[str] = Field(min_length=2, description="Incident ids to merge.")
    reason: str = Field(min_length=1)


class SplitBody(_Body):
    """Split an incident into one new incident per group of its event (and observation) ids."""

    id: str = Field(min_length=1, description="The incident to split.")
    groups: list[list[str]] = Field(min_length=2, description="The ids of each new incident.")
    reason: str = Field(min_length=1)


class TokenBody(_Body):
    """A token to make (admin): its role, its holder and, for a liaison officer, the party."""

    role: Literal["admin", "analyst", "observer", "liaison"]
    name: str = Field(min_length=1, description="Who holds it; the actor of the review actions it makes.")
    party: Literal["UA", "RU"] | None = None


class SessionBody(_Body):
    """A token to sign in with (the dashboard): exchanged for a session cookie, never kept."""

    token: str = Field(min_length=1, max_length=200, description="An API token (`truceline token create`).")
