"""Queries over the store for the HTTP API: filtering, paging, role redaction, GeoJSON features.

Framework-free (no web imports): the API's routes parse the request, call one function here and
return what it gives. What a role may see of each record and field is decided by the one redaction
policy, :mod:`truceline.service.redaction` (docs/api.md gives it as a table); the queries apply it to
every feature they build and to the positions their filters judge:

- a **full** view (admin, analyst, observer) sees every record as stored, with its current status;
- a **liaison** view (a party's liaison officer) sees only the findings that concern its party:
  incidents, violations and events whose attribution names the party, claims by or against it
  (with their verdicts); exact positions only of its party's records in its party's area, others
  rounded to 0.01 degree; no sensor, sensor id, health, detection id or coverage;
- a **public** view sees violations only, through a whitelist: positions rounded to 0.01 degree
  (about 1 km), none for a finding at a sensor, no evidence ids, and a keyed public id
  (:func:`public_ids`: ``pub-`` + 16 hex digits of an HMAC-SHA256 under the data directory's secret).

Filters (:class:`Filters`, parsed from query strings by :func:`parse_filters`) apply to the
record's time as the store files it (a violation's time, an event's origin time, an incident's
start, a claim's period start): ``start <= time < end``; to its point (a violation's position,
an incident's impact, else launch, an event's position, a claim's place, a sensor's position)
for ``bbox`` and ``sector`` (the agreement's sector containing the point; the first listed wins,
as in the zone engine); to its current status, its party (``UA``, ``RU`` or ``unattributed``)
and a kind that depends on the collection (see :data:`COLLECTIONS`).

The package's modules, by concern: :mod:`~truceline.service.queries.filters` (errors, views, filter
parsing), :mod:`~truceline.service.queries.paging` (selection and paging),
:mod:`~truceline.service.queries.features` (GeoJSON features, through the redaction policy),
:mod:`~truceline.service.queries.findings` (violations, incidents, events, claims, aggregates, audit),
:mod:`~truceline.service.queries.network` (sensors and coverage),
:mod:`~truceline.service.queries.ingest` (ingest of request bodies) and
:mod:`~truceline.service.queries.layers` (agreement layers). Everything public is re-exported here.
"""

from __future__ import annotations

from truceline.service.queries.filters import (
    COLLECTIONS,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Filters,
    QueryError,
    UnknownKind,
    View,
    parse_datetime_interval,
    parse_filters,
    parse_time,
)
from truceline.service.queries.filters import FULL as FULL
from truceline.service.queries.findings import (
    aggregates,
    audit_entries,
    audit_json,
    change_seq,
    claims,
    events,
    find_feature,
    incident_detail,
    incidents,
    violations,
)
from truceline.service.queries.ingest import IngestOutcome, ingest_body
from truceline.service.queries.ingest import record_kinds as record_kinds
from truceline.service.queries.layers import LAYERS, AgreementLayers
from truceline.service.queries.network import coverage, data_time, sensors
from truceline.service.queries.paging import Page
from truceline.service.redaction import POSITION_DECIMALS as PUBLIC_DECIMALS
from truceline.service.redaction import PublicIds, public_ids

__all__ = [
    "COLLECTIONS",
    "DEFAULT_LIMIT",
    "LAYERS",
    "MAX_LIMIT",
    "PUBLIC_DECIMALS",
    "AgreementLayers",
    "Filters",
    "IngestOutcome",
    "Page",
    "PublicIds",
    "QueryError",
    "UnknownKind",
    "View",
    "aggregates",
    "audit_entries",
    "audit_json",
    "change_seq",
    "claims",
    "coverage",
    "data_time",
    "events",
    "find_feature",
    "incident_detail",
    "incidents",
    "ingest_body",
    "parse_datetime_interval",
    "parse_filters",
    "parse_time",
    "public_ids",
    "sensors",
    "violations",
]
