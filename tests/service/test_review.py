"""The analyst review workflow and its audit trail (service/review.py), on a real store of each backend asked for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from tests.backends import execute
from truceline.core import Event, Incident, Record, Violation, evolve
from truceline.core.attribution import Attribution
from truceline.core.enums import AttributionLevel, EventKind, Party, WeaponClass
from truceline.core.examples import EXAMPLE_TIME, example_records
from truceline.core.uncertainty import TimeWindow
from truceline.service import review
from truceline.service.review import ReviewConflict, ReviewError
from truceline.store import DERIVED_KINDS, AuditEntry, Store

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
EX = example_records()
ACTOR = "analyst.fr.1"


def t(seconds: float) -> dt.datetime:
    return EXAMPLE_TIME + dt.timedelta(seconds=seconds)


def us(when: dt.datetime) -> int:
    return (when - EPOCH) // dt.timedelta(microseconds=1)


def ev(rid: str, kind: EventKind, seconds: float, weapon: WeaponClass = WeaponClass.ARTILLERY_GE_100MM) -> Event:
    return evolve(EX["event"], id=rid, kind=kind, origin_time=t(seconds), weapon_class=weapon)  # type: ignore[return-value]


# evt-0000 launch -> evt-0001 impact (inc-0001, the example, with an observer report and RU origin-area
# attribution, corroborated); evt-0003 launch -> evt-0002 impact (inc-0002, unattributed, unverified).
EVENTS = [
    ev("evt-0000", EventKind.LAUNCH, -30),
    EX["event"],
    ev("evt-0002", EventKind.IMPACT, 100, WeaponClass.MLRS),
    ev("evt-0003", EventKind.LAUNCH, 60, WeaponClass.MLRS),
]
INC1: Incident = EX["incident"]  # type: ignore[assignment]
INC2: Incident = evolve(
    INC1,
    id="inc-0002",
    event_ids=("evt-0003", "evt-0002"),
    observation_ids=(),
    launch_event_id="evt-0003",
    impact_event_id="evt-0002",
    weapon_class=WeaponClass.MLRS,
    window=TimeWindow(start=t(60), end=t(100)),
    status="unverified",
    attribution=Attribution(),
)
VIO1: Violation = EX["violation"]  # type: ignore[assignment]
VIO2: Violation = evolve(
    VIO1, id="vio-0002", incident_id="inc-0002", event_ids=("evt-0003", "evt-0002"), time=t(100), status="unverified"
)
SCOPE = "window:2025-04-20T03:00:00Z"


def derived_rows() -> list[tuple[str, Record, int]]:
    rows: list[tuple[str, Record, int]] = [("event", e, us(e.origin_time)) for e in EVENTS]  # type: ignore[attr-defined]
    rows += [("incident", i, us(i.window.start)) for i in (INC1, INC2)]
    rows += [("violation", v, us(v.time)) for v in (VIO1, VIO2)]
    return rows


@pytest.fixture
def store(store: Store) -> Store:
    """On each backend asked for (tests/backends.py): four events, two incidents, two violations."""
    run = store.new_run("process", {"test": True})
    store.replace_scope(SCOPE, run, derived_rows(), seen_seq=0)
    return store


def status(store: Store, kind: str, rid: str) -> str | None:
    d = store.get_derived(kind, rid)
    assert d is not None
    return d.status


def snapshot(store: Store) -> dict[str, Any]:
    """Everything stored that review may touch: derived rows (record, scope, run), audit, runs."""
    derived = {
        (d.kind, d.record.id, d.run_id): (d.record, d.scope)
        for kind in DERIVED_KINDS
        for d in store.derived(kind, include_superseded=True)
    }
    return {
        "derived": derived,
        "audit": list(store.audit()),
        "runs": execute(store, "SELECT * FROM runs ORDER BY run_id"),
    }


def assert_recent(entry: AuditEntry) -> None:
    assert entry.at.tzinfo is not None and entry.at.utcoffset() == dt.timedelta(0)
    assert abs((dt.datetime.now(dt.UTC) - entry.at).total_seconds()) < 60


StatusAction = Callable[[Store, str, str, str, str], AuditEntry]
STATUS_ACTIONS: list[tuple[StatusAction, str, str]] = [
    (review.confirm, "confirm", "verified"),
    (review.dismiss, "dismiss", "refuted"),
    (review.mark_inconclusive, "mark_inconclusive", "inconclusive"),
]


# -- status actions ------------------------------------------------------------------------------
@pytest.mark.parametrize(("fn", "action", "to"), STATUS_ACTIONS)
@pytest.mark.parametrize(
    ("kind", "rid", "was"), [("violation", "vio-0002", "unverified"), ("incident", "inc-0001", "corroborated")]
)
def test_status_action(
    store: Store, fn: StatusAction, action: str, to: str, kind: str, rid: str, was: str
) -> None:
    entry = fn(store, kind, rid, ACTOR, "two sensors and a patrol agree")
    assert status(store, kind, rid) == to
    assert (entry.actor, entry.action, entry.target_kind, entry.target_id) == (ACTOR, action, kind, rid)
    assert entry.reason == "two sensors and a patrol agree"
    assert entry.before == {"status": was} and entry.after == {"status": to}
    assert_recent(entry)
    assert review.history(store, rid) == [entry]
    # the stored record itself is immutable: only its current status changed
    d = store.get_derived(kind, rid)
    assert d is not None and d.record.status.value == was  # type: ignore[attr-defined]
    assert d.superseded_by is None


def test_event_can_be_reviewed(store: Store) -> None:
    entry = review.confirm(store, "event", "evt-0001", ACTOR, "crater found by patrol")
    assert entry.before == {"status": None} and entry.after == {"status": "verified"}
    assert status(store, "event", "evt-0001") == "verified"


def test_status_can_change_again_and_history_keeps_order(store: Store) -> None:
    a = review.dismiss(store, "violation", "vio-0002", ACTOR, "no crater")
    b = review.confirm(store, "violation", "vio-0002", "analyst.uk.2", "crater found on second patrol")
    assert status(store, "violation", "vio-0002") == "verified"
    assert review.history(store, "vio-0002") == [a, b]
    assert b.before == {"status": "refuted"} and b.seq > a.seq


def test_same_status_is_refused(store: Store) -> None:
    review.confirm(store, "violation", "vio-0002", ACTOR, "checked")
    with pytest.raises(ReviewConflict, match="already verified") as err:
        review.confirm(store, "violation", "vio-0002", "someone.else", "checked too")
    assert isinstance(err.value, ValueError)
    assert (err.value.kind, err.value.record_id) == ("violation", "vio-0002")
    assert len(review.history(store, "vio-0002")) == 1


@pytest.mark.parametrize("fn", [a[0] for a in STATUS_ACTIONS] + [review.request_verification])
@pytest.mark.parametrize(
    ("actor", "reason", "bad"),
    [("", "why", "actor"), ("  ", "why", "actor"), (ACTOR, "", "reason"), (ACTOR, " \n", "reason")],
)
def test_actor_and_reason_required(store: Store, fn: StatusAction, actor: str, reason: str, bad: str) -> None:
    before = snapshot(store)
    with pytest.raises(ValueError, match=f"^{bad}: must be a non-empty string"):
        fn(store, "violation", "vio-0002", actor, reason)
    assert status(store, "violation", "vio-0002") == "unverified"
    assert snapshot(store) == before


def test_annotate_needs_actor_and_text(store: Store) -> None:
    with pytest.raises(ValueError, match=r"^actor:"):
        review.annotate(store, "incident", "inc-0001", "", "note")
    with pytest.raises(ValueError, match=r"^text:"):
        review.annotate(store, "incident", "inc-0001", ACTOR, "")
    assert list(store.audit()) == []


@pytest.mark.parametrize("fn", [a[0] for a in STATUS_ACTIONS] + [review.request_verification, review.annotate])
def test_unknown_record(store: Store, fn: StatusAction) -> None:
    with pytest.raises(ReviewError, match="violation 'vio-nope': not found") as err:
        fn(store, "violation", "vio-nope", ACTOR, "why")
    assert isinstance(err.value, LookupError)
    assert (err.value.kind, err.value.record_id) == ("violation", "vio-nope")
    with pytest.raises(ReviewError, match="incident 'vio-0001'"):
        fn(store, "incident", "vio-0001", ACTOR, "why")  # the id exists, as another kind
    assert list(store.audit()) == []


@pytest.mark.parametrize("fn", [a[0] for a in STATUS_ACTIONS] + [review.request_verification, review.annotate])
def test_superseded_record(store: Store, fn: StatusAction) -> None:
    run = store.new_run("process", {"again": True})
    store.replace_scope(SCOPE, run, [], seen_seq=1)  # the window re-derived with nothing in it
    with pytest.raises(ReviewError, match=f"violation 'vio-0002': superseded by run {run}"):
        fn(store, "violation", "vio-0002", ACTOR, "why")
    assert list(store.audit()) == []


@pytest.mark.parametrize("kind", ["claim_assessment", "sensor", "incidents", ""])
def test_kind_must_be_reviewable(store: Store, kind: str) -> None:
    with pytest.raises(ValueError, match=r"^kind:"):
        review.confirm(store, kind, "vio-0002", ACTOR, "why")


def test_status_change_and_audit_are_one_transaction(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> AuditEntry:
        raise OSError("disk full")

    monkeypatch.setattr(store, "append_audit", broken)
    with pytest.raises(OSError, match="disk full"):
        review.confirm(store, "violation", "vio-0002", ACTOR, "checked")
    assert status(store, "violation", "vio-0002") == "unverified"


# -- annotate, request verification ---------------------------------------------------------------
def test_annotate_is_audit_only(store: Store) -> None:
    before = snapshot(store)
    entry = review.annotate(store, "incident", "inc-0001", ACTOR, "patrol heard 4 impacts, sensors located 1")
    assert (entry.action, entry.target_kind, entry.target_id, entry.actor) == (
        "annotate",
        "incident",
        "inc-0001",
        ACTOR,
    )
    assert entry.reason == "patrol heard 4 impacts, sensors located 1"
    assert entry.before is None and entry.after is None
    assert_recent(entry)
    after = snapshot(store)
    assert after["derived"] == before["derived"] and after["audit"] == [entry]
    assert status(store, "incident", "inc-0001") == "corroborated"


def test_request_verification(store: Store) -> None:
    assert review.pending_requests(store) == []
    entry = review.request_verification(store, "violation", "vio-0002", ACTOR, "send a patrol to the crater")
    assert entry.action == "request_verification" and entry.reason == "send a patrol to the crater"
    assert entry.before == {"status": "unverified"}
    assert entry.after == {"status": "unverified", "verification_requested": True}
    assert status(store, "violation", "vio-0002") == "unverified"
    assert review.pending_requests(store) == [entry]

    with pytest.raises(ReviewConflict, match=r"already requested by analyst\.fr\.1"):
        review.request_verification(store, "violation", "vio-0002", "analyst.uk.2", "again")
    other = review.request_verification(store, "incident", "inc-0002", "analyst.uk.2", "UAV pass")
    review.annotate(store, "violation", "vio-0002", ACTOR, "patrol planned for 10:00")  # does not close it
    assert review.pending_requests(store) == [entry, other]

    review.confirm(store, "violation", "vio-0002", ACTOR, "patrol found the crater")
    assert review.pending_requests(store) == [other]
    again = review.request_verification(store, "violation", "vio-0002", ACTOR, "second opinion")  # may reopen
    assert review.pending_requests(store) == [other, again]


@pytest.mark.parametrize("fn", [review.dismiss, review.mark_inconclusive])
def test_request_closed_by_status_actions(store: Store, fn: StatusAction) -> None:
    review.request_verification(store, "incident", "inc-0002", ACTOR, "UAV pass")
    fn(store, "incident", "inc-0002", ACTOR, "UAV saw nothing conclusive")
    assert review.pending_requests(store) == []


def test_request_closed_by_merge(store: Store) -> None:
    review.request_verification(store, "incident", "inc-0002", ACTOR, "UAV pass")
    review.merge_incidents(store, ["inc-0001", "inc-0002"], ACTOR, "one fire mission")
    assert review.pending_requests(store) == []


def test_request_on_superseded_record_is_not_pending(store: Store) -> None:
    review.request_verification(store, "violation", "vio-0002", ACTOR, "patrol")
    run = store.new_run("process", {"again": True})
    store.replace_scope(SCOPE, run, [], seen_seq=1)
    assert review.pending_requests(store) == []


# -- merge ---------------------------------------------------------------------------------------
def test_merge(store: Store) -> None:
    new = review.merge_incidents(store, ["inc-0001", "inc-0002"], ACTOR, "same battery, one fire mission")
    assert new.id not in ("inc-0001", "inc-0002") and new.id.startswith("inc-")
    assert new.event_ids == ("evt-0000", "evt-0001", "evt-0003", "evt-0002")
    assert new.observation_ids == ("obs-0001",)
    assert new.window == TimeWindow(start=t(-30), end=t(100))
    assert new.launch_event_id is None and new.impact_event_id is None  # two launches, two impacts
    assert new.weapon_class is WeaponClass.UNKNOWN  # artillery and MLRS
    assert new.attribution == Attribution()  # members disagree: unattributed
    assert new.status.value == "unverified"
    assert new.provenance.algorithm == "review.merge"
    assert new.provenance.inputs == ("inc-0001", "inc-0002")

    stored = store.get_derived("incident", new.id)
    assert stored is not None and stored.record == new and stored.scope == f"review:{new.id}"
    assert stored.status == "unverified" and stored.superseded_by is None
    assert [d.record.id for d in store.derived("incident")] == [new.id]
    old = {d.record.id: d for d in store.derived("incident", include_superseded=True) if d.record.id != new.id}
    assert set(old) == {"inc-0001", "inc-0002"}
    assert {d.superseded_by for d in old.values()} == {stored.run_id}
    assert old["inc-0001"].record == INC1 and old["inc-0001"].status == "corroborated"  # still readable

    # violations of the members stay as they were, citing the superseded incidents
    vios = {d.record.id: d.record for d in store.derived("violation")}
    assert vios == {"vio-0001": VIO1, "vio-0002": VIO2}
    # events are not touched
    assert [d.record.id for d in store.derived("event")] == ["evt-0000", "evt-0001", "evt-0003", "evt-0002"]


def test_merge_audit_covers_every_id(store: Store) -> None:
    new = review.merge_incidents(store, ["inc-0001", "inc-0002"], ACTOR, "one fire mission")
    (m1,) = review.history(store, "inc-0001")
    (m2,) = review.history(store, "inc-0002")
    (mn,) = review.history(store, new.id)
    for e in (m1, m2, mn):
        assert (e.action, e.actor, e.reason, e.target_kind) == ("merge", ACTOR, "one fire mission", "incident")
        assert_recent(e)
    assert m1.before is not None and m1.before["status"] == "corroborated"
    assert m1.before["event_ids"] == ["evt-0000", "evt-0001"]
    assert m1.after is not None and m1.after["merged_into"] == new.id
    assert m1.after["members"] == ["inc-0001", "inc-0002"]
    assert m2.after is not None and m2.after["merged_into"] == new.id
    assert mn.before == {"members": ["inc-0001", "inc-0002"]}
    assert mn.after is not None and mn.after["event_ids"] == list(new.event_ids) and mn.after["status"] == "unverified"
    assert mn.after["incident_id"] == new.id


def test_merge_keeps_what_members_agree_on(store: Store) -> None:
    # a launch and its impact first formed as two incidents, with the same attribution
    ru = Attribution(level=AttributionLevel.ORIGIN_AREA, party=Party.RUSSIA, probability=0.97, evidence=("evt-0010",))
    a = evolve(
        INC2,
        id="inc-a",
        event_ids=("evt-0010",),
        launch_event_id="evt-0010",
        impact_event_id=None,
        window=TimeWindow(start=t(200), end=t(200)),
        attribution=ru,
        weapon_class=WeaponClass.UNKNOWN,
    )
    b = evolve(
        INC2,
        id="inc-b",
        event_ids=("evt-0011",),
        launch_event_id=None,
        impact_event_id="evt-0011",
        window=TimeWindow(start=t(230), end=t(231)),
        attribution=ru,
    )
    run = store.new_run("process", {})
    store.replace_scope("window:other", run, [("incident", a, us(t(200))), ("incident", b, us(t(230)))], seen_seq=0)
    new = review.merge_incidents(store, ["inc-a", "inc-b"], ACTOR, "launch and impact paired by time of flight")
    assert (new.launch_event_id, new.impact_event_id) == ("evt-0010", "evt-0011")
    assert new.attribution == ru
    assert new.weapon_class is WeaponClass.MLRS  # one known class among the members
    assert new.window == TimeWindow(start=t(200), end=t(231))
    # the merged incident is reviewable like any other
    review.confirm(store, "incident", new.id, ACTOR, "two sensors and a patrol")
    assert status(store, "incident", new.id) == "verified"


@pytest.mark.parametrize(
    ("ids", "match"),
    [
        (["inc-0001"], "two or more"),
        ([], "two or more"),
        ("inc-0001", "two or more"),
        (["inc-0001", "inc-0001"], r"ids\[1\]: 'inc-0001' is repeated"),
        (["inc-0001", ""], r"ids\[1\]: must be a non-empty"),
    ],
)
def test_merge_bad_ids(store: Store, ids: Any, match: str) -> None:
    before = snapshot(store)
    with pytest.raises(ValueError, match=match):
        review.merge_incidents(store, ids, ACTOR, "why")
    assert snapshot(store) == before


def test_merge_unknown_or_superseded_member_writes_nothing(store: Store) -> None:
    before = snapshot(store)
    with pytest.raises(ReviewError, match="incident 'inc-nope': not found"):
        review.merge_incidents(store, ["inc-0001", "inc-nope"], ACTOR, "why")
    with pytest.raises(ReviewError, match="incident 'vio-0001'"):
        review.merge_incidents(store, ["inc-0001", "vio-0001"], ACTOR, "why")
    assert snapshot(store) == before
    new = review.merge_incidents(store, ["inc-0001", "inc-0002"], ACTOR, "one fire mission")
    with pytest.raises(ReviewError, match="incident 'inc-0001': superseded"):
        review.merge_incidents(store, [new.id, "inc-0001"], ACTOR, "again")
    with pytest.raises(ReviewError, match="superseded"):
        review.confirm(store, "incident", "inc-0002", ACTOR, "too late")


def test_merge_needs_actor_and_reason(store: Store) -> None:
    with pytest.raises(ValueError, match=r"^actor:"):
        review.merge_incidents(store, ["inc-0001", "inc-0002"], "", "why")
    with pytest.raises(ValueError, match=r"^reason:"):
        review.merge_incidents(store, ["inc-0001", "inc-0002"], ACTOR, "")
    assert len(store.derived("incident")) == 2


def test_merge_is_one_transaction(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(store)
    real = store.append_audit
    calls = []

    def fails_second(*args: Any, **kwargs: Any) -> AuditEntry:
        calls.append(args)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "append_audit", fails_second)
    with pytest.raises(OSError):
        review.merge_incidents(store, ["inc-0001", "inc-0002"], ACTOR, "one fire mission")
    assert snapshot(store) == before


# -- split ---------------------------------------------------------------------------------------
def test_split(store: Store) -> None:
    parts = review.split_incident(store, "inc-0001", [["evt-0000", "obs-0001"], ["evt-0001"]], ACTOR, "two missions")
    assert len(parts) == 2 and len({p.id for p in parts}) == 2
    assert not {p.id for p in parts} & {"inc-0001", "inc-0002"}
    a, b = parts
    assert (a.event_ids, a.observation_ids, a.launch_event_id, a.impact_event_id) == (
        ("evt-0000",), ("obs-0001",), "evt-0000", None,
    )  # fmt: skip
    assert (b.event_ids, b.observation_ids, b.launch_event_id, b.impact_event_id) == (
        ("evt-0001",),
        (),
        None,
        "evt-0001",
    )
    assert a.window == INC1.window  # it holds an observation: the original window
    assert b.window == TimeWindow(start=t(5.25), end=t(5.25))  # its event's origin time
    for p in parts:
        assert p.attribution == Attribution() and p.status.value == "unverified"
        assert p.weapon_class is WeaponClass.ARTILLERY_GE_100MM
        assert p.provenance.algorithm == "review.split" and p.provenance.inputs == ("inc-0001",)
        d = store.get_derived("incident", p.id)
        assert d is not None and d.record == p and d.scope == f"review:{p.id}" and d.superseded_by is None
    # the union of the parts is the original, the parts are disjoint
    assert sorted([*a.event_ids, *b.event_ids]) == sorted(INC1.event_ids)
    assert sorted([*a.observation_ids, *b.observation_ids]) == sorted(INC1.observation_ids)

    orig = store.get_derived("incident", "inc-0001")
    assert orig is not None and orig.record == INC1 and orig.superseded_by is not None
    assert {d.record.id for d in store.derived("incident")} == {"inc-0002", a.id, b.id}
    assert len(store.derived("incident", include_superseded=True)) == 4
    assert store.get_derived("violation", "vio-0001").record == VIO1  # type: ignore[union-attr]


def test_split_audit_covers_every_id(store: Store) -> None:
    a, b = review.split_incident(store, "inc-0002", [["evt-0002"], ["evt-0003"]], ACTOR, "two guns")
    (so,) = review.history(store, "inc-0002")
    (sa,) = review.history(store, a.id)
    (sb,) = review.history(store, b.id)
    for e in (so, sa, sb):
        assert (e.action, e.actor, e.reason, e.target_kind) == ("split", ACTOR, "two guns", "incident")
        assert_recent(e)
    assert so.before is not None and so.before["event_ids"] == ["evt-0003", "evt-0002"]
    assert so.after is not None and so.after["split_into"] == [a.id, b.id]
    assert so.after["groups"] == [["evt-0002"], ["evt-0003"]]
    assert sa.before == {"split_from": "inc-0002", "siblings": [a.id, b.id]}
    assert sa.after is not None and sa.after["event_ids"] == ["evt-0002"] and sa.after["status"] == "unverified"
    assert sb.after is not None and sb.after["event_ids"] == ["evt-0003"]
    assert a.weapon_class is WeaponClass.MLRS and a.window == TimeWindow(start=t(100), end=t(100))


@pytest.mark.parametrize(
    ("groups", "match"),
    [
        (
            [["evt-0000", "evt-0001"], ["evt-0001", "obs-0001"]],
            r"groups\[1\]\[0\]: 'evt-0001' is already in groups\[0\]\[1\]",
        ),
        ([["evt-0000"], ["obs-0001"]], "'evt-0001' of incident 'inc-0001' is in no group"),
        ([["evt-0000", "obs-0001"], ["evt-0001"], ["evt-0002"]], r"groups\[2\]\[0\]: 'evt-0002' is not an event"),
        ([["evt-0000", "evt-0001"], ["evt-0009"]], r"groups\[1\]\[0\]: 'evt-0009' is not an event"),
        ([["evt-0000", "evt-0001"], []], r"groups\[1\]: must be a non-empty"),
        ([["evt-0000", "evt-0001", "obs-0001"]], "two or more groups"),
        ([], "two or more groups"),
        (
            [["evt-0000", "evt-0000"], ["evt-0001", "obs-0001"]],
            r"groups\[0\]\[1\]: 'evt-0000' is already in groups\[0\]\[0\]",
        ),
        ([["evt-0000"], ["evt-0001"]], "'obs-0001' of incident 'inc-0001' is in no group"),
        (["evt-0000", "evt-0001"], r"groups\[0\]: must be a non-empty list"),
    ],
)
def test_split_bad_groups(store: Store, groups: Any, match: str) -> None:
    before = snapshot(store)
    with pytest.raises(ValueError, match=match):
        review.split_incident(store, "inc-0001", groups, ACTOR, "why")
    assert snapshot(store) == before


def test_split_unknown_superseded_and_empty_args(store: Store) -> None:
    with pytest.raises(ReviewError, match="incident 'inc-nope': not found"):
        review.split_incident(store, "inc-nope", [["a"], ["b"]], ACTOR, "why")
    with pytest.raises(ValueError, match=r"^actor:"):
        review.split_incident(store, "inc-0002", [["evt-0002"], ["evt-0003"]], " ", "why")
    with pytest.raises(ValueError, match=r"^reason:"):
        review.split_incident(store, "inc-0002", [["evt-0002"], ["evt-0003"]], ACTOR, "")
    review.split_incident(store, "inc-0002", [["evt-0002"], ["evt-0003"]], ACTOR, "two guns")
    with pytest.raises(ReviewError, match="incident 'inc-0002': superseded"):
        review.split_incident(store, "inc-0002", [["evt-0002"], ["evt-0003"]], ACTOR, "again")


def test_merge_then_split_back(store: Store) -> None:
    merged = review.merge_incidents(store, ["inc-0001", "inc-0002"], ACTOR, "one mission?")
    groups = [["evt-0000", "evt-0001", "obs-0001"], ["evt-0003", "evt-0002"]]
    p1, p2 = review.split_incident(store, merged.id, groups, "analyst.uk.2", "no: two missions")
    assert (p1.event_ids, p2.event_ids) == (INC1.event_ids, INC2.event_ids)
    assert (p1.window, p2.window) == (merged.window, TimeWindow(start=t(60), end=t(100)))
    assert [e.action for e in review.history(store, merged.id)] == ["merge", "split"]
    assert {d.record.id for d in store.derived("incident")} == {p1.id, p2.id}
    assert len(store.derived("incident", include_superseded=True)) == 5


# -- nothing is ever deleted ---------------------------------------------------------------------
def test_nothing_is_ever_deleted(store: Store) -> None:
    steps: list[Callable[[], object]] = [
        lambda: review.request_verification(store, "violation", "vio-0001", ACTOR, "patrol"),
        lambda: review.confirm(store, "violation", "vio-0001", ACTOR, "patrol confirmed"),
        lambda: review.annotate(store, "event", "evt-0002", ACTOR, "crater photographed"),
        lambda: review.dismiss(store, "violation", "vio-0002", ACTOR, "echo, not a firing"),
        lambda: review.mark_inconclusive(store, "incident", "inc-0002", ACTOR, "one sensor only"),
        lambda: review.merge_incidents(store, ["inc-0001", "inc-0002"], ACTOR, "one mission"),
    ]
    seen = snapshot(store)
    for step in steps:
        step()
        now = snapshot(store)
        for key, value in seen["derived"].items():
            assert now["derived"][key] == value  # every row still there, unchanged (record, scope, run)
        assert now["audit"][: len(seen["audit"])] == seen["audit"]  # the audit only grows
        assert now["runs"][: len(seen["runs"])] == seen["runs"]
        assert len(now["audit"]) > len(seen["audit"])
        seen = now
    (merged,) = store.derived("incident")
    review.split_incident(store, merged.record.id, [[*INC1.event_ids, "obs-0001"], list(INC2.event_ids)], ACTOR, "no")
    final = snapshot(store)
    assert set(seen["derived"]) < set(final["derived"])
    assert final["audit"][: len(seen["audit"])] == seen["audit"]
    raw = execute(store, "SELECT COUNT(*) FROM derived")[0][0]
    assert raw == len(final["derived"]) == 8 + 1 + 2  # 4 events, 2 violations, 2 incidents + merged + 2 parts
    assert len(final["audit"]) == 5 + 3 + 3
