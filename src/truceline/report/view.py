"""How a bulletin words the day: the :class:`View` every section builder takes.

A view is the day's data (:class:`~truceline.report.data.DayData`) with the bulletin's choices
(public or internal, rows per listing): how times, places, references, evidence and attribution
grades are written, and the rule family of each finding.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from truceline.core import Violation
from truceline.core.enums import AttributionLevel, VerificationStatus
from truceline.report.data import DayData
from truceline.report.text import LEVEL_LABELS, date_long, local_time, place, redact_ids
from truceline.service.redaction import FULL, PUBLIC, Audience, PublicIds

__all__ = ["EXPORTS", "LEVELS", "STATUSES", "View"]

#: Where the rows a listing leaves out can be found.
EXPORTS = "the findings exports (findings.csv, .geojson, .parquet, .kml)"
STATUSES = [s.value for s in VerificationStatus]
LEVELS = [lv.value for lv in AttributionLevel]


@dataclass
class View:
    """The day's data and the wording choices of one bulletin.

    Attributes
    ----------
    data : DayData
    public : bool
        The public edition: what the redaction policy gives the public (places rounded to 0.01 degree,
        no sensor, no sensor health, no evidence ids, findings by their public ids).
    max_rows : int
        Rows of a listing table before it is cut (the exports have every row).
    ids : PublicIds or None
        The store's public ids (:func:`truceline.service.redaction.public_ids`): the references of the
        public edition, the same as the public API's ids.
    """

    data: DayData
    public: bool = False
    max_rows: int = 25
    ids: PublicIds | None = None

    @property
    def audience(self) -> Audience:
        """Whom the edition is for, as the redaction policy names it."""
        return PUBLIC if self.public else FULL

    @property
    def tz(self) -> str:
        """The cut-off's time zone, in which the bulletin gives times."""
        return self.data.cutoff.tz

    def t(self, when: dt.datetime) -> str:
        """A time as the tables give it: ``02 Sep 21:16``, local to :attr:`tz`."""
        return local_time(when, self.tz)

    def place(self, lon: float, lat: float) -> str:
        """A position as the tables give it: the place in words, then the coordinates (``3 km SW of Horlivka
        (Donetsk oblast); 48.2860 N, 37.9958 E``), both from the position rounded to 0.01 degree in a public
        bulletin (:func:`truceline.report.text.place`)."""
        return place(lon, lat, self.public)

    def ref(self, v: Violation) -> str:
        """How a finding is referred to: its id, or (public edition) its public id."""
        if not self.public:
            return v.id
        if self.ids is None:
            raise ValueError("a public edition needs the store's public ids (View.ids)")
        return self.ids(v.id)

    def evidence(self, v: Violation) -> str:
        """The attribution's evidence as text (ids redacted in a public bulletin)."""
        text = " | ".join(v.attribution.evidence) or "-"
        if self.public:
            ids = [*v.event_ids, *v.observation_ids, *([v.incident_id] if v.incident_id else [])]
            text = redact_ids(text, ids)
        return text

    def grade(self, v: Violation, probability: bool = True) -> str:
        """``Origin area: RU (p = 0.999)``, ``Party: UA``, ``Unattributed`` (without p when not ``probability``)."""
        a = v.attribution
        label = LEVEL_LABELS[a.level.value]
        if a.party is None:
            return label
        show_p = probability and a.probability is not None and a.level is not AttributionLevel.PARTY
        p = f" (p = {a.probability:.3f})" if show_p else ""
        return f"{label}: {a.party.value}{p}"

    @cached_property
    def families(self) -> np.ndarray:
        """Rule family of each finding (the part of its rule id before the first dot)."""
        return np.array([v.rule_id.split(".", 1)[0] for v in self.data.violations], dtype=str)

    @cached_property
    def sector_names(self) -> dict[str, str]:
        """Sector id -> name, from the agreement."""
        return {s.id: s.name for s in self.data.agreement.sectors}

    def period_text(self) -> str:
        """``from 19:30 on 1 September 2026 to 19:30 on 2 September 2026 (Europe/Kyiv time)``."""
        d = self.data
        s_local, e_local = local_time(d.start, self.tz, False), local_time(d.end, self.tz, False)
        return (
            f"from {s_local} on {date_long(d.start.astimezone(d.cutoff.zone))} to {e_local} on "
            f"{date_long(d.end.astimezone(d.cutoff.zone))} ({d.cutoff.tz} time)"
        )

    def listing_note(self, shown: int, total: int, where: str = EXPORTS) -> str:
        """``"25 of 57 shown; ..."`` when a listing is cut, else empty."""
        if shown >= total:
            return ""
        return f"{shown} of {total:,} shown; all are in {where}."
