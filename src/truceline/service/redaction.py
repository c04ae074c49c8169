"""The redaction policy: what each role sees of each record and field, decided here and nowhere else.

Every output of the system goes through this module: the API's collections and single features
(:mod:`truceline.service.queries`), OGC API Features (which calls the same queries), ``/changes``
(counts of what those queries let through), the daily bulletin's editions (:mod:`truceline.report`:
its tables, maps and exports) and the dashboard (which reads the API). docs/api.md states the same
rules as a table; :data:`RULES` is that table as data.

The audiences (:class:`Audience`): ``full`` (admin, analyst, observer: everything as stored), ``liaison``
(a party's liaison officer, who reads the public bulletin too) and ``public`` (no token; the public
bulletin). The rules:

- **Sensors are the mission's.** A liaison or public audience gets no sensor: no position, id,
  health, coverage, detection ids, and no position of a finding that sits at a sensor (the
  families that :attr:`~truceline.agreement.families.Family.places_asset`, i.e. interference with
  monitoring assets: their position is withheld, their sensor id and health parameters removed).
  The public bulletin draws no sensors and no unavailable-sensor marks, and gives no per-sensor or
  per-contingent health.
- **Positions.** ``full``: exact. ``public``: rounded to :data:`POSITION_DECIMALS` decimals of a
  degree (0.01 degree, about 1.1 km north-south and 0.75 km east-west here). ``liaison`` of party P:
  a point is exact only when the record is attributed to P **and** the point lies in the area P
  controls under the line in force at the record's time (P's own firing positions, P's weapons in
  its own area); every other point it receives - above all the impact points of P's fire in the
  other party's area - is rounded as for the public. Without an agreement, or with no line in
  force, every liaison point is rounded (the rule fails closed).
- **A place follows the position**: the description of a point (``3 km SW of Horlivka (Donetsk
  oblast)``, :mod:`truceline.geo.places`) is computed from the point as the audience receives it
  (:func:`shown_place`), never from the stored one: a rounded point's place is the rounded point's, a
  withheld point has none.
- **Uncertainty follows the position**: a rounded position carries no covariance, and no sigma or
  ellipse axis under :data:`MIN_SIGMA_M`; distances in a rounded record's rule parameters are
  given to the kilometre.
- **Ids.** ``public`` sees a finding only by its :class:`PublicIds` id (``pub-`` + 16 hex digits of
  an HMAC-SHA256 of the finding's id under a server secret; the public bulletin's references are
  the same ids) and no evidence ids; ``liaison`` sees the ids of the findings that concern it,
  never sensor or detection ids.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from truceline.agreement import Agreement
from truceline.agreement.families import FAMILIES, family_of
from truceline.core import Violation
from truceline.geo.places import Place, describe
from truceline.service.keys import key_file, server_key

__all__ = [
    "ASSET_FAMILIES",
    "EXACT",
    "FULL",
    "KEY_FILE",
    "MIN_SIGMA_M",
    "POSITION_DECIMALS",
    "PUBLIC",
    "ROUNDED",
    "RULES",
    "WITHHELD",
    "Audience",
    "PublicIds",
    "claim_precision",
    "coarse_ellipse",
    "coarse_sigma",
    "finding_precisions",
    "places_asset",
    "precisions",
    "public_ids",
    "public_violation",
    "redact_event",
    "redact_record",
    "sees_network",
    "shown",
    "shown_place",
]

#: Decimals of a rounded position: 0.01 degree (about 1.1 km north-south).
POSITION_DECIMALS = 2
#: A rounded position carries no sigma or ellipse axis finer than this, m.
MIN_SIGMA_M = 1000.0
#: Precision of a point as an audience receives it.
EXACT, ROUNDED, WITHHELD = "exact", "rounded", "withheld"

#: The policy as a table, field -> (full, liaison, public); docs/api.md gives the same table (its rows are
#: these fields, a test checks it).
RULES: dict[str, tuple[str, str, str]] = {
    "claim place": ("as claimed", "as claimed in its party's claims; else rounded to 0.01 deg", "no claims"),
    "finding, incident, event position": (
        "exact", "exact if attributed to its party and in the area its party controls; else rounded to 0.01 deg",
        "rounded to 0.01 deg (violations only)"),
    "position of a finding at a sensor (interference with monitoring assets)": ("exact", "withheld", "withheld"),
    "place (nearest settlement, distance, direction)": (
        "from the exact position", "from the position as given (exact or rounded)",
        "from the rounded position; none for a withheld one"),
    "ellipse, sigma, covariance": ("as stored", "as stored with an exact position; with a rounded one "
                                   "axes and sigma >= 1 km, no covariance", "none (bulletin: sigma >= 1 km)"),
    "distances in rule parameters (`*_km`, `*_m`)": ("as stored", "to the km with a rounded position", "none"),
    "sensors: ids, positions, health, coverage": ("yes", "no", "no (maps draw no sensors, no health marks)"),
    "sensor ids, health in findings and events; detection ids; provenance inputs": ("yes", "no", "no"),
    "evidence ids (incident, events, observations)": ("yes", "of the findings that concern its party", "no"),
    "record id": ("the id", "the id", "keyed public id (pub-...), = the public bulletin's reference"),
}  # fmt: skip

#: Rule families whose findings sit at a monitoring asset (a sensor): their position, sensor id and
#: health are the mission's own.
ASSET_FAMILIES = tuple(f.id for f in FAMILIES if f.places_asset)
#: Keys of rule or provenance parameters that name a sensor or its health.
SENSOR_KEYS = ("sensor_id", "sensor_ids", "health")


class Viewer(Protocol):
    """What the policy reads of a caller: its mode (``full``, ``liaison``, ``public``) and party."""

    @property
    def mode(self) -> str: ...

    @property
    def party(self) -> str | None: ...


@dataclass(frozen=True)
class Audience:
    """An audience of an output that is not an API caller (a bulletin edition): ``full`` or ``public``."""

    mode: str
    party: str | None = None


FULL = Audience("full")
PUBLIC = Audience("public")


def sees_network(who: Viewer) -> bool:
    """Whether ``who`` may see the sensor network: sensors, their positions and health, coverage."""
    return who.mode == "full"


def places_asset(rule_id: str) -> bool:
    """Whether a finding of this rule sits at a monitoring asset (see :data:`ASSET_FAMILIES`)."""
    return family_of(rule_id) in ASSET_FAMILIES


# ----------------------------------------------------------------------------------- positions
def controlling_party(agreement: Agreement, lon: NDArray[np.float64], lat: NDArray[np.float64],
                      times: Sequence[dt.datetime]) -> NDArray[np.object_]:  # fmt: skip
    """The party controlling each point under the line in force at its time (None: none, or no line)."""
    out = np.full(lon.size, None, dtype=object)
    if lon.size == 0:
        return out
    vidx = agreement.version_index(list(times))
    for i in np.unique(vidx[vidx >= 0]):
        sel = np.flatnonzero(vidx == i)
        res = agreement.zones(agreement.versions[int(i)]).query(lon[sel], lat[sel])
        out[sel] = res.sides.party_ids()
    return out


def precisions(
    who: Viewer,
    agreement: Agreement | None,
    parties: Sequence[str | None],
    lon: Sequence[float],
    lat: Sequence[float],
    times: Sequence[dt.datetime],
    asset: Sequence[bool] | None = None,
) -> list[str]:
    """The precision (:data:`EXACT`, :data:`ROUNDED`, :data:`WITHHELD`) of each point for ``who``.

    Parameters
    ----------
    who : Viewer
    agreement : Agreement or None
        Whose areas decide a liaison's exact points (None: every liaison point is rounded).
    parties : sequence of str or None
        The party each point's record is attributed to.
    lon, lat : sequence of float
        The points (degrees).
    times : sequence of datetime
        Each record's time (the line in force then decides who controls the point).
    asset : sequence of bool, optional
        Points at a monitoring asset (withheld from all but the full audience).
    """
    n = len(lon)
    at_asset = np.zeros(n, dtype=bool) if asset is None else np.asarray(asset, dtype=bool)
    if who.mode == "full":
        return [EXACT] * n
    out = np.where(at_asset, WITHHELD, ROUNDED).astype(object)
    if who.mode == "liaison" and agreement is not None and n:
        x, y = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        cand = ~at_asset & np.isfinite(x) & np.isfinite(y) & (np.asarray(parties, dtype=object) == who.party)
        if cand.any():
            idx = np.flatnonzero(cand)
            ctrl = controlling_party(agreement, x[idx], y[idx], [times[int(i)] for i in idx])
            out[idx[ctrl == who.party]] = EXACT
    return [str(p) for p in out]


def finding_precisions(who: Viewer, agreement: Agreement | None, violations: Sequence[Violation]) -> list[str]:
    """The precision of each finding's position for ``who`` (see :func:`precisions`): a finding is its
    attribution's party's, judged at its time; one that sits at a sensor is withheld."""
    parties = [None if v.attribution.party is None else str(v.attribution.party.value) for v in violations]
    lon, lat = [v.position.lon_deg for v in violations], [v.position.lat_deg for v in violations]
    asset = [places_asset(v.rule_id) for v in violations]
    return precisions(who, agreement, parties, lon, lat, [v.time for v in violations], asset)


def claim_precision(who: Viewer, claimant_party: str | None) -> str:
    """The precision of a claim's place for ``who``: a claim is its claimant's statement, so a liaison
    gets exact only the places its own party claimed; others rounded (the public sees no claims)."""
    if who.mode == "full" or (who.mode == "liaison" and claimant_party == who.party):
        return EXACT
    return ROUNDED


def shown(precision: str, lon: float, lat: float) -> tuple[float, float] | None:
    """The point as given at ``precision`` (None when withheld)."""
    if precision == WITHHELD:
        return None
    if precision == ROUNDED:
        return round(lon, POSITION_DECIMALS), round(lat, POSITION_DECIMALS)
    return lon, lat


def shown_place(precision: str, lon: float, lat: float) -> Place | None:
    """The place (:func:`truceline.geo.places.describe`) of the point as given at ``precision``: computed
    from the shown point, so never finer than it; None when the point is withheld."""
    p = shown(precision, lon, lat)
    return None if p is None else describe(p[0], p[1])


def coarse_sigma(sigma_m: float | None, precision: str) -> float | None:
    """A location sigma as given at ``precision`` (none finer than :data:`MIN_SIGMA_M` when rounded)."""
    if sigma_m is None or precision == EXACT:
        return sigma_m
    if precision == WITHHELD:
        return None
    return max(float(sigma_m), MIN_SIGMA_M)


def coarse_ellipse(ellipse: Mapping[str, float] | None, precision: str) -> dict[str, float] | None:
    """An ellipse ``{semi_major_m, semi_minor_m, angle_deg}`` as given at ``precision``."""
    if ellipse is None or precision == WITHHELD:
        return None
    if precision == EXACT:
        return dict(ellipse)
    return {
        "semi_major_m": max(float(ellipse["semi_major_m"]), MIN_SIGMA_M),
        "semi_minor_m": max(float(ellipse["semi_minor_m"]), MIN_SIGMA_M),
        "angle_deg": float(ellipse["angle_deg"]),
    }


def _coarse_params(params: Mapping[str, Any], precision: str) -> dict[str, Any]:
    """Parameters without sensor keys; distances to the km (``*_km``, ``*_m``) unless exact."""
    out: dict[str, Any] = {}
    for k, v in params.items():
        if k in SENSOR_KEYS:
            continue
        if precision != EXACT and isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
            if k.endswith("_km"):
                v = float(round(v))
            elif k.endswith("_m"):
                v = float(round(v / 1000.0) * 1000.0)
        out[k] = v
    return out


def _coarse_uncertainty(u: Any, precision: str) -> Any:
    if not isinstance(u, dict) or precision == EXACT:
        return u
    sigma = u.get("sigma_m")
    cov = u.get("cov_en_m2")
    if cov is not None:  # the largest axis, as one sigma
        sigma = math.sqrt(max(float(np.linalg.eigvalsh(np.asarray(cov, dtype=float))[-1]), 0.0))
    return {**u, "sigma_m": coarse_sigma(sigma, precision), "cov_en_m2": None}


# ----------------------------------------------------------------------------------- record JSON
def redact_record(props: dict[str, Any], who: Viewer, precision: str, *, position_key: str = "position",
                  uncertainty_key: str = "geo_uncertainty") -> dict[str, Any]:  # fmt: skip
    """A record's JSON (a violation, an incident) as ``who`` receives it, its point at ``precision``.

    For anyone but the full audience: no sensor id or health in the rule or provenance parameters,
    no provenance inputs (the evidence a full reader follows); a position rounded or withheld, its
    uncertainty coarsened and its distances to the km; a finding at a sensor cites no observations
    (its status report names the sensor).
    """
    if who.mode == "full":
        return props
    out = dict(props)
    pos = out.get(position_key)
    if isinstance(pos, dict) and "lon_deg" in pos:
        p = shown(precision, float(pos["lon_deg"]), float(pos["lat_deg"]))
        out[position_key] = None if p is None else {"lon_deg": p[0], "lat_deg": p[1]}
    if uncertainty_key in out:
        out[uncertainty_key] = None if precision == WITHHELD else _coarse_uncertainty(out[uncertainty_key], precision)
    for key in ("launch_area", "impact_area"):  # a fire mission's areas, as its point
        area = out.get(key)
        if isinstance(area, dict) and isinstance(area.get("position"), dict):
            a = redact_record(area, who, precision, uncertainty_key="uncertainty")
            out[key] = None if a.get("position") is None else a
    if isinstance(out.get("rule_parameters"), dict):
        out["rule_parameters"] = _coarse_params(out["rule_parameters"], precision)
    if isinstance(out.get("provenance"), dict):
        prov = {k: v for k, v in out["provenance"].items() if k != "inputs"}
        if isinstance(prov.get("parameters"), dict):  # a finding's are its rule's; others' the algorithm's
            prov["parameters"] = _coarse_params(prov["parameters"], precision if "rule_parameters" in out else EXACT)
        out["provenance"] = prov
    if precision == WITHHELD:
        out["observation_ids"] = []
    return out


def redact_event(props: dict[str, Any], who: Viewer, precision: str) -> dict[str, Any]:
    """An event's JSON as ``who`` receives it: as :func:`redact_record`, and no sensor or detection ids."""
    if who.mode == "full":
        return props
    out = redact_record(props, who, precision, uncertainty_key="location_uncertainty")
    out.pop("sensor_ids", None)
    out.pop("detection_ids", None)
    return out


def public_violation(v: Any, status: str, public_id: str, precision: str) -> dict[str, Any]:
    """The whitelist the public receives of a violation (the record as ``properties``, with ``position`` and
    its ``place``, described from that rounded position)."""
    att = v.attribution
    p = shown(precision, v.position.lon_deg, v.position.lat_deg)
    place = shown_place(precision, v.position.lon_deg, v.position.lat_deg)
    return {
        "id": public_id,
        "rule_id": v.rule_id,
        "rule_version": v.rule_version,
        "time": v.time.isoformat(),
        "position": None if p is None else {"lon_deg": p[0], "lat_deg": p[1]},
        "place": None if place is None else place.text,
        "place_detail": None if place is None else place.as_json(),
        "violation_kind": None if v.violation_kind is None else v.violation_kind.value,
        "weapon_class": None if v.weapon_class is None else v.weapon_class.value,
        "rounds": {"low": v.rounds.low, "best": v.rounds.best, "high": v.rounds.high},
        "attribution": {
            "level": att.level.value,
            "party": None if att.party is None else att.party.value,
            "probability": att.probability,
        },
        "confidence": v.confidence,
        "status": status,
    }


# ----------------------------------------------------------------------------------- public ids
#: Where the public-id secret is kept, relative to the data directory (mode 0600, never logged).
KEY_FILE = key_file(Path(), "public-id")


@dataclass(frozen=True)
class PublicIds:
    """The keyed public ids of one data directory: ``pub-`` + 16 hex digits of HMAC-SHA256(secret, id).

    The same record gets the same id in every request and in the public bulletin; without the secret
    the id cannot be recomputed from a guessed record id. The key is never shown (not in ``repr``).
    """

    key: bytes

    def __repr__(self) -> str:
        return "PublicIds(<secret>)"

    def __call__(self, record_id: str) -> str:
        """The public id of a record."""
        return "pub-" + hmac.new(self.key, record_id.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def key_for(data_dir: str | Path | None) -> bytes:
    """The public-id secret of a data directory (:func:`truceline.service.keys.server_key`, ``public-id``)."""
    return server_key(None if data_dir is None else Path(data_dir), "public-id")


def public_ids(store: Any) -> PublicIds:
    """The public ids of a store's records (its data directory's secret)."""
    return PublicIds(server_key(store, "public-id"))
