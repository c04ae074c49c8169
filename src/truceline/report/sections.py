"""The bulletin's sections on fire and claims: summary, regions and sectors, findings, claims.

Each builder takes a :class:`~truceline.report.view.View` (the day's data and how to word it) and
returns a :class:`~truceline.report.model.Section`. Numbers come only from the data; attribution is
worded only as graded, with the grade's own evidence; an empty day says so in every section. The
attribution and withdrawal sections are in :mod:`truceline.report.attribution` and
:mod:`truceline.report.withdrawal` (importable from here too, with :class:`View`).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from truceline.adjudicate import RULES
from truceline.agreement.families import FAMILY_IDS
from truceline.report.attribution import attribution_section
from truceline.report.model import Section, Table
from truceline.report.text import (
    FAMILY_SHORT,
    LEVEL_LABELS,
    count_phrase,
    date_long,
    join_and,
    kind_label,
    local_time,
    redact_ids,
    region_name,
    sector_name,
    weapon_label,
)
from truceline.report.view import LEVELS, STATUSES, View
from truceline.report.withdrawal import withdrawal_section
from truceline.service.redaction import sees_network

__all__ = [
    "View",
    "attribution_section",
    "claims_section",
    "findings_section",
    "regions_section",
    "summary_section",
    "withdrawal_section",
]


def _kind_breakdown(kinds: np.ndarray, counts: np.ndarray) -> list[str]:
    c: Counter[str] = Counter()
    for k, n in zip(kinds.tolist(), counts.tolist(), strict=True):
        c[k] += int(n)
    return [f"{n:,} {kind_label(k, n)}" for k, n in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))]


# ----------------------------------------------------------------------------------- summary
def summary_section(view: View) -> Section:
    """Summary: the OSCE-style count, the previous day, findings, attribution, claims, movement, sensors."""
    d = view.data
    sec = Section("summary", "Summary")
    if not d.processed:
        until = view.t(d.processed_until) if d.processed_until else "nothing yet"
        sec.paragraphs.append(
            f"Note: the store's processing does not cover the whole reporting period (processed up to: {until}); "
            "the counts below may be incomplete."
        )
    tally = d.tally
    prev_day = d.trend_days[-2] if len(d.trend_days) > 1 else None
    if tally.total == 0 and not d.violations:
        sec.paragraphs.append(
            f"The Mission recorded no ceasefire violations and made no findings in the reporting period, "
            f"{view.period_text()}."
        )
    else:
        kinds = _kind_breakdown(tally.kind, tally.count)
        sec.paragraphs.append(
            f"The Mission recorded {count_phrase(tally.total, 'ceasefire violation')}, including "
            f"{count_phrase(tally.explosions, 'explosion')}, in the reporting period, {view.period_text()}"
            + (f": {join_and(kinds)}." if kinds else ".")
        )
    if prev_day is not None and d.has_data(prev_day):
        pt, pe = d.trend_tallies[prev_day]
        sec.paragraphs.append(
            f"In the previous reporting period ({date_long(prev_day)}), the Mission recorded "
            f"{count_phrase(pt, 'ceasefire violation')}, including {count_phrase(pe, 'explosion')}."
        )
    elif prev_day is not None:
        sec.paragraphs.append(f"The store holds no data for the previous reporting period ({date_long(prev_day)}).")
    if d.violations:
        fam = Counter(view.families.tolist())
        parts = [f"{n:,} {RULES[f].title.lower() if f in RULES else f}" for f, n in fam.most_common()]
        sec.paragraphs.append(
            f"Applying the agreement's rules, the Mission made {count_phrase(len(d.violations), 'finding')} of "
            f"violations of the agreement's provisions: {join_and(parts)}."
        )
        lv = Counter(v.attribution.level.value for v in d.violations)
        graded = [f"{lv[k]:,} {LEVEL_LABELS[k].lower()}" for k in LEVELS if lv[k] and k != "unattributed"]
        sec.paragraphs.append(
            f"Of these findings, {lv['unattributed']:,} remain unattributed"
            + (f"; attribution was graded for the others: {join_and(graded)}" if graded else "")
            + ". Attribution states only what the evidence cited establishes (see Attribution)."
        )
    verdicts = Counter(d.assessments[c.id].verdict.value if c.id in d.assessments else "not assessed" for c in d.claims)
    if d.claims:
        sec.paragraphs.append(
            f"The Mission assessed {count_phrase(len(d.claims), 'claim')} by the parties or the media about the "
            f"period: {join_and([f'{n} {k}' for k, n in sorted(verdicts.items())])}. Claims are not counted as "
            "ceasefire violations."
        )
    else:
        sec.paragraphs.append("No claims about the reporting period were received.")
    n_fom = len(d.restrictions)
    sec.paragraphs.append(
        f"The Mission's freedom of movement was restricted {count_phrase(n_fom, 'time')}."
        if n_fom
        else "The Mission's freedom of movement was not restricted."
    )
    down = sum(1 for r in d.status_reports if d.start <= r.time < d.end and r.health.value != "ok")
    interf = sum(1 for v in d.violations if v.rule_id.startswith("monitoring_interference"))
    network = f"network of {count_phrase(len(d.sensors), 'sensor')}"
    if not sees_network(view.audience):  # the public edition: no sensor health (the redaction policy)
        sec.paragraphs.append(
            f"{count_phrase(interf, 'finding')} of interference with monitoring assets "
            f"{'was' if interf == 1 else 'were'} made."
        )
    elif down or interf:
        sec.paragraphs.append(
            f"{count_phrase(down, 'sensor status report')} of degradation, outage, jamming or destruction "
            f"and {count_phrase(interf, 'finding')} of interference with monitoring assets were recorded ({network})."
        )
    else:
        sec.paragraphs.append(
            "No sensor reported a degradation, outage, jamming or destruction, and no interference with monitoring "
            f"assets was found ({network})."
        )
    return sec


# ----------------------------------------------------------------------------------- regions
def regions_section(view: View) -> Section:
    """Ceasefire violations by region (oblast) and sector, with counts by kind; findings per region."""
    d = view.data
    t = d.tally
    sec = Section("regions", "Ceasefire violations by region and sector")
    sec.paragraphs.append(
        "Ceasefire violations are counted as the OSCE Special Monitoring Mission counted them: each located "
        "explosion or firing of the sensor network, and each violation reported by a patrol that no finding cites "
        "as evidence (so the same round is not counted twice). Regions are Ukraine's oblasts; sectors are the "
        "agreement's sectors of responsibility."
    )
    f_region = Counter(d.oblast.tolist())
    regions = sorted(set(t.oblast.tolist()) | set(f_region), key=lambda r: (-int(t.count[t.oblast == r].sum()), r))
    if not regions:
        sec.paragraphs.append("The Mission recorded no ceasefire violations and made no findings in any region.")
        return sec
    rows = []
    for reg in regions:
        m = t.oblast == reg
        boom = np.char.startswith(t.kind[m], "explosion_")
        rows.append(
            [
                region_name(reg),
                int(t.count[m].sum()),
                int(t.count[m][boom].sum()),
                int(t.count[m & (t.source == "patrol")].sum()),
                f_region.get(reg, 0),
            ]
        )
    sec.tables.append(
        Table(
            "Ceasefire violations and findings by region",
            ["Region", "Ceasefire violations", "of which explosions", "reported by patrols only", "Findings"],
            rows,
            total=["Total", t.total, t.explosions, int(t.count[t.source == "patrol"].sum()), len(d.violations)],
        )
    )
    for reg in regions:
        sec.subsections.append(_region(view, reg))
    return sec


def _region(view: View, reg: str) -> Section:
    d, t = view.data, view.data.tally
    name = region_name(reg)
    sub = Section("region-" + "".join(ch if ch.isalnum() else "-" for ch in reg.lower()), name)
    m = t.oblast == reg
    n, kinds = int(t.count[m].sum()), t.kind[m]
    boom = int(t.count[m][np.char.startswith(kinds, "explosion_")].sum())
    where = f"In {name}" if reg != "outside" else "Outside the oblast layer (beyond Ukraine's outline as drawn)"
    if n:
        sub.paragraphs.append(
            f"{where}, the Mission recorded {count_phrase(n, 'ceasefire violation')}, including "
            f"{count_phrase(boom, 'explosion')}: {join_and(_kind_breakdown(kinds, t.count[m]))}."
        )
        present = sorted(set(kinds.tolist()), key=lambda k: (-int(t.count[m & (t.kind == k)].sum()), k))
        sectors = sorted(set(t.sector[m].tolist()))
        rows = []
        for s in sectors:
            ms = m & (t.sector == s)
            rows.append(
                [sector_name(s, view.sector_names)]
                + [int(t.count[ms & (t.kind == k)].sum()) for k in present]
                + [int(t.count[ms].sum())]
            )
        sub.tables.append(
            Table(
                f"Ceasefire violations in {name} by sector and kind",
                ["Sector", *(kind_label(k).capitalize() for k in present), "Total"],
                rows,
                total=["Total", *(int(t.count[m & (t.kind == k)].sum()) for k in present), n],
            )
        )
    else:
        sub.paragraphs.append(f"{where}, the Mission recorded no ceasefire violations.")
    fm = d.oblast == reg
    if fm.any():
        fams = [f for f in FAMILY_IDS if (view.families[fm] == f).any()]
        fams += sorted(set(view.families[fm].tolist()) - set(fams))
        rows = []
        for s in sorted(set(d.sector[fm].tolist())):
            ms = fm & (d.sector == s)
            rows.append(
                [sector_name(s, view.sector_names)]
                + [int((view.families[ms] == f).sum()) for f in fams]
                + [int(ms.sum())]
            )
        sub.paragraphs.append(
            f"The Mission's rules found {count_phrase(int(fm.sum()), 'violation')} of the agreement's provisions "
            f"in {name if reg != 'outside' else 'this area'}."
        )
        sub.tables.append(
            Table(
                f"Findings in {name} by sector and rule family",
                ["Sector", *(FAMILY_SHORT.get(f, f) for f in fams), "Total"],
                rows,
                total=["Total", *(int((view.families[fm] == f).sum()) for f in fams), int(fm.sum())],
            )
        )
    return sub


# ---------------------------------------------------------------------------------- findings
def findings_section(view: View) -> Section:
    """Findings by rule, with their verification status."""
    d = view.data
    sec = Section("findings", "Violations of the agreement's provisions")
    sec.paragraphs.append(
        "Each finding is made by a registered rule of the agreement, stamped with the rule's version and "
        "parameters and the line version applied. Status: verified (two independent sources, or confirmed by an "
        "analyst), corroborated (one source, several supporting records), unverified (one record), inconclusive, "
        "refuted (dismissed after review). The status shown is the current, reviewed one."
    )
    if not d.violations:
        sec.paragraphs.append("The Mission made no findings in the reporting period.")
        return sec
    by_rule: dict[str, Counter[str]] = {}
    for v in d.violations:
        by_rule.setdefault(v.rule_id, Counter())[v.status.value] += 1
    rows = []
    for rule in sorted(by_rule):
        fam = rule.split(".", 1)[0]
        c = by_rule[rule]
        title = RULES[fam].title if fam in RULES else fam
        rows.append([rule, title, sum(c.values()), *(c[s] for s in STATUSES)])
    tot = Counter(v.status.value for v in d.violations)
    sec.tables.append(
        Table(
            "Findings by rule and verification status",
            ["Rule", "Provision", "Findings", *(s.capitalize() for s in STATUSES)],
            rows,
            total=["Total", "", len(d.violations), *(tot[s] for s in STATUSES)],
            css="small",
        )
    )
    return sec


# ------------------------------------------------------------------------------------ claims
def claims_section(view: View) -> Section:
    """Claims about the day, each with its verdict, the coverage and the rationale."""
    d = view.data
    sec = Section("claims", "Claims and their verdicts")
    sec.paragraphs.append(
        "Claims are what a party or the media assert; they are kept apart from the Mission's findings and never "
        "counted as ceasefire violations. Verdicts: corroborated (located impacts there, launched from the area of "
        "the accused party), contradicted (the impacts there came from elsewhere, or nothing was found where the "
        "network would have detected it), unverifiable (the network could not have detected it), inconclusive, "
        "pending (the period is not processed yet)."
    )
    if not d.claims:
        sec.paragraphs.append("No claims about the reporting period were received.")
        return sec
    rows = []
    for c in d.claims[: view.max_rows]:
        a = d.assessments.get(c.id)
        what = (
            kind_label(c.kind.value, c.count.best) if c.kind else ("violation" if c.count.best == 1 else "violations")
        )
        claimed = f"{c.count.best:,} {what}" + (f" ({weapon_label(c.weapon_class.value)})" if c.weapon_class else "")
        at = view.place(c.place.lon_deg, c.place.lat_deg) if c.place else (c.area or "-")
        rationale = a.rationale if a else "-"
        rows.append(
            [
                c.id,
                c.claimant,
                c.accused_party.value if c.accused_party else "-",
                f"{view.t(c.period.start)} - {local_time(c.period.end, view.tz, False)}",
                f"{claimed} at {at}",
                a.verdict.value if a else "not assessed",
                "-" if a is None or a.coverage_probability is None else f"{a.coverage_probability:.2f}",
                redact_ids(rationale, a.evidence_ids) if (view.public and a) else rationale,
            ]
        )
    sec.tables.append(
        Table(
            "Claims about the reporting period and the Mission's verdicts",
            ["Claim", "Claimant", "Accuses", "Period", "Claimed", "Verdict", "P(detect)", "Rationale"],
            rows,
            note=view.listing_note(min(len(d.claims), view.max_rows), len(d.claims), "the store (truceline export)"),
            css="small",
        )
    )
    return sec
