"""Ids: syntax and deterministic, content-derived ids."""

from __future__ import annotations

import datetime as dt
import math
import re

import pytest

from truceline.core import (
    ID_PATTERN,
    CountRange,
    Position,
    WeaponClass,
    canonical_json,
    is_valid_id,
    make_id,
)

T = dt.datetime(2025, 4, 20, 3, 15, 7, 123456, tzinfo=dt.UTC)


def test_make_id_format() -> None:
    rid = make_id("det", "UK-AC-017", T)
    assert re.fullmatch(r"det-[0-9a-f]{16}", rid)
    assert is_valid_id(rid)
    assert re.fullmatch(ID_PATTERN, rid)


def test_make_id_deterministic() -> None:
    parts = ("UK-AC-017", T, 12.5, WeaponClass.MLRS, {"b": 1, "a": [1, 2]})
    assert make_id("det", *parts) == make_id("det", *parts)
    # known value: pins the canonical encoding, so ids stay stable across releases
    assert canonical_json("S", 1, 1.5, T, WeaponClass.MLRS, None, {"b": 1, "a": True}) == (
        '["S",1,1.5,"2025-04-20T03:15:07.123456+00:00","mlrs",null,{"a":true,"b":1}]'
    )
    assert make_id("x", "a") == "x-" + __import__("hashlib").sha256(b'["a"]').hexdigest()[:16]


def test_make_id_distinct() -> None:
    ids = {
        make_id("det", "S-1", T),
        make_id("det", "S-2", T),
        make_id("det", "S-1", T + dt.timedelta(microseconds=1)),
        make_id("evt", "S-1", T),
        make_id("det", "S-1"),
        make_id("det", "a", "b"),
        make_id("det", "ab"),
        make_id("det", ["a", "b"], "c"),
        make_id("det", 1),
        make_id("det", 1.0),
        make_id("det", True),
        make_id("det", "1"),
    }
    assert len(ids) == 12


def test_make_id_independent_of_timezone_and_dict_order() -> None:
    kyiv = dt.timezone(dt.timedelta(hours=3))
    assert make_id("det", T) == make_id("det", T.astimezone(kyiv))
    assert make_id("p", {"a": 1, "b": 2}) == make_id("p", {"b": 2, "a": 1})
    assert make_id("p", {3, 1, 2}) == make_id("p", frozenset({2, 3, 1}))


def test_make_id_numpy_scalars_same_as_python() -> None:
    np = pytest.importorskip("numpy")
    assert make_id("x", np.int64(3), np.float64(0.5)) == make_id("x", 3, 0.5)


def test_make_id_from_records() -> None:
    p = Position(lon_deg=37.5, lat_deg=47.8)
    assert make_id("pos", p) == make_id("pos", {"lon_deg": 37.5, "lat_deg": 47.8})
    assert make_id("c", CountRange.exact(2)) != make_id("c", CountRange.exact(3))


@pytest.mark.parametrize(
    ("parts", "error"),
    [
        ((dt.datetime(2025, 1, 1),), ValueError),
        ((math.nan,), ValueError),
        ((math.inf,), ValueError),
        ((object(),), TypeError),
    ],
)
def test_make_id_refuses_ambiguous_parts(parts: tuple[object, ...], error: type) -> None:
    with pytest.raises(error):
        make_id("det", *parts)


@pytest.mark.parametrize("prefix", ["", "-det", "de t", "dét", "x" * 200, 5])
def test_make_id_bad_prefix(prefix: object) -> None:
    with pytest.raises(ValueError, match="prefix"):
        make_id(prefix, "a")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("det-0001", True),
        ("UK-AA-017", True),
        ("a", True),
        ("urn:x.y_z-1", True),
        ("x" * 128, True),
        ("x" * 129, False),
        ("", False),
        ("-abc", False),
        (".abc", False),
        ("a b", False),
        ("a/b", False),
        ("été", False),
        (12, False),
        (None, False),
    ],
)
def test_is_valid_id(value: object, ok: bool) -> None:
    assert is_valid_id(value) is ok
