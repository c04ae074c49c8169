"""The incidents an analyst's merge or split makes, built from the incidents they replace.

Pure functions, no store: :mod:`truceline.service.review` reads the incidents, calls these, and
writes the result with its audit entries in one transaction. What each new incident keeps is
described in :func:`truceline.service.review.merge_incidents` and
:func:`truceline.service.review.split_incident`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from truceline.core import Attribution, Event, Incident, Provenance, make_id
from truceline.core.enums import VerificationStatus, WeaponClass
from truceline.core.errors import InvalidInput
from truceline.core.uncertainty import TimeWindow

__all__ = ["ALGORITHM_VERSION", "check_groups", "incident_state", "merged", "split_parts"]

#: Version stamped in the provenance of incidents made by a merge or split.
ALGORITHM_VERSION = "1"


def _one(values: Sequence[Any]) -> Any:
    """The single distinct non-None value, else None."""
    distinct = {v for v in values if v is not None}
    return distinct.pop() if len(distinct) == 1 else None


def _weapon(classes: Sequence[WeaponClass]) -> WeaponClass:
    known = {c for c in classes if c is not WeaponClass.UNKNOWN}
    return known.pop() if len(known) == 1 else WeaponClass.UNKNOWN


def _provenance(algorithm: str, actor: str, inputs: Sequence[str], now: dt.datetime) -> Provenance:
    return Provenance(
        algorithm=algorithm,
        algorithm_version=ALGORITHM_VERSION,
        parameters={"actor": actor},
        inputs=tuple(inputs),
        created_at=now,
    )


def incident_state(inc: Incident, status: str | None) -> dict[str, Any]:
    """What the audit trail keeps of an incident before or after a merge or split."""
    return {
        "incident_id": inc.id,
        "status": status,
        "event_ids": list(inc.event_ids),
        "observation_ids": list(inc.observation_ids),
    }


def merged(incs: Sequence[Incident], run_id: int, actor: str, now: dt.datetime) -> Incident:
    """The incident merging ``incs`` (two or more, in the order given) in review run ``run_id``."""
    members = [i.id for i in incs]
    first = incs[0]
    attribution = first.attribution if all(i.attribution == first.attribution for i in incs) else Attribution()
    return Incident(
        id=make_id("inc", "review.merge", run_id, members),
        event_ids=tuple(dict.fromkeys(e for i in incs for e in i.event_ids)),
        observation_ids=tuple(dict.fromkeys(o for i in incs for o in i.observation_ids)),
        launch_event_id=_one([i.launch_event_id for i in incs]),
        impact_event_id=_one([i.impact_event_id for i in incs]),
        weapon_class=_weapon([i.weapon_class for i in incs]),
        window=TimeWindow(start=min(i.window.start for i in incs), end=max(i.window.end for i in incs)),
        status=VerificationStatus.UNVERIFIED,
        attribution=attribution,
        provenance=_provenance("review.merge", actor, members, now),
    )


def check_groups(inc: Incident, groups: Sequence[Sequence[str]]) -> list[list[str]]:
    """Validate that ``groups`` partition the incident's events and observations; name the first problem.

    Raises
    ------
    InvalidInput
        Naming ``groups`` or the first offending ``groups[i][j]``.
    """
    if isinstance(groups, str) or len(groups) < 2:
        raise InvalidInput(f"groups: a split needs two or more groups, got {groups!r}")
    linked = {*inc.event_ids, *inc.observation_ids}
    placed: dict[str, str] = {}
    out: list[list[str]] = []
    for g, group in enumerate(groups):
        if isinstance(group, str) or len(group) == 0:
            raise InvalidInput(f"groups[{g}]: must be a non-empty list of event ids, got {group!r}")
        for k, rid in enumerate(group):
            where = f"groups[{g}][{k}]"
            if rid not in linked:
                raise InvalidInput(f"{where}: {rid!r} is not an event or observation of incident {inc.id!r}")
            if rid in placed:
                raise InvalidInput(f"{where}: {rid!r} is already in {placed[rid]} (groups must be disjoint)")
            placed[rid] = where
        out.append(list(group))
    missing = [rid for rid in (*inc.event_ids, *inc.observation_ids) if rid not in placed]
    if missing:
        raise InvalidInput(f"groups: {missing[0]!r} of incident {inc.id!r} is in no group (groups must cover all)")
    return out


def split_parts(
    inc: Incident,
    parts: Sequence[Sequence[str]],
    events: Mapping[str, Event],
    run_id: int,
    actor: str,
    now: dt.datetime,
) -> list[Incident]:
    """The incidents splitting ``inc`` into ``parts`` (checked by :func:`check_groups`) in review run
    ``run_id``; ``events``: its stored events by id (those not stored are absent)."""
    new: list[Incident] = []
    for k, group in enumerate(parts):
        members = set(group)
        ev_ids = tuple(e for e in inc.event_ids if e in members)
        stored_ev = [events[e] for e in ev_ids if e in events]
        times = [e.origin_time for e in stored_ev]
        window = TimeWindow(start=min(times), end=max(times)) if len(stored_ev) == len(group) else inc.window
        new.append(
            Incident(
                id=make_id("inc", "review.split", run_id, inc.id, k, sorted(group)),
                event_ids=ev_ids,
                observation_ids=tuple(o for o in inc.observation_ids if o in members),
                launch_event_id=inc.launch_event_id if inc.launch_event_id in members else None,
                impact_event_id=inc.impact_event_id if inc.impact_event_id in members else None,
                weapon_class=_weapon([e.weapon_class for e in stored_ev]),
                window=window,
                status=VerificationStatus.UNVERIFIED,
                attribution=Attribution(),
                provenance=_provenance("review.split", actor, [inc.id], now),
            )
        )
    return new
