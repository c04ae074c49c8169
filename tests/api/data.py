"""A small hand-made store for the API tests: three incidents (RU, UA, unattributed), their events and
violations, a restriction finding, claims by both parties and the media, three sensors, one jammed.

Places lie on the default agreement's line, 2 September 2026 (UTC).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from truceline.core import (
    Attribution,
    Claim,
    ClaimAssessment,
    Event,
    Incident,
    Position,
    Record,
    Sensor,
    SensorStatusReport,
    Violation,
    evolve,
)
from truceline.core.enums import (
    AttributionLevel,
    ClaimantKind,
    ClaimVerdict,
    EventKind,
    Party,
    SensorHealth,
    SensorKind,
    WeaponClass,
)
from truceline.core.examples import example_records
from truceline.core.uncertainty import GeoUncertainty, TimeWindow
from truceline.ledger import keygen, log_bulletin
from truceline.service.tokens import create_token
from truceline.store import SQLiteStore

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
T0 = dt.datetime(2026, 9, 2, 6, 0, tzinfo=dt.UTC)
EX = example_records()
SCOPE = "window:2026-09-02T06:00:00Z"


def t(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def us(when: dt.datetime) -> int:
    return (when - EPOCH) // dt.timedelta(microseconds=1)


def att(party: Party | None, level: AttributionLevel = AttributionLevel.ORIGIN_AREA) -> Attribution:
    if party is None:
        return Attribution()
    return Attribution(level=level, party=party, probability=0.99, evidence=(f"launch inside {party.value} area",))


def event(rid: str, kind: EventKind, seconds: float, lon: float, lat: float, party: Party | None = None) -> Event:
    return evolve(  # type: ignore[return-value]
        EX["event"], id=rid, kind=kind, origin_time=t(seconds), position=Position(lon_deg=lon, lat_deg=lat),
        attribution=att(party), detection_ids=(f"det-{rid}-1", f"det-{rid}-2"),
        sensor_ids=("UK-AC-001", "FR-AC-002", "UK-AA-003"),
    )  # fmt: skip


def incident(rid: str, events: list[Event], party: Party | None, status: str, weapon: WeaponClass) -> Incident:
    launch = next((e.id for e in events if e.kind is EventKind.LAUNCH), None)
    impact = next((e.id for e in events if e.kind is EventKind.IMPACT), None)
    times = [e.origin_time for e in events]
    return evolve(  # type: ignore[return-value]
        EX["incident"], id=rid, event_ids=tuple(e.id for e in events), observation_ids=(),
        launch_event_id=launch, impact_event_id=impact, weapon_class=weapon,
        window=TimeWindow(start=min(times), end=max(times)), status=status, attribution=att(party),
    )  # fmt: skip


def violation(rid: str, rule: str, inc: Incident | None, at: Event | None, party: Party | None, status: str,
              **extra: object) -> Violation:  # fmt: skip
    fields: dict[str, object] = {
        "id": rid, "rule_id": rule, "status": status, "attribution": att(party, AttributionLevel.PARTY),
        "incident_id": None if inc is None else inc.id, "event_ids": () if inc is None else inc.event_ids,
        "observation_ids": (),
    }  # fmt: skip
    if at is not None:
        fields |= {"time": at.origin_time, "position": at.position, "geo_uncertainty": at.location_uncertainty}
    return evolve(EX["violation"], **(fields | extra))  # type: ignore[return-value]


# RU fires across the line from the east (Donetsk south); UA from the west (Zaporizhzhia); one unexplained impact.
E_RU = [event("evt-ru-l", EventKind.LAUNCH, 0, 37.80, 47.95, Party.RUSSIA),
        event("evt-ru-i", EventKind.IMPACT, 40, 37.45, 47.85)]  # fmt: skip
E_UA = [event("evt-ua-l", EventKind.LAUNCH, 600, 35.55, 47.45, Party.UKRAINE),
        event("evt-ua-i", EventKind.IMPACT, 630, 35.95, 47.55)]  # fmt: skip
E_UN = [event("evt-un-i", EventKind.IMPACT, 1800, 36.60, 47.70)]
EVENTS = [*E_RU, *E_UA, *E_UN]
INC_RU = incident("inc-ru", E_RU, Party.RUSSIA, "corroborated", WeaponClass.ARTILLERY_GE_100MM)
INC_UA = incident("inc-ua", E_UA, Party.UKRAINE, "unverified", WeaponClass.MLRS)
INC_UN = incident("inc-un", E_UN, None, "unverified", WeaponClass.UNKNOWN)
INCIDENTS = [INC_RU, INC_UA, INC_UN]
VIO_RU = violation("vio-fire_across_line.round-inc-ru", "fire_across_line.round", INC_RU, E_RU[0], Party.RUSSIA,
                   "corroborated")
VIO_UA = violation("vio-buffer_zone.firing-inc-ua", "buffer_zone.firing", INC_UA, E_UA[0], Party.UKRAINE, "unverified")
VIO_UN = violation("vio-protected_site.strike-inc-un", "protected_site.strike", INC_UN, E_UN[0], None, "unverified")
VIO_FOM = violation("vio-freedom_of_movement.restriction-fom-0001", "freedom_of_movement.restriction", None, None,
                    Party.UKRAINE, "unverified", time=t(3600), position=Position(lon_deg=35.61123, lat_deg=47.41877),
                    geo_uncertainty=GeoUncertainty(), observation_ids=("fom-0001",))  # fmt: skip
VIOLATIONS = [VIO_RU, VIO_UA, VIO_UN, VIO_FOM]

CLAIM_UA = evolve(EX["claim"], id="clm-ua-1", claimant="UA-MOD", accused_party=Party.RUSSIA, published_at=t(7200),
                  period=TimeWindow(start=t(-600), end=t(600)), place=Position(lon_deg=37.45, lat_deg=47.85))
CLAIM_RU = evolve(EX["claim"], id="clm-ru-1", claimant="RU-MOD", accused_party=Party.UKRAINE, published_at=t(7200),
                  period=TimeWindow(start=t(300), end=t(900)), place=Position(lon_deg=35.95, lat_deg=47.55))
CLAIM_MEDIA = evolve(EX["claim"], id="clm-media-1", claimant_kind=ClaimantKind.MEDIA, claimant="reuters",
                     accused_party=None, published_at=t(7200), period=TimeWindow(start=t(1500), end=t(2100)),
                     place=Position(lon_deg=36.6, lat_deg=47.7))  # fmt: skip
CLAIMS: list[Claim] = [CLAIM_UA, CLAIM_RU, CLAIM_MEDIA]  # type: ignore[list-item]
VERDICTS: list[ClaimAssessment] = [
    evolve(EX["claim_assessment"], id="cla-ua-1", claim_id="clm-ua-1", verdict=ClaimVerdict.CORROBORATED,
           evidence_ids=("inc-ru",)),
    evolve(EX["claim_assessment"], id="cla-ru-1", claim_id="clm-ru-1", verdict=ClaimVerdict.CONTRADICTED,
           evidence_ids=("inc-ua",)),
]  # type: ignore[list-item]  # fmt: skip

SENSORS = [
    Sensor(id="UK-AC-001", kind=SensorKind.ACOUSTIC, position=Position(lon_deg=36.10, lat_deg=47.60), elevation_m=150,
           contingent="UK", installed_at=T0 - dt.timedelta(days=10)),
    Sensor(id="FR-AC-002", kind=SensorKind.ACOUSTIC, position=Position(lon_deg=36.60, lat_deg=47.52), elevation_m=160,
           contingent="FR", installed_at=T0 - dt.timedelta(days=10)),
    Sensor(id="UK-AA-003", kind=SensorKind.ACOUSTIC_ARRAY, position=Position(lon_deg=37.20, lat_deg=47.75),
           elevation_m=170, has_bearing=True, bearing_sigma_deg=3.0, contingent="UK",
           installed_at=T0 - dt.timedelta(days=10)),
]  # fmt: skip
STATUS = [SensorStatusReport(id="sst-1", sensor_id="FR-AC-002", time=t(-3600), health=SensorHealth.JAMMED,
                             reason="GNSS jamming")]  # fmt: skip

ROLES = ("admin", "analyst", "observer", "liaison-UA", "liaison-RU")


@dataclass
class Built:
    """A built store: its folder and a token per role (``liaison-UA``, ``liaison-RU``) plus a revoked one."""

    data: Path
    tokens: dict[str, str]
    names: dict[str, str]
    revoked: str


def derived_rows() -> list[tuple[str, Record, int]]:
    rows: list[tuple[str, Record, int]] = [("event", e, us(e.origin_time)) for e in EVENTS]
    rows += [("incident", i, us(i.window.start)) for i in INCIDENTS]
    rows += [("violation", v, us(v.time)) for v in VIOLATIONS]
    claim_start = {c.id: c.period.start for c in CLAIMS}
    rows += [("claim_assessment", v, us(claim_start[v.claim_id])) for v in VERDICTS]
    return rows


#: The name of the transparency log's key (and its origin).
LOG_NAME = "mission.example/ledger"


def build(data: Path) -> Built:
    """Write the records and tokens into a new store under ``data``."""
    store = SQLiteStore(data)
    try:
        store.add_records("sensor", SENSORS)
        store.add_records("sensor_status_report", STATUS)
        store.add_records("claim", CLAIMS)
        run = store.new_run("process", {"test": True})
        store.replace_scope(SCOPE, run, derived_rows(), seen_seq=store.last_seq())
        tokens, names = {}, {}
        for role in ROLES:
            base, _, party = role.partition("-")
            name = f"{role}.tester"
            tokens[role], _ = create_token(store, base, name, party or None)
            names[role] = name
        revoked, rec = create_token(store, "admin", "former.admin")
        store.revoke_token(rec.token_id, dt.datetime.now(dt.UTC))
    finally:
        store.close()
    for folder, marking in (("2026-09-03", "MISSION INTERNAL"), ("2026-09-03-public", "PUBLIC")):
        (data / "bulletins" / folder).mkdir(parents=True)
        (data / "bulletins" / folder / "bulletin.html").write_text(f"<html>{marking}</html>", encoding="utf-8")
    keygen(data, LOG_NAME)  # a transparency log holding both editions (GET /api/v1/ledger)
    for folder in ("2026-09-03", "2026-09-03-public"):
        public = folder.endswith("-public")
        log_bulletin(data, data / "bulletins" / folder, f"bulletin-{folder}", public, ["bulletin.html"])
    return Built(data, tokens, names, revoked)
