"""Fire missions scored as missions: found, whole, counted, blamed.

The truth's rounds carry their mission (``salvo_id`` of ``truth/incidents.jsonl``). A result incident
stands for the truth mission most of its matched events belong to (events matched one to one by the
event section); it is a **phantom** when none of its events matches a true event, and **mixed** when its
matched events come from more than one mission. Defined over every mission and over fire missions of
two rounds or more:

- ``precision``: missions some result incident stands for / result incidents with events (a mission
  split into several incidents counts once: the others are duplicates, as in one-to-one matching);
- ``recall``: detectable truth missions (one event heard by 3 sensors) some result incident stands for;
- ``split``: truth missions two or more result incidents stand for;
- ``count_coverage``: result incidents, alone for their mission, whose rounds low..high hold its true count;
- ``paired_precision``: result incidents whose launch and impact both match true rounds, and those two
  are rounds of one mission;
- ``wrong_party``: blamed result incidents whose mission was fired by the other party;
- ``blamed_phantoms``: phantoms that name a party (a party blamed for a mission nobody fired).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from truceline.scoring.inputs import ResultSet, TruthSet
from truceline.scoring.matching import Matching


@dataclass(frozen=True)
class MissionTally:
    """The figures of one class of missions (all, or two rounds and more)."""

    n_truth: int
    n_truth_detectable: int
    n_result: int
    hits: int
    found: int
    split: int
    mixed: int
    phantoms: int
    counted: int
    count_held: int
    n_paired: int
    paired_one_mission: int
    n_blamed: int
    wrong_party: int
    blamed_phantoms: int

    def to_dict(self) -> dict[str, Any]:
        p, r = _ratio(self.hits, self.n_result), _ratio(self.found, self.n_truth_detectable)
        return {
            **self.__dict__,
            "precision": _r4(p),
            "recall": _r4(r),
            "f1": _r4(2 * p * r / (p + r) if p + r > 0 else float("nan")),
            "count_coverage": _r4(_ratio(self.count_held, self.counted)),
            "paired_precision": _r4(_ratio(self.paired_one_mission, self.n_paired)),
            "wrong_party_rate": _r4(_ratio(self.wrong_party, self.n_blamed)),
        }


@dataclass(frozen=True)
class MissionScore:
    """Missions scored: every mission, and fire missions of two rounds or more."""

    has_truth: bool
    all: MissionTally | None
    multi: MissionTally | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "has_truth": self.has_truth,
            "all": self.all.to_dict() if self.all else None,
            "multi_round": self.multi.to_dict() if self.multi else None,
        }

    def markdown_lines(self) -> list[str]:
        """The section in Markdown: one column per class of missions."""
        out = ["## Fire missions", ""]
        if not self.has_truth or self.all is None or self.multi is None:
            return [*out, "_No mission truth (no salvo_id in truth incidents.jsonl)._", ""]
        a, b = self.all.to_dict(), self.multi.to_dict()
        out += ["| figure | all missions | 2+ rounds |", "|---|---:|---:|"]
        for key, label in _ROWS:
            out.append(f"| {label} | {_cell(a[key])} | {_cell(b[key])} |")
        return [*out, ""]


_ROWS = (
    ("n_truth_detectable", "detectable truth missions"),
    ("n_result", "result incidents"),
    ("precision", "precision"),
    ("recall", "recall"),
    ("f1", "F1"),
    ("split", "missions split into several incidents"),
    ("mixed", "incidents mixing missions"),
    ("phantoms", "phantom incidents"),
    ("count_coverage", "rounds low..high hold the truth"),
    ("paired_precision", "launch and impact of one mission"),
    ("wrong_party", "wrong party"),
    ("blamed_phantoms", "phantoms blaming a party"),
)


def _cell(v: Any) -> str:
    return "n/a" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def score_missions(truth: TruthSet, result: ResultSet, m: Matching) -> MissionScore:
    """Score the result incidents as fire missions (module docstring)."""
    t_inc = truth.incidents
    if not t_inc or not any(i.salvo_id for i in t_inc):
        return MissionScore(has_truth=False, all=None, multi=None)
    mission_of: dict[str, str] = {}
    rounds: Counter[str] = Counter()
    party: dict[str, str] = {}
    for t in t_inc:
        sid = t.salvo_id or t.id
        rounds[sid] += 1
        party[sid] = t.party
        for eid in (t.launch_event_id, t.impact_event_id):
            if eid:
                mission_of[eid] = sid
    detectable = {mission_of[e.id] for e in truth.events if e.detectable and e.id in mission_of}
    events = result.events or ()
    r2t = {events[ri].id: truth.events[ti].id for ri, ti in zip(m.result_index, m.truth_index, strict=True)}
    stands: list[tuple[Any, str | None, int]] = []
    for inc in result.incidents or ():
        if not inc.event_ids:
            continue
        hit = Counter(mission_of[r2t[e]] for e in inc.event_ids if e in r2t and r2t[e] in mission_of)
        stands.append((inc, hit.most_common(1)[0][0] if hit else None, len(hit)))
    every = _tally(stands, rounds, party, detectable, mission_of, r2t, 1)
    multi = _tally(stands, rounds, party, detectable, mission_of, r2t, 2)
    return MissionScore(has_truth=True, all=every, multi=multi)


def _tally(
    stands: list[tuple[Any, str | None, int]],
    rounds: Counter[str],
    party: dict[str, str],
    detectable: set[str],
    mission_of: dict[str, str],
    r2t: dict[str, str],
    min_rounds: int,
) -> MissionTally:
    """Missions of ``min_rounds`` rounds or more, and the result incidents that stand for them (a
    phantom counts when it claims that many rounds)."""
    per_mission: dict[str, list[Any]] = defaultdict(list)
    n_result = phantoms = mixed = n_paired = paired_ok = n_blamed = wrong = blamed_phantoms = 0
    for inc, sid, n_missions in stands:
        if (rounds[sid] if sid is not None else inc.rounds.best) < min_rounds:
            continue
        n_result += 1
        if sid is None:
            phantoms += 1
            blamed_phantoms += inc.attribution.party is not None
            continue
        per_mission[sid].append(inc)
        mixed += n_missions > 1
        a, b = r2t.get(inc.launch_event_id or ""), r2t.get(inc.impact_event_id or "")
        if a in mission_of and b in mission_of:  # both ends located (matched to true rounds)
            n_paired += 1
            paired_ok += mission_of[a] == mission_of[b]
        if inc.attribution.party is not None:
            n_blamed += 1
            wrong += inc.attribution.party.value != party[sid]
    alone = [(sid, incs[0]) for sid, incs in per_mission.items() if len(incs) == 1]
    held = sum(i.rounds.low <= rounds[sid] <= i.rounds.high for sid, i in alone)
    truth_ids = [s for s in rounds if rounds[s] >= min_rounds]
    return MissionTally(
        n_truth=len(truth_ids),
        n_truth_detectable=sum(s in detectable for s in truth_ids),
        n_result=n_result,
        hits=len(per_mission),
        found=sum(1 for s in per_mission if s in detectable),
        split=sum(len(v) > 1 for v in per_mission.values()),
        mixed=mixed,
        phantoms=phantoms,
        counted=len(alone),
        count_held=held,
        n_paired=n_paired,
        paired_one_mission=paired_ok,
        n_blamed=n_blamed,
        wrong_party=wrong,
        blamed_phantoms=blamed_phantoms,
    )


def _ratio(a: int, b: int) -> float:
    return a / b if b else float("nan")


def _r4(x: float) -> float | None:
    return None if x != x else round(x, 4)
