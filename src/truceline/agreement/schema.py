"""The agreement manifest (``agreement.yaml``) as a pydantic schema.

This is the transport shape of the file; :mod:`truceline.agreement.model` holds the loaded
agreement with its geometry. See ``docs/agreement.md`` for the format.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from truceline.core.enums import Party, WeaponClass

#: The manifest format this code reads.
FORMAT_VERSION = 1

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
RelPath = Annotated[str, StringConstraints(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PartySpec(_Strict):
    """A party: its code and the name printed in reports."""

    id: Party
    name: Text


class BandSpec(_Strict):
    """A line version's disagreement band (``truceline agreement reconcile``): its layer of segments along
    the line, each with ``disagreement_km``, and the sources compared (the first drew the line)."""

    file: RelPath
    sources: Annotated[list[Text], Field(min_length=2)]
    step_km: Annotated[float, Field(gt=0, le=100)] = 1.0


class LineVersionSpec(_Strict):
    """One dated version of the line of contact and the areas each party controls."""

    id: Id
    valid_from: AwareDatetime
    valid_to: AwareDatetime | None = None
    line: RelPath
    controlled_areas: dict[Party, RelPath]
    source: str = ""
    band: BandSpec | None = None

    @model_validator(mode="after")
    def _order(self) -> LineVersionSpec:
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from")
        return self


class CeasefireWindowSpec(_Strict):
    """A local ceasefire ("window of silence"), e.g. for repairs of infrastructure."""

    id: Id
    name: Text
    start: AwareDatetime
    end: AwareDatetime
    sites: list[Id] = Field(default_factory=list)
    sectors: list[Id] = Field(default_factory=list)
    whole_line: bool = False

    @model_validator(mode="after")
    def _check(self) -> CeasefireWindowSpec:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if not (self.sites or self.sectors or self.whole_line):
            raise ValueError("a window needs sites, sectors or whole_line: true")
        return self


#: A signed-note verifier key: ``name+keyid(8 hex)+base64(type byte || Ed25519 public key)``.
VerifierKey = Annotated[str, StringConstraints(pattern=r"^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]{40,}=*$")]


class TransparencySpec(_Strict):
    """What the parties pin for the transparency log (docs/ledger.md): the mission's log keys, the log's
    origin, the witnesses' keys and how many of them must cosign a checkpoint for a bulletin to count as
    published."""

    origin: Text | None = None
    log_keys: Annotated[list[VerifierKey], Field(min_length=1)]
    witnesses: list[VerifierKey] = Field(default_factory=list)
    quorum: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _check(self) -> TransparencySpec:
        if self.quorum > len(self.witnesses):
            raise ValueError(f"quorum {self.quorum} is more than the {len(self.witnesses)} witnesses named")
        for name, keys in (("log_keys", self.log_keys), ("witnesses", self.witnesses)):
            if len(set(keys)) != len(keys):
                raise ValueError(f"{name}: a key is named twice")
        return self


class AgreementSpec(_Strict):
    """The whole manifest."""

    truceline_agreement: int = Field(description="format version of the manifest")
    id: Id
    title: Text
    version: Text
    effective_from: AwareDatetime
    attribution: list[str] = Field(default_factory=list)
    parties: Annotated[list[PartySpec], Field(min_length=2, max_length=2)]
    lines: Annotated[list[LineVersionSpec], Field(min_length=1)]
    buffer_zone_km: Annotated[float, Field(ge=0, le=100)]
    withdrawal_km: dict[WeaponClass, Annotated[float, Field(gt=0, le=1000)]]
    disengagement_areas: RelPath | None = None
    protected_sites: RelPath | None = None
    sectors: RelPath | None = None
    ceasefire_windows: list[CeasefireWindowSpec] = Field(default_factory=list)
    transparency: TransparencySpec | None = None
    notes: str = ""

    @field_validator("truceline_agreement")
    @classmethod
    def _format(cls, value: int) -> int:
        if value != FORMAT_VERSION:
            raise ValueError(f"format {value} is not supported (this build reads {FORMAT_VERSION})")
        return value

    @field_validator("parties")
    @classmethod
    def _distinct(cls, value: list[PartySpec]) -> list[PartySpec]:
        ids = [p.id.value for p in value]
        if len(set(ids)) != len(ids):
            raise ValueError(f"party ids must be distinct, got {ids}")
        return value


def utc(t: dt.datetime) -> dt.datetime:
    """``t`` in UTC."""
    return t.astimezone(dt.UTC)
