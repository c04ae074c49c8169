"""The figures of ``adjudication.py`` (``results/adjudication.json``): pure, JSON in, markdown out.

Every scenario of the JSON is shown, and every rule family of the registry
(:func:`truceline.adjudicate.rule_families`): a family the registry has and a scenario's results lack is
shown as "not measured", never dropped. The goals' verdicts are computed from the measured figures.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from figures import NOT_MEASURED, Figures, machine, num, span, table, verdict

#: Goal: ingest of the batch within this many seconds.
INGEST_GOAL_S = 5.0
#: Goal: precision and recall at least this, per family.
FAMILY_GOAL = 0.95
#: Goals of issue 12 for fire missions of two rounds or more: F1, and the count's low-high holding the truth.
MISSION_F1_GOAL = 0.95
MISSION_COUNT_GOAL = 0.90


def registry_families() -> list[str]:
    """The ids of the registered rule families, in the registry's declared order.

    The registry is :func:`truceline.adjudicate.rule_families` (each declared family with its
    registered rule); the benchmark scores exactly these families.
    """
    from truceline.adjudicate import rule_families

    return [f.id for f in rule_families()]


def families(res: dict[str, Any], registry: Sequence[str]) -> list[str]:
    """The registry's families, then any other family the results hold or measured (never dropped)."""
    out = list(registry)
    out += [f for f in res.get("families") or () if f not in out]
    for r in (res.get("catalogue") or {}).values():
        for table_ in (r.get("violations") or {}, r.get("rules_on_oracle") or {}):
            out += [f for f in table_ if f not in out]
    return out


def _pr(d: dict[str, Any] | None, recall: str = "recall") -> str:
    if d is None:
        return NOT_MEASURED
    if not d.get("n_truth") and not d.get("n_result"):
        return "none"
    return f"{num(d.get('precision'), '.2f')} / {num(d.get(recall), '.2f')}"


def _ingest(res: dict[str, Any]) -> str:
    ing = res.get("ingest")
    if not ing:
        return f"**Ingest**: {NOT_MEASURED}."
    s = ing.get("seconds")
    met = None if s is None else s <= INGEST_GOAL_S
    return (
        f"**Ingest**: {num(ing.get('detections'), ',')} detections (CSV) into a store holding the sensor registry "
        f"in **{num(s)} s** ({num(ing.get('per_second'), ',')}/s; the same batch again: "
        f"{num(ing.get('repeat_seconds'))} s, nothing stored). Goal <= {INGEST_GOAL_S:g} s: {verdict(met)}."
    )


def _goal_count(cat: dict[str, Any], key: str, recall: str) -> tuple[int, int]:
    met = n = 0
    for r in cat.values():
        for d in (r.get(key) or {}).values():
            p, rc = d.get("precision"), d.get(recall)
            if d.get("n_truth") and p is not None and rc is not None:
                n += 1
                met += p >= FAMILY_GOAL and rc >= FAMILY_GOAL
    return met, n


def _oracle_low(r: dict[str, Any]) -> str:
    o = [d for d in (r.get("rules_on_oracle") or {}).values() if d.get("n_truth") or d.get("n_result")]
    if not o:
        return NOT_MEASURED
    p = [d["precision"] for d in o if d.get("precision") is not None]
    rc = [d["recall_detectable"] for d in o if d.get("recall_detectable") is not None]
    return f"{num(min(p) if p else None, '.2f')} / {num(min(rc) if rc else None, '.2f')}"


def _families_table(res: dict[str, Any], fams: list[str]) -> str:
    cat = res.get("catalogue") or {}
    rows = []
    for name, r in cat.items():
        v = r.get("violations") or {}
        wrong = [d.get("wrong_party") for d in v.values() if d.get("wrong_party") is not None]
        rows.append([f"`{name}`", *(_pr(v.get(f)) for f in fams), _oracle_low(r), num(sum(wrong)) if wrong else "–"])
    head = ["scenario", *(f"{f} P / R" for f in fams), "rules over the oracle: lowest P / R(det)", "wrong party"]
    e2e, n = _goal_count(cat, "violations", "recall")
    orc, n_o = _goal_count(cat, "rules_on_oracle", "recall_detectable")
    f1 = [r.get("event_f1") for r in cat.values()]
    return "\n".join(
        [
            table(head, rows),
            "",
            f"Goal: precision and recall >= {FAMILY_GOAL} in each family with truth. End to end: met in {e2e} of "
            f"{n} scenario-family pairs ({verdict(n > 0 and e2e == n)}); the rules over the simulator's oracle "
            f"(recall on detectable truth): met in {orc} of {n_o} ({verdict(n_o > 0 and orc == n_o)}). "
            "Event F1 end to end on "
            f'these scenarios: {span(f1, ".2f")}. "none": no violation of the family in the truth or the results; '
            f'"{NOT_MEASURED}": the results hold no figure for the family.',
        ]
    )


def _claims_table(res: dict[str, Any]) -> str:
    cat = res.get("catalogue") or {}
    rows, ff, blind, unver = [], 0, 0, 0
    for name, r in cat.items():
        c = r.get("claims") or {}
        bs = (c.get("by_truth") or {}).get("blind_spot") or {}
        ff += c.get("false_flags_corroborated") or 0
        blind += sum(bs.values())
        unver += bs.get("unverifiable", 0)
        rows.append(
            [
                f"`{name}`",
                num(c.get("n")),
                num(c.get("accuracy"), ".2f"),
                num(c.get("false_flags_corroborated")),
                f"{bs.get('unverifiable', 0)} of {sum(bs.values())}",
            ]
        )
    head = ["scenario", "claims", "verdict accuracy", "false flags corroborated", "blind-spot claims unverifiable"]
    accuracy = [(r.get("claims") or {}).get("accuracy") for r in cat.values()]
    return "\n".join(
        [
            table(head, rows),
            "",
            f"False-flag claims corroborated: {ff} over every scenario (goal 0: {verdict(ff == 0)}). "
            f"Blind-spot claims unverifiable: {unver} of {blind}. Verdict accuracy {span(accuracy, '.2f')}.",
        ]
    )


EVENT_COLUMNS = (
    ("precision", "precision", ".2f"),
    ("recall_detectable", "recall (det.)", ".2f"),
    ("location_error_median_m", "loc. median m", ".0f"),
    ("ellipse_coverage", "ellipse cov.", ".2f"),
    ("association_purity", "purity", ".2f"),
    ("side_correct_beyond_2km", "side > 2 km", ".3f"),
    ("wrong_party_rate", "wrong party", ".3f"),
)


def _events_table(res: dict[str, Any]) -> str:
    """Event figures per scenario, end to end (``truceline process`` in windows, as the benchmark runs it).

    The detail columns appear once a run holds them (``events``); a scenario without them shows "not measured".
    """
    cat = res.get("catalogue") or {}
    cols = EVENT_COLUMNS if any("events" in r for r in cat.values()) else ()
    rows = []
    for name, r in cat.items():
        e = r.get("events") or {}
        cells = [num(e[k], f) if k in e else NOT_MEASURED for k, _, f in cols]
        rows.append([f"`{name}`", num(r.get("event_f1"), ".3f"), *cells])
    return table(["scenario", "event F1", *(h for _, h, _ in cols)], rows)


def _missions_table(res: dict[str, Any]) -> str:
    """Fire missions per scenario (the scorer's ``missions``): two rounds or more, and F1 over every mission."""
    cat = res.get("catalogue") or {}
    rows, met, measured = [], 0, 0
    for name, r in cat.items():
        m = r.get("missions") or {}
        multi, every = m.get("multi_round"), m.get("all")
        if not multi:
            rows.append([f"`{name}`", NOT_MEASURED, *[""] * 10])
            continue
        measured += 1
        ok = (multi.get("f1") or 0) >= MISSION_F1_GOAL and (multi.get("count_coverage") or 0) >= MISSION_COUNT_GOAL
        met += ok
        rows.append([
            f"`{name}`", num(multi.get("n_truth_detectable")), num(multi.get("n_result")),
            num(multi.get("precision"), ".3f"), num(multi.get("recall"), ".3f"), num(multi.get("f1"), ".3f"),
            num(multi.get("split")), num(multi.get("mixed")), num(multi.get("count_coverage"), ".3f"),
            num(multi.get("paired_precision"), ".3f"),
            f"{num(multi.get('wrong_party'))} / {num((every or {}).get('blamed_phantoms'))}",
            num((every or {}).get("f1"), ".3f"),
        ])  # fmt: skip
    head = ["scenario", "missions (2+ rounds, detectable)", "result incidents", "precision", "recall", "F1", "split",
            "mixed", "count low-high holds truth", "launch and impact of one mission",
            "wrong party / phantoms blaming a party (any incident)",
            "F1, every mission"]  # fmt: skip
    all_met = verdict(None if measured == 0 else met == measured)
    goal = (
        f"Goal (issue 12): fire missions F1 >= {MISSION_F1_GOAL} with the count's low-high holding the truth for "
        f">= {MISSION_COUNT_GOAL:.0%}: met in {met} of {measured} scenarios ({all_met}). "
        "A result incident stands for the true mission most of its matched events belong to; a mission split into "
        "several incidents counts once (docs/scoring.md, section 3b)."
    )
    return table(head, rows) + "\n\n" + goal


def _page(res: dict[str, Any], fams: list[str], tables: dict[str, str]) -> str:
    cat = res.get("catalogue") or {}
    rows = []
    for name, r in cat.items():
        v, o = r.get("violations") or {}, r.get("rules_on_oracle") or {}
        for f in fams:
            d = v.get(f)
            if d is None:
                rows.append([f"`{name}`", f, NOT_MEASURED, *[""] * 6])
                continue
            od = o.get(f)
            rows.append(
                [
                    f"`{name}`",
                    f,
                    num(d.get("n_truth")),
                    num(d.get("n_result")),
                    num(d.get("precision"), ".4f"),
                    num(d.get("recall"), ".4f"),
                    num(d.get("recall_detectable"), ".4f"),
                    _pr(od, "recall_detectable"),
                    num(d.get("wrong_party")),
                ]
            )
    head = [
        "scenario",
        "family",
        "truth",
        "result",
        "precision",
        "recall",
        "recall (detectable)",
        "rules on oracle P / R(det)",
        "wrong party",
    ]
    verdicts = table(
        ["scenario", "verdicts by truth"],
        [[f"`{n}`", json.dumps((r.get("claims") or {}).get("by_truth"))] for n, r in cat.items()],
    )
    timings = table(
        ["scenario", "ingest s", "process s", "windows"],
        [[f"`{n}`", num(r.get("ingest_s")), num(r.get("process_s")), num(r.get("windows"))] for n, r in cat.items()],
    )
    return "\n".join(
        [
            "# Adjudication benchmark",
            "",
            f"Machine: {machine(res)}.",
            "",
            tables["ingest"],
            "",
            "## Violations per family (end to end: simulate, ingest, process, score)",
            "",
            table(head, rows),
            "",
            tables["families"],
            "",
            "## Claims",
            "",
            tables["claims"],
            "",
            verdicts,
            "",
            "## Events",
            "",
            tables["events"],
            "",
            "## Fire missions",
            "",
            tables["missions"],
            "",
            "## Timings",
            "",
            timings,
            "",
        ]
    )


def render(res: dict[str, Any], registry: Sequence[str]) -> Figures:
    """The page and the tables ``ingest``, ``families``, ``claims``, ``events`` and ``missions`` of a run.

    Parameters
    ----------
    res : dict
        ``results/adjudication.json``.
    registry : sequence of str
        The rule families to show (:func:`registry_families`), each in every scenario.
    """
    fams = families(res, registry)
    tables = {
        "ingest": _ingest(res),
        "families": _families_table(res, fams),
        "claims": _claims_table(res),
        "events": _events_table(res),
        "missions": _missions_table(res),
    }
    return Figures(_page(res, fams, tables), tables)
