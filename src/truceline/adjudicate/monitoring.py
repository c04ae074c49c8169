"""The monitors' own reports: freedom-of-movement restrictions and interference with monitoring assets.

- ``freedom_of_movement.restriction``: every restriction a patrol reports is a violation by the
  party that restricted it (stated by the patrol: level ``party``, evidence the report).
- ``monitoring_interference.jammed`` / ``.destroyed``: a sensor reported jammed or destroyed
  (an outage or degradation alone is not interference). The party is attributed only when the
  status report names it (``... attributed to RU``); otherwise unattributed.
"""

from __future__ import annotations

import re

from truceline.adjudicate.base import Context, Points, Rule, register
from truceline.core import Attribution, Violation
from truceline.core.enums import AttributionLevel, Party, SensorHealth

_NAMED = re.compile(r"attributed to (?P<party>[A-Z]{2})\b")


@register
class FreedomOfMovement(Rule):
    id = "freedom_of_movement"
    version = "1.0.0"
    title = "Restriction of the monitors' freedom of movement"

    def apply(self, ctx: Context) -> list[Violation]:
        rs = list(ctx.restrictions)
        if not rs:
            return []
        p = Points.of(ctx.agreement, [r.position.lon_deg for r in rs], [r.position.lat_deg for r in rs],
                      [r.time for r in rs], [100.0] * len(rs))
        out = []
        for i, r in enumerate(rs):
            att = Attribution()
            if r.restricting_party is not None:
                att = Attribution(
                    level=AttributionLevel.PARTY,
                    party=r.restricting_party,
                    evidence=(f"restriction {r.id} reported by patrol {r.patrol_id}: {r.description}",),
                )
            out.append(
                self.finding(
                    ctx,
                    "restriction",
                    r.id,
                    time=r.time,
                    lon=r.position.lon_deg,
                    lat=r.position.lat_deg,
                    sigma_m=None,
                    confidence=1.0,
                    line_version=ctx.version_id(int(p.zones.version[i])),
                    observation_ids=(r.id,),
                    attribution=att,
                    extra={"patrol_id": r.patrol_id},
                )
            )
        return out


@register
class MonitoringInterference(Rule):
    id = "monitoring_interference"
    version = "1.0.0"
    title = "Interference with monitoring assets"

    def apply(self, ctx: Context) -> list[Violation]:
        bad = [s for s in ctx.status_reports if s.health in (SensorHealth.JAMMED, SensorHealth.DESTROYED)]
        out = []
        for s in bad:
            sensor = ctx.sensor_by_id.get(s.sensor_id)
            if sensor is None:
                raise ValueError(f"sensor status report {s.id!r}: field 'sensor_id': unknown sensor {s.sensor_id!r}")
            m = _NAMED.search(s.reason)
            att = Attribution()
            if m and m["party"] in {p.value for p in Party}:
                att = Attribution(
                    level=AttributionLevel.PARTY,
                    party=Party(m["party"]),
                    evidence=(f"sensor status report {s.id}: {s.reason}",),
                )
            p = Points.of(ctx.agreement, [sensor.position.lon_deg], [sensor.position.lat_deg], [s.time], [10.0])
            out.append(
                self.finding(
                    ctx,
                    s.health.value,
                    s.id,
                    time=s.time,
                    lon=sensor.position.lon_deg,
                    lat=sensor.position.lat_deg,
                    sigma_m=None,
                    confidence=1.0,
                    line_version=ctx.version_id(int(p.zones.version[0])),
                    observation_ids=(s.id, sensor.id),
                    attribution=att,
                    extra={"sensor_id": sensor.id, "health": s.health.value},
                )
            )
        return out
