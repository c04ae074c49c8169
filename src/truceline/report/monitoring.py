"""The bulletin's sections on the Mission itself and on what stood out: freedom of movement,
sensor availability and interference, notable incidents.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from itertools import pairwise

import numpy as np

from truceline.adjudicate import RULES
from truceline.adjudicate.coverage import HEALTH_CODES, NOT_INSTALLED, SensorNetwork
from truceline.adjudicate.oblasts import oblast_of
from truceline.core import Incident, Violation
from truceline.core.enums import SensorHealth, WeaponClass
from truceline.report.model import Section, Table
from truceline.report.sections import View
from truceline.report.text import (
    LEVEL_LABELS,
    count_phrase,
    finding_weapon,
    join_and,
    local_time,
    number,
    redact_ids,
    region_name,
    weapon_label,
)
from truceline.service.redaction import sees_network

__all__ = ["fom_section", "mission_text", "notable_section", "sensor_hours", "sensors_section"]

#: A fire mission is notable from this many rounds (its best count).
MISSION_MIN_ROUNDS = 10
#: Notable fire missions listed at most (the largest).
MISSION_MAX = 5


# ------------------------------------------------------------------------ freedom of movement
def fom_section(view: View) -> Section:
    """Restrictions of the Mission's freedom of movement, as the patrols reported them."""
    d = view.data
    sec = Section("movement", "Restrictions of the Mission's freedom of movement")
    if not d.restrictions:
        sec.paragraphs.append("The Mission's freedom of movement was not restricted in the reporting period.")
        return sec
    per = Counter(r.restricting_party.value if r.restricting_party else "not established" for r in d.restrictions)
    sec.paragraphs.append(
        f"The Mission's freedom of movement was restricted {count_phrase(len(d.restrictions), 'time')}; the "
        "restricting party, as the patrol reported it: " + join_and([f"{p} {n}" for p, n in sorted(per.items())]) + "."
    )
    status = {
        oid: v.status.value
        for v in d.violations
        if v.rule_id.startswith("freedom_of_movement")
        for oid in v.observation_ids
    }
    regions = oblast_of([r.position.lon_deg for r in d.restrictions], [r.position.lat_deg for r in d.restrictions])
    shown = d.restrictions[: view.max_rows]
    rows = [
        [
            view.t(r.time),
            "[ref]" if view.public else r.patrol_id,
            view.place(r.position.lon_deg, r.position.lat_deg),
            region_name(str(reg)),
            r.restricting_party.value if r.restricting_party else "not established",
            r.description,
            status.get(r.id, "no finding"),
        ]
        for r, reg in zip(shown, regions, strict=False)
    ]
    sec.tables.append(
        Table(
            "Restrictions of the Mission's freedom of movement",
            ["Time", "Patrol", "Place", "Region", "Restricting party (as reported)", "Description", "Status"],
            rows,
            note=view.listing_note(len(shown), len(d.restrictions)),
            css="small",
        )
    )
    return sec


# ----------------------------------------------------------------------------------- sensors
def sensor_hours(net: SensorNetwork, start: dt.datetime, end: dt.datetime) -> np.ndarray:
    """Hours each sensor spent in each health state over ``[start, end)``.

    Returns
    -------
    ndarray, shape (n_sensors, len(HEALTH_CODES))
        Hours per sensor and health code (time before installation counts in none).
    """
    cuts = [start, *(c for c in net.change_times(start, end) if c < end), end]
    out = np.zeros((len(net), len(HEALTH_CODES)))
    rows = np.arange(len(net))
    for a, b in pairwise(cuts):
        codes = net.health_at(a)
        ok = codes != NOT_INSTALLED
        np.add.at(out, (rows[ok], codes[ok]), (b - a).total_seconds() / 3600.0)
    return out


def sensors_section(view: View) -> Section:
    """The network's availability per contingent, what went wrong, and interference findings."""
    d = view.data
    sec = Section("sensors", "Sensor availability and interference")
    if not sees_network(view.audience):  # the public edition: no sensor, no health (the redaction policy)
        sec.paragraphs.append("The availability of the Mission's sensor network is reported in the mission-internal "
                              "edition only.")  # fmt: skip
    elif not d.sensors:
        sec.paragraphs.append("No sensors are registered in the store.")
        return sec
    else:
        _availability(view, sec)
        status = _status_table(view)
        if status is not None:
            sec.tables.append(status)
        else:
            sec.paragraphs.append("No sensor reported a degradation, outage, jamming or destruction in the period.")
    interf = [v for v in d.violations if v.rule_id.startswith("monitoring_interference")]
    if interf:
        c = Counter(view.grade(v) for v in interf)
        sec.paragraphs.append(
            f"Interference with monitoring assets: {count_phrase(len(interf), 'finding')} ("
            + join_and([f"{n} {g.lower() if g == 'Unattributed' else g}" for g, n in sorted(c.items())])
            + "), attributed only where the status report names the party."
        )
    else:
        sec.paragraphs.append("The Mission made no findings of interference with its monitoring assets.")
    return sec


def _availability(view: View, sec: Section) -> None:
    """The network's size and availability over the period (a paragraph), and per contingent (a table)."""
    d = view.data
    net = SensorNetwork.from_records(d.sensors, d.status_reports)
    hours = sensor_hours(net, d.start, d.end)
    contingent = np.array([s.contingent for s in d.sensors], dtype=str)
    ok_i, deg_i = HEALTH_CODES.index(SensorHealth.OK), HEALTH_CODES.index(SensorHealth.DEGRADED)
    bad = [h for h in HEALTH_CODES if h not in (SensorHealth.OK,)]
    at_end = net.health_at(d.end - dt.timedelta(microseconds=1))
    unavailable_end = int(np.isin(at_end, [HEALTH_CODES.index(h) for h in bad if h is not SensorHealth.DEGRADED]).sum())
    ever = int((hours[:, [HEALTH_CODES.index(h) for h in bad]].sum(axis=1) > 0).sum())
    total_h = hours.sum()
    avail = 100.0 * (hours[:, ok_i].sum() + hours[:, deg_i].sum()) / total_h if total_h else float("nan")
    per_c = Counter(contingent.tolist())
    sec.paragraphs.append(
        f"The network counted {count_phrase(len(d.sensors), 'sensor')} ("
        + join_and([f"{n} of {c}" for c, n in sorted(per_c.items())])
        + f"). Over the reporting period, {avail:.1f}% of sensor-hours were available (health ok or degraded); "
        f"{count_phrase(ever, 'sensor')} reported a degradation or worse at some time, and "
        f"{count_phrase(unavailable_end, 'sensor')} remained unavailable at the cut-off."
        if total_h
        else f"The network counted {count_phrase(len(d.sensors), 'sensor')}, none installed during the period."
    )
    rows = []
    for c in sorted(per_c):
        m = contingent == c
        h = hours[m]
        th = h.sum()
        rows.append(
            [
                c,
                int(m.sum()),
                round(100.0 * (h[:, ok_i].sum() + h[:, deg_i].sum()) / th, 1) if th else 0.0,
                *(round(float(h[:, HEALTH_CODES.index(s)].sum()), 1) for s in bad),
            ]
        )
    sec.tables.append(
        Table(
            "Sensor availability by contingent (sensor-hours in each state)",
            ["Contingent", "Sensors", "Available (%)", *(f"{s.value.capitalize()} (h)" for s in bad)],
            rows,
        )
    )


def _status_table(view: View) -> Table | None:
    """The status reports of the period other than ok, one row per health and reason (None: there were none)."""
    d = view.data
    period = [r for r in d.status_reports if d.start <= r.time < d.end and r.health is not SensorHealth.OK]
    if not period:
        return None
    by_id = {s.id: s.contingent for s in d.sensors}
    groups: dict[tuple[str, str], list[tuple[dt.datetime, str]]] = {}
    for r in period:
        groups.setdefault((r.health.value, r.reason), []).append((r.time, by_id.get(r.sensor_id, "?")))
    rows = [
        [
            h,
            redact_ids(reason) if view.public else reason,
            len(items),
            view.t(min(t for t, _ in items)),
            ", ".join(sorted({c for _, c in items})),
        ]
        for (h, reason), items in sorted(groups.items(), key=lambda kv: min(t for t, _ in kv[1]))
    ]
    return Table(
        "Sensor status reports in the period (other than ok)",
        ["Health", "Reason (as reported)", "Reports", "First", "Contingents"],
        rows,
        css="small",
    )


# ---------------------------------------------------------------------------------- notable
#: Findings at one site (or in one window) less than this apart form one burst, s.
BURST_GAP_S = 600.0


def _bursts(findings: list[Violation]) -> list[list[Violation]]:
    """Group findings by rule and site (or window), then into bursts of fire (gaps under 10 min)."""
    by_key: dict[tuple[str, str], list[Violation]] = {}
    for v in findings:
        key = str(v.rule_parameters.get("site_id") or v.rule_parameters.get("window_id") or "")
        by_key.setdefault((v.rule_id, key), []).append(v)
    out: list[list[Violation]] = []
    for vs in by_key.values():
        vs.sort(key=lambda v: v.time)
        group = [vs[0]]
        for v in vs[1:]:
            if (v.time - group[-1].time).total_seconds() > BURST_GAP_S:
                out.append(group)
                group = []
            group.append(v)
        out.append(group)
    return out


#: A row of the notable incidents: its time (for sorting) and its cells.
_Row = tuple[dt.datetime, list[object]]
#: Families listed one row per site or window and burst of fire.
_SITE_FAMILIES = ("protected_site", "ceasefire_window")
#: Families with their own section (restrictions, interference), not listed as attributed fire.
_OWN_SECTION = ("freedom_of_movement", "monitoring_interference")


def _family(v: Violation) -> str:
    return v.rule_id.split(".", 1)[0]


def _tally(values: list[str]) -> str:
    return ", ".join(f"{k} {n}" for k, n in Counter(values).most_common())


def _rule_title(fam: str) -> str:
    return RULES[fam].title if fam in RULES else fam


def _region_of(view: View) -> Callable[[Violation], str]:
    """The region name of a finding of the day."""
    d = view.data
    idx = {v.id: i for i, v in enumerate(d.violations)}

    def region(v: Violation) -> str:
        return region_name(str(d.oblast[idx[v.id]]))

    return region


def _site_rows(view: View, region: Callable[[Violation], str]) -> list[_Row]:
    """Strikes near a site and fire in a window: one row per site or window and burst of fire."""
    rows: list[_Row] = []
    for group in _bursts([v for v in view.data.violations if _family(v) in _SITE_FAMILIES]):
        v0, fam = group[0], _family(group[0])
        what = _rule_title(fam)
        site = v0.rule_parameters.get("site_name") or v0.rule_parameters.get("window_id")
        dist = [number(v.rule_parameters.get("distance_to_site_km")) for v in group]
        if site:
            what += f": {site}"
        if fam == "protected_site":
            what += f" ({min(dist):.1f} km)" if len(group) == 1 else f" ({min(dist):.1f}-{max(dist):.1f} km)"
        single = len(group) == 1
        rows.append((v0.time, [
            view.t(v0.time) if single else f"{view.t(v0.time)} - {local_time(group[-1].time, view.tz, False)}",
            what if single else f"{what}: {len(group)} findings",
            view.place(v0.position.lon_deg, v0.position.lat_deg),
            ", ".join(sorted({region(v) for v in group})),
            _tally([weapon_label(v.weapon_class.value if v.weapon_class else None) for v in group]) if not single
            else finding_weapon(v0),
            view.grade(v0) if single else _tally([view.grade(v, probability=False) for v in group]),
            v0.status.value if single else _tally([v.status.value for v in group]),
            view.ref(v0) if single else f"{view.ref(v0)}, ...",
        ]))  # fmt: skip
    return rows


def _attributed_rows(view: View, region: Callable[[Violation], str]) -> list[_Row]:
    """Fire attributed at the grade 'party' (restrictions and interference are in their sections)."""
    rows: list[_Row] = []
    for v in view.data.violations:
        if _family(v) in (*_SITE_FAMILIES, *_OWN_SECTION):
            continue
        if v.attribution.is_attributed:
            rows.append((v.time, [
                view.t(v.time), _rule_title(_family(v)),
                view.place(v.position.lon_deg, v.position.lat_deg), region(v),
                finding_weapon(v), view.grade(v), v.status.value,
                view.ref(v),
            ]))  # fmt: skip
    return rows


def _interference_rows(view: View, region: Callable[[Violation], str]) -> list[_Row]:
    """Interference: one row per kind and grade."""
    groups: dict[tuple[str, str], list[Violation]] = {}
    for v in view.data.violations:
        if _family(v) == "monitoring_interference":
            groups.setdefault((v.rule_id, view.grade(v)), []).append(v)
    rows: list[_Row] = []
    for (rule, grade), vs in groups.items():
        ref = "" if view.public else f" ({vs[0].id}{', ...' if len(vs) > 1 else ''})"
        rows.append((vs[0].time, [
            f"{view.t(vs[0].time)} - {local_time(vs[-1].time, view.tz, False)}",
            f"Interference with monitoring assets: {len(vs)} sensor(s) {rule.rsplit('.', 1)[-1]}",
            f"{len(vs)} sensor positions", ", ".join(sorted({region(v) for v in vs})), "-", grade,
            _tally([v.status.value for v in vs]), f"{len(vs)} findings{ref}",
        ]))  # fmt: skip
    return rows


def mission_text(view: View, m: Incident) -> str:
    """A fire mission in the Mission's words: ``Fire mission: about 30 rounds (17-41) of MLRS, fired from
    11 km NW of X (...) and landing 8 km N of Y (...), over 14 s``; places as :meth:`View.place` gives them."""
    r = m.rounds
    span = f" ({r.low}-{r.high})" if r.low != r.high else ""
    weapon = "" if m.weapon_class is WeaponClass.UNKNOWN else f" of {weapon_label(m.weapon_class.value)}"
    parts = [f"Fire mission: about {r.best} rounds{span}{weapon}"]
    for label, area in (("fired from", m.launch_area), ("landing", m.impact_area)):
        if area is not None:
            parts.append(f"{label} {view.place(area.position.lon_deg, area.position.lat_deg)}")
    dur = (m.window.end - m.window.start).total_seconds()
    return ", ".join(parts[:1]) + (", " + " and ".join(parts[1:]) if parts[1:] else "") + f", over {dur:.0f} s"


def _mission_rows(view: View) -> list[_Row]:
    """The largest fire missions (at least :data:`MISSION_MIN_ROUNDS` rounds, at most :data:`MISSION_MAX`)."""
    big = sorted((m for m in view.data.missions if m.rounds.best >= MISSION_MIN_ROUNDS), key=lambda m: -m.rounds.best)
    big = big[:MISSION_MAX]
    if not big:
        return []
    finding = {v.incident_id: v for v in view.data.violations if v.incident_id}
    rows: list[_Row] = []
    for m in big:
        where = m.impact_area or m.launch_area
        pos = where.position if where is not None else None
        reg = region_name(str(oblast_of([pos.lon_deg], [pos.lat_deg])[0])) if pos is not None else "-"
        a = m.attribution
        grade = LEVEL_LABELS[a.level.value] + (f": {a.party.value}" if a.party else "")
        v = finding.get(m.id)
        ref = view.ref(v) if v is not None else ("-" if view.public else m.id)
        rows.append((m.window.start, [
            view.t(m.window.start), mission_text(view, m),
            view.place(pos.lon_deg, pos.lat_deg) if pos is not None else "-", reg,
            weapon_label(m.weapon_class.value), grade, m.status.value, ref,
        ]))  # fmt: skip
    return rows


def notable_section(view: View) -> Section:
    """What stood out: strikes near protected sites, fire in ceasefire windows, interference, salvos,
    and fire findings attributed at the grade 'party'."""
    sec = Section("notable", "Notable incidents")
    region = _region_of(view)
    rows = [
        *_site_rows(view, region),
        *_attributed_rows(view, region),
        *_interference_rows(view, region),
        *_mission_rows(view),
    ]
    if not rows:
        sec.paragraphs.append(
            "Nothing stood out in the reporting period: no strike near a protected site, no fire during a local "
            f"ceasefire window, no interference with monitoring assets, no fire mission of {MISSION_MIN_ROUNDS} rounds "
            "or more, no fire attributed at the grade 'party'."
        )
        return sec
    rows.sort(key=lambda r: r[0])
    shown = [r for _, r in rows[: view.max_rows]]
    sec.paragraphs.append(
        "Listed: strikes within a protected site's radius, fire during a local ceasefire window, interference with "
        f"monitoring assets (one row per kind and grade), the largest fire missions (a volley or ripple of "
        f"{MISSION_MIN_ROUNDS} rounds or more fired from one place, counted from what the sensors heard; at most "
        f"{MISSION_MAX}), and fire attributed at the grade 'party'."
    )
    sec.tables.append(
        Table(
            "Notable incidents",
            ["Time", "What", "Place", "Region", "Weapon", "Attribution (as graded)", "Status", "Reference"],
            shown,
            note=view.listing_note(len(shown), len(rows)),
            css="small",
        )
    )
    return sec
